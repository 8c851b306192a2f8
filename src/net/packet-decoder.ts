/**
 * Captured frames to TCP segments: link layer → IPv4/IPv6 (with fragment reassembly) → TCP header.
 * Everything else is counted and skipped; malformed packets become problems naming the packet.
 */
import type { Packet } from '../capture/packet.js';
import type { Problem } from '../core/problem.js';
import { linkProblem } from './problems.js';
import { AddressCache } from './address-cache.js';
import { IpFragmentReassembler, type IpFragmentReassemblerOptions } from './ip-fragments.js';
import { decodeIpv4Header, type Ipv4Header } from './ipv4.js';
import { decodeIpv6Header, walkIpv6ExtensionHeaders, type Ipv6Header, type Ipv6Payload } from './ipv6.js';
import { decodeLinkLayer, ETHERTYPE_IPV4, ETHERTYPE_IPV6, isSupportedLinkType, linkTypeName, type LinkFrame } from './link-layer.js';
import { decodeTcpHeader, IP_PROTOCOL_TCP, type TcpHeader, type TcpSegment } from './tcp.js';

export type { TcpSegment } from './tcp.js';

const IPV6_HEADER_BYTES = 40;

export interface PacketDecoderSink {
  /** `seg` is filled in place for every packet: like its payload, it is valid only during the call. */
  onSegment(seg: TcpSegment): void;
  onProblem?(p: Problem): void;
}

/**
 * What was skipped, and why. Packets and segments are not counted here: the capture reader numbers
 * the packets and the sink sees every segment (two more counts a packet, stored for nobody).
 */
export interface PacketDecoderStats {
  /** IP datagrams of another protocol (UDP, ICMP...). */
  otherIp: number;
  /** Frames carrying something other than IP (ARP, LLC...). */
  nonIp: number;
  /** Frames of interfaces whose link type is not supported. */
  unsupportedLink: number;
  /** Frames dropped with a problem. */
  malformed: number;
  /** Frames cut short by the snaplen (only the first of each interface is reported as a problem). */
  snaplenCut: number;
  ipFragments: number;
  reassembledDatagrams: number;
}

export class PacketDecoder {
  readonly stats: PacketDecoderStats = {
    otherIp: 0,
    nonIp: 0,
    unsupportedLink: 0,
    malformed: 0,
    snaplenCut: 0,
    ipFragments: 0,
    reassembledDatagrams: 0,
  };
  // Header decoders fill these in place: no allocation per packet for headers.
  private readonly link: LinkFrame = { etherType: 0, offset: 0 };
  private readonly ipv4: Ipv4Header = { headerLength: 0, totalLength: 0, id: 0, moreFragments: false, fragmentOffset: 0, protocol: 0, srcOffset: 0, dstOffset: 0 };
  private readonly ipv6: Ipv6Header = { payloadLength: 0, nextHeader: 0, srcOffset: 0, dstOffset: 0 };
  private readonly ipv6Payload: Ipv6Payload = { protocol: 0, offset: 0, fragmented: false, fragmentOffset: 0, moreFragments: false, fragmentId: 0 };
  /** The TCP header is decoded into the segment itself (its header length besides): no fields copied from one object to the other. */
  private readonly segment: TcpSegment & TcpHeader = { src: '', dst: '', srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, windowScale: 0, headerLength: 0, bytes: new Uint8Array(0), start: 0, end: 0, payloadStart: 0, missing: 0, packet: 0, ts: 0 };
  /** A DataView over the bytes the header decoders read (`viewBytes`: the reader's buffer, which changes once a chunk, not once a packet). */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewBytes: Uint8Array | null = null;
  /** The link type of the previous packet was supported: captures have one or a few interfaces. */
  private supportedLinkType = -1;
  private readonly addresses = new AddressCache();
  private readonly fragments: IpFragmentReassembler;
  private readonly unsupportedInterfaces = new Set<number>();
  private readonly cutInterfaces = new Set<number>();

  constructor(
    private readonly sink: PacketDecoderSink,
    opts: { fragments?: IpFragmentReassemblerOptions } = {},
  ) {
    this.fragments = new IpFragmentReassembler((p) => this.sink.onProblem?.(p), opts.fragments);
  }

