/**
 * The capture reader hands the analyzer views of one reused read buffer, overwritten by the next
 * read. A decoder that keeps such a view past push() (instead of copying what it holds on to) sees
 * its bytes change under it: today's tap redactor wrote into a view it was given, and the same class
 * of bug would corrupt held data silently with the same length. Each capture is fed through one
 * buffer that is filled with junk after every push, and must give the same JSON as fresh chunks —
 * also with its packet records swapped in pairs, so that reassembly holds segments. The payload goes
 * from that buffer to the stream consumers as where it lies (core/byte-range.ts), so the same holds
 * through the file reader's path (whole records, decoded in place) with the sha256 and the kept
 * heads, which are the consumers that keep what they are given.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CaptureAnalyzer } from '../../src/pipeline/capture-analyzer.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { jsonReport } from '../../src/report/json-report.js';
import { records } from '../kit/capture-mutations.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import type { CaptureModel } from '../../src/model/session.js';

function json(bytes: Uint8Array, chunk: number, reuse: boolean): string {
  const a = new CaptureAnalyzer(analyzeOptions({ hash: false, hasher: null }));
  const buf = new Uint8Array(chunk);
  for (let at = 0; at < bytes.length; at += chunk) {
    const part = bytes.subarray(at, at + chunk);
    if (reuse) {
      buf.set(part);
      a.push(buf.subarray(0, part.length));
      buf.fill(0xaa);
    } else a.push(part.slice());
  }
  a.end();
  return JSON.stringify(jsonReport(a.model, { hash: false }));
}

const fixtures = join(process.cwd(), 'fixtures');
const captures = [
  ...readdirSync(fixtures).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)),
  ...readdirSync(join(fixtures, 'lab')).filter((f) => /\.pcapng(\.gz)?$/.test(f)).map((f) => `lab/${f}`),
];

/** The capture with each pair of packet records swapped: segments out of order, which reassembly holds (and must copy). */
function pairsSwapped(bytes: Buffer): Buffer {
  const rec = records(bytes);
  if (!rec) return bytes;
  const order = rec.records.flatMap((r, i, all) => (i % 2 === 1 ? [] : i + 1 < all.length ? [all[i + 1], r] : [r]));
  return Buffer.concat([bytes.subarray(0, rec.header), ...order.map(([s, e]) => bytes.subarray(s, e))]);
}

test.each(captures)('%s: the same through one reused, overwritten read buffer', (name) => {
  const raw = readFileSync(join(fixtures, name));
  const bytes = name.endsWith('.gz') ? gunzipSync(raw) : raw;
  for (const input of [bytes, pairsSwapped(bytes)]) {
    for (const chunk of [4096, 65536]) expect(json(input, chunk, true)).toBe(json(input, chunk, false));
  }
});

/** What the report and the content pane keep of a capture's streams: the JSON (with each stream's sha256) and every stream's kept head. */
function kept(model: CaptureModel): string {
  const heads = model.sessions.flatMap((session) => session.streams.map((r) => `${session.id} ${r.name} ${Buffer.concat(r.head.map((h) => Buffer.from(h))).toString('hex')}`));
  return JSON.stringify(jsonReport(model, { hash: true })) + heads.join('\n');
}

function analyzer(): CaptureAnalyzer {
  return new CaptureAnalyzer(analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
}

/**
 * As analyze-capture.ts reads a file: whole records decoded where they lie in one small buffer
 * (pushRecords), the unfinished record moved to its front and the rest overwritten before each read.
 */
function keptThroughRecordReader(bytes: Uint8Array, size: number): string {
  const a = analyzer();
  let buf = new Uint8Array(size);
  let have = 0;
  let at = 0;
  for (;;) {
    const n = Math.min(buf.length - have, bytes.length - at);
    buf.set(bytes.subarray(at, at + n), have);
    have += n;
    at += n;
    const used = a.pushRecords(buf.subarray(0, have));
    if (used === null) break;
    if (at === bytes.length) {
      if (used < have) a.push(buf.slice(used, have));
      break;
    }
    buf.copyWithin(0, used, have);
    have -= used;
    buf.fill(0xaa, have);
    if (a.recordBytesNeeded > buf.length) {
      const grown = new Uint8Array(a.recordBytesNeeded);
      grown.set(buf.subarray(0, have));
      buf.fill(0xaa);
      buf = grown;
    }
  }
  a.end();
  return kept(a.model);
}

function keptFromFreshChunks(bytes: Uint8Array): string {
  const a = analyzer();
  a.push(bytes.slice());
  a.end();
  return kept(a.model);
}

test.each(captures)('%s: hashes and kept heads the same through a small reused record buffer', (name) => {
  const raw = readFileSync(join(fixtures, name));
  const bytes = name.endsWith('.gz') ? gunzipSync(raw) : raw;
  for (const input of [bytes, pairsSwapped(bytes)]) {
    const want = keptFromFreshChunks(input);
    for (const size of [2048, 16384]) expect(keptThroughRecordReader(input, size)).toBe(want);
  }
});
