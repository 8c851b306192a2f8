import type { Packet } from '../../src/capture/packet.js';
import { PacketDecoder } from '../../src/net/packet-decoder.js';
import {
  buildIpv4,
  buildIpv6,
  buildTcp,
  buildTcpDatagram,
  buildTcpPacket,
  concatBytes,
  fragmentIpv4,
  fragmentIpv6,
  frame,
  linkTypeOf,
  PROTO_TCP,
  PROTO_UDP,
  toPacket,
  type TcpPacketSpec,
} from '../helpers/net-packets.js';
import { decodePackets } from './decode-packets.js';
import { randomFromSeed } from '../kit/random.js';

const SPEC: TcpPacketSpec = { src: '10.1.2.3', dst: '10.9.8.7', srcPort: 40000, dstPort: 10250, seq: 100, ack: 200, flags: 'PA', payload: 'payload bytes' };
const V6SPEC: TcpPacketSpec = { ...SPEC, src: '2001:db8::1', dst: '2001:db8::2' };

function payloadText(p: Uint8Array): string {
  return new TextDecoder().decode(p);
}

function bigPayload(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

describe('IPv4', () => {
  it('skips IPv4 options', () => {
    const options = [1, 1, 68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0]; // NOP NOP timestamp(12) End
    const d = decodePackets([toPacket(buildTcpPacket({ ...SPEC, ipOptions: options }), 1)]);
    expect(d.problems).toEqual([]);
    expect(payloadText(d.segments[0].payload)).toBe('payload bytes');
  });

  it('drops datagrams with malformed options', () => {
    const d = decodePackets([
      toPacket(buildTcpPacket({ ...SPEC, ipOptions: [7, 1, 0, 0] }), 1),
      toPacket(buildTcpPacket({ ...SPEC, ipOptions: [1, 1, 1, 68] }), 2),
      toPacket(buildTcpPacket({ ...SPEC, ipOptions: [68, 40, 0, 0] }), 3),
    ]);
    expect(d.segments).toEqual([]);
    expect(d.problems).toMatchObject([
      { where: 'packet 1', message: 'IPv4 option 7 has a bad length 1' },
      { where: 'packet 2', message: 'IPv4 option 68 has no length byte' },
      { where: 'packet 3', message: 'IPv4 option 68 has a bad length 40' },
    ]);
    expect(d.stats.malformed).toBe(3);
  });

  it('ignores Ethernet padding after the datagram', () => {
    const small = buildTcpPacket({ ...SPEC, payload: 'a', padding: 5 });
    const d = decodePackets([toPacket(small, 1)]);
    expect(d.segments.map((s) => payloadText(s.payload))).toEqual(['a']);
    expect(d.problems).toEqual([]);
  });

  it('skips TCP options through the data offset', () => {
    const d = decodePackets([toPacket(buildTcpPacket({ ...SPEC, tcpOptions: [2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] }), 1)]);
    expect(payloadText(d.segments[0].payload)).toBe('payload bytes');
  });

  it('reports malformed IPv4 and TCP headers, naming the packet', () => {
    const tcp = buildTcp(SPEC);
    const ip = (over: (p: Uint8Array) => void, payload = tcp) => {
      const f = frame(buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, payload }));
      over(f.subarray(14));
      return f;
    };
    const badOffset = tcp.slice();
    badOffset[12] = 0x40;
    const longOffset = tcp.slice();
    longOffset[12] = 0xf0;
    const d = decodePackets([
      toPacket(ip((p) => (p[0] = 0x65)), 1),
      toPacket(ip((p) => (p[0] = 0x44)), 2),
      toPacket(frame(buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, payload: new Uint8Array(0) })).subarray(0, 30), 3),
      toPacket(ip((p) => (p[0] = 0x4f), new Uint8Array(10)), 4),
      toPacket(ip((p) => (p[3] = 19)), 5),
      toPacket(ip((p) => (p[3] = 200)), 6),
      toPacket(ip(() => {}, badOffset), 7),
      toPacket(ip(() => {}, longOffset), 8),
      toPacket(ip(() => {}, tcp.subarray(0, 19)), 9),
    ]);
    expect(d.segments).toEqual([]);
    expect(d.problems).toMatchObject([
      { where: 'packet 1', message: 'IP version 6 in an IPv4 packet' },
      { where: 'packet 2', message: 'IPv4 header length 16 is below 20' },
      { where: 'packet 3', message: 'IPv4 header cut short: 16 bytes captured' },
      { where: 'packet 4', message: 'IPv4 header of 60 bytes cut short: 30 bytes captured' },
      { where: 'packet 5', message: 'IPv4 total length 19 is below its header length 20' },
      { where: 'packet 6', message: 'IPv4 total length 200 reaches past the end of the 67-byte frame' },
      { where: 'packet 7', message: 'TCP data offset 16 is below 20' },
      { where: 'packet 8', message: 'TCP header of 60 bytes cut short: 33 bytes' },
      { where: 'packet 9', message: 'TCP header cut short: 19 bytes' },
    ]);
    expect(d.stats.malformed).toBe(9);
  });

  it('takes a total length of 0 (segmentation offload) as the captured length', () => {
    const p = buildTcpPacket({ ...SPEC, payload: bigPayload(3000) });
    p[14 + 2] = 0;
    p[14 + 3] = 0;
    const d = decodePackets([toPacket(p, 1)]);
    expect(d.segments[0].payload).toEqual(bigPayload(3000));
  });

  it('counts other IP protocols', () => {
    const udp = frame(buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_UDP, payload: new Uint8Array(8) }));
    const d = decodePackets([toPacket(udp, 1)]);
    expect(d.segments).toEqual([]);
    expect(d.problems).toEqual([]);
    expect(d.stats.otherIp).toBe(1);
  });
});

