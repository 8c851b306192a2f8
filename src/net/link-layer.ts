/**
 * Link layers: find where the network-layer datagram starts in a captured frame and which protocol
 * it is, as an EtherType. Values and header layouts: https://www.tcpdump.org/linktypes.html.
 */

import type { Field } from '../core/field.js';
import { readU16, readU32 } from './read-bytes.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;
/** sockdump's unix-socket records (net/sockdump.ts): no link or IP header, decoded apart from the others. */
export const LINKTYPE_USER0 = 147;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
/** Not a network protocol this decoder knows (ARP, LLC frames, an unknown loopback family...). */
export const ETHERTYPE_UNKNOWN = 0;

const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
/** Pre-standard 802.1ad tag, still emitted by some switches. */
const ETHERTYPE_QINQ_OLD = 0x9100;
/** EtherType values below this are 802.3 length fields, not protocol numbers. */
const ETHERTYPE_MIN = 0x0600;

const ETHERNET_HEADER_BYTES = 14;
const VLAN_TAG_BYTES = 4;
const SLL_HEADER_BYTES = 16;
const SLL2_HEADER_BYTES = 20;
const LOOPBACK_HEADER_BYTES = 4;

const AF_INET = 2;
/** AF_INET6 differs between BSDs: NetBSD/OpenBSD 24, FreeBSD/DragonFly 28, macOS 30. */
const AF_INET6_VALUES = [24, 28, 30];

/** libpcap/tcpdump names of the link types decoded here. */
const LINK_TYPE_NAMES = new Map<number, string>([
  [LINKTYPE_NULL, 'NULL'],
  [LINKTYPE_ETHERNET, 'EN10MB'],
  [LINKTYPE_RAW, 'RAW'],
  [LINKTYPE_LOOP, 'LOOP'],
  [LINKTYPE_LINUX_SLL, 'LINUX_SLL'],
  [LINKTYPE_IPV4, 'IPV4'],
  [LINKTYPE_IPV6, 'IPV6'],
  [LINKTYPE_LINUX_SLL2, 'LINUX_SLL2'],
  [LINKTYPE_USER0, 'USER0'],
]);

export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES.get(linkType) ?? `LINKTYPE_${linkType}`;
}

/** Whether decodeLinkLayer decodes this link type (USER0 is named here but is not an IP link: see net/sockdump.ts). */
export function isSupportedLinkType(linkType: number): boolean {
  return linkType !== LINKTYPE_USER0 && LINK_TYPE_NAMES.has(linkType);
}

/** Where a frame's network-layer datagram is. Filled in place by decodeLinkLayer (one object reused per packet). */
export interface LinkFrame {
  /** ETHERTYPE_IPV4, ETHERTYPE_IPV6, another EtherType, or ETHERTYPE_UNKNOWN. */
  etherType: number;
  /** Offset in the frame of the datagram's first byte. */
  offset: number;
}

/**
 * Decodes the link header of the frame data[start, end) of a supported link type into `out`
 * (its offset counts from the start of `data`, like `start`).
 * Returns null, or why the frame cannot be decoded (too short for its header).
 */
export function decodeLinkLayer(linkType: number, data: Uint8Array, out: LinkFrame, start = 0, end = data.length): string | null {
  // Ethernet, by far the most common, is decided here: small enough for the optimizer to take this
  // function into the packet decoder rather than call it for every packet.
  if (linkType === LINKTYPE_ETHERNET && end - start >= ETHERNET_HEADER_BYTES) {
    const etherType = readU16(data, start + 12);
    // An untagged frame (nearly all) ends here: skipVlanTags, never called then, takes none of the optimizer's budget for the packet decoder.
    if (!isVlanTag(etherType)) {
      out.etherType = knownEtherType(etherType);
      out.offset = start + ETHERNET_HEADER_BYTES;
      return null;
    }
    return skipVlanTags(data, start, end, start + ETHERNET_HEADER_BYTES, etherType, out);
  }
  return decodeOtherLinkLayer(linkType, data, out, start, end);
}

function isVlanTag(etherType: number): boolean {
  return etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_OLD;
}

/** An EtherType field as LinkFrame.etherType has it: values below ETHERTYPE_MIN are 802.3 lengths, not protocols. */
function knownEtherType(etherType: number): number {
  return etherType < ETHERTYPE_MIN ? ETHERTYPE_UNKNOWN : etherType;
}

function decodeOtherLinkLayer(linkType: number, data: Uint8Array, out: LinkFrame, start: number, end: number): string | null {
  const length = end - start;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return `frame of ${length} bytes is shorter than an Ethernet header`;
    case LINKTYPE_LINUX_SLL:
      if (length < SLL_HEADER_BYTES) return `frame of ${length} bytes is shorter than a Linux cooked (SLL) header`;
      return skipVlanTags(data, start, end, start + SLL_HEADER_BYTES, readU16(data, start + 14), out);
    case LINKTYPE_LINUX_SLL2:
      if (length < SLL2_HEADER_BYTES) return `frame of ${length} bytes is shorter than a Linux cooked (SLL2) header`;
      return skipVlanTags(data, start, end, start + SLL2_HEADER_BYTES, readU16(data, start), out);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (length < LOOPBACK_HEADER_BYTES) return `frame of ${length} bytes is shorter than a loopback header`;
      const be = readU32(data, start);
      // NULL stores the family in the capturing host's byte order, which the file does not record;
      // families are small numbers, so a value with an empty low half is big-endian.
      const le = ((data[start + 3] << 24) | (data[start + 2] << 16) | (data[start + 1] << 8) | data[start]) >>> 0;
      const family = linkType === LINKTYPE_LOOP || (le & 0xffff) === 0 ? be : le;
      out.etherType = family === AF_INET ? ETHERTYPE_IPV4 : AF_INET6_VALUES.includes(family) ? ETHERTYPE_IPV6 : ETHERTYPE_UNKNOWN;
      out.offset = start + LOOPBACK_HEADER_BYTES;
      return null;
    }
    case LINKTYPE_RAW: {
      if (length === 0) return 'empty raw IP frame';
      const version = data[start] >> 4;
      if (version !== 4 && version !== 6) return `raw IP frame with IP version ${version}`;
      out.etherType = version === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
      out.offset = start;
      return null;
    }
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      out.etherType = linkType === LINKTYPE_IPV4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
      out.offset = start;
      return null;
    default:
      return `unsupported link type ${linkTypeName(linkType)}`;
  }
}

