/**
 * `execscope lab --runtime docker`: the real kubectl execs through the lab's apiserver, kubelet and
 * CRI streaming server, which runs each exec the way dockershim did — Engine API calls to the lab's
 * docker-shaped server over its unix socket. The recording holds that hop too: each exec is one
 * docker session (create, hijacked start, inspect poll) linked at the end of the exec's hop chain,
 * with the bytes kubectl saw and the exit code the inspect told.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.js';
import { hopChain } from '../../src/model/cross-hop.js';
import type { ExecSession } from '../../src/model/session.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p)) ?? null;
if (!KUBECTL) process.stderr.write('e2e-docker-runtime: SKIPPED (kubectl missing)\n');

function kubectl(kubeconfig: string, args: string[], stdin = '', env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL!, args, { env: { ...process.env, ...env, KUBECONFIG: kubeconfig } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('latin1')));
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
    child.stdin.end(stdin);
  });
}

const text = (s: ExecSession, name: string) => Buffer.concat(s.streams.find((r) => r.name === name)?.head ?? []).toString('latin1');

(KUBECTL ? describe : describe.skip)('lab --runtime docker', () => {
  test('each kubectl exec reaches the docker-shaped runtime as one docker session, linked after the streaming server', async () => {
    const work = mkdtempSync(join(tmpdir(), 'execscope-lab-docker-'));
    let lab: Lab | null = null;
    try {
      lab = await Lab.start({ dir: work, dockerRuntime: true });
      const exit3 = await kubectl(lab.kubeconfigPath, ['exec', 'lab-0', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      const sorted = await kubectl(lab.kubeconfigPath, ['exec', '-i', 'lab-0', '--', 'sort'], 'pear\napple\nfig\n', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' });
      expect(exit3).toMatchObject({ code: 3, stdout: 'out\n' });
      expect(sorted).toMatchObject({ code: 0, stdout: 'apple\nfig\npear\n' });
      await lab.stop();
      const model = await analyzeCapture(lab.recordPath!, analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
      expect(model.fatal).toBeNull();
      const docker = model.sessions.filter((s) => s.hop === 'docker');
      expect(docker.map((s) => s.command)).toEqual([['sh', '-c', 'echo out; echo err >&2; exit 3'], ['sort']]);
      const [first, second] = docker;
      expect(first).toMatchObject({ tty: false, stdin: false, state: 'complete', exit: { code: 3 } });
      expect(first.streams.map((r) => r.name)).not.toContain('stdin');
      expect([text(first, 'stdout'), text(first, 'stderr')]).toEqual(['out\n', 'err\n']);
      expect(second).toMatchObject({ stdin: true, exit: { status: 'Success', code: 0 } });
      expect(text(second, 'stdin')).toBe('pear\napple\nfig\n');
      expect(second.streams.find((r) => r.name === 'stdin')!.closedAt.c2s).not.toBeNull();
      expect(text(second, 'stdout')).toBe(sorted.stdout);
      for (const s of docker) {
        expect(s.docker).toMatchObject({ exitFrom: { call: 'inspect' } });
        expect(s.docker!.polls).toBeGreaterThanOrEqual(1);
        const chain = hopChain(model.sessions, s);
        expect(chain.map((h) => h.hop)).toEqual(['apiserver', 'kubelet', 'cri', 'docker']);
        // The exit code the inspect told is the one every hop above carried in its Status.
        for (const h of chain) expect(h.exit?.code).toBe(s.exit!.code);
      }
    } finally {
      await lab?.stop();
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
