/** Test helpers: what a SPDY frame decoder delivered, and a scripted conversation built by the encoder. */
import type { StreamOrigin } from '../../src/core/origin.js';
import { SpdyRstStatus } from '../../src/spdy/frame.js';
import { SpdyFrameDecoder, type SpdyControlFrame, type SpdyDataPiece, type SpdyFrameDecoderOptions, type SpdyFrameSink } from '../../src/spdy/frame-decoder.js';
import { SpdyFrameEncoder } from '../../src/spdy/frame-encoder.js';
import { SinkRecorder } from '../kit/sink-recorder.js';
import { whole } from '../helpers/byte-range.js';

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Control frames with their origin reduced to offset/length (packets differ between split schemes). */
function normControl(f: SpdyControlFrame): unknown {
  return { ...f, origin: { offset: f.origin.offset, length: f.origin.length } };
}

/**
 * What a SPDY frame decoder delivered, read from the kit's generic SinkRecorder: `events` has one
 * entry per control frame and one per whole DATA frame (its pieces checked for contiguity, first/last
 * flags and origins, then joined), comparable however the input was split.
 */
export class Recorder extends SinkRecorder<SpdyFrameSink> {
  get controls(): SpdyControlFrame[] {
    return this.eventsOf('onControl');
  }

  /** DATA pieces without their bytes (flags, origins, lengths). */
  get pieces(): SpdyDataPiece[] {
    return this.eventsOf<SpdyDataPiece>('onData').map((p) => ({ ...p, data: new Uint8Array(0) }));
  }

  get events(): string[] {
    const events: string[] = [];
    let current: { piece: SpdyDataPiece; parts: Buffer[]; next: number; lost: number } | null = null;
    for (const { on, args } of this.calls) {
      if (on === 'onControl') {
        if (current) throw new Error('control frame inside a DATA frame');
        events.push(JSON.stringify(normControl(args[0] as SpdyControlFrame)));
      } else if (on === 'onDataLost') {
        const loss = args[0] as { streamId: number; offset: number; length: number };
        events.push(`lost ${loss.length} bytes of stream ${loss.streamId} at ${loss.offset}`);
        if (current) {
          current.next += loss.length;
          current.lost += loss.length;
        }
      } else if (on === 'onData') {
        const piece = args[0] as SpdyDataPiece;
        if (piece.first) {
          if (current) throw new Error('new DATA frame before the last piece of the previous one');
          if (piece.origin.offset !== piece.frame.offset + 8) throw new Error(`first piece at ${piece.origin.offset}, frame at ${piece.frame.offset}`);
          current = { piece, parts: [], next: piece.origin.offset, lost: 0 };
        }
        if (!current) throw new Error('DATA piece without a first piece');
        if (piece.origin.offset !== current.next) throw new Error(`piece at ${piece.origin.offset}, expected ${current.next}`);
        // Recorded with its range's bytes alone (kit/sink-recorder.ts).
        if (piece.origin.length !== piece.bytes.length) throw new Error('piece origin length differs from its data');
        current.parts.push(Buffer.from(piece.bytes));
        current.next += piece.bytes.length;
        if (piece.last) {
          const data = Buffer.concat(current.parts);
          if (data.length + current.lost !== piece.frameLength) throw new Error(`frame of ${piece.frameLength} delivered ${data.length} + ${current.lost} lost`);
          events.push(
            JSON.stringify({
              type: 'DATA',
              streamId: piece.streamId,
              flags: piece.flags,
              fin: piece.fin,
              data: data.toString('latin1'),
              origin: { offset: piece.frame.offset, length: piece.frame.length },
            }),
          );
          current = null;
        }
      }
    }
    return events;
  }
}

/** Feed `bytes` to a fresh decoder in pushes cut at `cuts` (ascending offsets); packet n = push n. */
export function decodeSplit(bytes: Uint8Array, cuts: number[], opts?: SpdyFrameDecoderOptions): Recorder {
  const rec = new Recorder();
  const d = new SpdyFrameDecoder(rec.sink, opts);
  const bounds = [0, ...cuts, bytes.length];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const from = bounds[k]!;
    const to = bounds[k + 1]!;
    if (to > from) d.push(...whole(bytes.subarray(from, to)), origin(from, to - from, k + 1));
  }
  d.end();
  return rec;
}

export function origin(offset: number, length: number, packet: number): StreamOrigin {
  return { offset, length, packet, ts: packet * 1000 };
}

/** One direction of a remotecommand-like conversation, exercising every control frame type. */
export function clientSide(): Uint8Array[] {
  const e = new SpdyFrameEncoder();
  return [
    e.synStream(1, { streamtype: 'error' }),
    e.synStream(3, { streamtype: 'stdin' }),
    e.synStream(5, { streamtype: 'stdout', 'X-Multi': ['a', 'b'] }, { priority: 2 }),
    e.data(3, text('hello\n')),
    e.ping(1),
    e.data(3, new Uint8Array(0), { fin: true }),
    e.settings([{ id: 7, value: 1 << 20 }, { id: 4, value: 100, flags: 1 }], { clear: true }),
    e.windowUpdate(5, 1000),
    e.headers(5, { trailer: 'x' }, { fin: true }),
    e.rstStream(5, SpdyRstStatus.CANCEL),
    e.goAway(0),
  ];
}