describe('snaplen', () => {
  it('passes what was captured and tells how many payload bytes are missing, reported once per interface', () => {
    const full = buildTcpPacket({ ...SPEC, payload: 'abcdefghij' }); // 14 + 20 + 20 + 10 = 64
    const d = decodePackets([
      toPacket(full.slice(0, 58), 1, { origLen: 64 }),
      toPacket(full.slice(0, 54), 2, { origLen: 64 }),
      toPacket(full.slice(0, 60), 3, { origLen: 64, interfaceId: 1 }),
    ]);
    expect(d.segments.map((s) => [payloadText(s.payload), s.missing])).toEqual([
      ['abcd', 6],
      ['', 10],
      ['abcdef', 4],
    ]);
    expect(d.problems).toMatchObject([
      {
        where: 'packet 1',
        message: 'snaplen cut the packet: 58 of 64 bytes captured, 6 bytes of the IP datagram missing (further cut packets of interface 0 are not reported)',
      },
      {
        where: 'packet 3',
        message: 'snaplen cut the packet: 60 of 64 bytes captured, 4 bytes of the IP datagram missing (further cut packets of interface 1 are not reported)',
      },
    ]);
    expect(d.stats.snaplenCut).toBe(3);
  });

  it('does not count Ethernet padding the snaplen cut as missing', () => {
    const padded = buildTcpPacket({ ...SPEC, payload: 'ab', padding: 4 });
    const d = decodePackets([toPacket(padded.slice(0, padded.length - 2), 1, { origLen: padded.length })]);
    expect(d.segments[0].missing).toBe(0);
    expect(d.problems).toEqual([]);
  });

  it('drops a segment whose TCP header was cut', () => {
    const full = buildTcpPacket({ ...SPEC, payload: 'abcdefghij' });
    const d = decodePackets([toPacket(full.slice(0, 44), 1, { origLen: 64 })]);
    expect(d.segments).toEqual([]);
    expect(d.problems.map((p) => p.message)).toEqual([
      'snaplen cut the packet: 44 of 64 bytes captured, 20 bytes of the IP datagram missing (further cut packets of interface 0 are not reported)',
      'TCP header cut short: 10 bytes',
    ]);
  });
});

