/**
 * SPDY/3.1 frame encoder for one direction of a connection, laid out as moby/spdystream's
 * spdy/write.go does: version 3 control frames, priority in the top 3 bits, SETTINGS flags in the top
 * byte of each id, header blocks compressed through the direction's one zlib stream.
 * Used by tests, the benchmark generator and the lab server.
 */
import {
  SPDY_FRAME_HEADER_BYTES,
  SPDY_MAX_FRAME_PAYLOAD,
  SPDY_VERSION,
  SpdyFlag,
  SpdyFrameType,
  SpdyGoAwayStatus,
} from './frame.js';
import { SpdyHeaderDeflater, type SpdyHeaderInput } from './header-block.js';

export interface SpdySynStreamOptions {
  fin?: boolean;
  unidirectional?: boolean;
  /** 0 (highest) .. 7. spdystream's k8s streams use 0. */
  priority?: number;
  associatedId?: number;
  slot?: number;
}

export class SpdyFrameEncoder {
  private readonly deflater = new SpdyHeaderDeflater();

  synStream(streamId: number, headers: SpdyHeaderInput, opts: SpdySynStreamOptions = {}): Uint8Array {
    const block = this.deflater.deflate(headers);
    const flags = (opts.fin ? SpdyFlag.FIN : 0) | (opts.unidirectional ? SpdyFlag.UNIDIRECTIONAL : 0);
    const { frame, view, body } = control(SpdyFrameType.SYN_STREAM, flags, 10 + block.length);
    view.setUint32(body, streamId & 0x7fffffff);
    view.setUint32(body + 4, (opts.associatedId ?? 0) & 0x7fffffff);
    frame[body + 8] = ((opts.priority ?? 0) & 7) << 5;
    frame[body + 9] = opts.slot ?? 0;
    frame.set(block, body + 10);
    return frame;
  }

  synReply(streamId: number, headers: SpdyHeaderInput, opts: { fin?: boolean } = {}): Uint8Array {
    return this.streamHeaders(SpdyFrameType.SYN_REPLY, streamId, headers, opts.fin);
  }

  headers(streamId: number, headers: SpdyHeaderInput, opts: { fin?: boolean } = {}): Uint8Array {
    return this.streamHeaders(SpdyFrameType.HEADERS, streamId, headers, opts.fin);
  }

  rstStream(streamId: number, status: number): Uint8Array {
    return twoWords(SpdyFrameType.RST_STREAM, streamId & 0x7fffffff, status);
  }

  settings(entries: readonly { id: number; value: number; flags?: number }[], opts: { clear?: boolean } = {}): Uint8Array {
    const { frame, view, body } = control(SpdyFrameType.SETTINGS, opts.clear ? SpdyFlag.SETTINGS_CLEAR : 0, 4 + 8 * entries.length);
    view.setUint32(body, entries.length);
    entries.forEach((e, k) => {
      view.setUint32(body + 4 + 8 * k, (((e.flags ?? 0) << 24) | (e.id & 0xffffff)) >>> 0);
      view.setUint32(body + 8 + 8 * k, e.value);
    });
    return frame;
  }

  ping(id: number): Uint8Array {
    const { frame, view, body } = control(SpdyFrameType.PING, 0, 4);
    view.setUint32(body, id);
    return frame;
  }

  goAway(lastGoodStreamId: number, status: number = SpdyGoAwayStatus.OK): Uint8Array {
    return twoWords(SpdyFrameType.GOAWAY, lastGoodStreamId & 0x7fffffff, status);
  }

  windowUpdate(streamId: number, delta: number): Uint8Array {
    return twoWords(SpdyFrameType.WINDOW_UPDATE, streamId & 0x7fffffff, delta & 0x7fffffff);
  }

  data(streamId: number, payload: Uint8Array, opts: { fin?: boolean } = {}): Uint8Array {
    if (payload.length > SPDY_MAX_FRAME_PAYLOAD) throw new RangeError(`DATA payload of ${payload.length} bytes exceeds ${SPDY_MAX_FRAME_PAYLOAD}`);
    const frame = new Uint8Array(SPDY_FRAME_HEADER_BYTES + payload.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, streamId & 0x7fffffff);
    view.setUint32(4, (((opts.fin ? SpdyFlag.FIN : 0) << 24) | payload.length) >>> 0);
    frame.set(payload, SPDY_FRAME_HEADER_BYTES);
    return frame;
  }

  private streamHeaders(type: number, streamId: number, headers: SpdyHeaderInput, fin: boolean | undefined): Uint8Array {
    const block = this.deflater.deflate(headers);
    const { frame, view, body } = control(type, fin ? SpdyFlag.FIN : 0, 4 + block.length);
    view.setUint32(body, streamId & 0x7fffffff);
    frame.set(block, body + 4);
    return frame;
  }
}

/** A control frame with its header written; the caller fills the payload at `body`. */
function control(type: number, flags: number, length: number): { frame: Uint8Array; view: DataView; body: number } {
  if (length > SPDY_MAX_FRAME_PAYLOAD) throw new RangeError(`control payload of ${length} bytes exceeds ${SPDY_MAX_FRAME_PAYLOAD}`);
  const frame = new Uint8Array(SPDY_FRAME_HEADER_BYTES + length);
  const view = new DataView(frame.buffer);
  view.setUint16(0, 0x8000 | SPDY_VERSION);
  view.setUint16(2, type);
  view.setUint32(4, ((flags << 24) | length) >>> 0);
  return { frame, view, body: SPDY_FRAME_HEADER_BYTES };
}

function twoWords(type: number, first: number, second: number): Uint8Array {
  const { frame, view, body } = control(type, 0, 8);
  view.setUint32(body, first);
  view.setUint32(body + 4, second);
  return frame;
}
