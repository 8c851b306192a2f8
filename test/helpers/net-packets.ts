/**
 * Packet builders for tests: TCP segments in IPv4/IPv6 datagrams (options, extension headers,
 * fragments) in every supported link layer, with correct lengths and checksums.
 *
 *   buildTcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 51000, dstPort: 6443, seq: 1, flags: 'PA', payload: 'GET / HTTP/1.1\r\n' })
 *   buildTcpPacket({ src: 'fd00::1', dst: 'fd00::2', ..., link: 'sll2' })      // IPv6 when the addresses are
 *   toPacket(frame, 1, { linkType: linkTypeOf('sll2') })
 */
import type { Packet } from '../../src/capture/packet.js';
import { parseIpv4, parseIpv6 } from '../../src/capture/ip-address-text.js';

export type LinkKind = 'ether' | 'sll' | 'sll2' | 'null' | 'loop' | 'raw' | 'ipv4' | 'ipv6';

const LINK_TYPES: Record<LinkKind, number> = { ether: 1, sll: 113, sll2: 276, null: 0, loop: 108, raw: 101, ipv4: 228, ipv6: 229 };

export function linkTypeOf(link: LinkKind): number {
  return LINK_TYPES[link];
}

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

/** 'S', 'SA', 'PA', 'FA', 'R', 'RA', 'A'... (F S R P A U E C) or the flag bits. */
export type Flags = number | string;

export function flagBits(flags: Flags): number {
  if (typeof flags === 'number') return flags;
  let bits = 0;
  for (const ch of flags) {
    const i = 'FSRPAUEC'.indexOf(ch);
    if (i < 0) throw new Error(`unknown TCP flag ${ch}`);
    bits |= 1 << i;
  }
  return bits;
}

