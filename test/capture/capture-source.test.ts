import fc from 'fast-check';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import { CaptureFileReader, readCaptureBytes, type ReadAheadChoice } from '../../src/capture/capture-source.js';
import { copyPacket, type PacketCopy } from '../../src/capture/packet.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { concat, decodeWithCuts } from './collect-capture.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'execscope-capture-source-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Byte equality without jest's element-by-element deep equality (slow on large arrays). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

/** Copies each chunk: a chunk is only valid until the next one is read. */
async function readAll(path: string, chunkSize?: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readCaptureBytes(path, { chunkSize })) chunks.push(chunk.slice());
  return chunks;
}

function sampleCapture(packets: number): Uint8Array {
  const w = new PcapWriter();
  const parts = [w.header(1)];
  for (let i = 0; i < packets; i++) {
    parts.push(w.packet(1_700_000_000_000_000_000n + BigInt(i) * 1000n, Uint8Array.from({ length: 100 + (i % 50) }, (_, j) => (i + j) & 0xff)));
  }
  return concat(parts);
}

describe('readCaptureBytes', () => {
  const capture = sampleCapture(300);

  it('streams a plain file in chunks of the requested size', async () => {
    const chunks = await readAll(file('plain.pcap', capture), 1000);
    expect(chunks.length).toBe(Math.ceil(capture.length / 1000));
    expect(chunks.every((c) => c.length <= 1000)).toBe(true);
    expectSameBytes(concat(chunks), capture);
  });

  it('reuses one buffer for a plain file instead of allocating per chunk', async () => {
    const buffers = new Set<ArrayBufferLike>();
    for await (const chunk of readCaptureBytes(file('reuse.pcap', capture), { chunkSize: 1000 })) buffers.add(chunk.buffer);
    expect(buffers.size).toBe(1);
  });

  it.each([1, 2, 3, 100, 65536])('gunzips a gzip file on the fly (chunk size %i)', async (chunkSize) => {
    const chunks = await readAll(file(`c${chunkSize}.pcap.gz`, gzipSync(capture)), chunkSize);
    expectSameBytes(concat(chunks), capture);
  });

  it('gunzips concatenated gzip members', async () => {
    const half = capture.length >> 1;
    const bytes = concat([gzipSync(capture.subarray(0, half)), gzipSync(capture.subarray(half))]);
    expectSameBytes(concat(await readAll(file('members.pcap.gz', bytes), 4096)), capture);
  });

  it('feeds the capture decoder from a gzip file', async () => {
    const chunks = await readAll(file('decode.pcap.gz', gzipSync(capture)), 4096);
    const cuts: number[] = [];
    let at = 0;
    for (const c of chunks.slice(0, -1)) cuts.push((at += c.length));
    const { packets, error } = decodeWithCuts(concat(chunks), cuts);
    expect(error).toBeNull();
    expect(packets.length).toBe(300);
  });

  it('passes through files too short to be gzip, and empty files', async () => {
    expect(concat(await readAll(file('one.bin', Uint8Array.of(0x1f))))).toEqual(Uint8Array.of(0x1f));
    expect(await readAll(file('empty.bin', new Uint8Array(0)))).toEqual([]);
  });

  it('says which file is missing', async () => {
    const path = join(dir, 'missing.pcap');
    await expect(readAll(path)).rejects.toThrow(`cannot open capture ${path}: no such file`);
  });

  it('says when the path is a directory', async () => {
    await expect(readAll(dir)).rejects.toThrow(`cannot read capture ${dir}: is a directory`);
  });

  it('says when gzip data is corrupt or cut short', async () => {
    const gz = gzipSync(capture);
    const corrupt = Uint8Array.from(gz);
    corrupt.fill(0x55, 20, 60);
    const corruptPath = file('corrupt.pcap.gz', corrupt);
    await expect(readAll(corruptPath)).rejects.toThrow(`cannot decompress capture ${corruptPath}: corrupt gzip data`);
    const cutPath = file('cut.pcap.gz', gz.subarray(0, gz.length >> 1));
    await expect(readAll(cutPath)).rejects.toThrow(`cannot decompress capture ${cutPath}: gzip data cut short`);
  });

  it('can be abandoned part way', async () => {
    const path = file('abandon.pcap.gz', gzipSync(capture));
    for await (const chunk of readCaptureBytes(path, { chunkSize: 64 })) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    expectSameBytes(concat(await readAll(path)), capture);
  });
});

