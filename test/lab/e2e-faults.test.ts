/**
 * Each lab fault with the real kubectl: what kubectl does, what the lab observed on each hop, and
 * that the recording (and an independent tcpdump capture) decode to what the lab observed.
 */
import { diagnoseAll } from '../../src/diagnose/diagnose.js';
import { runE2e, type E2eResult } from './e2e-harness.js';

function expectConsistent(r: E2eResult): void {
  expect(r.clientProblems).toEqual([]);
  expect(r.recordingProblems).toEqual([]);
  if (r.tcpdumpProblems) expect(r.tcpdumpProblems).toEqual([]);
  expect(r.strayProcesses).toEqual([]);
}

interface TruthSession {
  logged_by: string;
  transport: string;
  http_status: number;
  end: string;
  fault: string | null;
  status_json?: string | null;
  stdin_bytes?: { length: number };
  stdout_bytes?: { length: number };
}
const byHop = (r: E2eResult, hop: string) => (r.truth.sessions as TruthSession[]).filter((s) => s.logged_by === hop);
const clients = (r: E2eResult) => r.truth.clients as { exit_code: number | null; killed_by_harness: boolean; stdout_received: { length: number } }[];

test('no-exit-status: output arrives, the Status never does, kubectl waits', async () => {
  const r = await runE2e('fault-no-exit-status');
  expectConsistent(r);
  const [cri] = byHop(r, 'cri');
  expect(cri.fault).toMatch(/^no-exit-status/);
  expect(cri.status_json).toBeNull();
  for (const s of r.truth.sessions as TruthSession[]) expect(s.end).toMatch(/^hung/);
  expect(clients(r)[0].killed_by_harness).toBe(true);
}, 60_000);

test('stall-reader: the streaming server stops reading, 8 MB of stdin back up', async () => {
  const r = await runE2e('fault-stall-reader');
  expectConsistent(r);
  const [cri] = byHop(r, 'cri');
  expect(cri.fault).toMatch(/^stall-reader/);
  expect(cri.end).toMatch(/^hung/);
  expect(cri.stdin_bytes!.length).toBeGreaterThan(0);
  expect(cri.stdin_bytes!.length).toBeLessThan(8 << 20);
  // The doctor names the runtime hop's reader as the cause on every hop, in the lab's recording and
  // in what tcpdump saw of the kernel's own windows.
  for (const model of [r.recording, r.wire]) {
    if (!model) continue;
    const d = diagnoseAll(model);
    const causes = model.sessions.filter((s) => s.transport !== 'grpc').map((s) => d.get(s.id)?.cause);
    expect(causes.map((c) => c && `${c.rule}@${c.hop} ${c.title.replace(/^\w+ hop \(#\d+\): /, '')}`)).toEqual(causes.map(() => 'R8@cri the server stopped reading stdin'));
    // Carried to kubectl's hop, the runtime hop's times are said to count from that hop's start first.
    expect(causes[0]?.evidence.slice(0, 2)).toEqual([
      expect.stringMatching(/^times count from the start of #\d+ \(cri\), [\d.]+ m?s after this session's$/),
      expect.stringMatching(/^the server advertised a zero TCP window at \+[\d.]+ m?s \(packet \d+\) after accepting \d+ B from the client/),
    ]);
  }
}, 60_000);

test.each(['fault-reset-mid-stream', 'fault-reset-mid-stream-spdy'])('%s: the kubelet leg is reset, kubectl exits 0 with truncated output', async (name) => {
  const r = await runE2e(name);
  expectConsistent(r);
  const [kubelet] = byHop(r, 'kubelet');
  expect(kubelet.end).toMatch(/^reset: reset-mid-stream/);
  // The lab cannot vouch for what a reset leg carried: its contents are left out of the truth.
  expect(kubelet.stdout_bytes).toBeUndefined();
  const received = clients(r)[0].stdout_received.length;
  expect(received).toBeLessThan(2_000_000);
  if (name === 'fault-reset-mid-stream') {
    // The translator read an empty error stream as success and said so.
    expect(byHop(r, 'apiserver')[0].status_json).toBe('{"metadata":{},"status":"Success"}');
    expect(received).toBeGreaterThan(0);
  }
}, 60_000);

test('idle-drop: the quiet exec connection is closed after 2 s', async () => {
  const r = await runE2e('fault-idle-drop');
  expectConsistent(r);
  const [api] = byHop(r, 'apiserver');
  expect(api.end).toMatch(/idle-drop: closed after 2000 ms without traffic/);
  expect(r.durationMs).toBeGreaterThanOrEqual(2000);
  expect(r.durationMs).toBeLessThan(4000);
}, 60_000);

test('refuse-websocket: 403 on the WebSocket upgrade, then SPDY on a new connection', async () => {
  const r = await runE2e('fault-refuse-websocket');
  expectConsistent(r);
  expect(byHop(r, 'apiserver').map((s) => [s.transport, s.http_status, s.end])).toEqual([
    ['websocket', 403, 'rejected-before-upgrade'],
    ['spdy', 101, 'clean'],
  ]);
  const [refused, retried] = r.recording.sessions.filter((s) => s.hop === 'apiserver');
  expect(refused.refusal).toMatchObject({ code: 403, reason: 'Forbidden' });
  expect(retried.fallbackFrom).toBe(refused.id);
}, 60_000);

test("no-pings: the translator's leg idles out behind a load balancer; kubectl's own leg keeps pinging", async () => {
  const r = await runE2e('fault-no-pings');
  expectConsistent(r);
  expect(byHop(r, 'kubelet')[0].end).toMatch(/idle-drop/);
  const pings = (hop: string) => r.recording.sessions.find((s) => s.hop === hop)!.control.filter((c) => c.kind === 'ping').length;
  expect(pings('kubelet')).toBe(0);
  expect(pings('apiserver')).toBeGreaterThan(0);
  expect(clients(r)[0].exit_code).toBe(0);
}, 60_000);
