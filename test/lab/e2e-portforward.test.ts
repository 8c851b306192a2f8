/**
 * The real kubectl port-forward against the lab, end to end: tunnelled in WebSocket to the apiserver
 * (kubectl's default since 1.31) and SPDY all the way (KUBECTL_PORT_FORWARD_WEBSOCKETS=false). Each
 * hop's session must decode to the connections the streaming server forwarded to the pod.
 */
import { runE2e, type E2eResult } from './e2e-harness.js';

type Forward = { port: number; request_id: string; to_pod: { length: number }; from_pod: { length: number }; error: string | null };
type TruthSession = { logged_by: string; kind: string; transport: string; negotiated_subprotocol: string; http_status: number; end: string; forwards: Forward[] };
const sessions = (r: E2eResult) => r.truth.sessions as TruthSession[];

describe.each([
  ['ws', 'websocket', 'SPDY/3.1+portforward.k8s.io'],
  ['spdy', 'spdy', 'portforward.k8s.io'],
])('%s', (transport, front, frontProtocol) => {
  test('two HTTP requests through kubectl port-forward, decoded at every hop', async () => {
    const r = await runE2e(`${transport}-portforward`);
    expect(r.clientProblems).toEqual([]);
    expect(r.recordingProblems).toEqual([]);
    if (r.tcpdumpProblems) expect(r.tcpdumpProblems).toEqual([]);
    expect(r.strayProcesses).toEqual([]);
    expect(sessions(r).map((s) => [s.logged_by, s.kind, s.transport, s.negotiated_subprotocol, s.http_status, s.end])).toEqual([
      ['apiserver', 'portforward', front, frontProtocol, 101, 'clean'],
      ['kubelet', 'portforward', 'spdy', 'portforward.k8s.io', 101, 'clean'],
      ['cri', 'portforward', 'spdy', 'portforward.k8s.io', 101, 'clean'],
    ]);
    // Every hop accounts for the same two forwarded connections, the second carrying 100 kB back.
    for (const s of sessions(r)) {
      expect(s.forwards.map((f) => [f.port, f.request_id, f.error])).toEqual([
        [80, '0', null],
        [80, '1', null],
      ]);
      expect(s.forwards[1].from_pod.length).toBeGreaterThan(100_000);
    }
    for (const s of r.recording.sessions) {
      expect(s.state).toBe('complete');
      expect(s.streams.map((x) => x.name).sort()).toEqual(['data:80:0', 'data:80:1', 'error:80:0', 'error:80:1']);
    }
  });
});
