/** Header fields of one SPDY, WebSocket or docker stdcopy frame, for the Event pane's frame layer. */
import type { ExecSession } from '../model/session.js';
import { STDCOPY_HEADER_BYTES, STDCOPY_STREAMS } from '../docker/stdcopy.js';

const WS_OPCODES: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };
const SPDY_TYPES: Record<number, string> = {
  1: 'SYN_STREAM', 2: 'SYN_REPLY', 3: 'RST_STREAM', 4: 'SETTINGS', 6: 'PING', 7: 'GOAWAY', 8: 'HEADERS', 9: 'WINDOW_UPDATE',
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Field lines and the header length; the payload follows the header. */
export function webSocketFrameFields(b: Uint8Array): { lines: string[]; headerLength: number } | null {
  if (b.length < 2) return null;
  const masked = (b[1] & 0x80) !== 0;
  let len = b[1] & 0x7f;
  let at = 2;
  if (len === 126 && b.length >= 4) {
    len = (b[2] << 8) | b[3];
    at = 4;
  } else if (len === 127 && b.length >= 10) {
    len = Number(Buffer.from(b.subarray(2, 10)).readBigUInt64BE());
    at = 10;
  }
  const key = masked ? b.subarray(at, at + 4) : null;
  if (masked) at += 4;
  const flags = [(b[0] & 0x80) && 'FIN', (b[0] & 0x40) && 'RSV1 (compressed)', (b[0] & 0x20) && 'RSV2', (b[0] & 0x10) && 'RSV3'].filter(Boolean);
  return {
    headerLength: at,
    lines: [
      `opcode ${b[0] & 0x0f} (${WS_OPCODES[b[0] & 0x0f] ?? 'reserved'})${flags.length ? ` · ${flags.join(' ')}` : ''}`,
      `payload length ${len} · header ${at} bytes`,
      key ? `masked, key ${hex(key)} (client → server frames are always masked)` : 'unmasked (server → client)',
    ],
  };
}

export function spdyFrameFields(b: Uint8Array): { lines: string[]; headerLength: number } | null {
  if (b.length < 8) return null;
  const length = (b[5] << 16) | (b[6] << 8) | b[7];
  const flags = b[4];
  if (b[0] & 0x80) {
    const version = ((b[0] & 0x7f) << 8) | b[1];
    const type = (b[2] << 8) | b[3];
    return {
      headerLength: 8,
      lines: [`control frame ${SPDY_TYPES[type] ?? `type ${type}`} · version ${version}`, `flags 0x${flags.toString(16).padStart(2, '0')}${flags & 1 ? ' (FIN)' : ''} · length ${length}`],
    };
  }
  const stream = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  return {
    headerLength: 8,
    lines: [`DATA frame · stream ${stream}`, `flags 0x${flags.toString(16).padStart(2, '0')}${flags & 1 ? ' (FIN: half-close)' : ''} · length ${length}`],
  };
}

/** A docker stdcopy frame's header (output without a TTY); null for raw bytes, which have none. */
export function stdcopyFrameFields(s: ExecSession, e: { dir: string; kind: string }, b: Uint8Array): { lines: string[]; headerLength: number } | null {
  if (s.tty || e.dir !== 's2c' || e.kind !== 'data' || b.length < STDCOPY_HEADER_BYTES) return null;
  const size = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4);
  return {
    headerLength: STDCOPY_HEADER_BYTES,
    lines: [`stream type ${b[0]} (${STDCOPY_STREAMS[b[0]] ?? 'unknown'}) · payload size ${size} (big-endian uint32) · header 8 bytes`],
  };
}
