import {
  decodeLinkLayer,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_UNKNOWN,
  isSupportedLinkType,
  linkTypeName,
  type LinkFrame,
} from '../../src/net/link-layer.js';
import { buildTcpDatagram, buildTcpPacket, bytes, frame, linkTypeOf, toPacket, type LinkKind, type TcpPacketSpec } from '../helpers/net-packets.js';
import { decodePackets } from './decode-packets.js';

const V4: TcpPacketSpec = { src: '192.168.1.10', dst: '10.96.0.1', srcPort: 51234, dstPort: 443, seq: 0xfffffff0, ack: 17, flags: 'PA', window: 501, payload: 'hello' };
const V6: TcpPacketSpec = { ...V4, src: '2001:db8::10', dst: 'fd00:0:0:1::1' };

const LINKS: LinkKind[] = ['ether', 'sll', 'sll2', 'null', 'loop', 'raw'];

function expectSegment(spec: TcpPacketSpec, link: LinkKind, data: Uint8Array) {
  const d = decodePackets([toPacket(data, 7, { ts: 123, linkType: linkTypeOf(link) })]);
  expect(d.problems).toEqual([]);
  expect(d.segments).toEqual([
    {
      src: spec.src,
      dst: spec.dst,
      srcPort: 51234,
      dstPort: 443,
      seq: 0xfffffff0,
      ack: 17,
      flags: 0x18,
      window: 501,
      windowScale: 0,
      payload: bytes('hello'),
      missing: 0,
      packet: 7,
      ts: 123,
    },
  ]);
  expect(d.located).toEqual([true]);
}