export function bytes(data: Uint8Array | string | number[] | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (typeof data === 'string') return new TextEncoder().encode(data);
  return data instanceof Uint8Array ? data : Uint8Array.from(data);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function addressBytes(text: string): Uint8Array {
  const a = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (!a) throw new Error(`bad address ${text}`);
  return a;
}

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

function put32(b: Uint8Array, off: number, v: number): void {
  put16(b, off, (v >>> 16) & 0xffff);
  put16(b, off + 2, v & 0xffff);
}

/** RFC 1071 ones'-complement sum over the concatenated parts. */
export function internetChecksum(...parts: Uint8Array[]): number {
  const all = concatBytes(...parts);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += (all[i] << 8) | (all[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface TcpSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags?: Flags;
  window?: number;
  payload?: Uint8Array | string;
  /** Raw TCP option bytes (padded to 4 with NOPs). */
  tcpOptions?: Uint8Array | number[];
}

/** TCP header + payload with the checksum over the pseudo-header of src/dst. */
export function buildTcp(spec: TcpSpec): Uint8Array {
  const payload = bytes(spec.payload);
  const rawOptions = bytes(spec.tcpOptions);
  const optionBytes = Math.ceil(rawOptions.length / 4) * 4;
  const headerLength = 20 + optionBytes;
  const seg = new Uint8Array(headerLength + payload.length);
  put16(seg, 0, spec.srcPort);
  put16(seg, 2, spec.dstPort);
  put32(seg, 4, spec.seq ?? 0);
  put32(seg, 8, spec.ack ?? 0);
  seg[12] = (headerLength / 4) << 4;
  seg[13] = flagBits(spec.flags ?? 'A');
  put16(seg, 14, spec.window ?? 65535);
  seg.fill(1, 20, headerLength);
  seg.set(rawOptions, 20);
  seg.set(payload, headerLength);
  put16(seg, 16, internetChecksum(pseudoHeader(spec.src, spec.dst, PROTO_TCP, seg.length), seg));
  return seg;
}

function pseudoHeader(src: string, dst: string, protocol: number, length: number): Uint8Array {
  const s = addressBytes(src);
  const d = addressBytes(dst);
  const tail = new Uint8Array(s.length === 4 ? 4 : 8);
  if (s.length === 4) {
    tail[1] = protocol;
    put16(tail, 2, length);
  } else {
    put32(tail, 0, length);
    tail[7] = protocol;
  }
  return concatBytes(s, d, tail);
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  id?: number;
  ttl?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes (multiple of 8). */
  fragmentOffset?: number;
  /** Raw option bytes, padded to 4 with End-of-options. */
  options?: Uint8Array | number[];
  /** Overrides the total length field (hostile tests). */
  totalLength?: number;
}

export function buildIpv4(spec: Ipv4Spec): Uint8Array {
  const options = bytes(spec.options);
  const headerLength = 20 + Math.ceil(options.length / 4) * 4;
  const p = new Uint8Array(headerLength + spec.payload.length);
  p[0] = 0x40 | (headerLength / 4);
  put16(p, 2, spec.totalLength ?? p.length);
  put16(p, 4, spec.id ?? 0x1234);
  put16(p, 6, (spec.dontFragment ? 0x4000 : 0) | (spec.moreFragments ? 0x2000 : 0) | ((spec.fragmentOffset ?? 0) / 8));
  p[8] = spec.ttl ?? 64;
  p[9] = spec.protocol;
  p.set(addressBytes(spec.src), 12);
  p.set(addressBytes(spec.dst), 16);
  p.set(options, 20);
  put16(p, 10, internetChecksum(p.subarray(0, headerLength)));
  p.set(spec.payload, headerLength);
  return p;
}

/** An IPv6 extension header: hop-by-hop (0), routing (43), destination options (60), authentication (51). */
export interface Ipv6Extension {
  type: number;
  /** Body bytes after the next-header and length bytes; padded as the header type requires. */
  body?: Uint8Array | number[];
}

export interface Ipv6Spec {
  src: string;
  dst: string;
  /** Upper-layer protocol after the extension headers. */
  protocol: number;
  payload: Uint8Array;
  extensions?: Ipv6Extension[];
  /** Overrides the payload length field. */
  payloadLength?: number;
}

export function buildIpv6(spec: Ipv6Spec): Uint8Array {
  const exts = spec.extensions ?? [];
  const encoded = exts.map((e, i) => encodeExtension(e, i + 1 < exts.length ? exts[i + 1].type : spec.protocol));
  const body = concatBytes(...encoded, spec.payload);
  const p = new Uint8Array(40 + body.length);
  p[0] = 0x60;
  put16(p, 4, spec.payloadLength ?? body.length);
  p[6] = exts.length ? exts[0].type : spec.protocol;
  p[7] = 64;
  p.set(addressBytes(spec.src), 8);
  p.set(addressBytes(spec.dst), 24);
  p.set(body, 40);
  return p;
}

function encodeExtension(e: Ipv6Extension, next: number): Uint8Array {
  const body = bytes(e.body);
  const ah = e.type === 51;
  const unit = ah ? 4 : 8;
  const total = Math.max(ah ? 12 : 8, Math.ceil((2 + body.length) / unit) * unit);
  const h = new Uint8Array(total);
  h[0] = next;
  h[1] = ah ? total / 4 - 2 : total / 8 - 1;
  h.set(body, 2);
  return h;
}

/**
 * Splits an IPv4 datagram into fragments carrying `size` payload bytes each (a multiple of 8),
 * in order; shuffle or drop them in the test.
 */
export function fragmentIpv4(datagram: Uint8Array, size: number): Uint8Array[] {
  const headerLength = (datagram[0] & 0x0f) * 4;
  const payload = datagram.subarray(headerLength);
  const src = `${datagram[12]}.${datagram[13]}.${datagram[14]}.${datagram[15]}`;
  const dst = `${datagram[16]}.${datagram[17]}.${datagram[18]}.${datagram[19]}`;
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    out.push(
      buildIpv4({
        src,
        dst,
        protocol: datagram[9],
        id: (datagram[4] << 8) | datagram[5],
        fragmentOffset: off,
        moreFragments: off + size < payload.length,
        payload: payload.subarray(off, off + size),
      }),
    );
  }
  return out;
}

/**
 * Splits an IPv6 datagram into fragments of `size` bytes (a multiple of 8) of its fragmentable part.
 * The first `unfragmentable` extension headers (hop-by-hop, routing) are repeated in each fragment;
 * the rest, with the upper layer, is fragmented.
 */
export function fragmentIpv6(datagram: Uint8Array, size: number, id: number, unfragmentable = 0): Uint8Array[] {
  let next = datagram[6];
  let off = 40;
  let nextFieldAt = 6;
  for (let i = 0; i < unfragmentable; i++) {
    nextFieldAt = off;
    next = datagram[off];
    off += (datagram[off + 1] + 1) * 8;
  }
  const head = datagram.slice(0, off);
  head[nextFieldAt] = 44;
  const rest = datagram.subarray(off);
  const out: Uint8Array[] = [];
  for (let f = 0; f < rest.length; f += size) {
    const chunk = rest.subarray(f, f + size);
    const fh = new Uint8Array(8);
    fh[0] = next;
    put16(fh, 2, f | (f + size < rest.length ? 1 : 0));
    put32(fh, 4, id);
    const p = concatBytes(head, fh, chunk);
    put16(p, 4, p.length - 40);
    out.push(p);
  }
  return out;
}

export interface FrameOptions {
  link?: LinkKind;
  /** 802.1Q tags (VLAN ids), outermost first; the first uses TPID 0x88a8 when `qinq`. */
  vlan?: number[];
  qinq?: boolean;
  /** Byte order of the NULL link's family field. Default little-endian. */
  nullByteOrder?: 'le' | 'be';
  /** BSD AF_INET6 value for NULL/LOOP (24, 28 or 30). Default 30. */
  af6?: number;
  /** Ethernet padding bytes appended after the datagram. */
  padding?: number;
}

/** Wraps an IP datagram in a link-layer header. */
export function frame(ip: Uint8Array, opts: FrameOptions = {}): Uint8Array {
  const link = opts.link ?? 'ether';
  const v6 = ip[0] >> 4 === 6;
  const etherType = v6 ? 0x86dd : 0x0800;
  const vlans = opts.vlan ?? [];
  // The header's EtherType field holds the first tag's TPID; each tag ends with the type after it.
  const types = [...vlans.map((_, i) => (i === 0 && opts.qinq ? 0x88a8 : 0x8100)), etherType];
  const withTags = (header: Uint8Array, typeAt: number) => {
    put16(header, typeAt, types[0]);
    const tags = new Uint8Array(vlans.length * 4);
    vlans.forEach((id, i) => {
      put16(tags, i * 4, id);
      put16(tags, i * 4 + 2, types[i + 1]);
    });
    return concatBytes(header, tags, ip, new Uint8Array(opts.padding ?? 0));
  };
  switch (link) {
    case 'ether': {
      const h = new Uint8Array(14);
      h.set([0x02, 0, 0, 0, 0, 0x02], 0);
      h.set([0x02, 0, 0, 0, 0, 0x01], 6);
      return withTags(h, 12);
    }
    case 'sll': {
      const h = new Uint8Array(16);
      put16(h, 0, 0); // packet type: to us
      put16(h, 2, 1); // ARPHRD_ETHER
      put16(h, 4, 6);
      h.set([0x02, 0, 0, 0, 0, 0x01], 6);
      return withTags(h, 14);
    }
    case 'sll2': {
      const h = new Uint8Array(20);
      put32(h, 4, 3); // interface index
      put16(h, 8, 1); // ARPHRD_ETHER
      h[10] = 4; // outgoing
      h[11] = 6;
      h.set([0x02, 0, 0, 0, 0, 0x01], 12);
      return withTags(h, 0);
    }
    case 'null':
    case 'loop': {
      const family = v6 ? (opts.af6 ?? 30) : 2;
      const h = new Uint8Array(4);
      if (link === 'loop' || opts.nullByteOrder === 'be') put32(h, 0, family);
      else h[0] = family;
      return concatBytes(h, ip);
    }
    case 'raw':
    case 'ipv4':
    case 'ipv6':
      return ip.slice();
  }
}

export interface TcpPacketSpec extends TcpSpec, FrameOptions {
  ipId?: number;
  ipOptions?: Uint8Array | number[];
  ipv6Extensions?: Ipv6Extension[];
}

/** A whole frame: link header, IPv4 (or IPv6 when the addresses are IPv6) and TCP. */
export function buildTcpPacket(spec: TcpPacketSpec): Uint8Array {
  return frame(buildTcpDatagram(spec), spec);
}

export function buildTcpDatagram(spec: TcpPacketSpec): Uint8Array {
  const tcp = buildTcp(spec);
  return spec.src.includes(':')
    ? buildIpv6({ src: spec.src, dst: spec.dst, protocol: PROTO_TCP, payload: tcp, extensions: spec.ipv6Extensions })
    : buildIpv4({ src: spec.src, dst: spec.dst, protocol: PROTO_TCP, payload: tcp, id: spec.ipId, options: spec.ipOptions });
}

export interface PacketOptions {
  ts?: number;
  linkType?: number;
  interfaceId?: number;
  /** Wire length, when the frame was cut by the snaplen. */
  origLen?: number;
}

export function toPacket(data: Uint8Array, index: number, opts: PacketOptions = {}): Packet {
  return {
    index,
    ts: opts.ts ?? index * 1000,
    linkType: opts.linkType ?? 1,
    interfaceId: opts.interfaceId ?? 0,
    bytes: data,
    start: 0,
    end: data.length,
    origLen: opts.origLen ?? data.length,
    fileOffset: 0,
  };
}
