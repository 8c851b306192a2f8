import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import { CaptureFileReader, readCaptureBytes } from '../../src/capture/capture-source.js';
import { copyPacket, type PacketCopy } from '../../src/capture/packet.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { concat, decodeWithCuts } from './collect-capture.js';

const dir = tempDirForTests('execscope-capture-source-');

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

/** Reads `path` as the analyzer does: record-aligned views of one reused buffer, the cut tail pushed at the end. */
function decodeFile(path: string): DecodedFile {
  const packets: PacketCopy[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const decoder = new CaptureDecoder({ onPacket: (p) => packets.push(copyPacket(p)) });
  const reader = CaptureFileReader.open(path);
  if (!reader) throw new Error(`${path} was not opened for record reads`);
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

describe('CaptureFileReader with CaptureDecoder.pushRecords', () => {
  it('decodes every packet from views of one reused buffer', () => {
    // ~2.8 MB: the 1 MiB buffer runs short of room a few times, and a short read completes the record left unfinished where it lies.
    const capture = sampleCapture(20000);
    const { packets, error, buffers } = decodeFile(file('records.pcap', capture));
    expect(error).toBeNull();
    expect(buffers.size).toBe(1);
    const expected = decodeWithCuts(capture).packets;
    expect(packets.length).toBe(20000);
    expect(packets.map((p) => [p.index, p.fileOffset, p.data.length])).toEqual(expected.map((p) => [p.index, p.fileOffset, p.data.length]));
    expectSameBytes(concat(packets.map((p) => p.data)), concat(expected.map((p) => p.data)));
  });

  it('moves a record longer than a read to the front of its buffer when the room left cannot complete it', () => {
    const w = new PcapWriter();
    // Records longer than a read (256 KiB): two are completed in place, two move.
    const records = [700_000, 100_000, 300_000, 700_000, 100_000, 300_000, 700_000, 100_000, 300_000].map((length, k) => Uint8Array.from({ length }, (_, i) => (i * 13 + k) & 0xff));
    const capture = concat([w.header(1), ...records.map((r, k) => w.packet(BigInt(k + 1), r))]);
    const { packets, error, buffers } = decodeFile(file('long-records.pcap', capture));
    expect(error).toBeNull();
    expect(buffers.size).toBe(1);
    expect(packets.map((p) => p.data.length)).toEqual(records.map((r) => r.length));
    records.forEach((r, k) => expectSameBytes(packets[k].data, r));
  });

  it('grows its buffer for records larger than it, up to what the file holds', () => {
    const w = new PcapWriter();
    // Larger than the reader's 1 MiB buffer.
    const big = Uint8Array.from({ length: 2_500_000 }, (_, i) => (i * 7) & 0xff);
    const capture = concat([w.header(1), w.packet(1n, Uint8Array.of(1, 2, 3)), w.packet(2n, big), w.packet(3n, Uint8Array.of(4))]);
    const { packets, error } = decodeFile(file('big.pcap', capture));
    expect(error).toBeNull();
    expect(packets.map((p) => p.data.length)).toEqual([3, 2_500_000, 1]);
    expectSameBytes(packets[1].data, big);
  });

  it('reports a record cut by the end of the file as a truncation, after the packets before it', () => {
    const capture = sampleCapture(3000);
    const cut = capture.length - 50;
    const { packets, error } = decodeFile(file('cut.pcap', capture.subarray(0, cut)));
    expect(packets.length).toBe(2999);
    expect(error?.message).toMatch(/truncated|cut/i);
    expect(error).toEqual(decodeWithCuts(capture.subarray(0, cut)).error);
  });

  it('does not trust a corrupt record length to allocate memory the file does not have', () => {
    const w = new PcapWriter();
    const record = w.packet(1n, new Uint8Array(100));
    // captured length 200 MB in a file of a few hundred bytes
    new DataView(record.buffer, record.byteOffset).setUint32(8, 200_000_000, true);
    const { packets, error } = decodeFile(file('liar.pcap', concat([w.header(1), record])));
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

