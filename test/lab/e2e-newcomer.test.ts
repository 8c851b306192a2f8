/**
 * The lab as a class meets it (issue 13): `execscope lab` as the README runs it, with a fixed
 * kubelet port so the README's `tcpdump -i lo … 'tcp port 10250'` example sees that hop, a request
 * log line per request, pods sandboxed with bubblewrap, and a stop message whose command works in a
 * clone. Real kubectl, real tcpdump; every process started here is stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../kit/until.js';

const cli = join(process.cwd(), 'dist', 'cli.js');
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
const started: ChildProcess[] = [];

/** Collects a child's stderr and resolves when it shows `pattern` (or rejects when the child exits first). */
function waitForOutput(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, seen: { text: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(seen.text)) {
        child[stream]!.off('data', check);
        child.off('exit', gone);
        resolve(seen.text);
      }
    };
    const gone = () => reject(new Error(`exited before ${pattern}:\n${seen.text}`));
    child[stream]!.on('data', check);
    child.once('exit', gone);
    check();
  });
}

function collect(child: ChildProcess, stream: 'stdout' | 'stderr'): { text: string } {
  const seen = { text: '' };
  child[stream]!.on('data', (c: Buffer) => (seen.text += c));
  return seen;
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

function kubectl(kubeconfig: string, args: string[]) {
  return spawnSync(KUBECTL!, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8', timeout: 30_000 });
}

afterEach(async () => {
  for (const c of started.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await exited(c);
    }
  }
});

test('the lab on the kubelet port 10250: tcpdump as in the README sees the hop, a log line per request, sandboxed pods, a stop message that works', async () => {
  if (!KUBECTL) throw new Error('kubectl is required for the lab tests');
  if (spawnSync('tcpdump', ['--version'], { timeout: 10_000 }).error) throw new Error('tcpdump is required (.ci/run installs it)');
  const work = mkdtempSync(join(tmpdir(), 'execscope-lab-newcomer-'));
  try {
    const tap = join(work, 'tap.pcap');
    // --immediate-mode: each packet reaches the file as it is seen, not when the kernel's ring block
    // is handed over; without it the capture was once empty on a loaded machine (0 packets).
    const tcpdump = spawn('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-n', '-Z', 'root', '-w', tap, 'tcp port 10250'], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.push(tcpdump);
    await waitForOutput(tcpdump, 'stderr', /listening on lo/, collect(tcpdump, 'stderr'));

    const lab = spawn(process.execPath, [cli, 'lab', '--dir', join(work, 'lab'), '--kubelet-port', '10250'], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(lab);
    const labErr = collect(lab, 'stderr');
    const start = await waitForOutput(lab, 'stderr', /then try: kubectl exec/, labErr);
    expect(start).toMatch(/→ kubelet 127\.0\.0\.1:10250 →/);
    expect(start).toMatch(/sandbox: bubblewrap: the host read-only/);
    const kubeconfig = join(work, 'lab', 'kubeconfig');

    const probe = join('/tmp', `execscope-sandbox-probe-${process.pid}`);
    const run = kubectl(kubeconfig, ['exec', 'lab-0', '--', 'sh', '-c', `echo inside > ${probe}; cat ${probe}; echo home=$HOME; touch /usr/execscope-probe; exit 3`]);
    expect(run.status).toBe(3);
    expect(run.stdout).toBe(`inside\nhome=${join(work, 'lab', 'containers', 'default', 'lab-0', 'main')}\n`);
    expect(run.stderr).toMatch(/touch: cannot touch '\/usr\/execscope-probe': Read-only file system/);
    // The pod's /tmp is its own: nothing reached the host's.
    expect(existsSync(probe)).toBe(false);

    const log = await waitForOutput(lab, 'stderr', /← apiserver exec default\/lab-0 \[main\].*exit 3/, labErr);
    expect(log).toMatch(/→ apiserver GET \/api\/v1\/namespaces\/default\/pods\/lab-0\/exec · sh -c "echo inside/);
    expect(log).toMatch(/→ kubelet +POST \/exec\/default\/lab-0\/main · sh -c/);
    expect(log).toMatch(/← cri +exec default\/lab-0 \[main\] sh -c ".*" · v4\.channel\.k8s\.io · 101 · exit 3/);

    lab.kill('SIGINT');
    expect(await exited(lab)).toBe(0);
    expect(labErr.text).toMatch(/open it with: npx execscope \S+lab\.pcapng {3}\(inside the execscope clone\)/);
    const alt = /or: (\S+) (\S+) (\S+lab\.pcapng)/.exec(labErr.text)!;
    // The command the stop message gives works as printed (not a TTY here: the text summary).
    const opened = spawnSync(alt[1], [alt[2], alt[3]], { encoding: 'utf8', timeout: 60_000 });
    expect(opened.status).toBe(0);
    expect(opened.stdout).toMatch(/ · 3 sessions/);

    // Stop tcpdump once the hop's packets are in its file (a state, not a delay): the exec's last
    // segments may still be on their way through the capture ring when kubectl returns.
    await until(() => existsSync(tap) && statSync(tap).size > 24 /* the pcap file header alone */, 'packets in the tcpdump file', { everyMs: 50 });
    tcpdump.kill('SIGTERM');
    await exited(tcpdump);
    // README: tcpdump -i lo -w - 'tcp port 10250' | npx execscope analyze -
    const analyzed = spawnSync(process.execPath, [cli, 'analyze', '-'], { input: readFileSync(tap), encoding: 'utf8', timeout: 60_000 });
    expect(analyzed.status).toBe(0);
    expect(analyzed.stdout).toMatch(/· 1 connection · 1 session\n/);
    expect(analyzed.stdout).toMatch(/apiserver→kubelet 127\.0\.0\.1:\d+ → 127\.0\.0\.1:10250/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 120_000);
