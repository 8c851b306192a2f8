import { CaptureDecoder, MAX_RECORD_BYTES, TruncatedCaptureError } from '../../src/capture/capture-decoder.js';
import type { PacketCopy } from '../../src/capture/packet.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { DecodeError } from '../../src/core/origin.js';
import { type CaptureEvent, type Decoded, concat, decodeInChunksOf, decodeWithCuts, fingerprint } from './collect-capture.js';

const T0 = 1795311802371641972n; // epoch ns, like the real captures: needs more than a double's 53 bits
const TLSK = 0x544c534b;

/** Distinct, recognisable bytes. */
const frame = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
const text = (s: string) => new TextEncoder().encode(s);

interface Part {
  bytes: Uint8Array;
  /** Offset of the part in the file. */
  at: number;
  packet: boolean;
}

function assemble(list: [Uint8Array, boolean?][]): { bytes: Uint8Array; parts: Part[] } {
  let at = 0;
  const parts = list.map(([bytes, packet]) => {
    const part = { bytes, at, packet: packet ?? false };
    at += bytes.length;
    return part;
  });
  return { bytes: concat(parts.map((p) => p.bytes)), parts };
}

const patchU32 = (bytes: Uint8Array, offset: number, value: number, le = true) =>
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset, value, le);

describe.each([
  { nanos: false, bigEndian: false },
  { nanos: false, bigEndian: true },
  { nanos: true, bigEndian: false },
  { nanos: true, bigEndian: true },
])('classic pcap %o', (options) => {
  const writer = new PcapWriter();
  const stamps = [T0, T0 + 1_234_567n, T0 - 5_000n, T0 + 86_400_000_000_123n];
  const frames = [frame(60, 1), frame(300, 2), frame(0, 3), frame(33, 4)];
  const origLens = [60, 9000, 0, 33];
  const file = assemble([
    [writer.header(1, { ...options, snapLen: 65535 })],
    ...stamps.map((t, i): [Uint8Array, boolean] => [writer.packet(t, frames[i], origLens[i]), true]),
  ]);
  const unit = options.nanos ? 1n : 1000n;
  const floorToUnit = (t: bigint) => (t / unit) * unit;

  it('delivers every packet with exact times, lengths and file offsets', () => {
    const { events, error } = decodeWithCuts(file.bytes);
    expect(error).toBeNull();
    const packets: PacketCopy[] = stamps.map((t, i) => ({
      index: i + 1,
      ts: Number(floorToUnit(t) - floorToUnit(T0)),
      linkType: 1,
      interfaceId: 0,
      data: frames[i],
      origLen: origLens[i],
      fileOffset: file.parts[i + 1].at + 16,
    }));
    expect(events).toEqual([
      { kind: 'interface', iface: { id: 0, linkType: 1, snapLen: 65535 } },
      { kind: 'info', info: { format: 'pcap', originNs: floorToUnit(T0) } },
      ...packets.map((packet) => ({ kind: 'packet', packet })),
    ]);
  });

  it('gives the same result in 1-byte chunks and for every 2-way split', () => {
    const whole = fingerprint(decodeWithCuts(file.bytes));
    expect(fingerprint(decodeInChunksOf(file.bytes, 1))).toBe(whole);
    for (let cut = 1; cut < file.bytes.length; cut++) {
      expect(fingerprint(decodeWithCuts(file.bytes, [cut]))).toBe(whole);
    }
  });
});