describe('IPv6', () => {
  it('formats addresses as RFC 5952 text', () => {
    const cases = [
      ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001'],
      ['2001:db8::1:0:0:1', '2001:db8:0:0:1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::1', '0:0:0:0:0:0:0:1'],
      ['fe80::abcd', 'FE80::ABCD'],
    ];
    for (const [expected, written] of cases) {
      const d = decodePackets([toPacket(buildTcpPacket({ ...V6SPEC, src: written }), 1)]);
      expect(d.segments[0].src).toBe(expected);
    }
  });

  it('walks hop-by-hop, routing, destination options and authentication headers', () => {
    const ipv6Extensions = [{ type: 0, body: [1, 4, 0, 0, 0, 0] }, { type: 43, body: new Uint8Array(22) }, { type: 60 }, { type: 51, body: new Uint8Array(14) }];
    const d = decodePackets([toPacket(buildTcpPacket({ ...V6SPEC, ipv6Extensions }), 1)]);
    expect(d.problems).toEqual([]);
    expect(payloadText(d.segments[0].payload)).toBe('payload bytes');
    expect(d.segments[0].src).toBe('2001:db8::1');
  });

  it('reports truncated extension headers and counts other protocols', () => {
    const tcp = buildTcp(V6SPEC);
    const withExt = buildIpv6({ src: V6SPEC.src, dst: V6SPEC.dst, protocol: PROTO_TCP, payload: tcp, extensions: [{ type: 60, body: new Uint8Array(30) }] });
    withExt[41] = 200; // claims 1608 bytes
    const cut = buildIpv6({ src: V6SPEC.src, dst: V6SPEC.dst, protocol: PROTO_TCP, payload: new Uint8Array(0), extensions: [{ type: 44 }] });
    const none = buildIpv6({ src: V6SPEC.src, dst: V6SPEC.dst, protocol: 59, payload: new Uint8Array(0) });
    const d = decodePackets([toPacket(frame(withExt), 1), toPacket(frame(cut.subarray(0, 44)), 2), toPacket(frame(none), 3), toPacket(frame(buildIpv6({ ...V6SPEC, protocol: PROTO_TCP, payload: tcp })).subarray(0, 50), 4)]);
    expect(d.problems).toMatchObject([
      { where: 'packet 1', message: 'IPv6 extension header 60 of 1608 bytes cut short' },
      { where: 'packet 2', message: 'IPv6 payload length 8 reaches past the end of the 58-byte frame' },
      { where: 'packet 4', message: 'IPv6 header cut short: 36 bytes captured' },
    ]);
    expect(d.stats.otherIp).toBe(1);
  });

  it('takes a payload length of 0 as the captured length', () => {
    const p = buildIpv6({ src: V6SPEC.src, dst: V6SPEC.dst, protocol: PROTO_TCP, payload: buildTcp({ ...V6SPEC, payload: bigPayload(2000) }), payloadLength: 0 });
    const d = decodePackets([toPacket(frame(p, { link: 'raw' }), 1, { linkType: 101 })]);
    expect(d.segments[0].payload).toEqual(bigPayload(2000));
  });

  it('treats an atomic fragment as a whole datagram', () => {
    const p = buildIpv6({ src: V6SPEC.src, dst: V6SPEC.dst, protocol: PROTO_TCP, payload: buildTcp(V6SPEC), extensions: [] });
    const [atomic] = fragmentIpv6(p, 4096, 99);
    const d = decodePackets([toPacket(frame(atomic), 1)]);
    expect(payloadText(d.segments[0].payload)).toBe('payload bytes');
    expect(d.stats.ipFragments).toBe(0);
  });
});

