/**
 * A captured frame's headers, layer by layer (link, IP, TCP), each with its fields and where it
 * lies in the frame: what the Event pane shows and highlights for a packet. The fields come from
 * each header's own file (link-layer.ts, ipv4.ts, ipv6.ts, tcp.ts).
 */
import type { Field } from '../core/field.js';
import { ipv4HeaderFields } from './ipv4.js';
import { decodeIpv6Header, ipv6HeaderFields, walkIpv6ExtensionHeaders, type Ipv6Header, type Ipv6Payload } from './ipv6.js';
import { decodeLinkLayer, ETHERTYPE_IPV4, ETHERTYPE_IPV6, linkLayerFields, linkTypeName, type LinkFrame } from './link-layer.js';
import { IP_PROTOCOL_TCP, tcpHeaderFields } from './tcp.js';

export interface HeaderLayer {
  layer: 'link' | 'ip' | 'tcp';
  /** "Ethernet", "Linux cooked (SLL2)", "IPv4", "IPv6", "TCP". */
  name: string;
  /** [start, end) of the header in the frame. */
  start: number;
  end: number;
  /** Offsets into the frame. */
  fields: Field[];
}

const LINK_NAMES: Record<string, string> = { EN10MB: 'Ethernet', LINUX_SLL: 'Linux cooked (SLL)', LINUX_SLL2: 'Linux cooked (SLL2)', NULL: 'BSD loopback', LOOP: 'OpenBSD loopback' };

/** The link, IP and TCP headers of a frame, as far as they are there (IP fragments: no TCP header past the first). */
export function packetHeaderLayers(linkType: number, data: Uint8Array): HeaderLayer[] {
  const layers: HeaderLayer[] = [];
  const link: LinkFrame = { etherType: 0, offset: 0 };
  if (decodeLinkLayer(linkType, data, link) !== null) return layers;
  if (link.offset > 0) layers.push({ layer: 'link', name: LINK_NAMES[linkTypeName(linkType)] ?? linkTypeName(linkType), start: 0, end: link.offset, fields: linkLayerFields(linkType, data) });
  let tcpAt = -1;
  if (link.etherType === ETHERTYPE_IPV4) {
    const fields = ipv4HeaderFields(data, link.offset);
    if (!fields.length) return layers;
    const headerLength = (data[link.offset] & 0x0f) * 4;
    layers.push({ layer: 'ip', name: 'IPv4', start: link.offset, end: Math.min(link.offset + headerLength, data.length), fields });
    const fragment = (data[link.offset + 6] << 8) | data[link.offset + 7];
    if (data[link.offset + 9] === IP_PROTOCOL_TCP && (fragment & 0x1fff) === 0) tcpAt = link.offset + headerLength;
  } else if (link.etherType === ETHERTYPE_IPV6) {
    const header: Ipv6Header = { payloadLength: 0, nextHeader: 0, srcOffset: 0, dstOffset: 0 };
    if (decodeIpv6Header(data, link.offset, header) !== null) return layers;
    const payload: Ipv6Payload = { protocol: 0, offset: 0, fragmented: false, fragmentOffset: 0, moreFragments: false, fragmentId: 0 };
    const walked = walkIpv6ExtensionHeaders(data, link.offset + 40, data.length, header.nextHeader, payload) === null;
    layers.push({ layer: 'ip', name: 'IPv6', start: link.offset, end: walked ? payload.offset : link.offset + 40, fields: ipv6HeaderFields(data, link.offset) });
    if (walked && payload.protocol === IP_PROTOCOL_TCP && payload.fragmentOffset === 0) tcpAt = payload.offset;
  }
  if (tcpAt >= 0) {
    const fields = tcpHeaderFields(data, tcpAt);
    if (fields.length) {
      const headerLength = (data[tcpAt + 12] >> 4) * 4;
      layers.push({ layer: 'tcp', name: 'TCP', start: tcpAt, end: tcpAt + headerLength, fields });
    }
  }
  return layers;
}
