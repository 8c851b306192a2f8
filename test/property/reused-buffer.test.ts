/**
 * The capture reader hands the analyzer views of one reused read buffer, overwritten by the next
 * read. A decoder that keeps such a view past push() (instead of copying what it holds on to) sees
 * its bytes change under it: today's tap redactor wrote into a view it was given, and the same class
 * of bug would corrupt held data silently with the same length. Each capture is fed through one
 * buffer that is filled with junk after every push, and must give the same JSON as fresh chunks —
 * also with its packet records swapped in pairs, so that reassembly holds segments.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CaptureAnalyzer } from '../../src/pipeline/capture-analyzer.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { jsonReport } from '../../src/report/json-report.js';
import { records } from '../kit/capture-mutations.js';

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
