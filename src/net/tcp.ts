/**
 * TCP header (RFC 9293). Options are skipped through the data offset; the checksum is not verified
 * (offload on the capturing host leaves it unset).
 */
import type { Field } from '../core/field.js';
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
const OPTION_EOL = 0;
const OPTION_NOP = 1;

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
  /**
   * The captured payload is bytes[start, end): the packet's own buffer (the capture reader's, reused
   * for later packets) or a reassembled datagram's, not a view of its own (a view per segment cost V8
   * ~400 instructions). Valid only during the call.
   */
  bytes: Uint8Array;
  start: number;
  end: number;
  /**
   * Where the payload begins in the packet's captured bytes (from its link-layer header); in the
   * reassembled datagram's bytes when the packet completed a fragmented one.
   */
  payloadStart: number;
  /** Payload bytes sent on the wire after `payload` but not captured (snaplen); usually 0. */
  missing?: number;
  /** On a SYN: its window scale option's shift, 0 without one (the scale then stays off). */
  windowScale?: number;
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
  /** The window scale option's shift (read on SYNs only), 0 without one. */
  windowScale: number;
}

/**
 * Decodes the header at [offset, end) of the bytes `view` covers; returns null, or why the segment
 * must be dropped. Through a DataView: a 32-bit field is one load, where byte reads were four, each
 * with its bounds check.
 */
export function decodeTcpHeader(view: DataView, offset: number, end: number, out: TcpHeader): string | null {
  const available = end - offset;
  if (available < MIN_HEADER_BYTES) return `TCP header cut short: ${available} bytes`;
  // Read a 32-bit word at a time (each DataView read checks its view): data offset, flags and window are one.
  const offsetFlagsWindow = view.getUint32(offset + 12);
  const headerLength = (offsetFlagsWindow >>> 28) * 4;
  if (headerLength < MIN_HEADER_BYTES || headerLength > available) return badHeaderLength(headerLength, available);
  const flags = (offsetFlagsWindow >>> 16) & 0xff;
  const ports = view.getUint32(offset);
  out.srcPort = ports >>> 16;
  out.dstPort = ports & 0xffff;
  out.seq = view.getUint32(offset + 4);
  out.ack = view.getUint32(offset + 8);
  out.flags = flags;
  out.window = offsetFlagsWindow & 0xffff;
  out.headerLength = headerLength;
  out.windowScale = flags & TCP_SYN ? windowScaleOption(view, offset + MIN_HEADER_BYTES, offset + headerLength) : 0;
  return null;
}

/**
 * Why a data offset cannot be used. Built apart from decodeTcpHeader: V8 converted the number its two
 * messages shared to text before the first test, for every segment.
 */
function badHeaderLength(headerLength: number, available: number): string {
  return headerLength < MIN_HEADER_BYTES ? `TCP data offset ${headerLength} is below 20` : `TCP header of ${headerLength} bytes cut short: ${available} bytes`;
}

const OPTION_WINDOW_SCALE = 3;

/** The shift of a window scale option among the options in data[start, end), 0 without one. */
function windowScaleOption(view: DataView, start: number, end: number): number {
  for (let p = start; p < end; ) {
    const kind = view.getUint8(p);
    if (kind === OPTION_EOL) return 0;
    if (kind === OPTION_NOP) {
      p++;
      continue;
    }
    const length = p + 1 < end ? view.getUint8(p + 1) : 0;
    if (length < 2 || p + length > end) return 0;
    // RFC 7323: a shift above 14 is used as 14.
    if (kind === OPTION_WINDOW_SCALE && length === 3) return Math.min(view.getUint8(p + 2), 14);
    p += length;
  }
  return 0;
}

const FLAG_NAMES: [number, string][] = [
  [TCP_CWR, 'CWR'],
  [TCP_ECE, 'ECE'],
  [TCP_URG, 'URG'],
  [TCP_ACK, 'ACK'],
  [TCP_PSH, 'PSH'],
  [TCP_RST, 'RST'],
  [TCP_SYN, 'SYN'],
  [TCP_FIN, 'FIN'],
];