describe('classic pcap link-type field', () => {
  it('reads the link type from the low 16 bits and strips the FCS the upper bits announce', () => {
    const writer = new PcapWriter();
    const header = writer.header(105, { fcsBytes: 4 });
    expect(new DataView(header.buffer, header.byteOffset).getUint32(20, true)).toBe(0x24000069);
    const full = frame(64, 1);
    const { packets, events, error } = decodeWithCuts(
      concat([header, writer.packet(T0, full), writer.packet(T0, full.subarray(0, 30), 64), writer.packet(T0, full.subarray(0, 62), 64)]),
    );
    expect(error).toBeNull();
    expect(events[0]).toEqual({ kind: 'interface', iface: { id: 0, linkType: 105, snapLen: 262144 } });
    expect(packets.map((p) => [p.linkType, p.data, p.origLen])).toEqual([
      [105, full.subarray(0, 60), 60],
      [105, full.subarray(0, 30), 60],
      [105, full.subarray(0, 60), 60],
    ]);
  });

  it('keeps the frame whole when the FCS-present bit is clear', () => {
    const writer = new PcapWriter();
    const header = writer.header(1);
    patchU32(header, 20, 0x20000001); // a length without the "present" bit means nothing
    const { packets } = decodeWithCuts(concat([header, writer.packet(T0, frame(64, 1))]));
    expect(packets.map((p) => [p.linkType, p.data.length, p.origLen])).toEqual([[1, 64, 64]]);
  });
});

/** Three sections (LE, BE, LE) exercising every block type the reader knows, plus two it skips. */
function featureFile() {
  const w = new PcapngWriter();
  const T1 = 1795311804000000000n; // exact in 2^-20 s ticks: (T1 + 5 s) is a multiple of 1e9 / 2^9 ns
  const keylog = text('CLIENT_RANDOM 0102 0304\n'); // 24 bytes
  const keylog2 = text('SERVER_HANDSHAKE_TRAFFIC_SECRET aa bb\n'); // 38 bytes: padded
  const file = assemble([
    [w.sectionHeader()],
    [w.interface(1, { name: 'eth0', description: 'first NIC', tsresol: 9 })],
    [w.interface(101, { name: 'tun0', tsoffset: 100n, snapLen: 200 })],
    [w.nameResolution([
      { address: '10.0.0.1', names: ['api.local', 'k8s'] },
      { address: '2001:db8::1', names: ['v6.local'] },
    ])],
    [w.decryptionSecrets(TLSK, keylog)],
    [w.enhancedPacket(0, T0, frame(60, 1)), true],
    [w.enhancedPacket(1, T0 + 1_500_000n, frame(61, 2), 100), true],
    [w.block(0x00000bad, frame(7, 3))],
    [w.block(0x7fff0001, frame(5, 4))],
    [w.simplePacket(frame(62, 5)), true],
    [w.obsoletePacket(0, T0 + 3n, frame(63, 6)), true],
    [w.interfaceStatistics(0, T0 + 10n, { isb_starttime: T0, isb_endtime: T0 + 10n, isb_ifrecv: 5n, isb_ifdrop: 1n })],
    [w.sectionHeader({ bigEndian: true })],
    [w.interface(276, { name: 'any', tsresol: 0x80 | 20, tsoffset: -5n, snapLen: 40 })],
    [w.decryptionSecrets(TLSK, keylog2)],
    [w.enhancedPacket(0, T1, frame(64, 7)), true],
    [w.simplePacket(frame(100, 8)), true],
    [w.nameResolution([{ address: '192.168.1.2', names: ['node-1'] }])],
    [w.sectionHeader()],
    [w.interface(0, {})],
    [w.enhancedPacket(0, T0 - 2_000_000_000n, frame(44, 9)), true],
  ]);
  const at = (i: number) => file.parts[i].at;
  const packet = (index: number, part: number, p: Omit<PacketCopy, 'index' | 'fileOffset'>, dataAt: number) => ({
    kind: 'packet' as const,
    packet: { index, ...p, fileOffset: at(part) + dataAt },
  });
  const expected: CaptureEvent[] = [
    { kind: 'interface', iface: { id: 0, linkType: 1, snapLen: 0, name: 'eth0', description: 'first NIC' } },
    { kind: 'interface', iface: { id: 1, linkType: 101, snapLen: 200, name: 'tun0' } },
    {
      kind: 'names',
      entries: [
        { address: '10.0.0.1', names: ['api.local', 'k8s'] },
        { address: '2001:db8::1', names: ['v6.local'] },
      ],
    },
    { kind: 'secrets', secretsType: TLSK, data: keylog, fileOffset: at(4) + 16 },
    { kind: 'info', info: { format: 'pcapng', originNs: T0 } },
    packet(1, 5, { ts: 0, linkType: 1, interfaceId: 0, data: frame(60, 1), origLen: 60 }, 28),
    // µs resolution floors T0's 972 ns away
    packet(2, 6, { ts: 1_499_028, linkType: 101, interfaceId: 1, data: frame(61, 2), origLen: 100 }, 28),
    // a Simple Packet Block has no time: it takes the previous packet's
    packet(3, 9, { ts: 1_499_028, linkType: 1, interfaceId: 0, data: frame(62, 5), origLen: 62 }, 12),
    packet(4, 10, { ts: 3, linkType: 1, interfaceId: 0, data: frame(63, 6), origLen: 63 }, 28),
    {
      kind: 'stats',
      interfaceId: 0,
      stats: { timestamp: T0 + 10n, isb_starttime: T0, isb_endtime: T0 + 10n, isb_ifrecv: 5n, isb_ifdrop: 1n },
    },
    // interface ids restart in the file's second section but stay unique in packets
    { kind: 'interface', iface: { id: 2, linkType: 276, snapLen: 40, name: 'any' } },
    { kind: 'secrets', secretsType: TLSK, data: keylog2, fileOffset: at(14) + 16 },
    packet(5, 15, { ts: Number(T1 - T0), linkType: 276, interfaceId: 2, data: frame(64, 7), origLen: 64 }, 28),
    // snaplen 40 cuts the Simple Packet Block's data
    packet(6, 16, { ts: Number(T1 - T0), linkType: 276, interfaceId: 2, data: frame(40, 8), origLen: 100 }, 12),
    { kind: 'names', entries: [{ address: '192.168.1.2', names: ['node-1'] }] },
    { kind: 'interface', iface: { id: 3, linkType: 0, snapLen: 0 } },
    packet(7, 20, { ts: -2_000_000_972, linkType: 0, interfaceId: 3, data: frame(44, 9), origLen: 44 }, 28),
  ];
  return { ...file, expected };
}