interface DecodedFile {
  packets: PacketCopy[];
  error: Error | null;
  buffers: Set<ArrayBufferLike>;
}

/**
 * Reads `path` as the analyzer does: record-aligned views of reused buffers, the cut tail pushed at
 * the end. With `readAhead`, the worker thread is waited for before the first read, so it reads
 * everything after the opening read.
 */
async function decodeFile(path: string, readAhead: ReadAheadChoice | null = null): Promise<DecodedFile> {
  const packets: PacketCopy[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const decoder = new CaptureDecoder({ onPacket: (p) => packets.push(copyPacket(p)) });
  const reader = CaptureFileReader.open(path, readAhead);
  if (!reader) throw new Error(`${path} was not opened for record reads`);
  if (readAhead) await until(() => reader.readAheadReady);
  let error: Error | null = null;
  try {
    for (let view = reader.next(0, 1); ; ) {
      buffers.add(view.buffer);
      const used = decoder.pushRecords(view);
      if (reader.ended) {
        decoder.push(view.subarray(used));
        break;
      }
      view = reader.next(used, decoder.recordBytesNeeded);
    }
    decoder.end();
  } catch (e) {
    error = e as Error;
  } finally {
    reader.close();
  }
  return { packets, error, buffers };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('CaptureFileReader with CaptureDecoder.pushRecords', () => {
  it('decodes every packet from views of one reused buffer', async () => {
    const capture = sampleCapture(5000);
    const { packets, error, buffers } = await decodeFile(file('records.pcap', capture));
    expect(error).toBeNull();
    expect(buffers.size).toBe(1);
    const expected = decodeWithCuts(capture).packets;
    expect(packets.length).toBe(5000);
    expect(packets.map((p) => [p.index, p.fileOffset, p.data.length])).toEqual(expected.map((p) => [p.index, p.fileOffset, p.data.length]));
    expectSameBytes(concat(packets.map((p) => p.data)), concat(expected.map((p) => p.data)));
  });

  it('grows its buffer for records larger than it, up to what the file holds', async () => {
    const w = new PcapWriter();
    // Larger than the reader's 1 MiB buffer.
    const big = Uint8Array.from({ length: 2_500_000 }, (_, i) => (i * 7) & 0xff);
    const capture = concat([w.header(1), w.packet(1n, Uint8Array.of(1, 2, 3)), w.packet(2n, big), w.packet(3n, Uint8Array.of(4))]);
    const { packets, error } = await decodeFile(file('big.pcap', capture));
    expect(error).toBeNull();
    expect(packets.map((p) => p.data.length)).toEqual([3, 2_500_000, 1]);
    expectSameBytes(packets[1].data, big);
  });

  it('reports a record cut by the end of the file as a truncation, after the packets before it', async () => {
    const capture = sampleCapture(3000);
    const cut = capture.length - 50;
    const { packets, error } = await decodeFile(file('cut.pcap', capture.subarray(0, cut)));
    expect(packets.length).toBe(2999);
    expect(error?.message).toMatch(/truncated|cut/i);
    expect(error).toEqual(decodeWithCuts(capture.subarray(0, cut)).error);
  });

  it('does not trust a corrupt record length to allocate memory the file does not have', async () => {
    const w = new PcapWriter();
    const record = w.packet(1n, new Uint8Array(100));
    // captured length 200 MB in a file of a few hundred bytes
    new DataView(record.buffer, record.byteOffset).setUint32(8, 200_000_000, true);
    const { packets, error } = await decodeFile(file('liar.pcap', concat([w.header(1), record])));
    expect(packets).toEqual([]);
    expect(error).not.toBeNull();
  });

  it('leaves gzip files and pipes to readCaptureBytes, and names unreadable paths', () => {
    expect(CaptureFileReader.open(file('r.pcap.gz', gzipSync(sampleCapture(3))))).toBeNull();
    expect(CaptureFileReader.open('/dev/null')).toBeNull();
    expect(() => CaptureFileReader.open(join(dir, 'none.pcap'))).toThrow(`cannot open capture ${join(dir, 'none.pcap')}: no such file`);
    expect(() => CaptureFileReader.open(dir)).toThrow(`cannot read capture ${dir}: is a directory`);
  });
});

describe('CaptureFileReader reading ahead on a worker thread', () => {
  // Small slots, so a test file of a few hundred kilobytes crosses many of them after the opening read.
  const small: ReadAheadChoice = { minBytes: 0, layout: { slots: 3, slotBytes: 4096, headroom: 1024 } };

  /** The packets of `capture`, read ahead and read synchronously, which must agree. */
  async function bothWays(name: string, capture: Uint8Array, readAhead = small) {
    const path = file(name, capture);
    const ahead = await decodeFile(path, readAhead);
    const own = await decodeFile(path);
    expect(ahead.packets.map((p) => [p.index, p.fileOffset, p.data.length])).toEqual(own.packets.map((p) => [p.index, p.fileOffset, p.data.length]));
    expectSameBytes(concat(ahead.packets.map((p) => p.data)), concat(own.packets.map((p) => p.data)));
    expect(ahead.error).toEqual(own.error);
    return ahead;
  }

  it('hands every record on from the shared slots, whole, in order', async () => {
    const { packets, error, buffers } = await bothWays('ahead.pcap', sampleCapture(5000));
    expect(error).toBeNull();
    expect(packets.length).toBe(5000);
    // The opening read was the reader's own; everything after it came from the worker's slots.
    expect([...buffers].some((b) => b instanceof SharedArrayBuffer)).toBe(true);
  });

  it('gathers records larger than the headroom or a slot in its own buffer', async () => {
    const w = new PcapWriter();
    const parts = [w.header(1), w.packet(1n, new Uint8Array(300_000))];
    for (let i = 0; i < 400; i++) parts.push(w.packet(BigInt(i + 2), Uint8Array.from({ length: [10, 1500, 3000, 9000][i % 4] }, (_, j) => (i * 31 + j) & 0xff)));
    parts.push(w.packet(500n, Uint8Array.from({ length: 700_000 }, (_, i) => (i * 7) & 0xff)));
    const { packets, error } = await bothWays('ahead-big.pcap', concat(parts));
    expect(error).toBeNull();
    expect(packets.length).toBe(402);
  });

  it('reports a record cut by the end of the file exactly as reading for itself does', async () => {
    const capture = sampleCapture(3000);
    const { packets, error } = await bothWays('ahead-cut.pcap', capture.subarray(0, capture.length - 50));
    expect(packets.length).toBe(2999);
    expect(error?.message).toMatch(/truncated|cut/i);
  });

  it('agrees with reading for itself for any record sizes and slot layout', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 120 }),
        fc.record({ slots: fc.integer({ min: 2, max: 5 }), slotBytes: fc.integer({ min: 64, max: 40_000 }), headroom: fc.integer({ min: 16, max: 40_000 }) }),
        fc.integer({ min: 0, max: 400 }),
        async (sizes, layout, cutAtEnd) => {
          const w = new PcapWriter();
          // Padding first: the opening read (256 KiB) is the reader's own, the records after it the worker's.
          const parts = [w.header(1), w.packet(0n, new Uint8Array(256 * 1024))];
          sizes.forEach((n, i) => parts.push(w.packet(BigInt(i + 1), Uint8Array.from({ length: n }, (_, j) => (i + j) & 0xff))));
          const capture = concat(parts);
          await bothWays('ahead-any.pcap', capture.subarray(0, capture.length - Math.min(cutAtEnd, capture.length - 24)), { minBytes: 0, layout });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('can be closed part way, and lets the process end', async () => {
    const reader = CaptureFileReader.open(file('ahead-stop.pcap', sampleCapture(5000)), small)!;
    await until(() => reader.readAheadReady);
    const decoder = new CaptureDecoder({ onPacket: () => undefined });
    let view = reader.next(0, 1);
    for (let i = 0; i < 10; i++) view = reader.next(decoder.pushRecords(view), decoder.recordBytesNeeded);
    reader.close();
    expect(reader.ended).toBe(true);
  });

  it('reads the file it opened even when another takes its path before the thread starts', async () => {
    const path = file('ahead-swap.pcap', sampleCapture(5000));
    const other = file('ahead-other.pcap', sampleCapture(4000));
    const reader = CaptureFileReader.open(path, small)!;
    // Within microseconds of the thread's creation: its start takes milliseconds.
    renameSync(other, path);
    // The thread finds another file at the path and never takes over.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(reader.readAheadReady).toBe(false);
    let packets = 0;
    const counting = new CaptureDecoder({ onPacket: () => packets++ });
    for (let view = reader.next(0, 1); ; ) {
      const used = counting.pushRecords(view);
      if (reader.ended) break;
      view = reader.next(used, counting.recordBytesNeeded);
    }
    expect(packets).toBe(5000);
  });
});
