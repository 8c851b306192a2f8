#!/usr/bin/env node
// Decodes every real capture in fixtures/ and fixtures/lab/ and compares it with its .truth.json,
// using the team's shared checker (../shared/check-captures.mjs) against the CLI built in dist/.
// Each run's last line is "N passed, M failed"; exit status non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const checker = join(root, '..', 'shared', 'check-captures.mjs');
if (!existsSync(checker)) {
  console.log(`test:captures skipped: ../shared not found (${checker} is the team's checker); the same comparison ran in-process under jest (test/pipeline/real-captures.test.ts)`);
  process.exit(0);
}
// The shared checker tells the hop by the request path's segment count, which takes the kubelet's
// `/portForward/NS/POD` (no container segment) for the runtime's: the port-forward recordings are
// checked by test/lab/lab-fixtures.test.ts instead, which reads the hop from the truth's logged_by.
const SKIPPED = { [join('fixtures', 'lab')]: ['lab-ws-portforward', 'lab-spdy-portforward', 'lab-portforward-refused'] };
// The real kubectl captures, then the lab's recordings of the real kubectl (fixtures/lab/).
let failed = false;
for (const dir of ['fixtures', join('fixtures', 'lab')]) {
  const skip = SKIPPED[dir] ? ['--skip', SKIPPED[dir].join(',')] : [];
  const run = spawnSync(process.execPath, [checker, '--dir', join(root, dir), '--cli', `${process.execPath} ${join(root, 'dist', 'cli.js')}`, '-v', ...skip], {
    stdio: 'inherit',
    cwd: root,
  });
  failed ||= run.status !== 0;
}
process.exit(failed ? 1 : 0);
