/**
 * IPv4 header (RFC 791). The header checksum is not verified: captures taken on the sending host
 * see it before the NIC fills it in (checksum offload), so a bad value says nothing about the wire.
 */
import type { Field } from '../core/field.js';
import { formatIpv4 } from '../capture/ip-address-text.js';
import { readU16 } from './read-bytes.js';

const MIN_HEADER_BYTES = 20;
const FLAG_MORE_FRAGMENTS = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;
const OPTION_END = 0;
const OPTION_NOP = 1;

/** Filled in place by decodeIpv4Header (one object reused per packet). */
export interface Ipv4Header {
  headerLength: number;
  /**
   * Datagram length from the header, which may exceed the captured bytes (snaplen) or be shorter
   * than the frame (Ethernet padding). A header value of 0 (segmentation offload on the capturing
   * host) is replaced by the captured length.
   */
  totalLength: number;
  id: number;
  moreFragments: boolean;
  /** In bytes. */
  fragmentOffset: number;
  protocol: number;
  /** Offsets of the 4-byte addresses in the frame. */
  srcOffset: number;
  dstOffset: number;
}

/**
 * Decodes the header at `offset` of a frame ending at `end` into `out`; returns null, or why the datagram must be dropped.
 * `view` covers the frame's bytes at the same offsets: a DataView reads a 16-bit field in one load
 * where byte reads took two, each with its bounds check (~50 instructions a packet for the header).
 */
export function decodeIpv4Header(view: DataView, offset: number, out: Ipv4Header, end = view.byteLength): string | null {
  const captured = end - offset;
  if (captured < MIN_HEADER_BYTES) return `IPv4 header cut short: ${captured} bytes captured`;
  // Read a 32-bit word at a time (each DataView read checks its view): version, header length and total length are one.
  const first = view.getUint32(offset);
  const version = first >>> 28;
  if (version !== 4) return `IP version ${version} in an IPv4 packet`;
  const headerLength = ((first >>> 24) & 0x0f) * 4;
  const declared = first & 0xffff;
  const totalLength = declared === 0 ? captured : declared;
  if (headerLength < MIN_HEADER_BYTES || headerLength > captured || totalLength < headerLength) return badLengths(headerLength, captured, totalLength);
  // The receiver drops a datagram whose options it cannot parse, so none of its bytes reach the stream.
  if (headerLength > MIN_HEADER_BYTES) {
    const optionsProblem = checkOptions(view, offset + MIN_HEADER_BYTES, offset + headerLength);
    if (optionsProblem !== null) return optionsProblem;
  }
  const idAndFragment = view.getUint32(offset + 4);
  const fragment = idAndFragment & 0xffff;
  out.headerLength = headerLength;
  out.totalLength = totalLength;
  out.id = idAndFragment >>> 16;
  out.moreFragments = (fragment & FLAG_MORE_FRAGMENTS) !== 0;
  out.fragmentOffset = (fragment & FRAGMENT_OFFSET_MASK) * 8;
  out.protocol = view.getUint8(offset + 9);
  out.srcOffset = offset + 12;
  out.dstOffset = offset + 16;
  return null;
}

/**
 * Why the header or total length cannot be used, in the order decodeIpv4Header tests them. Built apart
 * from it: V8 converted the number its messages shared to text before the first test, for every packet.
 */
function badLengths(headerLength: number, captured: number, totalLength: number): string {
  if (headerLength < MIN_HEADER_BYTES) return `IPv4 header length ${headerLength} is below 20`;
  if (headerLength > captured) return `IPv4 header of ${headerLength} bytes cut short: ${captured} bytes captured`;
  return `IPv4 total length ${totalLength} is below its header length ${headerLength}`;
}

/** Options are End, No-op, or type-length-value with a length covering the type and length bytes. */
function checkOptions(view: DataView, start: number, end: number): string | null {
  let p = start;
  while (p < end) {
    const type = view.getUint8(p);
    if (type === OPTION_END) return null;
    if (type === OPTION_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end) return `IPv4 option ${type} has no length byte`;
    const length = view.getUint8(p + 1);
    if (length < 2 || p + length > end) return `IPv4 option ${type} has a bad length ${length}`;
    p += length;
  }
  return null;
}

/** Protocol numbers named in the fields (IANA "Assigned Internet Protocol Numbers"). */
export function ipProtocolName(protocol: number): string {
  return protocol === 6 ? 'TCP' : protocol === 17 ? 'UDP' : protocol === 1 ? 'ICMP' : protocol === 58 ? 'ICMPv6' : String(protocol);
}

/** The fields of the IPv4 header at `offset` in `data` (offsets into `data`), Wireshark's names; empty when it is not all there. */
export function ipv4HeaderFields(data: Uint8Array, offset: number): Field[] {
  if (offset + MIN_HEADER_BYTES > data.length) return [];
  const headerLength = (data[offset] & 0x0f) * 4;
  const f = (id: string, label: string, at: number, length: number, value: string): Field => ({ id, label, offset: offset + at, length, value });
  const fragment = readU16(data, offset + 6);
  const flags = [fragment & 0x8000 ? 'reserved' : '', fragment & 0x4000 ? "don't fragment" : '', fragment & FLAG_MORE_FRAGMENTS ? 'more fragments' : ''].filter(Boolean);
  const fields = [
    f('ip.version', 'version', 0, 1, String(data[offset] >> 4)),
    f('ip.hdr_len', 'header length', 0, 1, `${headerLength} bytes`),
    f('ip.dsfield', 'differentiated services', 1, 1, `0x${data[offset + 1].toString(16).padStart(2, '0')}`),
    f('ip.len', 'total length', 2, 2, String(readU16(data, offset + 2))),
    f('ip.id', 'identification', 4, 2, `0x${readU16(data, offset + 4).toString(16).padStart(4, '0')}`),
    f('ip.flags', 'flags', 6, 1, flags.join(', ') || 'none'),
    f('ip.frag_offset', 'fragment offset', 6, 2, `${(fragment & FRAGMENT_OFFSET_MASK) * 8} bytes`),
    f('ip.ttl', 'time to live', 8, 1, String(data[offset + 8])),
    f('ip.proto', 'protocol', 9, 1, ipProtocolName(data[offset + 9])),
    f('ip.checksum', 'header checksum', 10, 2, `0x${readU16(data, offset + 10).toString(16).padStart(4, '0')} (not verified)`),
    f('ip.src', 'source', 12, 4, formatIpv4(data, offset + 12)),
    f('ip.dst', 'destination', 16, 4, formatIpv4(data, offset + 16)),
  ];
  if (headerLength > MIN_HEADER_BYTES && offset + headerLength <= data.length) fields.push(f('ip.options', 'options', MIN_HEADER_BYTES, headerLength - MIN_HEADER_BYTES, `${headerLength - MIN_HEADER_BYTES} bytes`));
  return fields;
}
