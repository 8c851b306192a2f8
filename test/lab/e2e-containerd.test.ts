/**
 * The lab with a real containerd as its runtime: the real kubectl execs through the lab's apiserver
 * and kubelet into a real busybox container (runc), the kubelet calling containerd's real CRI and
 * dialling its real streaming server. The recording decodes with every hop linked, the CRI calls
 * decoded (Exec with its container and command), and each hop's stdout equal to what kubectl printed.
 * containerd's socket is reached through the unix-socket tap, whose own recording holds the same calls.
 *
 * Needs root, containerd, runc and busybox-static (.ci/run installs them): skipped with a message
 * otherwise, failed instead when EXECSCOPE_REQUIRE_CONTAINERD is set (CI).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriGrpcClient } from '../../src/lab/cri-grpc.js';
import { Lab } from '../../src/lab/lab.js';
import { startTap } from '../../src/tap/tap.js';
import { hopChain } from '../../src/model/cross-hop.js';
import type { CaptureModel } from '../../src/model/session.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { textReport } from '../../src/report/text-report.js';
import { BUSYBOX_IMAGE, containerdUnavailable, mountsUnder, PrivateContainerd } from './containerd-harness.js';

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p)) ?? null;
const unavailable = containerdUnavailable() ?? (KUBECTL ? null : 'kubectl missing');
if (unavailable && process.env.EXECSCOPE_REQUIRE_CONTAINERD) throw new Error(`real containerd required but ${unavailable}`);
if (unavailable) process.stderr.write(`e2e-containerd: SKIPPED (${unavailable}): the real-containerd end-to-end test needs root, containerd, runc, busybox-static and kubectl\n`);
const maybe = unavailable ? describe.skip : describe;

function kubectl(kubeconfig: string, args: string[], stdin = '', env: Record<string, string> = {}): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL!, args, { env: { ...process.env, ...env, KUBECONFIG: kubeconfig } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(stdin);
  });
}

/** The first container's id from a ListContainersResponse. */
function model0(answer: { value: Record<string, unknown> } | { error: string }): string {
  if ('error' in answer) throw new Error(answer.error);
  return (answer.value.containers as { id: string }[])[0].id;
}

function stdoutAt(model: CaptureModel, sessionId: number): Buffer {
  const s = model.sessions.find((x) => x.id === sessionId)!;
  const r = s.streams.find((x) => x.name === 'stdout');
  return r ? Buffer.concat(r.head) : Buffer.alloc(0);
}