describe('IP fragments', () => {
  const datagram = buildTcpDatagram({ ...SPEC, payload: bigPayload(3000), ipId: 0x4242 });
  const fragments = fragmentIpv4(datagram, 1200); // 3020 bytes of TCP: 1200 + 1200 + 620

  function packets(frags: Uint8Array[], ts = (i: number) => i * 1000): Packet[] {
    return frags.map((f, i) => toPacket(frame(f), i + 1, { ts: ts(i) }));
  }

  it.each([
    ['in order', [0, 1, 2]],
    ['reversed', [2, 1, 0]],
    ['shuffled', [1, 2, 0]],
  ])('reassembles IPv4 fragments %s', (_name, order) => {
    const d = decodePackets(packets((order as number[]).map((i) => fragments[i])));
    expect(d.problems).toEqual([]);
    expect(d.segments.length).toBe(1);
    expect(d.segments[0]).toMatchObject({ src: '10.1.2.3', dst: '10.9.8.7', srcPort: 40000, dstPort: 10250, seq: 100, packet: 3, ts: 2000, missing: 0 });
    expect(d.segments[0].payload).toEqual(bigPayload(3000));
    expect(d.stats).toMatchObject({ ipFragments: 3, reassembledDatagrams: 1 });
  });

  it('keeps the first copy of overlapping fragments and reports ones that differ', () => {
    const tcp = datagram.subarray(20);
    const mk = (off: number, len: number, more: boolean, patch = false) => {
      const payload = tcp.slice(off, off + len);
      if (patch) payload[0] ^= 0xff;
      return buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, id: 0x4242, fragmentOffset: off, moreFragments: more, payload });
    };
    const same = decodePackets(packets([mk(0, 1600, true), mk(800, 1600, true), mk(1600, 1420, false)]));
    expect(same.problems).toEqual([]);
    expect(same.segments[0].payload).toEqual(bigPayload(3000));
    const differ = decodePackets(packets([mk(800, 1600, true), mk(0, 1600, true, false), mk(1200, 800, true, true), mk(2400, 620, false)]));
    expect(differ.segments[0].payload).toEqual(bigPayload(3000));
    expect(differ.problems).toMatchObject([
      { where: 'packet 3', message: 'overlapping fragments of IPv4 datagram 10.1.2.3→10.9.8.7 id 16962 protocol 6 carry different bytes; keeping the first ones' },
    ]);
  });

  it('drops datagrams that do not complete within the timeout (in packet time) or by the end', () => {
    const d = decodePackets(
      [
        ...packets([fragments[0]], () => 0),
        toPacket(frame(buildTcpDatagram({ ...SPEC, ipId: 7 })), 2, { ts: 31e9 }),
        ...packets([fragments[1]], () => 32e9).map((p) => ({ ...p, index: 3 })),
      ],
      {},
    );
    expect(d.problems).toMatchObject([
      {
        where: 'packet 1',
        message: 'fragmented IPv4 datagram 10.1.2.3→10.9.8.7 id 16962 protocol 6 dropped (incomplete after 30 s): 1200 of an unknown number of bytes received',
      },
      {
        where: 'packet 3',
        message: 'fragmented IPv4 datagram 10.1.2.3→10.9.8.7 id 16962 protocol 6 dropped (the capture ended before all fragments arrived): 1200 of an unknown number of bytes received',
      },
    ]);
    expect(d.segments.length).toBe(1);
  });

  it('bounds the datagrams and bytes held', () => {
    const ids = [1, 2, 3].map((id) => fragmentIpv4(buildTcpDatagram({ ...SPEC, payload: bigPayload(3000), ipId: id }), 1200));
    const byCount = decodePackets(packets([ids[0][0], ids[1][0], ids[2][0], ids[0][1], ids[0][2], ids[2][1], ids[2][2]]), { fragments: { maxDatagrams: 2 } });
    expect(byCount.problems.map((p) => p.message)).toEqual([
      'fragmented IPv4 datagram 10.1.2.3→10.9.8.7 id 1 protocol 6 dropped (more than 2 datagrams in reassembly): 1200 of an unknown number of bytes received',
      // id 1 starts over with its second fragment, pushing id 2 out
      'fragmented IPv4 datagram 10.1.2.3→10.9.8.7 id 2 protocol 6 dropped (more than 2 datagrams in reassembly): 1200 of an unknown number of bytes received',
      'fragmented IPv4 datagram 10.1.2.3→10.9.8.7 id 1 protocol 6 dropped (the capture ended before all fragments arrived): 1820 of 3020 bytes received',
    ]);
    expect(byCount.segments.length).toBe(1);
    const byBytes = decodePackets(packets([ids[0][0], ids[1][0], ids[1][1], ids[1][2]]), { fragments: { maxBytes: 4000 } });
    expect(byBytes.problems.map((p) => p.message)).toEqual([
      'fragmented IPv4 datagram 10.1.2.3→10.9.8.7 id 1 protocol 6 dropped (fragments held exceed 4000 bytes): 1200 of an unknown number of bytes received',
    ]);
    expect(byBytes.segments.length).toBe(1);
  });

  it('rejects fragments past the largest datagram, contradicting the last fragment, or cut by the snaplen', () => {
    const tail = buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, id: 5, fragmentOffset: 65528, moreFragments: false, payload: new Uint8Array(16) });
    const last = buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, id: 6, fragmentOffset: 800, moreFragments: false, payload: new Uint8Array(8) });
    const beyond = buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, id: 6, fragmentOffset: 808, moreFragments: true, payload: new Uint8Array(8) });
    const otherLast = buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, id: 6, fragmentOffset: 400, moreFragments: false, payload: new Uint8Array(8) });
    const held = buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, id: 8, fragmentOffset: 800, moreFragments: true, payload: new Uint8Array(8) });
    const shortLast = buildIpv4({ src: SPEC.src, dst: SPEC.dst, protocol: PROTO_TCP, id: 8, fragmentOffset: 8, moreFragments: false, payload: new Uint8Array(8) });
    const cut = frame(fragments[0]);
    const d = decodePackets([
      toPacket(frame(tail), 1),
      toPacket(frame(last), 2),
      toPacket(frame(beyond), 3),
      toPacket(frame(otherLast), 4),
      toPacket(cut.slice(0, 100), 5, { origLen: cut.length }),
      toPacket(frame(held), 6),
      toPacket(frame(shortLast), 7),
    ]);
    expect(d.problems.map((p) => `${p.where}: ${p.message}`)).toEqual([
      'packet 1: fragment of IPv4 datagram 10.1.2.3→10.9.8.7 id 5 protocol 6 ends at byte 65544, beyond the largest IP datagram: dropped',
      'packet 3: fragment of IPv4 datagram 10.1.2.3→10.9.8.7 id 6 protocol 6 reaches byte 816, past the datagram\'s end at 808: dropped',
      'packet 4: last fragment of IPv4 datagram 10.1.2.3→10.9.8.7 id 6 protocol 6 ends at byte 408, an earlier one at 808: dropped',
      'packet 5: snaplen cut the packet: 100 of 1234 bytes captured, 1134 bytes of the IP datagram missing (further cut packets of interface 0 are not reported)',
      'packet 5: IPv4 fragment cut short by the snaplen (1134 bytes not captured)',
      'packet 7: last fragment of IPv4 datagram 10.1.2.3→10.9.8.7 id 8 protocol 6 ends at byte 16, before fragments already seen: dropped',
      'packet 2: fragmented IPv4 datagram 10.1.2.3→10.9.8.7 id 6 protocol 6 dropped (the capture ended before all fragments arrived): 8 of 808 bytes received',
      'packet 6: fragmented IPv4 datagram 10.1.2.3→10.9.8.7 id 8 protocol 6 dropped (the capture ended before all fragments arrived): 8 of an unknown number of bytes received',
    ]);
  });

  it('reassembles IPv6 fragments, with headers before and after the fragment header', () => {
    const whole = buildIpv6({
      src: V6SPEC.src,
      dst: V6SPEC.dst,
      protocol: PROTO_TCP,
      payload: buildTcp({ ...V6SPEC, payload: bigPayload(2500) }),
      extensions: [{ type: 0, body: [1, 4, 0, 0, 0, 0] }, { type: 60 }],
    });
    const frags = fragmentIpv6(whole, 1000, 0xdeadbeef, 1);
    expect(frags.length).toBe(3);
    const d = decodePackets([frags[2], frags[1], frags[1], frags[0]].map((f, i) => toPacket(frame(f, { link: 'sll2' }), i + 1, { linkType: linkTypeOf('sll2') })));
    expect(d.problems).toEqual([]);
    expect(d.segments.length).toBe(1);
    expect(d.segments[0]).toMatchObject({ src: '2001:db8::1', dst: '2001:db8::2', packet: 4 });
    expect(d.segments[0].payload).toEqual(bigPayload(2500));
  });

  it('keeps IPv4 and IPv6 datagrams with equal ids apart', () => {
    const v4 = fragmentIpv4(buildTcpDatagram({ ...SPEC, payload: bigPayload(100, 1), ipId: 9 }), 64);
    const v6 = fragmentIpv6(buildTcpDatagram({ ...V6SPEC, payload: bigPayload(100, 2) }), 64, 9);
    const d = decodePackets([v4[0], v6[0], v6[1], v4[1]].map((f, i) => toPacket(frame(f), i + 1)));
    expect(d.segments.map((s) => s.payload)).toEqual([bigPayload(100, 2), bigPayload(100, 1)]);
  });
});

