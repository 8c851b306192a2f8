import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCaptureBytes } from '../../src/capture/capture-source.js';
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