  push(p: Packet): void {
    if (p.linkType !== this.supportedLinkType && !this.checkLinkType(p)) return;
    const link = this.link;
    const linkProblem = decodeLinkLayer(p.linkType, p.bytes, link, p.start, p.end);
    if (linkProblem !== null) return this.malformed(p, linkProblem);
    if (link.etherType !== ETHERTYPE_IPV4) {
      if (link.etherType === ETHERTYPE_IPV6) this.pushIpv6(p, link.offset);
      else this.stats.nonIp++;
      return;
    }
    // IPv4, nearly every packet, decoded here rather than in a method of its own: the optimizer takes
    // the functions a function calls into it up to a budget of their sizes, where the function's own
    // code is free, so decodeIpv4Header, pushTransport and the sink's onSegment now fit into this one
    // instead of being called for each packet (~130 instructions a packet fewer).
    const data = p.bytes;
    const view = this.viewOf(data);
    const offset = link.offset;
    const ip = this.ipv4;
    const headerProblem = decodeIpv4Header(view, offset, ip, p.end);
    if (headerProblem !== null) return this.malformed(p, headerProblem);
    // The whole datagram was captured, nearly always: the snaplen's accounting is a call only when it was not.
    const missing = offset + ip.totalLength <= p.end ? 0 : this.uncaptured(p, offset + ip.totalLength, 'IPv4 total length', ip.totalLength);
    if (missing < 0) return;
    const end = Math.min(offset + ip.totalLength, p.end);
    const src = this.addresses.ipv4(view.getUint32(ip.srcOffset), data, ip.srcOffset);
    const dst = this.addresses.ipv4(view.getUint32(ip.dstOffset), data, ip.dstOffset);
    const payloadStart = offset + ip.headerLength;
    if (ip.moreFragments === false && ip.fragmentOffset === 0) return this.pushTransport(p, src, dst, ip.protocol, data, view, payloadStart, end, missing);
    this.pushIpv4Fragment(p, src, dst, data, payloadStart, end, missing);
  }

  /** The capture ended: incomplete fragmented datagrams are reported. */
  end(): void {
    this.fragments.end();
  }

  /** Whether the packet's link type is decoded here; reports each interface whose type is not, once. */
  private checkLinkType(p: Packet): boolean {
    if (isSupportedLinkType(p.linkType)) {
      this.supportedLinkType = p.linkType;
      return true;
    }
    this.stats.unsupportedLink++;
    if (!this.unsupportedInterfaces.has(p.interfaceId)) {
      this.unsupportedInterfaces.add(p.interfaceId);
      this.problem('unsupported-link-type', p, `link type ${linkTypeName(p.linkType)} of interface ${p.interfaceId} is not supported: its packets are skipped`);
    }
    return false;
  }