/** "SYN, ACK" for TCP_* flag bits. */
export function tcpFlagNames(flags: number): string {
  return FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name).join(', ') || 'none';
}

/** Option kinds (IANA "TCP Option Kind Numbers") with Wireshark's field names. */
const OPTIONS = new Map<number, { id: string; label: string; value?: (data: Uint8Array, at: number, length: number) => string }>([
  [2, { id: 'tcp.options.mss', label: 'maximum segment size', value: (d, at) => `${readU16(d, at + 2)} bytes` }],
  [3, { id: 'tcp.options.wscale', label: 'window scale', value: (d, at) => `shift ${d[at + 2]} (×${2 ** Math.min(d[at + 2], 14)})` }],
  [4, { id: 'tcp.options.sack_perm', label: 'SACK permitted' }],
  [
    5,
    {
      id: 'tcp.options.sack',
      label: 'SACK',
      value: (d, at, length) => {
        const blocks: string[] = [];
        for (let p = at + 2; p + 8 <= at + length; p += 8) blocks.push(`${readU32(d, p)}–${readU32(d, p + 4)}`);
        return blocks.join(', ');
      },
    },
  ],
  [8, { id: 'tcp.options.timestamp', label: 'timestamps', value: (d, at) => `TSval ${readU32(d, at + 2)}, TSecr ${readU32(d, at + 6)}` }],
]);

/**
 * The fields of the TCP header at `offset` in `data` (offsets into `data`), Wireshark's names;
 * sequence numbers are the raw ones (`tcp.seq_raw`). Empty when the header is not all there.
 */
export function tcpHeaderFields(data: Uint8Array, offset: number): Field[] {
  const headerLength = offset + MIN_HEADER_BYTES <= data.length ? (data[offset + 12] >> 4) * 4 : 0;
  if (headerLength < MIN_HEADER_BYTES || offset + headerLength > data.length) return [];
  const f = (id: string, label: string, at: number, length: number, value: string): Field => ({ id, label, offset: offset + at, length, value });
  const flags = ((data[offset + 12] & 0x01) << 8) | data[offset + 13];
  const fields = [
    f('tcp.srcport', 'source port', 0, 2, String(readU16(data, offset))),
    f('tcp.dstport', 'destination port', 2, 2, String(readU16(data, offset + 2))),
    f('tcp.seq_raw', 'sequence number', 4, 4, String(readU32(data, offset + 4))),
    f('tcp.ack_raw', 'acknowledgment number', 8, 4, String(readU32(data, offset + 8))),
    f('tcp.hdr_len', 'header length', 12, 1, `${headerLength} bytes`),
    f('tcp.flags', 'flags', 12, 2, `0x${flags.toString(16).padStart(3, '0')} (${tcpFlagNames(flags & 0xff)})`),
    f('tcp.window_size_value', 'window', 14, 2, String(readU16(data, offset + 14))),
    f('tcp.checksum', 'checksum', 16, 2, `0x${readU16(data, offset + 16).toString(16).padStart(4, '0')} (not verified)`),
    f('tcp.urgent_pointer', 'urgent pointer', 18, 2, String(readU16(data, offset + 18))),
  ];
  for (let p = offset + MIN_HEADER_BYTES; p < offset + headerLength; ) {
    const kind = data[p];
    if (kind === OPTION_EOL) {
      fields.push({ id: 'tcp.options.eol', label: 'end of options', offset: p, length: offset + headerLength - p, value: '' });
      break;
    }
    if (kind === OPTION_NOP) {
      fields.push({ id: 'tcp.options.nop', label: 'no-operation', offset: p, length: 1, value: '' });
      p++;
      continue;
    }
    const length = p + 1 < offset + headerLength ? data[p + 1] : 0;
    if (length < 2 || p + length > offset + headerLength) {
      fields.push({ id: 'tcp.options', label: `option ${kind}`, offset: p, length: offset + headerLength - p, value: `bad length ${length}` });
      break;
    }
    const known = OPTIONS.get(kind);
    fields.push({ id: known?.id ?? 'tcp.options.unknown', label: known?.label ?? `option ${kind}`, offset: p, length, value: known?.value?.(data, p, length) ?? '' });
    p += length;
  }
  return fields;
}
