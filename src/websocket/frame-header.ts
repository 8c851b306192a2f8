/**
 * The WebSocket frame header (RFC 6455 §5.2), described once: opcode names, the header parser, the
 * plausibility test used to find frame starts (resynchronising after a gap, a capture that starts
 * mid-connection) and the field list the Event pane shows and highlights.
 */
import { INVALID, NEED_MORE, type Field, type HeaderVerdict } from '../core/field.js';

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

const OPCODE_NAMES: Record<number, string> = {
  0x0: 'continuation',
  0x1: 'text',
  0x2: 'binary',
  0x8: 'close',
  0x9: 'ping',
  0xa: 'pong',
};

export function isKnownOpcode(opcode: number): boolean {
  return OPCODE_NAMES[opcode] !== undefined;
}

export function opcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode] ?? `reserved opcode 0x${opcode.toString(16)}`;
}

export function isControlOpcode(opcode: number): boolean {
  return opcode >= 0x8;
}

/** One frame header as it sits on the wire. */
export interface WebSocketWireHeader {
  fin: boolean;
  /** The three RSV bits, as 0x40 | 0x20 | 0x10 of the first byte. */
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Offset of the 4-byte masking key from the header start, or -1. */
  maskKeyAt: number;
  /** Up to 2^63 - 1; above 2^53 the value is rounded (such frames never complete in a capture anyway). */
  payloadLength: number;
  /** 7, 16 or 64: how the length was encoded. */
  lengthBits: 7 | 16 | 64;
  /** 2 to 14. */
  headerLength: number;
}

/** The length of a header (2 to 14 bytes) from its second byte: the payload length's encoding and the mask bit. */
export function webSocketHeaderLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/** Parses the header at b[at..end): NEED_MORE until all of it is there; INVALID when the 64-bit length has its top bit set. */
export function parseWebSocketFrameHeader(b: Uint8Array, at: number, end = b.length): WebSocketWireHeader | HeaderVerdict {
  if (end - at < 2) return NEED_MORE;
  const b0 = b[at];
  const b1 = b[at + 1];
  const masked = (b1 & 0x80) !== 0;
  const len7 = b1 & 0x7f;
  const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const headerLength = webSocketHeaderLength(b1);
  if (end - at < headerLength) return NEED_MORE;
  let payloadLength = len7;
  if (ext === 2) payloadLength = (b[at + 2] << 8) | b[at + 3];
  else if (ext === 8) {
    if (b[at + 2] & 0x80) return INVALID;
    const hi = ((b[at + 2] << 24) | (b[at + 3] << 16) | (b[at + 4] << 8) | b[at + 5]) >>> 0;
    const lo = ((b[at + 6] << 24) | (b[at + 7] << 16) | (b[at + 8] << 8) | b[at + 9]) >>> 0;
    payloadLength = hi * 2 ** 32 + lo;
  }
  return {
    fin: (b0 & 0x80) !== 0,
    rsv: b0 & 0x70,
    opcode: b0 & 0x0f,
    masked,
    maskKeyAt: masked ? 2 + ext : -1,
    payloadLength,
    lengthBits: ext === 2 ? 16 : ext === 8 ? 64 : 7,
    headerLength,
  };
}

export interface WebSocketPlausibility {
  /** Client→server frames are masked, server→client frames are not (RFC 6455 §5.1). */
  expectMasked: boolean;
  /** permessage-deflate negotiated: RSV1 may start a data message. */
  rsv1Allowed?: boolean;
  /** RFC 6455 §5.5: 125. */
  maxControlPayload?: number;
  /** Is this (unmasked) first payload byte plausible for a data frame with this opcode? E.g. a k8s channel id. */
  firstPayloadByte?: (opcode: number, byte: number) => boolean;
}