  /** A DataView over `bytes`, at the same offsets. */
  private viewOf(bytes: Uint8Array): DataView {
    if (bytes !== this.viewBytes) {
      this.viewBytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.view;
  }

  /** A fragment of an IPv4 datagram, reassembled with the others. Apart from push, whose budget of code taken in it would spend. */
  private pushIpv4Fragment(p: Packet, src: string, dst: string, data: Uint8Array, payloadStart: number, end: number, missing: number): void {
    const ip = this.ipv4;
    this.stats.ipFragments++;
    if (missing > 0) return this.malformed(p, `IPv4 fragment cut short by the snaplen (${missing} bytes not captured)`);
    const key = `IPv4 datagram ${src}→${dst} id ${ip.id} protocol ${ip.protocol}`;
    const whole = this.fragments.push(key, ip.fragmentOffset, ip.moreFragments, ip.protocol, data.subarray(payloadStart, end), p.index, p.ts);
    if (!whole) return;
    this.stats.reassembledDatagrams++;
    this.pushTransport(p, src, dst, whole.protocol, whole.data, viewOfDatagram(whole.data), 0, whole.data.length, 0);
  }

  private pushIpv6(p: Packet, offset: number): void {
    const data = p.bytes;
    const ip = this.ipv6;
    const headerProblem = decodeIpv6Header(data, offset, ip, p.end);
    if (headerProblem) return this.malformed(p, headerProblem);
    const missing = this.uncaptured(p, offset + IPV6_HEADER_BYTES + ip.payloadLength, 'IPv6 payload length', ip.payloadLength);
    if (missing < 0) return;
    const end = Math.min(offset + IPV6_HEADER_BYTES + ip.payloadLength, p.end);
    const payload = this.ipv6Payload;
    const extensionProblem = walkIpv6ExtensionHeaders(data, offset + IPV6_HEADER_BYTES, end, ip.nextHeader, payload);
    if (extensionProblem) return this.malformed(p, extensionProblem);
    const src = this.addresses.ipv6(data, ip.srcOffset);
    const dst = this.addresses.ipv6(data, ip.dstOffset);
    if (!payload.fragmented) return this.pushTransport(p, src, dst, payload.protocol, data, this.viewOf(data), payload.offset, end, missing);
    this.stats.ipFragments++;
    if (missing > 0) return this.malformed(p, `IPv6 fragment cut short by the snaplen (${missing} bytes not captured)`);
    const key = `IPv6 datagram ${src}→${dst} id ${payload.fragmentId}`;
    const whole = this.fragments.push(key, payload.fragmentOffset, payload.moreFragments, payload.protocol, data.subarray(payload.offset, end), p.index, p.ts);
    if (!whole) return;
    this.stats.reassembledDatagrams++;
    // Extension headers may follow the fragment header; they are part of the reassembled bytes.
    const innerProblem = walkIpv6ExtensionHeaders(whole.data, 0, whole.data.length, whole.protocol, payload);
    if (innerProblem) return this.malformed(p, innerProblem);
    if (payload.fragmented) return this.malformed(p, 'IPv6 fragment header inside a reassembled datagram');
    this.pushTransport(p, src, dst, payload.protocol, whole.data, viewOfDatagram(whole.data), payload.offset, whole.data.length, 0);
  }

  /**
   * Bytes of a datagram ending at `datagramEnd` (an offset in the packet's bytes) that were on the wire but not captured
   * (snaplen); or -1 after reporting a datagram longer than the frame itself (malformed).
   * A short snaplen cuts most packets: the first cut per interface is reported, the reassembler's
   * gaps tell about the others. The length field is named for the problem text, built only then.
   */
  private uncaptured(p: Packet, datagramEnd: number, lengthField: string, lengthValue: number): number {
    if (datagramEnd <= p.end) return 0;
    const captured = p.end - p.start;
    if (p.origLen <= captured) {
      this.malformed(p, `${lengthField} ${lengthValue} reaches past the end of the ${captured}-byte frame`);
      return -1;
    }
    const missing = Math.min(datagramEnd - p.start, p.origLen) - captured;
    this.stats.snaplenCut++;
    if (!this.cutInterfaces.has(p.interfaceId)) {
      this.cutInterfaces.add(p.interfaceId);
      this.problem(
        'snaplen-cut',
        p,
        `snaplen cut the packet: ${captured} of ${p.origLen} bytes captured, ${missing} bytes of the IP datagram missing (further cut packets of interface ${p.interfaceId} are not reported)`,
      );
    }
    return missing;
  }

  /** The transport datagram data[start, end), which `view` covers at the same offsets. */
  private pushTransport(p: Packet, src: string, dst: string, protocol: number, data: Uint8Array, view: DataView, start: number, end: number, missing: number): void {
    if (protocol !== IP_PROTOCOL_TCP) {
      this.stats.otherIp++;
      return;
    }
    const seg = this.segment;
    const headerProblem = decodeTcpHeader(view, start, end, seg);
    if (headerProblem !== null) return this.malformed(p, headerProblem);
    // Stored only when they change (the addresses mostly repeat, the buffer changes once a chunk): a
    // pointer stored into this old object costs the write barrier's slow path while the garbage
    // collector marks, and whenever the buffer is young (~80 instructions a packet together).
    if (seg.src !== src) seg.src = src;
    if (seg.dst !== dst) seg.dst = dst;
    const payloadStart = start + seg.headerLength;
    if (seg.bytes !== data) seg.bytes = data;
    seg.start = payloadStart;
    seg.end = end;
    seg.payloadStart = data === p.bytes ? payloadStart - p.start : payloadStart;
    seg.missing = missing;
    seg.packet = p.index;
    seg.ts = p.ts;
    this.sink.onSegment(seg);
  }

  private malformed(p: Packet, message: string): void {
    this.stats.malformed++;
    this.problem('malformed', p, message);
  }

  private problem(code: Parameters<typeof linkProblem>[0], p: Packet, message: string): void {
    this.sink.onProblem?.(linkProblem(code, message, { where: `packet ${p.index}`, packet: p.index }));
  }
}

/** A DataView over a reassembled datagram (rare: made for each). */
function viewOfDatagram(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}
