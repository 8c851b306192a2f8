/**
 * The link, IP and TCP field descriptions of real packets, against tshark's: every field both name
 * lies at the same byte offset with the same length, and the plain values agree.
 */
import { readFileSync } from 'node:fs';
import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import { copyPacket, type PacketCopy } from '../../src/capture/packet.js';
import { packetHeaderLayers } from '../../src/net/packet-fields.js';
import { tcpHeaderFields } from '../../src/net/tcp.js';
import { buildIpv6, buildTcp } from '../helpers/net-packets.js';
import { ipv6HeaderFields } from '../../src/net/ipv6.js';
import { hasTshark, pdmlFields } from '../kit/tshark.js';

function packets(path: string): PacketCopy[] {
  const out: PacketCopy[] = [];
  const d = new CaptureDecoder({ onPacket: (p) => out.push(copyPacket(p)) });
  d.push(readFileSync(path));
  d.end();
  return out;
}

/** Fields whose tshark `show` text is our value's start. */
const PLAIN_VALUES = new Set(['eth.dst', 'eth.src', 'ip.version', 'ip.len', 'ip.ttl', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.window_size_value', 'tcp.urgent_pointer']);

(hasTshark ? describe : describe.skip)('packet header fields against tshark -T pdml', () => {
  // A SYN with options, the SYN-ACK, a data segment, and a FIN, of kubectl exec captures (dumpcap and tcpdump).
  it.each([
    ['fixtures/ws-echo.pcap', [3, 4, 12, 30]],
    ['fixtures/spdy-stdin-pcapng.pcapng', [10, 11, 103, 132]],
  ] as const)('%s', (path, frames) => {
    const all = packets(path);
    for (const frame of frames) {
      const p = all[frame - 1];
      const layers = packetHeaderLayers(p.linkType, p.data);
      expect(layers.map((l) => l.layer)).toEqual(['link', 'ip', 'tcp']);
      const theirs = pdmlFields(path, frame);
      let compared = 0;
      const seen = new Map<string, number>();
      for (const field of layers.flatMap((l) => l.fields)) {
        const nth = seen.get(field.id) ?? 0;
        seen.set(field.id, nth + 1);
        const t = theirs.get(field.id)?.[nth];
        if (!t) continue;
        compared++;
        expect({ frame, id: field.id, offset: field.offset, length: field.length }).toEqual({ frame, id: field.id, offset: t.pos, length: t.size });
        if (PLAIN_VALUES.has(field.id)) expect({ frame, id: field.id, value: field.value }).toEqual({ frame, id: field.id, value: t.show });
      }
      // Every header field but the option kinds tshark names differently.
      expect(compared).toBeGreaterThanOrEqual(24);
      const tcp = layers[2];
      expect(tcp.start).toBe(theirs.get('tcp.srcport')![0].pos);
      expect(tcp.end).toBe(tcp.start + Number(theirs.get('tcp.hdr_len')![0].show));
    }
  });
});

describe('field descriptions of built headers', () => {
  it('names the TCP flags and every option, and stops at a bad option length', () => {
    const options = [2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 0, 0];
    const segment = buildTcp({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 51000, dstPort: 6443, seq: 1000, ack: 0, flags: 'S', window: 64240, tcpOptions: options });
    const fields = tcpHeaderFields(segment, 0);
    expect(fields.map((f) => `${f.id} ${f.offset}+${f.length} ${f.value}`)).toEqual([
      'tcp.srcport 0+2 51000',
      'tcp.dstport 2+2 6443',
      'tcp.seq_raw 4+4 1000',
      'tcp.ack_raw 8+4 0',
      'tcp.hdr_len 12+1 44 bytes',
      'tcp.flags 12+2 0x002 (SYN)',
      'tcp.window_size_value 14+2 64240',
      expect.stringMatching(/^tcp\.checksum 16\+2 0x[0-9a-f]{4} \(not verified\)$/),
      'tcp.urgent_pointer 18+2 0',
      'tcp.options.mss 20+4 1460 bytes',
      'tcp.options.nop 24+1 ',
      'tcp.options.wscale 25+3 shift 7 (×128)',
      'tcp.options.sack_perm 28+2 ',
      'tcp.options.timestamp 30+10 TSval 1, TSecr 2',
      'tcp.options.nop 40+1 ',
      'tcp.options.nop 41+1 ',
      'tcp.options.eol 42+2 ',
    ]);
    const bad = buildTcp({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2, flags: 'A', window: 1, tcpOptions: [2, 9, 0, 0] });
    expect(tcpHeaderFields(bad, 0).at(-1)).toMatchObject({ id: 'tcp.options', offset: 20, length: 4, value: 'bad length 9' });
    expect(tcpHeaderFields(bad.subarray(0, 19), 0)).toEqual([]);
  });

  it('describes an IPv6 header', () => {
    const datagram = buildIpv6({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 6, payload: new Uint8Array(20) });
    expect(ipv6HeaderFields(datagram, 0).map((f) => `${f.id} ${f.offset}+${f.length} ${f.value}`)).toEqual([
      'ipv6.version 0+1 6',
      'ipv6.tclass 0+2 0x00',
      'ipv6.flow 1+3 0x00000',
      'ipv6.plen 4+2 20',
      'ipv6.nxt 6+1 TCP',
      'ipv6.hlim 7+1 64',
      'ipv6.src 8+16 2001:db8::1',
      'ipv6.dst 24+16 2001:db8::2',
    ]);
  });
});
