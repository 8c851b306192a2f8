/** Whole streams read back from the capture for the Content pane. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { createContentReader } from '../../src/pipeline/capture-content-reader.js';
import { contentLabel } from '../../src/ui/content.js';

const fixture = (name: string) => join(process.cwd(), 'fixtures', name);

test('a stream longer than its kept head is read back whole and exact', async () => {
  const path = fixture('ws-stdin-cat.pcap');
  const opts = analyzeOptions({ headBytes: 1000 });
  const model = await analyzeCapture(path, opts);
  const s = model.sessions[0];
  const stdin = s.streams.find((r) => r.name === 'stdin');
  if (!stdin) throw new Error('no stdin');
  expect(stdin.headBytes).toBe(1000);
  expect(contentLabel(stdin)).toBe('stdin · 6.00 KiB · first 1000 B kept');
  const bytes = await createContentReader(path, opts)(s, stdin);
  const truth = JSON.parse(readFileSync(fixture('ws-stdin-cat.truth.json'), 'utf8')).sessions[0].stdin_bytes;
  expect(bytes.length).toBe(truth.length);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(truth.sha256);
  expect(contentLabel(stdin, bytes.length)).toBe('stdin · 6.00 KiB');
});