maybe(`real containerd ${unavailable ? `(skipped: ${unavailable})` : ''}`, () => {
  test('kubectl exec into a real container: every hop recorded, linked and decoded', async () => {
    const work = mkdtempSync(join(tmpdir(), 'execscope-lab-containerd-'));
    const containerd = await PrivateContainerd.start();
    let lab: Lab | null = null;
    // The unix-socket tap in front of containerd's socket: the kubelet's CRI calls pass through it too.
    const tapRecording = join(work, 'cri-tap.pcapng');
    const tap = await startTap({ listen: `unix:${join(work, 'cri-tap.sock')}`, upstream: `unix:${containerd.socket}`, recordTo: tapRecording, hopName: 'kubelet→containerd' });
    let tapStopped = false;
    try {
      lab = await Lab.start({ dir: join(work, 'lab'), containerd: { socket: join(work, 'cri-tap.sock'), image: BUSYBOX_IMAGE } });
      const kubeconfig = lab.kubeconfigPath;
      // WebSocket (kubectl's default): a command that only a busybox root filesystem answers this way, and an exit code.
      const ws = await kubectl(kubeconfig, ['exec', 'lab-0', '--', 'sh', '-c', 'echo hello from containerd; ls /; exit 3']);
      expect(ws.code).toBe(3);
      expect(ws.stdout.toString()).toMatch(/^hello from containerd\nbin\ndev\netc\n/);
      // SPDY, with stdin really going to the container's sort.
      const spdy = await kubectl(kubeconfig, ['exec', '-i', 'lab-0', '--', 'sort'], 'pear\napple\nfig\n', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' });
      expect(spdy).toMatchObject({ code: 0 });
      expect(spdy.stdout.toString()).toBe('apple\nfig\npear\n');
      // ExecSync, as a probe or `crictl exec --sync` calls it, straight to containerd through the recorded relay.
      const probe = new CriGrpcClient(() => lab!.port('runtime'));
      const containerId = model0(await probe.invoke('ListContainers', {}));
      const sync = await probe.invoke('ExecSync', { container_id: containerId, cmd: ['sh', '-c', 'echo probe-out; echo probe-err >&2; exit 7'], timeout: 10 });
      probe.close();
      expect(sync).toMatchObject({ value: { exit_code: 7 } });
      await lab.stop();
      await tap.stop();
      tapStopped = true;

      const model = await analyzeCapture(lab.recordPath!, analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
      expect(model.fatal).toBeNull();
      const rpcs = model.rpcs.map((c) => `${c.method} ${c.statusName}`);
      expect(rpcs).toEqual(expect.arrayContaining(['Version OK', 'RunPodSandbox OK', 'CreateContainer OK', 'StartContainer OK', 'Exec OK', 'RemovePodSandbox OK']));
      const execs = model.rpcs.filter((c) => c.method === 'Exec');
      expect(execs.map((c) => c.request?.command)).toEqual([['sh', '-c', 'echo hello from containerd; ls /; exit 3'], ['sort']]);
      for (const [call, seen] of [[execs[0], ws.stdout], [execs[1], spdy.stdout]] as const) {
        expect(call.sessionId).not.toBeNull();
        const runtime = model.sessions.find((s) => s.id === call.sessionId)!;
        const chain = hopChain(model.sessions, runtime);
        expect(chain.map((s) => s.hop)).toEqual(['apiserver', 'kubelet', 'cri']);
        for (const s of chain) expect(stdoutAt(model, s.id)).toEqual(seen);
      }
      const firstChain = hopChain(model.sessions, model.sessions.find((s) => s.id === execs[0].sessionId)!);
      expect(firstChain[0].exit).toMatchObject({ status: 'Failure', code: 3 });
      const syncSession = model.sessions.find((s) => s.kind === 'execsync')!;
      expect(syncSession).toMatchObject({ hop: 'cri', transport: 'grpc', container: containerId, command: ['sh', '-c', 'echo probe-out; echo probe-err >&2; exit 7'], exit: { status: 'Failure', code: 7 }, state: 'complete' });
      expect(stdoutAt(model, syncSession.id).toString()).toBe('probe-out\n');
      expect(Buffer.concat(syncSession.streams.find((r) => r.name === 'stderr')!.head).toString()).toBe('probe-err\n');
      expect(textReport(model, { connections: false, name: 'lab' })).toMatch(/hops: #\d+ kubectl→apiserver → #\d+ apiserver→kubelet → CRI Exec OK .* → #\d+ kubelet→runtime/);
      // The tap's recording of the unix socket holds the same calls: the same tokens, the same ExecSync.
      const tapped = await analyzeCapture(tapRecording, analyzeOptions());
      expect(tapped.fatal).toBeNull();
      expect(tapped.rpcs.filter((c) => c.method === 'Exec').map((c) => [c.request?.command, c.token])).toEqual(execs.map((c) => [c.request?.command, c.token]));
      expect(tapped.sessions.find((s) => s.kind === 'execsync')).toMatchObject({ exit: { code: 7 } });
    } finally {
      await lab?.stop();
      if (!tapStopped) await tap.stop();
      await containerd.stop();
      rmSync(work, { recursive: true, force: true });
    }
    expect(mountsUnder(containerd.dir)).toEqual([]);
    expect(existsSync(containerd.dir)).toBe(false);
  }, 180_000);
});
