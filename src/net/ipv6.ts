/** IPv6 header and extension headers (RFC 8200). */
import type { Field } from '../core/field.js';
import { formatIpv6 } from '../capture/ip-address-text.js';
import { ipProtocolName } from './ipv4.js';
import { readU16, readU32 } from './read-bytes.js';

const HEADER_BYTES = 40;
const NEXT_HOP_BY_HOP = 0;
const NEXT_ROUTING = 43;
const NEXT_FRAGMENT = 44;
const NEXT_AUTHENTICATION = 51;
const NEXT_DESTINATION_OPTIONS = 60;
const NEXT_MOBILITY = 135;
const NEXT_HIP = 139;
const NEXT_SHIM6 = 140;
/** Nothing follows; a payload length of 0 is then a real empty payload, not offload. */
export const NEXT_NONE = 59;
const FRAGMENT_HEADER_BYTES = 8;

/** Filled in place by decodeIpv6Header (one object reused per packet). */
export interface Ipv6Header {
  /**
   * Payload length from the header (may exceed the captured bytes or be shorter than the frame).
   * 0 with a next header other than NEXT_NONE (segmentation offload or a jumbogram) is replaced by the captured length.
   */
  payloadLength: number;
  nextHeader: number;
  /** Offsets of the 16-byte addresses in the frame. */
  srcOffset: number;
  dstOffset: number;
}

/** Decodes the header at `offset` of a frame ending at `end` into `out`; returns null, or why the datagram must be dropped. */
export function decodeIpv6Header(data: Uint8Array, offset: number, out: Ipv6Header, end = data.length): string | null {
  const captured = end - offset;
  if (captured < HEADER_BYTES) return `IPv6 header cut short: ${captured} bytes captured`;
  const version = data[offset] >> 4;
  if (version !== 6) return `IP version ${version} in an IPv6 packet`;
  const declared = readU16(data, offset + 4);
  out.nextHeader = data[offset + 6];
  out.payloadLength = declared === 0 && out.nextHeader !== NEXT_NONE ? captured - HEADER_BYTES : declared;
  out.srcOffset = offset + 8;
  out.dstOffset = offset + 24;
  return null;
}

/** Where the upper-layer protocol starts, after the extension headers. Filled in place. */
export interface Ipv6Payload {
  protocol: number;
  offset: number;
  /** A Fragment header was found: `offset` is then the start of the fragment's data and `protocol` the header after it. */
  fragmented: boolean;
  /** In bytes. */
  fragmentOffset: number;
  moreFragments: boolean;
  fragmentId: number;
}

/**
 * Walks the extension headers in data[offset, end) that follow a header whose next-header value is
 * `nextHeader`. Stops at the upper-layer header, or after a Fragment header (what follows it is only
 * readable once the datagram is reassembled: walk again over the reassembled bytes).
 * Returns null, or why the datagram must be dropped.
 */
export function walkIpv6ExtensionHeaders(data: Uint8Array, offset: number, end: number, nextHeader: number, out: Ipv6Payload): string | null {
  out.fragmented = false;
  // Every step advances by at least 8 bytes, so the walk is bounded by the datagram length.
  for (;;) {
    switch (nextHeader) {
      case NEXT_HOP_BY_HOP:
      case NEXT_ROUTING:
      case NEXT_DESTINATION_OPTIONS:
      case NEXT_MOBILITY:
      case NEXT_HIP:
      case NEXT_SHIM6:
      case NEXT_AUTHENTICATION: {
        if (offset + 2 > end) return `IPv6 extension header ${nextHeader} cut short`;
        // AH counts 4-byte units minus 2; the others 8-byte units minus 1.
        const length = nextHeader === NEXT_AUTHENTICATION ? (data[offset + 1] + 2) * 4 : (data[offset + 1] + 1) * 8;
        if (offset + length > end) return `IPv6 extension header ${nextHeader} of ${length} bytes cut short`;
        nextHeader = data[offset];
        offset += length;
        break;
      }
      case NEXT_FRAGMENT: {
        if (offset + FRAGMENT_HEADER_BYTES > end) return 'IPv6 fragment header cut short';
        const field = readU16(data, offset + 2);
        const fragmentOffset = field & 0xfff8;
        const more = (field & 1) !== 0;
        nextHeader = data[offset];
        offset += FRAGMENT_HEADER_BYTES;
        // An atomic fragment (offset 0, no more) is a whole datagram (RFC 6946): keep walking.
        if (fragmentOffset === 0 && !more) break;
        out.fragmented = true;
        out.fragmentOffset = fragmentOffset;
        out.moreFragments = more;
        out.fragmentId = readU32(data, offset - 4);
        out.protocol = nextHeader;
        out.offset = offset;
        return null;
      }
      default:
        out.protocol = nextHeader;
        out.offset = offset;
        return null;
    }
  }
}

/** The fields of the fixed IPv6 header at `offset` in `data` (offsets into `data`), Wireshark's names; empty when it is not all there. */
export function ipv6HeaderFields(data: Uint8Array, offset: number): Field[] {
  if (offset + HEADER_BYTES > data.length) return [];
  const f = (id: string, label: string, at: number, length: number, value: string): Field => ({ id, label, offset: offset + at, length, value });
  const first = readU32(data, offset);
  return [
    f('ipv6.version', 'version', 0, 1, String(first >>> 28)),
    f('ipv6.tclass', 'traffic class', 0, 2, `0x${((first >>> 20) & 0xff).toString(16).padStart(2, '0')}`),
    f('ipv6.flow', 'flow label', 1, 3, `0x${(first & 0xfffff).toString(16).padStart(5, '0')}`),
    f('ipv6.plen', 'payload length', 4, 2, String(readU16(data, offset + 4))),
    f('ipv6.nxt', 'next header', 6, 1, ipProtocolName(data[offset + 6])),
    f('ipv6.hlim', 'hop limit', 7, 1, String(data[offset + 7])),
    f('ipv6.src', 'source', 8, 16, formatIpv6(data, offset + 8)),
    f('ipv6.dst', 'destination', 24, 16, formatIpv6(data, offset + 24)),
  ];
}
