/**
 * The CRI messages (definitions in src/cri/cri-proto.ts) round-trip through its protobuf wire format
 * (the same for both API versions), and on the lab's real-kubectl recordings the kubelet's CRI call is decoded and linked by
 * its token to the streaming session, which learns the container, command and stream flags from it.
 */
import { join } from 'node:path';
import { decodeCri, encodeCri } from '../../src/cri/cri-proto.js';
import { criPackageOf, decodeCriRequest, decodeCriResponse, streamingToken } from '../../src/cri/cri-rpc.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { jsonReport } from '../../src/report/json-report.js';
import { textReport } from '../../src/report/text-report.js';

test('Exec, ExecSync, Attach and PortForward messages with the field numbers of api.proto', () => {
  // ExecRequest{container_id=1 "c", cmd=2 "ls", tty=3 true, stdout=5 true} as the wire has it.
  const wire = Uint8Array.from([0x0a, 1, 0x63, 0x12, 2, 0x6c, 0x73, 0x18, 1, 0x28, 1]);
  expect(encodeCri('ExecRequest', { container_id: 'c', cmd: ['ls'], tty: true, stdout: true })).toEqual(wire);
  expect(decodeCriRequest('Exec', wire)).toEqual({ containerId: 'c', command: ['ls'], tty: true, stdin: false, stdout: true, stderr: false });
  const sync = encodeCri('ExecSyncResponse', { stdout: Buffer.from('out'), stderr: Buffer.from('err'), exit_code: 3 });
  expect(decodeCriResponse('ExecSync', sync)).toEqual({ stdout: Buffer.from('out'), stderr: Buffer.from('err'), exitCode: 3 });
  expect(decodeCriRequest('ExecSync', encodeCri('ExecSyncRequest', { container_id: 'c', cmd: ['true'], timeout: 5 }))).toEqual({ containerId: 'c', command: ['true'], timeoutSeconds: 5 });
  expect(decodeCriRequest('Attach', encodeCri('AttachRequest', { container_id: 'c', stdin: true, tty: true }))).toMatchObject({ stdin: true, tty: true, stdout: false });
  expect(decodeCriRequest('PortForward', encodeCri('PortForwardRequest', { pod_sandbox_id: 's', port: [80, 8080] }))).toEqual({ podSandboxId: 's', ports: [80, 8080] });
  expect(() => decodeCri('ExecRequest', Uint8Array.from([0x0a, 50, 1]))).toThrow();
});

test('CRI services and streaming tokens', () => {
  expect(criPackageOf('runtime.v1alpha2.RuntimeService')).toBe('runtime.v1alpha2');
  expect(criPackageOf('grpc.health.v1.Health')).toBeNull();
  expect(streamingToken('http://127.0.0.1:35011/exec/Ab_9-x')).toEqual({ kind: 'exec', token: 'Ab_9-x' });
  expect(streamingToken('http://[::1]:1/portforward/t')).toEqual({ kind: 'portforward', token: 't' });
  expect(streamingToken('http://127.0.0.1:1/healthz')).toBeNull();
});

test('the lab recording: the CRI Exec call decoded, linked by token, in the JSON and the text summary', async () => {
  const model = await analyzeCapture(join(process.cwd(), 'fixtures/lab/lab-spdy-echo.pcapng'), analyzeOptions());
  expect(model.rpcs).toHaveLength(1);
  const [call] = model.rpcs;
  const runtime = model.sessions.find((s) => s.hop === 'cri')!;
  expect(call).toMatchObject({ path: '/runtime.v1.RuntimeService/Exec', cri: 'runtime.v1', status: 0, statusName: 'OK', token: runtime.token, sessionId: runtime.id });
  expect(call.request).toMatchObject({ command: ['echo', 'hello from the lab'], stdout: true, stderr: true, stdin: false, tty: false });
  // The session keeps what its own URL carried; the call says the rest.
  expect(runtime).toMatchObject({ criCall: call.id, command: [] });
  const doc = jsonReport(model, { hash: false }) as { sessions: { criCall?: { token: string; latencyMs: number } }[]; rpcs: unknown[] };
  expect(doc.sessions[runtime.id - 1].criCall).toMatchObject({ token: runtime.token, method: '/runtime.v1.RuntimeService/Exec' });
  expect(doc.sessions[runtime.id - 1].criCall!.latencyMs).toBeGreaterThan(0);
  const text = textReport(model, { connections: false, name: 'x' });
  expect(text).toContain(`#3 exec ${runtime.token} [${call.request!.containerId!.slice(0, 12)}] echo "hello from the lab"`);
  expect(text).toMatch(/hops: #1 kubectl→apiserver → #2 apiserver→kubelet → CRI Exec OK [\d.]+ .?s → #3 kubelet→runtime/);
  expect(text).toMatch(/gRPC calls \(1\)\n +1 \/runtime\.v1\.RuntimeService\/Exec · OK · [\d.]+ .?s → session #3/);
});

test('the 1.30 topology: the apiserver translated the WebSocket', async () => {
  const model = await analyzeCapture(join(process.cwd(), 'fixtures/lab/lab-ws-echo.pcapng'), analyzeOptions());
  expect(textReport(model, { connections: false, name: 'x' })).toMatch(/hops: #1 .* → #3 kubelet→runtime \(WebSocket → SPDY translated at the apiserver\)/);
});
