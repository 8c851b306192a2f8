import { readFileSync } from 'node:fs';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { decodeInChunksOf, decodeWithCuts, fingerprint } from './collect-capture.js';

/**
 * The real kubectl captures (tcpdump pcap, dumpcap pcapng). Expected counts and first/last times were
 * taken by walking the record headers with a separate script, not with this reader.
 */
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url)));

describe.each([
  ['ws-echo.pcap', 'pcap', 44, 1795311774_978068000n, 1795311775_104304000n],
  ['ws-stdin-cat.pcap', 'pcap', 47, 1795311779_177385000n, 1795311779_316312000n],
  ['ws-tty-resize.pcap', 'pcap', 70, 1795311787_521613000n, 1795311793_754720000n],
  ['spdy-echo.pcap', 'pcap', 107, 1795311770_981273000n, 1795311771_080284000n],
  ['spdy-exit-code.pcap', 'pcap', 103, 1795311783_507154000n, 1795311783_693407000n],
  ['tls-ws-keylog.pcap', 'pcap', 67, 1795311798_485746000n, 1795311798_644857000n],
  ['spdy-stdin-pcapng.pcapng', 'pcapng', 137, 1795311802371641972n, 1795311802500244138n],
])('%s', (name, format, count, firstNs, lastNs) => {
  const bytes = fixture(name);
  const decoded = decodeWithCuts(bytes);

  it('delivers every packet: Ethernet, IPv4, in order, back to back in the file', () => {
    expect(decoded.error).toBeNull();
    expect(decoded.events.find((e) => e.kind === 'info')).toEqual({ kind: 'info', info: { format, originNs: firstNs } });
    const packets = decoded.packets;
    expect(packets.length).toBe(count);
    const recordHeader = format === 'pcap' ? 16 : 28;
    packets.forEach((p, i) => {
      expect(p.index).toBe(i + 1);
      expect(p.linkType).toBe(1);
      expect(p.interfaceId).toBe(0);
      expect(p.origLen).toBe(p.data.length); // snaplen 262144 cuts nothing
      expect([p.data[12], p.data[13]]).toEqual([0x08, 0x00]);
      expect(bytes.subarray(p.fileOffset, p.fileOffset + p.data.length)).toEqual(p.data);
      if (i > 0) {
        const prev = packets[i - 1];
        expect(p.ts).toBeGreaterThanOrEqual(prev.ts);
        // pcapng pads data to 4 and ends each block with its 4-byte length
        const prevEnd = prev.fileOffset + (format === 'pcap' ? prev.data.length : ((prev.data.length + 3) & ~3) + 4);
        expect(p.fileOffset).toBe(prevEnd + recordHeader);
      }
    });
    expect(packets[0].ts).toBe(0);
    expect(packets[count - 1].ts).toBe(Number(lastNs - firstNs));
  });

  it('decodes the same in 64 KiB, 1000-byte and 7-byte chunks', () => {
    const whole = fingerprint(decoded);
    for (const size of [65536, 1000, 7]) expect(fingerprint(decodeInChunksOf(bytes, size))).toBe(whole);
  });
});

describe('real capture metadata', () => {
  it('reads the dumpcap interface and its statistics', () => {
    const { events } = decodeWithCuts(fixture('spdy-stdin-pcapng.pcapng'));
    expect(events.filter((e) => e.kind === 'interface')).toEqual([
      { kind: 'interface', iface: { id: 0, linkType: 1, snapLen: 262144, name: 'lo', description: 'Loopback' } },
    ]);
    const stats = events.flatMap((e) => (e.kind === 'stats' ? [e] : []));
    expect(stats.length).toBe(1);
    // (dumpcap 4.0 writes this block's times in µs although the interface says ns; we read them as the spec says)
    expect(stats[0]).toMatchObject({ interfaceId: 0, stats: { isb_ifrecv: 137n, isb_ifdrop: 0n } });
  });

  it('writes the same pcap file header as tcpdump', () => {
    expect(new PcapWriter().header(1)).toEqual(fixture('ws-echo.pcap').subarray(0, 24));
  });
});