describe('pcapng', () => {
  const file = featureFile();

  it('decodes every block of a three-section file, both byte orders', () => {
    const { events, error } = decodeWithCuts(file.bytes);
    expect(error).toBeNull();
    expect(events).toEqual(file.expected);
  });

  it('gives the same result in 1-byte chunks and for every 2-way split', () => {
    const whole = fingerprint({ events: file.expected, error: null });
    const result = ({ events, error }: Decoded) => fingerprint({ events, error });
    expect(result(decodeInChunksOf(file.bytes, 1))).toBe(whole);
    for (let cut = 1; cut < file.bytes.length; cut++) {
      expect(result(decodeWithCuts(file.bytes, [cut]))).toBe(whole);
    }
  });

  it('hands out packets inside a chunk as views of it, and assembles only those that straddle chunks', () => {
    const chunks = [file.bytes.slice(0, file.parts[6].at + 40), file.bytes.slice(file.parts[6].at + 40)];
    const seen: [number, boolean, number][] = [];
    let current = chunks[0];
    let chunkStart = 0;
    const decoder = new CaptureDecoder({
      onPacket: (p) =>
        seen.push([p.index, p.bytes.buffer === current.buffer, p.bytes.byteOffset + p.start - (p.fileOffset - chunkStart)]),
    });
    decoder.push(current);
    chunkStart = current.length;
    current = chunks[1];
    decoder.push(current);
    decoder.end();
    expect(seen.map(([index, inChunk]) => [index, inChunk])).toEqual([
      [1, true],
      [2, false], // cut by the chunk boundary
      [3, true],
      [4, true],
      [5, true],
      [6, true],
      [7, true],
    ]);
    expect(seen.filter(([, inChunk]) => inChunk).every(([, , delta]) => delta === 0)).toBe(true);
  });

  it('counts packets and the bytes of complete records', () => {
    const decoder = new CaptureDecoder({ onPacket: () => {} });
    decoder.push(file.bytes.subarray(0, file.parts[6].at + 3));
    expect([decoder.packetCount, decoder.bytesConsumed]).toEqual([1, file.parts[6].at]);
    decoder.push(file.bytes.subarray(file.parts[6].at + 3));
    decoder.end();
    expect([decoder.packetCount, decoder.bytesConsumed]).toEqual([7, file.bytes.length]);
  });

  it('assembles a packet spread over many chunks', () => {
    const w = new PcapngWriter();
    const big = frame(200_000, 5);
    const bytes = concat([w.sectionHeader(), w.interface(1), w.enhancedPacket(0, T0, big), w.enhancedPacket(0, T0, frame(10, 1))]);
    const { packets, error } = decodeInChunksOf(bytes, 999);
    expect(error).toBeNull();
    expect(packets.map((p) => p.data)).toEqual([big, frame(10, 1)]);
  });
});

