/**
 * The terminal hangs up under a running TUI (its window closed, the ssh connection gone): the TUI
 * must end by SIGHUP, as a program does that is told its terminal is gone, leaving nothing running,
 * and not crash on the way out. Node aborts as it exits normally with a hung-up terminal on its
 * stdio (it cannot put the terminal modes back), so a TUI that quits as on `q` dies by SIGSEGV.
 *
 * The TUI runs under exit-recorder.mjs, which stands where a login shell stands (the session's
 * leader, told of the hang-up by the kernel) and records how its child ended.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReplyServer } from '../tap/tap-test-kit.js';
import { CLI, tuiTerminals, type TmuxTerminal } from './tmux.js';

const { open } = tuiTerminals();
const recorder = join(process.cwd(), 'test', 'e2e', 'exit-recorder.mjs');
const dir = mkdtempSync(join(tmpdir(), 'execscope-hangup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const demo = join('fixtures', 'demo.pcapng');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ended {
  pid: number;
  code: number | null;
  signal: string | null;
}

/** Polls `check` until it answers (not undefined); undefined after `timeoutMs`. */
async function until<T>(check: () => T | undefined, timeoutMs = 30_000): Promise<T | undefined> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await pause(100)) {
    const answer = check();
    if (answer !== undefined) return answer;
  }
  return undefined;
}

/** The processes of a session still alive, as `ps` lists them. */
function sessionProcesses(session: number): string[] {
  const found = spawnSync('pgrep', ['-s', String(session), '-a'], { encoding: 'utf8' });
  return found.stdout.split('\n').filter((line) => line.trim() !== '');
}

let started = 0;
/** Runs `tui` (a shell command) in a terminal under the recorder; the TUI's stdin, stdout and stderr are the terminal unless the command redirects them. */
function startUnderRecorder(tui: string, signal: 'pass' | 'keep'): { t: TmuxTerminal; out: string } {
  const out = join(dir, `ended-${started++}.json`);
  const recorderCommand = `exec ${process.execPath} ${recorder} ${out} ${signal} sh -c '${tui}' 3<&0 </dev/null >/dev/null 2>&1`;
  return { t: open(['sh', '-c', recorderCommand], 120, 40, true), out };
}

/** Hangs the terminal up and waits for the TUI's end and for its session to empty. */
async function hangUp(t: TmuxTerminal, out: string): Promise<{ ended: Ended | undefined; left: string[] }> {
  const session = t.panePid();
  t.kill();
  const ended = await until(() => (existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Ended) : undefined));
  const left = (await until(() => (sessionProcesses(session).length === 0 ? [] : undefined), 10_000)) ?? sessionProcesses(session);
  return { ended, left };
}

const tuiOn = (file: string) => `exec env -u CI ${process.execPath} ${CLI} ${file}`;

describe.each(['keep', 'pass'] as const)('the hang-up, its SIGHUP passed on by the session leader or not (%s)', (signal) => {
  test('over the session list of a loaded capture', async () => {
    const { t, out } = startUnderRecorder(tuiOn(demo), signal);
    await t.waitFor(/Sessions · 11/);
    const { ended, left } = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    expect(left).toEqual([]);
  });

  test('with the Content pane open on a stream', async () => {
    const { t, out } = startUnderRecorder(tuiOn(demo), signal);
    await t.waitFor(/Sessions · 11/);
    t.keys('Enter');
    await t.waitFor(/▶ Timeline · #1/);
    t.keys('Enter');
    await t.waitFor(/▶ Event · /);
    t.keys('Enter');
    await t.waitFor(/▶ Content · /);
    const { ended, left } = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    expect(left).toEqual([]);
  });

  test('while a capture piped in is still being read (keys from /dev/tty)', async () => {
    // The test holds the pipe's writing end (r+: a FIFO opened so never waits for the other end): the
    // first 40 kB are in, the rest never comes.
    const fifo = join(dir, `pipe-${started}`);
    execFileSync('mkfifo', [fifo]);
    const feed = openSync(fifo, 'r+');
    try {
      writeSync(feed, readFileSync(demo).subarray(0, 40_000));
      const { t, out } = startUnderRecorder(`${tuiOn('-')} < ${fifo}`, signal);
      await t.waitFor(/live · 39\.1 KiB read/);
      const { ended, left } = await hangUp(t, out);
      expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
      expect(left).toEqual([]);
    } finally {
      closeSync(feed);
    }
  });

  test('under `execscope tap --ui`, a connection open: the tap is stopped first (its socket file removed)', async () => {
    const upstream = await startReplyServer({ port: 0, host: '127.0.0.1' }, (received) => received);
    const listen = join(dir, `tap-${started}.sock`);
    let client: net.Socket | null = null;
    try {
      const { t, out } = startUnderRecorder(`${tuiOn('tap')} --listen unix:${listen} --upstream ${upstream.address} -w ${join(dir, `tap-${started}.pcapng`)} --ui`, signal);
      await t.waitFor(/tap unix:/);
      const connected = net.connect({ path: listen });
      client = connected;
      connected.on('error', () => undefined);
      const clientClosed = new Promise((resolve) => connected.on('close', resolve));
      connected.write('held open through the hang-up');
      await t.waitFor(/1 connection/);
      const { ended, left } = await hangUp(t, out);
      expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
      expect(left).toEqual([]);
      // A process ended by the signal alone would leave the file, and `tap kubectl` its key and kubeconfig.
      expect(existsSync(listen)).toBe(false);
      await clientClosed;
    } finally {
      client?.destroy();
      await upstream.close();
    }
  });
});
