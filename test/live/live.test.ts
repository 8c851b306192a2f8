/**
 * `execscope live` as a user runs it (the built dist/cli.js): the real tcpdump on lo while the real
 * kubectl execs into the lab over HTTPS, the lab's key log followed as it grows. The JSON lines name
 * the command and the stdout while kubectl still runs, and the exit code while the capture goes on.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { CAN_TCPDUMP } from '../lab/e2e-harness.js';
import { jsonLines as lines } from './json-lines.js';

const cli = join(process.cwd(), 'dist/cli.js');

const describeIfTcpdump = CAN_TCPDUMP || process.env.EXECSCOPE_REQUIRE_TCPDUMP ? describe : describe.skip;

describeIfTcpdump('execscope live -i lo (real tcpdump, real kubectl, the lab over HTTPS)', () => {
  test('JSON lines: the command and stdout before kubectl ends, the exit code while the capture goes on; -w is complete', async () => {
    expect(existsSync(cli)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'live-'));
    const lab = await Lab.start({ dir: join(dir, 'lab'), recordPath: null });
    let live: ChildProcess | null = null;
    let kubectl: ChildProcess | null = null;
    try {
      live = spawn(process.execPath, [cli, 'live', '-i', 'lo', '--port', String(lab.port('apiserver')), '--keylog', lab.keyLogPath!, '-w', join(dir, 'live.pcap'), '--json-lines'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const events = lines(live);
      await events.until((e) => e.event === 'capturing', 'tcpdump listening');
      kubectl = spawn('kubectl', ['exec', 'lab-0', '--', 'sh', '-c', 'echo hello-live; sleep 2; exit 3'], {
        env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: lab.kubeconfigPath },
        stdio: 'ignore',
      });
      const kubectlExit = new Promise<number | null>((resolve) => kubectl!.once('exit', (code) => resolve(code)));
      const session = await events.until((e) => e.event === 'session' && e.hop === 'apiserver', 'the exec session');
      expect(session).toMatchObject({ kind: 'exec', transport: 'websocket', pod: 'lab-0', command: ['sh', '-c', 'echo hello-live; sleep 2; exit 3'] });
      await events.until((e) => e.event === 'data' && e.session === session.session && e.stream === 'stdout' && e.text === 'hello-live\n', 'stdout');
      expect(kubectl.exitCode).toBeNull(); // still sleeping: the output was seen live
      const status = await events.until((e) => e.event === 'status' && e.session === session.session, 'the exit status');
      expect(status).toMatchObject({ status: 'Failure', code: 3 });
      expect(live.exitCode).toBeNull(); // still capturing
      expect(await kubectlExit).toBe(3);
      const liveExit = new Promise<number | null>((resolve) => live!.once('exit', (code) => resolve(code)));
      live.kill('SIGINT');
      expect(await liveExit).toBe(0);
      expect(statSync(join(dir, 'live.pcap')).mode & 0o777).toBe(0o600);
      const kept = await analyzeCapture(join(dir, 'live.pcap'), analyzeOptions({ keyLogs: [{ text: readFileSync(lab.keyLogPath!, 'utf8'), source: 'lab' }] }));
      expect(kept.fatal).toBeNull();
      expect(kept.sessions.find((s) => s.hop === 'apiserver')?.exit?.code).toBe(3);
    } finally {
      if (kubectl?.exitCode === null) kubectl.kill('SIGKILL');
      if (live?.exitCode === null) live.kill('SIGKILL');
      await lab.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('execscope live without a capture program', () => {
  test('one line naming the fix, exit 1', () => {
    const r = spawnSync(process.execPath, [cli, 'live', '--json-lines'], { env: { PATH: '/nonexistent' }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^execscope live: neither tcpdump nor dumpcap is installed: install one \(apt-get install tcpdump\)/)]);
  });
});

/** As root (CI), the test drops to nobody for the run, so the real tcpdump is refused the capture. */
const describeIfRoot = process.getuid?.() === 0 && (CAN_TCPDUMP || process.env.EXECSCOPE_REQUIRE_TCPDUMP) ? describe : describe.skip;

describeIfRoot('execscope live when tcpdump refuses (as root: run as nobody with setpriv; an interface that does not exist)', () => {
  test.each([
    { mode: '--json-lines', flags: ['--json-lines'] },
    { mode: 'the TUI (not opened)', flags: [] },
  ])('$mode: one line naming the fix, exit 1, no stack trace', ({ flags }) => {
    const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, cli, 'live', '-i', 'lo', ...flags], {
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'execscope live: tcpdump may not capture here: run as root, or give it the capability once: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)',
    ]);
  });

  test('as root, an interface that does not exist: tcpdump\'s own reason in one line, exit 1', () => {
    const r = spawnSync(process.execPath, [cli, 'live', '-i', 'no-such-if0', '--json-lines'], { env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^execscope live: tcpdump: no-such-if0: .*(no such device|doesn't exist)/i)]);
  });
});