describe('pcapng timestamp resolutions', () => {
  const E = 1_700_000_000_000_000_000n; // a multiple of 1e9, so exact at every resolution tested
  it.each([
    ['seconds (10^0)', 0, 0n, [E + 123n, E + 2_600_000_000n], E, [0, 2_000_000_000]],
    ['milliseconds (10^-3)', 3, 0n, [E + 123_456_789n, E + 2_623_999_999n], E + 123_000_000n, [0, 2_500_000_000]],
    ['microseconds (10^-6)', 6, 0n, [E + 999n, E + 1_000n], E, [0, 1_000]],
    ['nanoseconds (10^-9), 10 days apart', 9, 0n, [E + 1n, E + 864_000_000_000_002n], E + 1n, [0, 864_000_000_000_001]],
    // ticks of E in picoseconds overflow 64 bits: tsoffset makes them fit
    ['picoseconds (10^-12) with if_tsoffset', 12, 1_700_000_000n, [E + 5n, E + 2_500_000_006n], E + 5n, [0, 2_500_000_001]],
    ['2^0 seconds', 0x80, 0n, [E + 123n, E + 2_600_000_000n], E, [0, 2_000_000_000]],
    // 2^-30 s ticks: 1953125 ns (1e9/2^9) is exact, 1 ns is a fraction of a tick
    ['2^-30 seconds', 0x80 | 30, 0n, [E, E + 3n * 1_953_125n, E + 1n], E, [0, 5_859_375, 0]],
    ['2^-20 seconds with negative if_tsoffset', 0x80 | 20, -7n, [E + 1_953_125n, E + 1_953_125n + 1_000n], E + 1_953_125n, [0, 953]],
  ])('%s', (_name, tsresol, tsoffset, stamps, origin, offsets) => {
    const w = new PcapngWriter();
    const bytes = concat([
      w.sectionHeader(),
      w.interface(1, { tsresol, tsoffset: tsoffset === 0n ? undefined : tsoffset }),
      ...stamps.map((t) => w.enhancedPacket(0, t, frame(1, 0))),
    ]);
    const { events, packets, error } = decodeWithCuts(bytes);
    expect(error).toBeNull();
    expect(events.find((e) => e.kind === 'info')).toEqual({ kind: 'info', info: { format: 'pcapng', originNs: origin } });
    expect(packets.map((p) => p.ts)).toEqual(offsets);
  });

  it('measures every interface from the capture origin', () => {
    const w = new PcapngWriter();
    const bytes = concat([
      w.sectionHeader(),
      w.interface(1, { tsresol: 9 }),
      w.interface(1, { tsresol: 6, tsoffset: 3n }),
      w.enhancedPacket(1, T0 + 7_000n, frame(1, 0)),
      w.enhancedPacket(0, T0, frame(1, 0)),
      w.enhancedPacket(1, T0 + 9_000n, frame(1, 0)),
      w.enhancedPacket(0, T0 + 11n, frame(1, 0)),
    ]);
    // interface 1 has µs ticks: T0 + 7000 floors to T0 - 972 + 7000
    const origin = T0 - 972n + 7_000n;
    const { events, packets } = decodeWithCuts(bytes);
    expect(events.find((e) => e.kind === 'info')).toEqual({ kind: 'info', info: { format: 'pcapng', originNs: origin } });
    expect(packets.map((p) => p.ts)).toEqual([0, Number(T0 - origin), 2_000, Number(T0 + 11n - origin)]);
  });
});

