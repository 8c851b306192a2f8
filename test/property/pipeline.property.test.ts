/**
 * Properties of the whole pipeline, checked by fast-check (shrinking to the smallest failing case;
 * a failure prints its seed and path, replayable with fc.assert's { seed, path }):
 * - the same model whether a capture arrives whole or in arbitrary chunks;
 * - any mutation of a real capture (the fuzzer's, from test/kit) decodes without a throw, and the
 *   reports still come out.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CaptureAnalyzer } from '../../src/pipeline/capture-analyzer.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { jsonReport } from '../../src/report/json-report.js';
import { textReport } from '../../src/report/text-report.js';
import { mutate, rngOf } from '../kit/capture-mutations.js';
import { randomSource } from '../kit/random.js';

const CAPTURES = ['ws-echo.pcap', 'spdy-stdin-pcapng.pcapng', 'tls-ws-dsb.pcapng', 'lab/lab-ws-portforward.pcapng', 'lab/lab-fault-no-stream-reply-spdy.pcapng'];
const corpus = CAPTURES.map((name) => {
  const raw = readFileSync(join(process.cwd(), 'fixtures', name));
  return { name, bytes: name.endsWith('.gz') ? gunzipSync(raw) : raw };
});

function json(bytes: Uint8Array, cuts: number[] = []): string {
  const a = new CaptureAnalyzer(analyzeOptions({ hash: false, hasher: null }));
  let at = 0;
  for (const cut of [...cuts].sort((x, y) => x - y)) {
    a.push(bytes.slice(at, cut));
    at = cut;
  }
  a.push(bytes.slice(at));
  a.end();
  return JSON.stringify(jsonReport(a.model, { hash: false }));
}

test.each(corpus.map((c) => [c.name, c.bytes] as const))('%s: the same model whole or in any chunks', (_name, bytes) => {
  const whole = json(bytes);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 40 }), (cuts) => json(bytes, cuts) === whole),
    { numRuns: 15 },
  );
});

test('mutated captures decode without a throw and every report comes out', () => {
  fc.assert(
    fc.property(randomSource, (random) => {
      const { bytes } = mutate(corpus, rngOf(random));
      const a = new CaptureAnalyzer(analyzeOptions({ hash: false, hasher: null }));
      a.push(bytes);
      a.end();
      jsonReport(a.model, { hash: false });
      textReport(a.model, { connections: true, name: 'mutated' });
      if (a.model.fatal) expect(a.model.fatal.message).toMatch(/^(capture truncated|corrupt capture|not a pcap)/);
    }),
    { numRuns: 60 },
  );
});
