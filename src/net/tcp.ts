/**
 * TCP header (RFC 9293). Options are skipped through the data offset; the checksum is not verified
 * (offload on the capturing host leaves it unset).
 */
import { readU16, readU32 } from './read-bytes.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const IP_PROTOCOL_TCP = 6;

const MIN_HEADER_BYTES = 20;

/** One TCP segment as the packet decoder hands it to reassembly (one object, refilled for every packet). */
export interface TcpSegment {
  /** Dotted IPv4 or RFC 5952 IPv6 text. */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TCP_* flag bits. */
  flags: number;
  window: number;
  /** Captured payload: a view into the packet data, valid only during the call. */
  payload: Uint8Array;
  /** Payload bytes sent on the wire after `payload` but not captured (snaplen); usually 0. */
  missing?: number;
  /** 1-based packet number. */
  packet: number;
  /** Nanoseconds since the capture origin. */
  ts: number;
}

/** Filled in place by decodeTcpHeader (one object reused per packet). */
export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  headerLength: number;
}

/** Decodes the header at data[offset, end); returns null, or why the segment must be dropped. */
export function decodeTcpHeader(data: Uint8Array, offset: number, end: number, out: TcpHeader): string | null {
  const available = end - offset;
  if (available < MIN_HEADER_BYTES) return `TCP header cut short: ${available} bytes`;
  const headerLength = (data[offset + 12] >> 4) * 4;
  if (headerLength < MIN_HEADER_BYTES) return `TCP data offset ${headerLength} is below 20`;
  if (headerLength > available) return `TCP header of ${headerLength} bytes cut short: ${available} bytes`;
  out.srcPort = readU16(data, offset);
  out.dstPort = readU16(data, offset + 2);
  out.seq = readU32(data, offset + 4);
  out.ack = readU32(data, offset + 8);
  out.flags = data[offset + 13];
  out.window = readU16(data, offset + 14);
  out.headerLength = headerLength;
  return null;
}
