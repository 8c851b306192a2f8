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
  /** Bytes from `start` covered by the chain of plausible frames (a frame running past the end counts what is here). */
  explained: number;
  /** Complete frames in the chain. */
  frames: number;
}

/**
 * The first frame start of `transport` in `b` and how far its chain of frames reaches, or null. A
 * start is accepted when the next frame also probes well, or when the frame runs past `b` and its
 * header is distinctive on its own.
 */
export function alignFrames(b: Uint8Array, transport: FramedTransport, dir: Direction, from = 0): Alignment | null {
  const probe = PROBES[transport];
  for (let at = from; at < b.length; at++) {
    const f = probe(b, at, dir);
    if (!f) continue;
    const next = at + f.length;
    if (next >= b.length) {
      if (f.distinctive) return { start: at, explained: b.length - at, frames: next === b.length ? 1 : 0 };
      continue;
    }
    if (!probe(b, next, dir)) continue;
    let end = at;
    let frames = 0;
    for (let g: ReturnType<FrameProbe> = f; g && end + g.length <= b.length; g = end < b.length ? probe(b, end, dir) : null) {
      end += g.length;
      frames++;
    }
    // The last frame may run past the bytes at hand.
    const tail = end < b.length && probe(b, end, dir) ? b.length - end : 0;
    return { start: at, explained: end - at + tail, frames };
  }
  return null;
}
