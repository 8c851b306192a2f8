/**
 * A directory of their own for the tests of one file or describe block, removed with all in it after
 * the block's last test, so that a test run leaves nothing in the system's temporary directory. Call
 * it where Jest takes hooks: at a file's or a describe's top level, not inside a test.
 *
 * The name is chosen at once, so the tests hold it as a plain string; the directory itself is made in
 * the block's beforeAll (mode 0700, and failing if the name is taken). Jest runs neither hook for a
 * block whose tests are all skipped (no tshark, a name filter): made beside the name, the directory
 * would then be left behind. Six characters after the prefix, as mkdtemp's: a path some tests show in
 * a TUI header of fixed width is no longer than before.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDirForTests(prefix: string): string {
  const dir = join(tmpdir(), `${prefix}${randomBytes(3).toString('hex')}`);
  beforeAll(() => mkdirSync(dir, { mode: 0o700 }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
