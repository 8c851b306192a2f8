#!/usr/bin/env node
// Before `npm start` and `npm test`: installs the dependencies when package.json or the lockfile
// changed since the last install, and rebuilds dist/ when a source is newer than it, so a warm clone
// starts at once while a fresh or updated one still installs and builds first.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** What the installed node_modules/ were made from. */
function manifestDigest() {
  const h = createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) {
    const p = join(root, f);
    h.update(existsSync(p) ? readFileSync(p) : Buffer.alloc(0));
  }
  return h.digest('hex');
}

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

const stamp = join(root, 'node_modules', '.execscope-install');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== manifestDigest()) {
  // npm install also builds dist/ (the prepare script). It may rewrite the lockfile: digest after it.
  run([npm, 'install', '--no-audit', '--no-fund', '--loglevel=error']);
  writeFileSync(stamp, manifestDigest());
} else {
  const built = join(root, 'dist', 'cli.js');
  const inputs = ['src', 'scripts/build.mjs', 'scripts/cli-loader.cjs', 'tsconfig.json', 'package-lock.json'].map((p) => join(root, p));
  if (!existsSync(built) || Math.max(...inputs.map(newestMtime)) > statSync(built).mtimeMs) run([npm, 'run', '--silent', 'build']);
}