describe('link types', () => {
  it('names link types as libpcap does', () => {
    expect([0, 1, 101, 108, 113, 228, 229, 276].map(linkTypeName)).toEqual(['NULL', 'EN10MB', 'RAW', 'LOOP', 'LINUX_SLL', 'IPV4', 'IPV6', 'LINUX_SLL2']);
    expect(linkTypeName(147)).toBe('USER0');
    expect(linkTypeName(148)).toBe('LINKTYPE_148');
    expect([0, 1, 101, 108, 113, 228, 229, 276].every(isSupportedLinkType)).toBe(true);
    expect(isSupportedLinkType(147)).toBe(false); // sockdump's records: not an IP link (net/sockdump.ts)
    expect(isSupportedLinkType(12)).toBe(false);
  });

  it.each(LINKS)('decodes TCP over IPv4 and IPv6 on %s', (link) => {
    expectSegment(V4, link, buildTcpPacket({ ...V4, link }));
    expectSegment(V6, link, buildTcpPacket({ ...V6, link }));
  });

  it('decodes the raw IPv4 and IPv6 link types', () => {
    expectSegment(V4, 'ipv4', buildTcpPacket({ ...V4, link: 'ipv4' }));
    expectSegment(V6, 'ipv6', buildTcpPacket({ ...V6, link: 'ipv6' }));
  });

  it('reads the NULL family in either byte order and every BSD AF_INET6 value', () => {
    for (const nullByteOrder of ['le', 'be'] as const) {
      expectSegment(V4, 'null', buildTcpPacket({ ...V4, link: 'null', nullByteOrder }));
      for (const af6 of [24, 28, 30]) {
        expectSegment(V6, 'null', buildTcpPacket({ ...V6, link: 'null', nullByteOrder, af6 }));
        expectSegment(V6, 'loop', buildTcpPacket({ ...V6, link: 'loop', af6 }));
      }
    }
  });

  it('finds the datagram at the right offset for each link header', () => {
    const ip = buildTcpDatagram(V4);
    const out: LinkFrame = { etherType: -1, offset: -1 };
    const cases: [LinkKind, number][] = [
      ['ether', 14],
      ['sll', 16],
      ['sll2', 20],
      ['null', 4],
      ['loop', 4],
      ['raw', 0],
      ['ipv4', 0],
    ];
    for (const [link, offset] of cases) {
      expect(decodeLinkLayer(linkTypeOf(link), frame(ip, { link }), out)).toBeNull();
      expect(out).toEqual({ etherType: ETHERTYPE_IPV4, offset });
    }
    expect(decodeLinkLayer(linkTypeOf('ether'), frame(ip, { vlan: [10, 20, 30] }), out)).toBeNull();
    expect(out).toEqual({ etherType: ETHERTYPE_IPV4, offset: 26 });
    expect(decodeLinkLayer(linkTypeOf('ipv6'), frame(buildTcpDatagram(V6), { link: 'ipv6' }), out)).toBeNull();
    expect(out).toEqual({ etherType: ETHERTYPE_IPV6, offset: 0 });
  });

  it('skips 802.1Q tags, stacked 802.1ad (Q-in-Q) tags, on Ethernet and Linux cooked captures', () => {
    for (const link of ['ether', 'sll', 'sll2'] as const) {
      expectSegment(V4, link, buildTcpPacket({ ...V4, link, vlan: [100] }));
      expectSegment(V6, link, buildTcpPacket({ ...V6, link, vlan: [100, 200], qinq: true }));
      expectSegment(V4, link, buildTcpPacket({ ...V4, link, vlan: [1, 2, 3] }));
    }
  });

  it('counts frames that are not IP without a problem', () => {
    const arp = new Uint8Array(42);
    arp[12] = 0x08;
    arp[13] = 0x06;
    const llc = new Uint8Array(60);
    llc[12] = 0x00;
    llc[13] = 46; // an 802.3 length, not an EtherType
    const nullOther = Uint8Array.from([7, 0, 0, 0, 1, 2, 3]);
    const d = decodePackets([toPacket(arp, 1), toPacket(llc, 2), toPacket(nullOther, 3, { linkType: 0 })]);
    expect(d.problems).toEqual([]);
    expect(d.stats.nonIp).toBe(3);
    const out: LinkFrame = { etherType: -1, offset: -1 };
    expect(decodeLinkLayer(1, llc, out)).toBeNull();
    expect(out.etherType).toBe(ETHERTYPE_UNKNOWN);
  });

  it('reports frames too short for their link header', () => {
    const full = buildTcpPacket({ ...V4, vlan: [5] });
    const d = decodePackets([
      toPacket(full.subarray(0, 13), 1),
      toPacket(full.subarray(0, 16), 2),
      toPacket(new Uint8Array(15), 3, { linkType: 113 }),
      toPacket(new Uint8Array(19), 4, { linkType: 276 }),
      toPacket(new Uint8Array(3), 5, { linkType: 0 }),
      toPacket(new Uint8Array(0), 6, { linkType: 101 }),
      toPacket(Uint8Array.from([0x50, 0, 0, 0]), 7, { linkType: 101 }),
    ]);
    expect(d.problems).toMatchObject([
      { where: 'packet 1', message: 'frame of 13 bytes is shorter than an Ethernet header' },
      { where: 'packet 2', message: 'frame of 16 bytes ends inside a VLAN tag' },
      { where: 'packet 3', message: 'frame of 15 bytes is shorter than a Linux cooked (SLL) header' },
      { where: 'packet 4', message: 'frame of 19 bytes is shorter than a Linux cooked (SLL2) header' },
      { where: 'packet 5', message: 'frame of 3 bytes is shorter than a loopback header' },
      { where: 'packet 6', message: 'empty raw IP frame' },
      { where: 'packet 7', message: 'raw IP frame with IP version 5' },
    ]);
    expect(d.stats.malformed).toBe(7);
  });

  it('reports an unsupported link type once per interface', () => {
    const data = buildTcpPacket(V4);
    const d = decodePackets([
      toPacket(data, 1, { linkType: 148, interfaceId: 0 }),
      toPacket(data, 2, { linkType: 148, interfaceId: 0 }),
      toPacket(data, 3, { linkType: 1, interfaceId: 1 }),
      toPacket(data, 4, { linkType: 148, interfaceId: 2 }),
      toPacket(data, 5, { linkType: 148, interfaceId: 2 }),
    ]);
    expect(d.problems).toMatchObject([
      { where: 'packet 1', message: 'link type LINKTYPE_148 of interface 0 is not supported: its packets are skipped' },
      { where: 'packet 4', message: 'link type LINKTYPE_148 of interface 2 is not supported: its packets are skipped' },
    ]);
    expect(d.segments.map((s) => s.packet)).toEqual([3]);
    expect(d.stats.unsupportedLink).toBe(4);
  });
});
