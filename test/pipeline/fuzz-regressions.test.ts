/**
 * Inputs the fuzzer (npm run fuzz) found crashing, minimised, kept in fixtures/fuzz/ (see its README):
 * each goes through the whole pipeline and every report, whole and in small chunks, without a throw
 * and with the same JSON both ways.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonReport } from '../../src/report/json-report.js';
import { textReport } from '../../src/report/text-report.js';
import { analyzeBytes } from '../helpers/synthetic-capture.js';

const dir = join(process.cwd(), 'fixtures', 'fuzz');
const inputs = readdirSync(dir).filter((name) => /\.pcap(ng)?$/.test(name));

test('fixtures/fuzz holds the regressions', () => expect(inputs.length).toBeGreaterThan(0));

test.each(inputs)('%s', (name) => {
  const bytes = readFileSync(join(dir, name));
  const reports = (chunk: number) => {
    const model = analyzeBytes(bytes, { hash: false, hasher: null }, chunk);
    textReport(model, { connections: true, name });
    return JSON.stringify(jsonReport(model, { hash: false }));
  };
  expect(reports(7)).toBe(reports(1 << 20));
});
