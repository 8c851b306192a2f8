/**
 * Finding where frames start in a byte stream that was picked up mid-connection (a capture started
 * after the upgrade). A candidate frame header only counts when the frame after it is plausible too
 * (or, running past the bytes at hand, when its own fields are distinctive), so random payload bytes
 * are not taken for a header.
 */
import type { Direction } from '../core/origin.js';
import { probeHttp2Frame } from '../http2/frame.js';

export type FramedTransport = 'spdy' | 'websocket' | 'http2';

/** A frame at `at`: its total length, or -1 when the bytes there cannot start a frame. */
type FrameProbe = (b: Uint8Array, at: number, dir: Direction) => { length: number; distinctive: boolean } | null;

const K8S_CHANNELS = new Set([0, 1, 2, 3, 4, 255]);

const probeWebSocket: FrameProbe = (b, at, dir) => {
  if (at + 2 > b.length) return null;
  const b0 = b[at];
  const b1 = b[at + 1];
  const opcode = b0 & 0x0f;
  if (b0 & 0x70 || ![0, 1, 2, 8, 9, 10].includes(opcode)) return null;
  if (opcode >= 8 && !(b0 & 0x80)) return null;
  const masked = (b1 & 0x80) !== 0;
  if (masked !== (dir === 'c2s')) return null;
  let len = b1 & 0x7f;
  let header = 2;
  if (len === 126) {
    if (at + 4 > b.length) return null;
    len = (b[at + 2] << 8) | b[at + 3];
    if (len < 126) return null;
    header = 4;
  } else if (len === 127) {
    if (at + 10 > b.length) return null;
    if (b[at + 2] || b[at + 3] || b[at + 4] || b[at + 5]) return null;
    len = ((b[at + 6] << 24) | (b[at + 7] << 16) | (b[at + 8] << 8) | b[at + 9]) >>> 0;
    if (len < 65536) return null;
    header = 10;
  }
  if (opcode >= 8 && len > 125) return null;
  if (masked) header += 4;
  let distinctive = false;
  if (opcode === 2 && len > 0 && at + header < b.length) {
    const first = b[at + header] ^ (masked ? b[at + header - 4] : 0);
    if (!K8S_CHANNELS.has(first)) return null;
    distinctive = true;
  }
  return { length: header + len, distinctive };
};

const probeSpdy: FrameProbe = (b, at) => {
  if (at + 8 > b.length) return null;
  const len = (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7];
  if (b[at] === 0x80) {
    const type = (b[at + 2] << 8) | b[at + 3];
    if (b[at + 1] !== 3 || type < 1 || type > 9 || type === 5 || b[at + 4] > 3) return null;
    return { length: 8 + len, distinctive: true };
  }
  // DATA: stream ids of k8s sessions are small; flags only FIN.
  if (b[at] !== 0 || b[at + 1] !== 0 || b[at + 4] > 1) return null;
  return { length: 8 + len, distinctive: false };
};

const PROBES: Record<FramedTransport, FrameProbe> = { spdy: probeSpdy, websocket: probeWebSocket, http2: (b, at) => probeHttp2Frame(b, at) };

/**
 * Offset of the first frame start in `b`, or -1. A start is accepted when the next frame also probes
 * well, or when the frame runs past `b` and its header is distinctive on its own.
 */
export function findFrameStart(b: Uint8Array, transport: FramedTransport, dir: Direction): number {
  const probe = PROBES[transport];
  for (let at = 0; at < b.length; at++) {
    const f = probe(b, at, dir);
    if (!f) continue;
    const next = at + f.length;
    if (next > b.length || next + 2 > b.length) {
      if (f.distinctive) return at;
      continue;
    }
    const g = probe(b, next, dir);
    if (g && (next + g.length <= b.length ? probe(b, next + g.length, dir) !== null || next + g.length === b.length : true)) return at;
  }
  return -1;
}

/** How many consecutive frames probe well from `at` on (the last may run past `b`): how well a framing fits. */
export function frameChainLength(b: Uint8Array, transport: FramedTransport, dir: Direction, at: number): number {
  const probe = PROBES[transport];
  let n = 0;
  for (let f = probe(b, at, dir); f; f = probe(b, at, dir)) {
    n++;
    at += f.length;
    if (at >= b.length) break;
  }
  return n;
}
