/**
 * The real docker client against a real dockerd (Debian's docker.io, private state under a temp
 * dir, started here as root), recorded by the unix-socket tap in front of dockerd's socket: each
 * `docker exec` decodes to one docker session with the bytes the client saw, its resizes and the
 * exit code it reported. dockerd is stopped by its PID and every mount it made is gone afterwards.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_IMAGE, dockerdUnavailable, mountsUnder, startPrivateDockerd, type PrivateDockerd } from '../../src/lab/dockerd.js';
import { resizePty, spawnInPty } from '../../src/lab/pty-helper.js';
import { startTap, type Tap } from '../../src/tap/tap.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import type { CaptureModel, ExecSession } from '../../src/model/session.js';
import { outcomeText } from '../../src/report/outcome.js';
import { Lab } from '../../src/lab/lab.js';
import { hopChain } from '../../src/model/cross-hop.js';
import { spawn } from 'node:child_process';

const why = dockerdUnavailable();
// CI sets EXECSCOPE_REQUIRE_DOCKERD=1 where it runs as root: there a missing dockerd fails instead of skipping.
if (why && process.env.EXECSCOPE_REQUIRE_DOCKERD) {
  test('a real dockerd is required here (EXECSCOPE_REQUIRE_DOCKERD)', () => {
    throw new Error(why);
  });
} else if (why) console.warn(`SKIPPED: real dockerd tests: ${why}`);
const CONTAINER = 'execscope-c1';
/** The host's own docker state: a private dockerd must leave each as it found it. */
const HOST_PATHS = ['/var/run/docker.sock', '/run/docker', '/etc/docker/key.json', '/var/lib/docker'];

const text = (s: ExecSession, name: string) => Buffer.concat(s.streams.find((r) => r.name === name)?.head ?? []).toString('latin1');