/** Skips 802.1Q / 802.1ad tags (stacked for Q-in-Q) of the frame data[start, end); each tag ends with the EtherType that follows it. */
function skipVlanTags(data: Uint8Array, start: number, end: number, offset: number, etherType: number, out: LinkFrame): string | null {
  while (isVlanTag(etherType)) {
    if (offset + VLAN_TAG_BYTES > end) return `frame of ${end - start} bytes ends inside a VLAN tag`;
    etherType = readU16(data, offset + 2);
    offset += VLAN_TAG_BYTES;
  }
  out.etherType = knownEtherType(etherType);
  out.offset = offset;
  return null;
}

const ETHERTYPE_NAMES = new Map<number, string>([
  [ETHERTYPE_IPV4, 'IPv4'],
  [ETHERTYPE_IPV6, 'IPv6'],
  [0x0806, 'ARP'],
  [ETHERTYPE_VLAN, '802.1Q'],
  [ETHERTYPE_QINQ, '802.1ad'],
]);

function etherTypeText(t: number): string {
  return `0x${t.toString(16).padStart(4, '0')}${ETHERTYPE_NAMES.has(t) ? ` (${ETHERTYPE_NAMES.get(t)})` : ''}`;
}

function macText(data: Uint8Array, at: number, length = 6): string {
  return Array.from(data.subarray(at, at + length), (b) => b.toString(16).padStart(2, '0')).join(':');
}

const SLL_PACKET_TYPES = ['to us', 'broadcast', 'multicast', 'to another host', 'sent by us'];

/** The fields of a frame's link header (offsets into the frame), Wireshark's names; empty for raw IP and unknown link types. */
export function linkLayerFields(linkType: number, data: Uint8Array): Field[] {
  const fields: Field[] = [];
  const f = (id: string, label: string, offset: number, length: number, value: string) => fields.push({ id, label, offset, length, value });
  let vlanAt = -1;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      if (data.length < ETHERNET_HEADER_BYTES) return [];
      f('eth.dst', 'destination', 0, 6, macText(data, 0));
      f('eth.src', 'source', 6, 6, macText(data, 6));
      f('eth.type', 'type', 12, 2, etherTypeText(readU16(data, 12)));
      vlanAt = ETHERNET_HEADER_BYTES;
      break;
    case LINKTYPE_LINUX_SLL: {
      if (data.length < SLL_HEADER_BYTES) return [];
      const halen = Math.min(readU16(data, 4), 8);
      f('sll.pkttype', 'packet type', 0, 2, SLL_PACKET_TYPES[readU16(data, 0)] ?? String(readU16(data, 0)));
      f('sll.hatype', 'link-layer address type', 2, 2, String(readU16(data, 2)));
      f('sll.halen', 'link-layer address length', 4, 2, String(readU16(data, 4)));
      f('sll.src.eth', 'source', 6, 8, macText(data, 6, halen));
      f('sll.etype', 'protocol', 14, 2, etherTypeText(readU16(data, 14)));
      vlanAt = SLL_HEADER_BYTES;
      break;
    }
    case LINKTYPE_LINUX_SLL2: {
      if (data.length < SLL2_HEADER_BYTES) return [];
      f('sll.etype', 'protocol', 0, 2, etherTypeText(readU16(data, 0)));
      f('sll.reserved', 'reserved', 2, 2, String(readU16(data, 2)));
      f('sll.ifindex', 'interface index', 4, 4, String(readU32(data, 4)));
      f('sll.hatype', 'link-layer address type', 8, 2, String(readU16(data, 8)));
      f('sll.pkttype', 'packet type', 10, 1, SLL_PACKET_TYPES[data[10]] ?? String(data[10]));
      f('sll.halen', 'link-layer address length', 11, 1, String(data[11]));
      f('sll.src.eth', 'source', 12, 8, macText(data, 12, Math.min(data[11], 8)));
      vlanAt = SLL2_HEADER_BYTES;
      break;
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (data.length < LOOPBACK_HEADER_BYTES) return [];
      const frame: LinkFrame = { etherType: 0, offset: 0 };
      decodeLinkLayer(linkType, data, frame);
      f('null.family', 'family', 0, 4, frame.etherType === ETHERTYPE_IPV4 ? 'IPv4' : frame.etherType === ETHERTYPE_IPV6 ? 'IPv6' : 'unknown');
      return fields;
    }
    default:
      return [];
  }
  // VLAN tags: each ends with the EtherType after it.
  const frame: LinkFrame = { etherType: 0, offset: 0 };
  if (decodeLinkLayer(linkType, data, frame) !== null) return fields;
  for (let at = vlanAt; at + VLAN_TAG_BYTES <= frame.offset; at += VLAN_TAG_BYTES) {
    f('vlan.id', 'VLAN id', at, 2, String(readU16(data, at) & 0x0fff));
    f('vlan.etype', 'type', at + 2, 2, etherTypeText(readU16(data, at + 2)));
  }
  return fields;
}
