/**
 * Every recording in fixtures/lab/ (made by scripts/record-fixtures.sh with the real kubectl) decodes
 * to what the lab's servers observed, as written in its truth file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { compareWithTruth } from './truth-compare.js';

const dir = join(process.cwd(), 'fixtures', 'lab');
const truths = readdirSync(dir).filter((f) => f.endsWith('.truth.json')).sort();

test('the fixtures are there: every scenario, both protocols, each fault, port-forward', () => {
  expect(truths.length).toBeGreaterThanOrEqual(27);
});

test.each(truths)('%s', async (file) => {
  const truth = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  expect(truth.set).toBe('lab');
  const model = await analyzeCapture(join(dir, truth.files.capture), analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
  expect(model.fatal).toBeNull();
  expect(compareWithTruth(model, truth)).toEqual([]);
});
