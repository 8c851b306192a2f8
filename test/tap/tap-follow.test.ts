/**
 * `execscope tap kubectl --json-lines` and `--ui` as a user runs them (the built dist/cli.js) with the
 * real kubectl against the lab's HTTPS apiserver and no key log anywhere: the exec shows while it
 * still runs, and stopping the tap leaves a complete recording.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { CLI, haveTmux, TmuxTerminal } from '../e2e/tmux.js';
import { jsonLines } from '../live/json-lines.js';

const LAB_TOKEN = 'execscope-lab-token';

/** The streams of the tap recording's one apiserver session, as text. */
async function recordedSession(path: string): Promise<{ command: string[]; streams: Record<string, string>; exit: number | null }> {
  const model = await analyzeCapture(path, analyzeOptions());
  expect(model.fatal).toBeNull();
  const sessions = model.sessions.filter((s) => s.hop === 'apiserver');
  expect(sessions).toHaveLength(1);
  const s = sessions[0];
  return {
    command: s.command,
    exit: s.exit?.code ?? null,
    streams: Object.fromEntries(s.streams.map((st) => [st.name, Buffer.concat(st.head).toString('utf8')])),
  };
}

describe('execscope tap kubectl, followed live (real kubectl, the lab over HTTPS, no key log)', () => {
  let dir: string;
  let lab: Lab;
  beforeEach(async () => {
    expect(existsSync(CLI)).toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'tap-follow-'));
    lab = await Lab.start({ dir: join(dir, 'lab'), recordPath: null });
  });
  afterEach(async () => {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--json-lines: the session, its stdout while kubectl runs, its status; SIGINT completes the recording', async () => {
    const recording = join(dir, 'tap.pcapng');
    let tap: ChildProcess | null = null;
    let kubectl: ChildProcess | null = null;
    try {
      tap = spawn(process.execPath, [CLI, 'tap', 'kubectl', '--kubeconfig', lab.kubeconfigPath, '-w', recording, '--json-lines'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const events = jsonLines(tap);
      const tapping = await events.until((e) => e.event === 'tapping', 'the tap listening');
      expect(tapping).toMatchObject({ recording, kubeconfig: expect.stringMatching(/kubeconfig$/) });
      kubectl = spawn('kubectl', ['exec', '-i', 'lab-0', '--', 'sh', '-c', 'echo through-the-tap; read line; echo "got $line"; exit 5'], {
        env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: tapping.kubeconfig as string },
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      const kubectlExit = new Promise<number | null>((resolve) => kubectl!.once('exit', (code) => resolve(code)));
      const session = await events.until((e) => e.event === 'session', 'the exec session');
      expect(session).toMatchObject({ kind: 'exec', hop: 'apiserver', pod: 'lab-0', command: ['sh', '-c', 'echo through-the-tap; read line; echo "got $line"; exit 5'] });
      await events.until((e) => e.event === 'data' && e.stream === 'stdout' && e.text === 'through-the-tap\n', 'the first stdout');
      // The command waits for its stdin: what it printed was shown while it runs.
      expect(kubectl.exitCode).toBeNull();
      kubectl.stdin!.end('hello\n');
      await events.until((e) => e.event === 'data' && e.stream === 'stdin' && e.text === 'hello\n', 'the stdin');
      await events.until((e) => e.event === 'half-close' && e.stream === 'stdin', 'the stdin closed');
      expect(await events.until((e) => e.event === 'status', 'the exit status')).toMatchObject({ session: session.session, status: 'Failure', code: 5 });
      expect(await kubectlExit).toBe(5);
      await events.until((e) => e.event === 'session-ended', 'the session ended');
      // In order: opened, then data, then its status.
      const order = events.seen.filter((e) => e.session === session.session).map((e) => e.event);
      expect(order[0]).toBe('session');
      expect(order.indexOf('data')).toBeLessThan(order.indexOf('status'));
      const tapExit = new Promise<number | null>((resolve) => tap!.once('exit', (code) => resolve(code)));
      tap.kill('SIGINT');
      expect(await tapExit).toBe(0);
      expect(statSync(recording).mode & 0o777).toBe(0o600);
      expect(readFileSync(recording).toString('latin1')).not.toContain(LAB_TOKEN);
      expect(await recordedSession(recording)).toMatchObject({ exit: 5, streams: { stdin: 'hello\n', stdout: 'through-the-tap\ngot hello\n' } });
    } finally {
      if (kubectl?.exitCode === null) kubectl.kill('SIGKILL');
      if (tap?.exitCode === null) tap.kill('SIGKILL');
    }
  }, 60_000);

  test('--ui: a person watches their own kubectl exec -it as they type; q stops the tap and leaves a complete recording', async () => {
    if (!haveTmux()) throw new Error('tmux is needed (.ci/run installs it)');
    const recording = join(dir, 'tap.pcapng');
    const tui = new TmuxTerminal(['env', '-u', 'CI', process.execPath, CLI, 'tap', 'kubectl', '--kubeconfig', lab.kubeconfigPath, '-w', recording, '--ui'], 140, 40);
    let shell: TmuxTerminal | null = null;
    try {
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(await tui.waitFor(/export KUBECONFIG=\S+kubeconfig/))![1];
      shell = new TmuxTerminal(['kubectl', 'exec', '-it', 'lab-0', '--', 'sh'], 100, 30, { KUBECONFIG: kubeconfig, HOME: dir });
      await shell.waitFor(/^# *$/m);
      await tui.waitFor(/▸ +1 exec default\/lab-0 \[main\] sh +WS v5 +kubectl→apiserver .* open/);
      shell.keys('echo typed-$((6*7))', 'Enter');
      await shell.waitFor(/^typed-42$/m);
      // Session → its timeline → the event's layers → the stream's content.
      tui.keys('Enter');
      await tui.waitFor(/Timeline · #1/);
      tui.keys('Enter');
      await tui.waitFor(/Event · /);
      tui.keys('Enter');
      await tui.waitFor(/Content · stdout .*\n(.*\n)*typed-42/);
      // What is typed now shows while the exec still runs: stdout (the terminal's echo and the answer), then stdin.
      shell.keys('echo again-$((2*3))', 'Enter');
      await tui.waitFor(/Content · stdout .*\n(.*\n)*again-6/);
      tui.keys('Right');
      await tui.waitFor(/Content · stdin .*\n(.*\n)*echo again-\$\(\(2\*3\)\)/);
      expect(shell.screen()).not.toMatch(/\[exited/);
      tui.keys('q');
      // A command that works in a clone (execscope is on the PATH only after npm link).
      await tui.waitFor((screen) => /execscope tap: stopped; open the recording with: npx execscope \S+tap\.pcapng/.test(screen.replace(/\n/g, '')) && /\[exited 0\]/.test(screen));
      await shell.waitFor(/\[exited 1\]/); // the tap took kubectl's connection with it
      expect(statSync(recording).mode & 0o777).toBe(0o600);
      expect(readFileSync(recording).toString('latin1')).not.toContain(LAB_TOKEN);
      const recorded = await recordedSession(recording);
      expect(recorded.command).toEqual(['sh']);
      expect(recorded.streams.stdin).toBe('echo typed-$((6*7))\recho again-$((2*3))\r');
      expect(recorded.streams.stdout).toMatch(/typed-42\r\n[^]*again-6\r\n/);
    } finally {
      shell?.kill();
      tui.kill();
    }
  }, 90_000);
});
