/**
 * Link layers: find where the network-layer datagram starts in a captured frame and which protocol
 * it is, as an EtherType. Values and header layouts: https://www.tcpdump.org/linktypes.html.
 */

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
 * Decodes the link header of a frame of a supported link type into `out`.
 * Returns null, or why the frame cannot be decoded (too short for its header).
 */
export function decodeLinkLayer(linkType: number, data: Uint8Array, out: LinkFrame): string | null {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      if (data.length < ETHERNET_HEADER_BYTES) return `frame of ${data.length} bytes is shorter than an Ethernet header`;
      return skipVlanTags(data, ETHERNET_HEADER_BYTES, readU16(data, 12), out);
    case LINKTYPE_LINUX_SLL:
      if (data.length < SLL_HEADER_BYTES) return `frame of ${data.length} bytes is shorter than a Linux cooked (SLL) header`;
      return skipVlanTags(data, SLL_HEADER_BYTES, readU16(data, 14), out);
    case LINKTYPE_LINUX_SLL2:
      if (data.length < SLL2_HEADER_BYTES) return `frame of ${data.length} bytes is shorter than a Linux cooked (SLL2) header`;
      return skipVlanTags(data, SLL2_HEADER_BYTES, readU16(data, 0), out);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (data.length < LOOPBACK_HEADER_BYTES) return `frame of ${data.length} bytes is shorter than a loopback header`;
      const be = readU32(data, 0);
      // NULL stores the family in the capturing host's byte order, which the file does not record;
      // families are small numbers, so a value with an empty low half is big-endian.
      const le = ((data[3] << 24) | (data[2] << 16) | (data[1] << 8) | data[0]) >>> 0;
      const family = linkType === LINKTYPE_LOOP || (le & 0xffff) === 0 ? be : le;
      out.etherType = family === AF_INET ? ETHERTYPE_IPV4 : AF_INET6_VALUES.includes(family) ? ETHERTYPE_IPV6 : ETHERTYPE_UNKNOWN;
      out.offset = LOOPBACK_HEADER_BYTES;
      return null;
    }
    case LINKTYPE_RAW: {
      if (data.length === 0) return 'empty raw IP frame';
      const version = data[0] >> 4;
      if (version !== 4 && version !== 6) return `raw IP frame with IP version ${version}`;
      out.etherType = version === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
      out.offset = 0;
      return null;
    }
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      out.etherType = linkType === LINKTYPE_IPV4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
      out.offset = 0;
      return null;
    default:
      return `unsupported link type ${linkTypeName(linkType)}`;
  }
}

/** Skips 802.1Q / 802.1ad tags (stacked for Q-in-Q); each tag ends with the EtherType that follows it. */
function skipVlanTags(data: Uint8Array, offset: number, etherType: number, out: LinkFrame): string | null {
  while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_OLD) {
    if (offset + VLAN_TAG_BYTES > data.length) return `frame of ${data.length} bytes ends inside a VLAN tag`;
    etherType = readU16(data, offset + 2);
    offset += VLAN_TAG_BYTES;
  }
  out.etherType = etherType < ETHERTYPE_MIN ? ETHERTYPE_UNKNOWN : etherType;
  out.offset = offset;
  return null;
}
