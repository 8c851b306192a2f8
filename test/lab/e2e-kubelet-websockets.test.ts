/**
 * The 1.36 topology (`execscope lab --kubelet-websockets`, ExtendWebSocketsToKubelet): the real
 * kubectl's v5 WebSocket goes through the apiserver to the kubelet as it is, and the kubelet talks
 * SPDY to the runtime's streaming server. The recording shows GET + v5.channel.k8s.io on the
 * apiserver→kubelet hop and the kubelet's SPDY POST on the runtime hop, linked into one exec with the
 * CRI call, and the reports say the kubelet translated.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.js';
import { hopChain } from '../../src/model/cross-hop.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { jsonReport } from '../../src/report/json-report.js';
import { textReport } from '../../src/report/text-report.js';

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

test('kubectl exec -i over the 1.36 topology: pass-through WebSocket, the kubelet translates', async () => {
  if (!KUBECTL) throw new Error('kubectl is required for the lab tests');
  const work = mkdtempSync(join(tmpdir(), 'execscope-lab-136-'));
  const lab = await Lab.start({ dir: join(work, 'lab'), kubeletWebSockets: true });
  try {
    const run = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(KUBECTL, ['exec', '-i', 'lab-0', '--', 'sh', '-c', 'sort; exit 4'], { env: { ...process.env, KUBECONFIG: lab.kubeconfigPath } });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.on('close', (code) => resolve({ code, stdout }));
      child.stdin.end('pear\napple\n');
    });
    expect(run).toEqual({ code: 4, stdout: 'apple\npear\n' });
    await lab.stop();
    const model = await analyzeCapture(lab.recordPath!, analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
    const [api, kubelet, runtime] = hopChain(model.sessions, model.sessions[0]);
    expect([api, kubelet, runtime].map((s) => [s.hop, s.transport, s.method, s.protocol])).toEqual([
      ['apiserver', 'websocket', 'GET', 'v5.channel.k8s.io'],
      ['kubelet', 'websocket', 'GET', 'v5.channel.k8s.io'],
      ['cri', 'spdy', 'POST', 'v4.channel.k8s.io'],
    ]);
    for (const s of [api, kubelet, runtime]) expect(Buffer.concat(s.streams.find((r) => r.name === 'stdout')!.head).toString()).toBe('apple\npear\n');
    expect(api.exit).toMatchObject({ code: 4 });
    expect(model.rpcs.find((c) => c.id === runtime.criCall)).toMatchObject({ method: 'Exec', request: { command: ['sh', '-c', 'sort; exit 4'], stdin: true } });
    expect(textReport(model, { connections: false, name: 'lab' })).toContain('→ #3 kubelet→runtime (WebSocket → SPDY translated at the kubelet)');
    const doc = jsonReport(model, { hash: false }) as { sessions: { translatedBy?: string }[] };
    expect(doc.sessions.map((s) => s.translatedBy)).toEqual(['kubelet', 'kubelet', 'kubelet']);
  } finally {
    await lab.stop();
    rmSync(work, { recursive: true, force: true });
  }
}, 60_000);