describe('truncated captures', () => {
  const pcapWriter = new PcapWriter();
  const pcapFile = assemble([
    [pcapWriter.header(1)],
    [pcapWriter.packet(T0, frame(20, 1)), true],
    [pcapWriter.packet(T0 + 1_000n, frame(5, 2)), true],
    [pcapWriter.packet(T0 + 2_000n, frame(0, 3)), true],
    [pcapWriter.packet(T0 + 3_000n, frame(9, 4)), true],
  ]);
  const pcapng = featureFile();

  /** What end() must say for a file cut at `cut`, given the record layout. */
  function expectedFailure(parts: Part[], cut: number, headerBytes: number): string | null {
    if (cut < 4) return 'not a pcap or pcapng capture (byte 0)';
    const part = parts.find((p) => p.at < cut && cut < p.at + p.bytes.length);
    if (part === undefined) return null;
    const have = cut - part.at;
    const index = parts.filter((p) => p.packet && p.at <= part.at).length;
    // a pcapng block's type is known from its fourth byte on
    const knownPacket = part.packet && (headerBytes === 16 || have >= 4);
    const what = part === parts[0] && headerBytes === 16 ? 'file header' : knownPacket ? `packet ${index}` : 'block';
    const of = part === parts[0] && headerBytes === 16 ? '24 bytes' : have < headerBytes ? `its ${headerBytes}-byte header` : `${part.bytes.length} bytes`;
    return `capture truncated: ${what} cut after ${have} of ${of} (byte ${part.at})`;
  }

  it.each([
    ['pcap', pcapFile, 16],
    ['pcapng', pcapng, 12],
  ])('%s cut at every byte offset: packets before the cut, then a truncation error', (_name, file, headerBytes) => {
    const all = decodeWithCuts(file.bytes).packets;
    const prefixes = [...all, null].map((_, n) => fingerprint(all.slice(0, n)));
    for (let cut = 0; cut <= file.bytes.length; cut++) {
      const complete = file.parts.filter((p) => p.packet && p.at + p.bytes.length <= cut).length;
      const failure = expectedFailure(file.parts, cut, headerBytes);
      for (const cuts of [[], [cut >> 1]]) {
        const decoded = decodeWithCuts(file.bytes.subarray(0, cut), cuts);
        expect(fingerprint(decoded.packets)).toBe(prefixes[complete]);
        const error = decoded.error;
        expect(error?.message ?? null).toBe(failure);
        if (cut >= 4 && failure !== null) expect(error).toBeInstanceOf(TruncatedCaptureError);
      }
    }
  });

  it('buffers no more than what arrived for a record claiming the maximum length', () => {
    const header = pcapWriter.header(1);
    const record = new Uint8Array(16 + 100);
    patchU32(record, 8, MAX_RECORD_BYTES);
    const before = process.memoryUsage().arrayBuffers;
    const decoder = new CaptureDecoder({ onPacket: () => {} });
    decoder.push(header);
    for (const byte of record) decoder.push(Uint8Array.of(byte));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    expect(() => decoder.end()).toThrow(
      new TruncatedCaptureError(`capture truncated: packet 1 cut after 116 of ${16 + MAX_RECORD_BYTES} bytes`, 'byte 24'),
    );
  });

  it('reports an empty input as not a capture', () => {
    const { error } = decodeWithCuts(new Uint8Array(0));
    expect(error).toEqual(new DecodeError('not a pcap or pcapng capture', 'byte 0'));
    expect(error).not.toBeInstanceOf(TruncatedCaptureError);
  });
});