(why ? describe.skip : describe)('real dockerd, real docker exec, through the unix-socket tap', () => {
  let dir: string;
  let dockerd: PrivateDockerd | null = null;
  let tap: Tap | null = null;
  let recording: string;
  let hostPathsBefore: boolean[];
  const results: Record<string, { code: number | null; stdout: string; stderr: string }> = {};
  let model: CaptureModel;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'execscope-dockerd-'));
    hostPathsBefore = HOST_PATHS.map((p) => existsSync(p));
    dockerd = await startPrivateDockerd(dir);
    await dockerd.importBusybox();
    const run = await dockerd.docker(['run', '-d', '--name', CONTAINER, '--network', 'none', BUSYBOX_IMAGE, 'sleep', '3600']);
    expect(run.stderr).toBe('');
    recording = join(dir, 'docker.pcapng');
    tap = await startTap({ listen: `unix:${join(dir, 'tap.sock')}`, upstream: `unix:${dockerd.socketPath}`, recordTo: recording, hopName: 'docker client→dockerd' });
    const host = `unix://${join(dir, 'tap.sock')}`;
    results.stdin = await dockerd.docker(['exec', '-i', CONTAINER, 'sh', '-c', 'tr a-z A-Z; echo to-stderr >&2'], { input: 'hello docker\n', host });
    results.exit7 = await dockerd.docker(['exec', CONTAINER, 'sh', '-c', 'echo before; exit 7'], { host });
    results.tty = await ttyExec(dockerd, host);
    await tap.stop();
    tap = null;
    model = await analyzeCapture(recording, analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
  }, 240_000);

  afterAll(async () => {
    try {
      await tap?.stop();
      if (dockerd) {
        const report = await dockerd.stop();
        expect(report.mountsLeft).toEqual([]);
        expect(report.strays).toEqual([]);
        for (const d of report.hostDirsCreated) expect(existsSync(d)).toBe(false);
        expect(HOST_PATHS.map((p) => existsSync(p))).toEqual(hostPathsBefore);
        // Only what is under the private directory: other suites may mount their own meanwhile.
        expect(readFileSync('/proc/mounts', 'utf8').split('\n').filter((m) => m.includes(dir))).toEqual([]);
      }
    } finally {
      if (dir && mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  /** `docker exec -it` on a terminal: the container waits until it sees the resize, then reads a line. */
  async function ttyExec(d: PrivateDockerd, host: string) {
    // The client sends the first size just after the start: until it lands the tty is 0×0 (busybox's stty then fails).
    const script = [
      'until s=$(stty size 2>/dev/null) && [ -n "$s" ]; do sleep 0.05; done; echo "size $s"',
      'while [ "$(stty size 2>/dev/null)" = "$s" ]; do sleep 0.05; done; echo "size $(stty size)"',
      'read line; echo "got $line"',
    ].join('; ');
    const child = spawnInPty([d.client, 'exec', '-it', CONTAINER, 'sh', '-c', script], { env: d.env(host), size: { width: 100, height: 30 } });
    let out = '';
    const seen = (want: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => out.includes(want) && (resolve(), true);
        if (check()) return;
        child.stdout!.on('data', () => check());
        child.once('exit', () => (check() ? undefined : reject(new Error(`docker exec -it ended before "${want}": ${JSON.stringify(out)}`))));
      });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString('latin1')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await seen('size 30 100');
    resizePty(child, 120, 40);
    await seen('size 40 120');
    child.stdin!.write('hi\r');
    const code = await exited;
    return { code, stdout: out, stderr: '' };
  }

  const sessionOf = (needle: string) => {
    const found = model.sessions.filter((s) => s.command.join(' ').includes(needle));
    expect(found).toHaveLength(1);
    return found[0];
  };

  it('records one docker session per exec, nothing else', () => {
    expect(model.fatal).toBeNull();
    expect(model.sessions.map((s) => [s.hop, s.kind])).toEqual([
      ['docker', 'exec'],
      ['docker', 'exec'],
      ['docker', 'exec'],
    ]);
  });

  it('docker exec -i: stdin to its EOF (the FIN), stdout and stderr demultiplexed, exit 0 from the inspect', () => {
    expect(results.stdin).toEqual({ code: 0, stdout: 'HELLO DOCKER\n', stderr: 'to-stderr\n' });
    const s = sessionOf('tr a-z A-Z');
    expect(s).toMatchObject({ container: CONTAINER, tty: false, stdin: true, httpStatus: 101, state: 'complete', exit: { status: 'Success', code: 0 } });
    expect(s.protocol).toMatch(/^application\/vnd\.docker\.(raw|multiplexed)-stream$/);
    expect(text(s, 'stdin')).toBe('hello docker\n');
    expect(s.streams.find((r) => r.name === 'stdin')!.closedAt.c2s).not.toBeNull();
    expect(text(s, 'stdout')).toBe(results.stdin.stdout);
    expect(text(s, 'stderr')).toBe(results.stdin.stderr);
    expect(s.docker!.exitFrom).toMatchObject({ call: 'inspect' });
    expect(outcomeText(s)).toMatch(/^exit 0 · known from an inspect poll .* after the stream closed$/);
  });

  it('a non-zero exit: the code the client reported, from the inspect after the stream', () => {
    expect(results.exit7).toMatchObject({ code: 7, stdout: 'before\n' });
    const s = sessionOf('exit 7');
    expect(s.exit).toMatchObject({ status: 'Failure', code: 7 });
    expect(text(s, 'stdout')).toBe('before\n');
    expect(s.docker!.polls).toBeGreaterThanOrEqual(1);
  });

  it('docker exec -it: raw TTY output, the keystrokes, the initial size and the resize', () => {
    expect(results.tty.code).toBe(0);
    const s = sessionOf('read line');
    expect(s).toMatchObject({ tty: true, state: 'complete', exit: { code: 0 } });
    expect(text(s, 'stdin')).toBe('hi\r');
    const out = text(s, 'stdout');
    for (const want of ['size 30 100', 'size 40 120', 'got hi']) expect(out).toContain(want);
    // What the client printed is what came over the stream (the pty adds nothing in raw mode).
    expect(results.tty.stdout).toContain(out.slice(out.indexOf('size 40 120')));
    expect(s.resizes.map((r) => `${r.width}x${r.height}`)).toEqual(expect.arrayContaining(['100x30', '120x40']));
  });

  const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
  (KUBECTL ? it : it.skip)('lab --runtime docker --dockerd: kubectl exec into a real container, down to the docker hop', async () => {
    const kubectl = (kubeconfig: string, args: string[], stdin = '') =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(KUBECTL!, args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString('latin1')));
        child.stderr.resume();
        child.on('close', (code) => resolve({ code, stdout }));
        child.stdin.end(stdin);
      });
    const lab = await Lab.start({ dir: join(dir, 'lab'), dockerd: { socket: dockerd!.socketPath, image: BUSYBOX_IMAGE } });
    let model: CaptureModel;
    try {
      const exit3 = await kubectl(lab.kubeconfigPath, ['exec', 'lab-0', '--', 'sh', '-c', 'echo from-dockerd; exit 3']);
      const sorted = await kubectl(lab.kubeconfigPath, ['exec', '-i', 'lab-0', '--', 'sort'], 'pear\napple\n');
      expect(exit3).toEqual({ code: 3, stdout: 'from-dockerd\n' });
      expect(sorted).toEqual({ code: 0, stdout: 'apple\npear\n' });
    } finally {
      await lab.stop();
    }
    // The lab removed the pods' containers: only the test's own one is left.
    expect((await dockerd!.docker(['ps', '-aq'])).stdout.trim().split('\n')).toHaveLength(1);
    model = await analyzeCapture(lab.recordPath!, analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
    const docker = model.sessions.filter((s) => s.hop === 'docker');
    expect(docker.map((s) => [s.command.join(' '), s.exit?.code, text(s, 'stdout')])).toEqual([
      ['sh -c echo from-dockerd; exit 3', 3, 'from-dockerd\n'],
      ['sort', 0, 'apple\npear\n'],
    ]);
    for (const s of docker) expect(hopChain(model.sessions, s).map((h) => h.hop)).toEqual(['apiserver', 'kubelet', 'cri', 'docker']);
  }, 120_000);
});
