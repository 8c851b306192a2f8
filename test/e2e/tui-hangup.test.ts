/**
 * The terminal hangs up under a running TUI (its window closed, the ssh connection gone): the TUI
 * must end by SIGHUP, as a program does that is told its terminal is gone, leaving nothing running,
 * and not crash on the way out. Node aborts as it exits normally with a hung-up terminal on its
 * stdio (it cannot put the terminal modes back), so a TUI that quits as on `q` dies by SIGSEGV.
 *
 * The TUI runs under exit-recorder.mjs (hang-up-kit.ts), which stands where a login shell stands
 * (the session's leader, told of the hang-up by the kernel) and records how its child ended.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { holdFifo } from '../kit/held-fifo.js';
import { startReplyServer } from '../tap/tap-test-kit.js';
import { hangUpTerminals } from './hang-up-kit.js';
import { CLI } from './tmux.js';

const { dir, start: startUnderRecorder, hangUp } = hangUpTerminals();
const demo = join('fixtures', 'demo.pcapng');
let started = 0;

const tuiOn = (file: string) => `exec env -u CI ${process.execPath} ${CLI} ${file}`;

describe.each(['keep', 'pass'] as const)('the hang-up, its SIGHUP passed on by the session leader or not (%s)', (signal) => {
  test('over the session list of a loaded capture', async () => {
    const { t, out } = startUnderRecorder(tuiOn(demo), signal);
    await t.waitFor(/Sessions · 11/);
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
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
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
  });

  test('while a capture piped in is still being read (keys from /dev/tty)', async () => {
    // The test holds the pipe's writing end (test/kit/held-fifo.ts): the first 40 kB are in, the rest never comes.
    const fifo = join(dir, `pipe-${started++}`);
    execFileSync('mkfifo', [fifo]);
    const feed = holdFifo(fifo);
    try {
      feed.write(readFileSync(demo).subarray(0, 40_000));
      const { t, out } = startUnderRecorder(`${tuiOn('-')} < ${fifo}`, signal);
      await t.waitFor(/live · 39\.1 KiB read/);
      const ended = await hangUp(t, out);
      expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    } finally {
      feed.close();
    }
  });

  test('under `execscope tap --ui`, a connection open: the tap is stopped first (its socket file removed)', async () => {
    const upstream = await startReplyServer({ port: 0, host: '127.0.0.1' }, (received) => received);
    const listen = join(dir, `tap-${started}.sock`);
    const recording = join(dir, `tap-${started++}.pcapng`);
    let client: net.Socket | null = null;
    try {
      const { t, out } = startUnderRecorder(`${tuiOn('tap')} --listen unix:${listen} --upstream ${upstream.address} -w ${recording} --ui`, signal);
      await t.waitFor(/tap unix:/);
      const connected = net.connect({ path: listen });
      client = connected;
      connected.on('error', () => undefined);
      const clientClosed = new Promise((resolve) => connected.on('close', resolve));
      connected.write('held open through the hang-up');
      await t.waitFor(/1 connection/);
      const ended = await hangUp(t, out);
      expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
      // A process ended by the signal alone would leave the file, and `tap kubectl` its key and kubeconfig.
      expect(existsSync(listen)).toBe(false);
      await clientClosed;
    } finally {
      client?.destroy();
      await upstream.close();
    }
  });
});