describe('corrupt captures', () => {
  function smallPcapng() {
    const w = new PcapngWriter();
    return assemble([
      [w.sectionHeader()],
      [w.interface(1)],
      [w.enhancedPacket(0, T0, frame(10, 1)), true],
      [w.enhancedPacket(0, T0 + 1_000n, frame(11, 2)), true],
      [w.enhancedPacket(0, T0 + 2_000n, frame(12, 3)), true],
    ]);
  }

  /** Decodes whole and byte by byte: the same packets and the same error either way. */
  function decodeBothWays(bytes: Uint8Array) {
    const whole = decodeWithCuts(bytes);
    const bytewise = decodeInChunksOf(bytes, 1);
    expect(bytewise.packets).toEqual(whole.packets);
    expect(bytewise.error).toEqual(whole.error);
    expect(whole.error).toBeInstanceOf(DecodeError);
    expect(whole.error).not.toBeInstanceOf(TruncatedCaptureError);
    return whole;
  }

  it.each([
    ['gzip', [0x1f, 0x8b, 0x08, 0x00]],
    ['text', [...text('GET / HTTP/1.1\r\n')]],
    ['modified pcap', [0x34, 0xcd, 0xb2, 0xa1]],
  ])('rejects %s input as not a capture', (_name, bytes) => {
    const { error, events } = decodeWithCuts(Uint8Array.from(bytes));
    expect(events).toEqual([]);
    expect(error).toEqual(new DecodeError('not a pcap or pcapng capture', 'byte 0'));
    expect(error!.where).toBe('byte 0');
  });

  const corruptions: [string, (bytes: Uint8Array, parts: Part[]) => void, string][] = [
    [
      'a block length that is not a multiple of 4',
      (b, p) => patchU32(b, p[3].at + 4, 45),
      'block total length 45 is invalid (must be a multiple of 4 from 12 to 268435456)',
    ],
    [
      'a block length below 12',
      (b, p) => patchU32(b, p[3].at + 4, 8),
      'block total length 8 is invalid (must be a multiple of 4 from 12 to 268435456)',
    ],
    [
      'an absurd block length',
      (b, p) => patchU32(b, p[3].at + 4, MAX_RECORD_BYTES + 4),
      'block total length 268435460 is invalid (must be a multiple of 4 from 12 to 268435456)',
    ],
    [
      'a trailing length that differs',
      (b, p) => patchU32(b, p[3].at + p[3].bytes.length - 4, 48),
      'block trailing length 48 differs from leading length 44',
    ],
    [
      'a packet on an undefined interface',
      (b, p) => patchU32(b, p[3].at + 8, 3),
      'packet 2 references undefined interface 3',
    ],
    [
      'a captured length beyond its block',
      (b, p) => patchU32(b, p[3].at + 20, 13),
      'packet 2 captured length 13 overruns its 44-byte block',
    ],
  ];

  it.each(corruptions)('stops at %s, after delivering the packets before it', (_name, corrupt, detail) => {
    const file = smallPcapng();
    corrupt(file.bytes, file.parts);
    const { packets, error } = decodeBothWays(file.bytes);
    expect(packets.map((p) => p.index)).toEqual([1]);
    const prefix = detail.startsWith('packet') ? 'corrupt capture: ' : 'corrupt capture after packet 1: ';
    expect(error).toEqual(new DecodeError(prefix + detail, `byte ${file.parts[3].at}`));
  });

  it('rejects a section header with a bad byte-order magic or version', () => {
    const w = new PcapngWriter();
    const second = w.sectionHeader();
    const file = assemble([[w.sectionHeader()], [w.interface(1)], [w.enhancedPacket(0, T0, frame(4, 1)), true], [second]]);
    const badMagic = file.bytes.slice();
    patchU32(badMagic, file.parts[3].at + 8, 0x11223344);
    expect(decodeBothWays(badMagic).error).toEqual(
      new DecodeError('corrupt capture after packet 1: block section header has byte-order magic 0x11223344', `byte ${file.parts[3].at}`),
    );
    const badVersion = file.bytes.slice();
    new DataView(badVersion.buffer).setUint16(file.parts[3].at + 12, 2, true);
    expect(decodeBothWays(badVersion).error).toEqual(
      new DecodeError('corrupt capture after packet 1: block section header has unsupported version 2.0', `byte ${file.parts[3].at}`),
    );
  });

  it('rejects a Simple Packet Block in a section without interfaces', () => {
    const w = new PcapngWriter();
    const bytes = concat([w.sectionHeader(), w.simplePacket(frame(4, 1))]);
    expect(decodeBothWays(bytes).error).toEqual(new DecodeError('corrupt capture: packet 1 references undefined interface 0', 'byte 28'));
  });

  it('rejects a pcap record with an absurd captured length, after the packets before it', () => {
    const w = new PcapWriter();
    const bytes = concat([w.header(1), w.packet(T0, frame(4, 1)), w.packet(T0, frame(4, 2))]);
    patchU32(bytes, 24 + 20 + 8, MAX_RECORD_BYTES + 1);
    const { packets, error } = decodeBothWays(bytes);
    expect(packets.map((p) => p.index)).toEqual([1]);
    expect(error).toEqual(new DecodeError('corrupt capture: packet 2 captured length 268435457 exceeds 268435456', 'byte 44'));
  });

  it('keeps failing once failed', () => {
    const decoder = new CaptureDecoder({ onPacket: () => {} });
    expect(() => decoder.push(text('nope'))).toThrow('not a pcap or pcapng capture (byte 0)');
    expect(() => decoder.push(new PcapWriter().header(1))).toThrow('not a pcap or pcapng capture (byte 0)');
    expect(() => decoder.end()).toThrow('not a pcap or pcapng capture (byte 0)');
  });
});

