/** The name the TUI offers for a save (S): one no file has, since a save never overwrites. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStreamSaver } from '../../src/pipeline/stream-extract.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { tempDirForTests } from '../kit/temp-dir.js';

const dir = tempDirForTests('execscope-free-path-');
const { freePath } = createStreamSaver(undefined, analyzeOptions());

test('the name itself when free, else NAME-2.EXT, NAME-3.EXT…; a link pointing nowhere takes its name too', () => {
  const at = (name: string) => join(dir, name);
  expect(freePath(at('s.bin'))).toBe(at('s.bin'));
  writeFileSync(at('s.bin'), '');
  expect(freePath(at('s.bin'))).toBe(at('s-2.bin'));
  symlinkSync(at('nowhere'), at('s-2.bin'));
  expect(freePath(at('s.bin'))).toBe(at('s-3.bin'));
  // No extension, and a dot in a directory's name rather than the file's.
  mkdirSync(at('d.x'));
  writeFileSync(at('d.x/out'), '');
  expect(freePath(at('d.x/out'))).toBe(at('d.x/out-2'));
});