/**
 * Could a frame start at b[at]? 1 yes, -1 no, 0 cannot tell before `end`. Plausible: FIN set, a
 * known opcode other than continuation, RSV bits as negotiated, the mask bit this direction needs, a
 * minimally encoded length below 4 GiB (≤ maxControlPayload for control frames), no 1-byte Close,
 * and a first payload byte `firstPayloadByte` accepts.
 */
export function plausibleWebSocketFrame(b: Uint8Array, at: number, end: number, opts: WebSocketPlausibility): number {
  if (end - at < 2) return 0;
  const b0 = b[at];
  if ((b0 & 0x80) === 0) return -1;
  const opcode = b0 & 0x0f;
  const control = isControlOpcode(opcode);
  if (opcode === Opcode.Continuation || !isKnownOpcode(opcode)) return -1;
  const rsv = b0 & 0x70;
  if (rsv !== 0 && !(rsv === 0x40 && opts.rsv1Allowed && !control)) return -1;
  if ((b[at + 1] & 0x80) !== 0 !== opts.expectMasked) return -1;
  const len7 = b[at + 1] & 0x7f;
  if (control && len7 > (opts.maxControlPayload ?? 125)) return -1;
  const h = parseWebSocketFrameHeader(b, at, end);
  if (h === NEED_MORE) return 0;
  if (h === INVALID) return -1;
  if (h.lengthBits === 16 && h.payloadLength < 126) return -1;
  if (h.lengthBits === 64 && (h.payloadLength < 65536 || h.payloadLength >= 2 ** 32)) return -1;
  if (opcode === Opcode.Close && h.payloadLength === 1) return -1;
  if (h.payloadLength > 0 && !control && opts.firstPayloadByte) {
    if (end - at < h.headerLength + 1) return 0;
    const first = b[at + h.headerLength] ^ (h.masked ? b[at + h.maskKeyAt] : 0);
    if (!opts.firstPayloadByte(opcode, first)) return -1;
  }
  return 1;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The header's fields, offsets relative to the frame's first byte; [] when the header is incomplete. */
export function webSocketFrameFields(b: Uint8Array): Field[] {
  const h = parseWebSocketFrameHeader(b, 0);
  if (h === NEED_MORE) return [];
  const fields: Field[] = [
    { id: 'websocket.fin', label: 'FIN', offset: 0, length: 1, value: b[0] & 0x80 ? 'set (last frame of the message)' : 'clear (more fragments follow)' },
    { id: 'websocket.rsv', label: 'RSV', offset: 0, length: 1, value: [b[0] & 0x40 && 'RSV1 (compressed)', b[0] & 0x20 && 'RSV2', b[0] & 0x10 && 'RSV3'].filter(Boolean).join(' ') || 'none' },
    { id: 'websocket.opcode', label: 'opcode', offset: 0, length: 1, value: `${b[0] & 0x0f} (${opcodeName(b[0] & 0x0f)})` },
    { id: 'websocket.mask', label: 'MASK', offset: 1, length: 1, value: b[1] & 0x80 ? 'set (client → server)' : 'clear (server → client)' },
  ];
  if (h === INVALID) return [...fields, { id: 'websocket.payload_length', label: 'payload length', offset: 1, length: 9, value: 'invalid: 64-bit length with the top bit set' }];
  const lengthBytes = h.lengthBits === 16 ? 2 : h.lengthBits === 64 ? 8 : 0;
  fields.push({ id: 'websocket.payload_length', label: 'payload length', offset: 1, length: 1 + lengthBytes, value: `${h.payloadLength} (${h.lengthBits}-bit form)` });
  if (h.masked) fields.push({ id: 'websocket.masking_key', label: 'masking key', offset: h.maskKeyAt, length: 4, value: hex(b.subarray(h.maskKeyAt, h.maskKeyAt + 4)) });
  fields.push({ id: 'websocket.payload', label: 'payload', offset: h.headerLength, length: Math.max(0, b.length - h.headerLength), value: `${h.payloadLength} bytes${h.masked ? ' (masked)' : ''}` });
  return fields;
}