describe('problems that do not stop decoding', () => {
  it('reports a malformed option, statistics for an undefined interface and bad secrets, and carries on', () => {
    const w = new PcapngWriter();
    const file = assemble([
      [w.sectionHeader()],
      [w.interface(1, { name: 'eth0', tsresol: 9 })],
      [w.interfaceStatistics(0, T0, { isb_ifrecv: 1n })],
      [w.decryptionSecrets(TLSK, text('0123'))],
      [w.nameResolution([{ address: '10.1.2.3', names: ['x'] }])],
      [w.enhancedPacket(0, T0, frame(8, 1)), true],
    ]);
    const view = new DataView(file.bytes.buffer);
    view.setUint16(file.parts[1].at + 16 + 2, 200, true); // if_name length runs past the block
    view.setUint32(file.parts[2].at + 8, 9, true); // statistics for interface 9
    view.setUint32(file.parts[3].at + 12, 5, true); // 5 secret bytes in a 4-byte body
    view.setUint16(file.parts[4].at + 8 + 2, 300, true); // NRB record runs past the block
    const { events, error } = decodeWithCuts(file.bytes);
    expect(error).toBeNull();
    expect(events).toMatchObject([
      { kind: 'problem', problem: { where: `byte ${file.parts[1].at}`, message: 'option 2 overruns its block' } },
      // the interface is still defined, with the defaults its options could not change
      { kind: 'interface', iface: { id: 0, linkType: 1, snapLen: 0 } },
      { kind: 'problem', problem: { where: `byte ${file.parts[2].at}`, message: 'interface statistics for undefined interface 9' } },
      {
        kind: 'problem',
        problem: { where: `byte ${file.parts[3].at}`, message: 'decryption secrets length 5 overruns its 24-byte block' },
      },
      { kind: 'problem', problem: { where: `byte ${file.parts[4].at}`, message: 'name resolution record overruns its block' } },
      // if_tsresol was never read: the writer's ns ticks count as µs
      { kind: 'info', info: { format: 'pcapng', originNs: T0 * 1000n } },
      {
        kind: 'packet',
        packet: { index: 1, ts: 0, linkType: 1, interfaceId: 0, data: frame(8, 1), origLen: 8, fileOffset: file.parts[5].at + 28 },
      },
    ]);
  });

  it('strips the FCS an interface declares with if_fcslen', () => {
    const w = new PcapngWriter();
    const full = frame(64, 3);
    const { packets } = decodeWithCuts(
      concat([w.sectionHeader(), w.interface(1, { fcsBytes: 4 }), w.enhancedPacket(0, T0, full)]),
    );
    expect(packets.map((p) => [p.data, p.origLen])).toEqual([[full.subarray(0, 60), 60]]);
  });

  it('reports info with no origin at the end of a capture without packets', () => {
    const w = new PcapngWriter();
    const { events, error } = decodeWithCuts(concat([w.sectionHeader(), w.interface(1)]));
    expect(error).toBeNull();
    expect(events).toEqual([
      { kind: 'interface', iface: { id: 0, linkType: 1, snapLen: 0 } },
      { kind: 'info', info: { format: 'pcapng', originNs: null } },
    ]);
  });
});