describe('hostile input', () => {
  const samples = [
    buildTcpPacket({ ...SPEC, ipOptions: [1, 1, 1, 0] }),
    buildTcpPacket({ ...V6SPEC, ipv6Extensions: [{ type: 0 }, { type: 43, body: new Uint8Array(6) }], vlan: [3, 4] }),
    frame(fragmentIpv6(buildTcpDatagram({ ...V6SPEC, payload: bigPayload(300) }), 128, 1)[1]),
    frame(fragmentIpv4(buildTcpDatagram({ ...SPEC, payload: bigPayload(300) }), 128)[0]),
  ];

  /** Every packet ends as a segment, a fragment or one of the skipped kinds (a datagram's last fragment as two). */
  const accountedFor = (decoder: PacketDecoder, segments: number) => {
    const s = decoder.stats;
    return segments + s.otherIp + s.nonIp + s.unsupportedLink + s.malformed + s.ipFragments;
  };

  it('never throws on any truncation, with or without a snaplen', () => {
    for (const link of [1, 113, 276, 0, 101] as const) {
      let segments = 0;
      const decoder = new PacketDecoder({ onSegment: () => segments++ });
      let index = 0;
      for (const s of samples) {
        for (let n = 0; n <= s.length; n++) {
          const data = s.slice(0, n);
          decoder.push(toPacket(data, ++index, { linkType: link }));
          decoder.push(toPacket(data, ++index, { linkType: link, origLen: s.length }));
        }
      }
      decoder.end();
      expect(accountedFor(decoder, segments)).toBeGreaterThanOrEqual(index);
    }
  });

  it('never throws on corrupted bytes', () => {
    const rand = randomFromSeed(12345);
    const problems: string[] = [];
    let segments = 0;
    const decoder = new PacketDecoder({ onSegment: () => segments++, onProblem: (p) => problems.push(p.message) });
    for (let i = 0; i < 20000; i++) {
      const s = samples[i % samples.length].slice();
      for (let k = 0; k < 3; k++) s[Math.floor(rand() * s.length)] = Math.floor(rand() * 256);
      decoder.push(toPacket(s, i + 1, { ts: i * 1e6 }));
    }
    decoder.end();
    expect(accountedFor(decoder, segments)).toBeGreaterThanOrEqual(20000);
    expect(problems.length).toBeGreaterThan(0);
  });

  it('says where each payload starts in its packet, view or copy', () => {
    // A keystroke's few bytes are copied, a longer payload is a view.
    const long = 'x'.repeat(200);
    const d = decodePackets([
      toPacket(concatBytes(buildTcpPacket(SPEC)), 1),
      toPacket(buildTcpPacket({ ...V6SPEC, link: 'raw' }), 2, { linkType: 101 }),
      toPacket(buildTcpPacket({ ...SPEC, payload: long }), 3),
    ]);
    expect(d.located).toEqual([true, true, true]);
    expect(d.segments.map((s) => payloadText(s.payload))).toEqual(['payload bytes', 'payload bytes', long]);
  });
});
