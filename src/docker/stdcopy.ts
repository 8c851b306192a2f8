/**
 * moby's stdcopy framing of a hijacked stream without a TTY (moby:pkg/stdcopy/stdcopy.go): each
 * write is an 8-byte header — the stream type (0 stdin, 1 stdout, 2 stderr, 3 systemerr), three
 * zero bytes, the payload size as a big-endian uint32 — then the payload. Sans-IO: fed the server's
 * bytes in pieces, it reports payload pieces as they arrive (never holding a payload, so a hostile
 * 4 GiB size costs no memory) with the origin of the frame that carries them.
 */
import type { FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { dockerProblem } from './problems.js';
import type { Field } from '../core/field.js';

export const STDCOPY_HEADER_BYTES = 8;
export const STDCOPY_STREAMS = ['stdin', 'stdout', 'stderr', 'systemerr'] as const;
export type StdcopyStream = (typeof STDCOPY_STREAMS)[number];

export interface StdcopySink {
  /**
   * Payload of one frame, possibly in pieces: `first` on the frame's first piece, `last` on the one
   * completing it (an empty frame is one empty piece with both). `frame` spans header and payload,
   * with the packet and time of the latest byte seen so far.
   */
  onPayload(stream: StdcopyStream, piece: Uint8Array, frame: FrameOrigin, first: boolean, last: boolean): void;
  onProblem(problem: Problem): void;
}

/** Whether bytes start like a stdcopy header (a known stream type, three zero bytes): for telling a TTY's raw stream apart. */
export function looksMultiplexed(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] <= 3 && head[1] === 0 && head[2] === 0 && head[3] === 0;
}

export class StdcopyDecoder {
  private readonly header = new Uint8Array(STDCOPY_HEADER_BYTES);
  private headerFilled = 0;
  private frame: FrameOrigin | null = null;
  private stream: StdcopyStream = 'stdout';
  private remaining = 0;
  private firstPiece = false;
  private stopped = false;

  constructor(
    private readonly sink: StdcopySink,
    private readonly where: string,
  ) {}

  push(data: Uint8Array, origin: StreamOrigin): void {
    let i = 0;
    while (i < data.length && !this.stopped) {
      if (this.frame === null || this.headerFilled < STDCOPY_HEADER_BYTES) {
        if (this.headerFilled === 0) {
          this.frame = { offset: origin.offset + i, length: 0, packet: origin.packet, ts: origin.ts, lastPacket: origin.packet, lastTs: origin.ts };
        }
        const take = Math.min(STDCOPY_HEADER_BYTES - this.headerFilled, data.length - i);
        this.header.set(data.subarray(i, i + take), this.headerFilled);
        this.headerFilled += take;
        i += take;
        if (this.headerFilled === STDCOPY_HEADER_BYTES) this.startFrame(origin);
        continue;
      }
      const take = Math.min(this.remaining, data.length - i);
      this.remaining -= take;
      this.emit(data.subarray(i, i + take), origin);
      i += take;
    }
  }

  /** Bytes lost: the framing cannot be followed past them. */
  gap(offset: number, length: number): void {
    if (this.stopped) return;
    if (this.frame !== null && this.headerFilled === STDCOPY_HEADER_BYTES && length < this.remaining) {
      this.remaining -= length;
      return;
    }
    this.stop('stream-gap', offset, `${length} bytes missing from the multiplexed stream: its frames cannot be followed any further`);
  }

  end(): void {
    if (this.stopped || this.frame === null) return;
    const what = this.headerFilled < STDCOPY_HEADER_BYTES ? `a ${this.headerFilled}-byte piece of a frame header` : `a ${this.stream} frame ${this.remaining} bytes short`;
    const offset = this.frame.offset;
    this.sink.onProblem(dockerProblem('stdcopy-truncated', `multiplexed stream ends inside ${what}`, { where: `${this.where} s2c offset ${offset}`, direction: 's2c', offset }));
  }

  private startFrame(origin: StreamOrigin): void {
    const h = this.header;
    const type = h[0];
    if (type >= STDCOPY_STREAMS.length) {
      this.stop('stdcopy-unknown-stream', this.frame!.offset, `unknown stream type ${type} in a multiplexed-stream header: not stdcopy framing (a TTY's raw stream?); the rest is not demultiplexed`);
      return;
    }
    this.stream = STDCOPY_STREAMS[type];
    this.remaining = ((h[4] << 24) >>> 0) + (h[5] << 16) + (h[6] << 8) + h[7];
    this.frame!.length = STDCOPY_HEADER_BYTES + this.remaining;
    this.firstPiece = true;
    if (this.remaining === 0) this.emit(new Uint8Array(0), origin);
  }

  private emit(piece: Uint8Array, origin: StreamOrigin): void {
    const frame = this.frame!;
    frame.lastPacket = origin.packet;
    frame.lastTs = origin.ts;
    const last = this.remaining === 0;
    // The recorder keeps the frame object of a completed event: each frame gets its own.
    const view = last ? { ...frame } : frame;
    this.sink.onPayload(this.stream, piece, view, this.firstPiece, last);
    this.firstPiece = false;
    if (last) {
      this.frame = null;
      this.headerFilled = 0;
    }
  }

  private stop(code: 'stdcopy-unknown-stream' | 'stream-gap', offset: number, message: string): void {
    this.stopped = true;
    this.sink.onProblem(dockerProblem(code, message, { where: `${this.where} s2c offset ${offset}`, direction: 's2c', offset }));
  }
}

/** One stdcopy frame as moby's stdWriter writes it (for the lab's docker-shaped server and tests). */
export function encodeStdcopyFrame(stream: StdcopyStream, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(STDCOPY_HEADER_BYTES + payload.length);
  frame[0] = STDCOPY_STREAMS.indexOf(stream);
  new DataView(frame.buffer).setUint32(4, payload.length);
  frame.set(payload, STDCOPY_HEADER_BYTES);
  return frame;
}

/** A stdcopy frame header's fields for the Event pane, offsets relative to the frame's first byte; [] when incomplete. */
export function stdcopyFrameFields(b: Uint8Array): Field[] {
  if (b.length < STDCOPY_HEADER_BYTES) return [];
  const size = ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
  return [
    { id: 'stdcopy.stream', label: 'stream type', offset: 0, length: 1, value: `${b[0]} (${STDCOPY_STREAMS[b[0]] ?? 'unknown'})` },
    { id: 'stdcopy.reserved', label: 'reserved', offset: 1, length: 3, value: 'three zero bytes' },
    { id: 'stdcopy.size', label: 'payload size', offset: 4, length: 4, value: `${size} (big-endian uint32)` },
    { id: 'stdcopy.payload', label: 'payload', offset: STDCOPY_HEADER_BYTES, length: b.length - STDCOPY_HEADER_BYTES, value: `${size} bytes` },
  ];
}
