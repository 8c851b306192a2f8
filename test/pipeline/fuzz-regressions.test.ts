/**
 * Inputs the fuzzer (npm run fuzz) found crashing or hanging, minimised, kept in fixtures/fuzz/ (see
 * its README): each goes through the whole pipeline and every report, whole in memory and in small
 * chunks with its ended records spilled, without a throw and with the same reports both ways.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonReport } from '../../src/report/json-report.js';
import { textReport } from '../../src/report/text-report.js';
import { analyzeBytes } from '../helpers/synthetic-capture.js';

const dir = join(process.cwd(), 'fixtures', 'fuzz');
const cli = join(process.cwd(), 'dist', 'cli.js');
/** Far beyond the fraction of a second any of these takes: only a hang reaches it. */
const HANG_MS = 30_000;
const inputs = readdirSync(dir).filter((name) => /\.pcap(ng)?$/.test(name));

test('fixtures/fuzz holds the regressions', () => expect(inputs.length).toBeGreaterThan(0));

test.each(inputs)('%s', (name) => {
  // First in a child process with a time limit: a hang in this process would stop the whole suite
  // instead of failing this test (a synchronous loop never yields to jest's timeout).
  const child = spawnSync(process.execPath, [cli, 'analyze', join(dir, name), '--json'], { timeout: HANG_MS, encoding: 'utf8' });
  const outcome = child.signal ? `killed (${child.signal}) after ${HANG_MS} ms` : child.status === 0 || child.status === 2 ? 'finished' : `exit ${child.status}: ${child.stderr.slice(0, 300)}`;
  expect(outcome).toBe('finished');
  const bytes = readFileSync(join(dir, name));
  // In 7-byte chunks with every ended record spilled (as the fuzzer's chunked runs), or whole in memory.
  const reports = (chunk: number, endedConnectionsHeld?: number) => {
    const model = analyzeBytes(bytes, { hash: false, hasher: null, endedConnectionsHeld }, chunk);
    try {
      return [JSON.stringify(jsonReport(model, { hash: false })), textReport(model, { connections: true, name })];
    } finally {
      model.spilled?.close();
    }
  };
  expect(reports(7, 0)).toEqual(reports(1 << 20));
}, 2 * HANG_MS);
