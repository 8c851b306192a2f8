/**
 * `execscope lab --keylog-out FIFO` with the real kubectl: the key log is one descriptor held for the
 * run, so a reader of the FIFO sees every handshake's lines and its end only when the lab stops. (Opened
 * and closed for each line, the reader saw an end after the start's open and went away, and the
 * first handshake's line then waited for a reader forever: the lab stopped answering.)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../e2e/tmux.js';
import { until } from '../kit/until.js';

test('two kubectl execs through a lab whose key log is a FIFO: both run, the reader gets every line, then its end', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-keylog-fifo-'));
  const fifo = join(dir, 'keys.fifo');
  const copy = join(dir, 'keys.copy');
  execFileSync('mkfifo', [fifo], { timeout: 10_000 });
  // The reader first, as a user would start it (the lab's open of the FIFO waits for one).
  const reader = spawn('sh', ['-c', 'exec cat "$0" > "$1"', fifo, copy], { stdio: 'ignore' });
  const lab = spawn(
    process.execPath,
    [CLI, 'lab', '--dir', join(dir, 'lab'), '--record', join(dir, 'lab.pcapng'), '--keylog-out', fifo, '--', 'sh', '-c', 'kubectl exec lab-0 -- echo one && kubectl exec lab-0 -- echo two'],
    { stdio: 'ignore', detached: true },
  );
  try {
    const ended = await until(() => (lab.exitCode === null && lab.signalCode === null ? undefined : { code: lab.exitCode }), 'the lab and its two execs ending', { timeoutMs: 60_000 });
    expect(ended).toEqual({ code: 0 });
    await until(() => reader.exitCode !== null || undefined, "the key log's reader reaching its end", { timeoutMs: 10_000 });
    // Each kubectl's handshake with the apiserver: at least two client secrets.
    const secrets = readFileSync(copy, 'utf8').split('\n').filter((line) => line.startsWith('CLIENT_TRAFFIC_SECRET_0'));
    expect(new Set(secrets.map((line) => line.split(' ')[1])).size).toBeGreaterThanOrEqual(2);
  } finally {
    if (lab.exitCode === null && lab.signalCode === null) process.kill(-lab.pid!, 'SIGKILL');
    if (reader.exitCode === null) reader.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);
