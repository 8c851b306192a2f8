/**
 * Which framing explains a byte stream picked up mid-connection (a capture started after the
 * upgrade, or on a runtime socket already in use), and where its frames start. Each candidate
 * framing is judged by its own folder's plausibility test; a start only counts when the frame after
 * it is plausible too (or, running past the bytes at hand, when its header is distinctive), and a
 * framing scores the bytes its chain of frames covers. The framing explaining the most bytes wins;
 * nothing plausible means "unknown", never a guess.
 */
import type { Direction } from '../core/origin.js';
import { probeHttp2Frame } from '../http2/frame.js';
import { plausibleSpdyFrame, type SpdyPlausibility } from '../spdy/frame-header.js';
import { plausibleTlsRecord } from '../tls/record-framer.js';
import { Opcode, parseWebSocketFrameHeader, plausibleWebSocketFrame } from '../websocket/frame-header.js';

export type FramedTransport = 'spdy' | 'websocket' | 'http2' | 'tls';
export const FRAMED_TRANSPORTS: readonly FramedTransport[] = ['spdy', 'websocket', 'http2', 'tls'];

/** A frame at `at`: its total length and whether its header alone is convincing; null when none starts there or it cannot be told yet. */
type FrameProbe = (b: Uint8Array, at: number, dir: Direction) => { length: number; distinctive: boolean } | null;

/** The k8s channel ids of exec/attach (stdin … resize, and v5's close signal) and the first port-forward pairs. */
const K8S_CHANNELS = new Set([0, 1, 2, 3, 4, 255]);
/** v1 base64 channels travel as the ASCII digit of the channel. */
const BASE64_CHANNELS = new Set([0x30, 0x31, 0x32, 0x33, 0x34]);

/** Mid-connection, no SYN_STREAM is known: any small stream id may carry DATA. */
const SPDY_MIDSTREAM: SpdyPlausibility = { maxHeaderBlockBytes: 1 << 20, maxSettings: 64, dataStream: (id) => id > 0 && id < 1 << 16 };

const probeWebSocket: FrameProbe = (b, at, dir) => {
  const verdict = plausibleWebSocketFrame(b, at, b.length, {
    expectMasked: dir === 'c2s',
    rsv1Allowed: true,
    firstPayloadByte: (opcode, byte) => (opcode === Opcode.Binary ? K8S_CHANNELS.has(byte) : BASE64_CHANNELS.has(byte)),
  });
  if (verdict !== 1) return null;
  const h = parseWebSocketFrameHeader(b, at);
  if (typeof h === 'number') return null;
  // A data frame whose channel byte was checked, or a control frame: either is hard to hit by chance.
  return { length: h.headerLength + h.payloadLength, distinctive: h.payloadLength > 0 || (h.opcode & 0x8) !== 0 };
};

const probeSpdy: FrameProbe = (b, at) => {
  if (b.length - at < 8 || !plausibleSpdyFrame(b, at, SPDY_MIDSTREAM)) return null;
  const length = (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7];
  return { length: 8 + length, distinctive: (b[at] & 0x80) !== 0 };
};

const probeHttp2: FrameProbe = (b, at) => probeHttp2Frame(b, at);

const probeTls: FrameProbe = (b, at) => {
  const length = plausibleTlsRecord(b, at);
  return length < 0 ? null : { length, distinctive: false };
};

const PROBES: Record<FramedTransport, FrameProbe> = { spdy: probeSpdy, websocket: probeWebSocket, http2: probeHttp2, tls: probeTls };

export interface Alignment {
  /** Offset of the first frame start. */
  start: number;
  /** Bytes from `start` to the end: the chain of plausible frames covers all of them (the last frame may run past the end). */
  explained: number;
  /** Complete frames in the chain. */
  frames: number;
}

/** Fewer bytes than this after the last whole frame are taken as the next frame's header, still arriving. */
const SHORTEST_HEADER = 2;

/**
 * The first start of `transport`'s frames in `b` from which a chain of plausible frames runs to the
 * end of `b`, or null. The bytes of an upgraded connection are frames and nothing else, so a true
 * start chains to the end, while a start found by chance — in the tail of a frame the capture
 * picked up, or in noise — breaks off within a frame or two (two tiny WebSocket control frames chain
 * by chance about once in 30,000 offsets).
 */
export function alignFrames(b: Uint8Array, transport: FramedTransport, dir: Direction, from = 0): Alignment | null {
  const probe = PROBES[transport];
  for (let at = from; at < b.length; at++) {
    const first = probe(b, at, dir);
    if (!first) continue;
    if (at + first.length >= b.length) {
      // Alone, a frame is evidence only where the bytes begin with it (a capture that starts at a
      // segment boundary): found at a random offset in noise (an HTTP/2 HEADERS header about once in
      // 10^5 offsets) it would "explain" up to 16 KiB that nothing checked.
      if (first.distinctive && at === 0) return { start: at, explained: b.length - at, frames: at + first.length === b.length ? 1 : 0 };
      continue;
    }
    let end = at;
    let frames = 0;
    for (let f: ReturnType<FrameProbe> = first; f && end + f.length <= b.length; f = end < b.length ? probe(b, end, dir) : null) {
      end += f.length;
      frames++;
    }
    // The chain reaches the end when the bytes left are a frame running past it or too few to tell.
    const reachesEnd = end === b.length || b.length - end < SHORTEST_HEADER || probe(b, end, dir) !== null;
    if (frames >= 2 || (frames === 1 && end < b.length)) {
      if (reachesEnd) return { start: at, explained: b.length - at, frames };
    }
  }
  return null;
}
