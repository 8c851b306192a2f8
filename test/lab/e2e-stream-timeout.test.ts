/**
 * Fault no-stream-reply with the real kubectl: SYN_STREAMs never answered. The SPDY client gives up
 * after its 30 s createStreamResponseTimeout — the apiserver's translator for WebSocket (reported to
 * kubectl as an InternalError Status), kubectl itself over SPDY. Both run at once to keep CI short.
 */
import { runE2e, type E2eResult } from './e2e-harness.js';

interface TruthSession {
  logged_by: string;
  end: string;
  fault: string | null;
  status_json?: string | null;
}

function check(r: E2eResult): TruthSession[] {
  expect(r.clientProblems).toEqual([]);
  expect(r.recordingProblems).toEqual([]);
  if (r.tcpdumpProblems) expect(r.tcpdumpProblems).toEqual([]);
  expect(r.strayProcesses).toEqual([]);
  expect(r.durationMs).toBeGreaterThanOrEqual(30_000);
  const sessions = r.truth.sessions as TruthSession[];
  const cri = sessions.find((s) => s.logged_by === 'cri')!;
  expect(cri.fault).toMatch(/^no-stream-reply/);
  // The client's PINGs (every 5 s) meet its 30 s timeout: when a PING reply is still unread as it
  // gives up, its kernel answers the close with a RST instead of a FIN.
  expect(cri.end).toMatch(/^(aborted: .* before the streams were set up|reset: connection reset)$/);
  return sessions;
}

test.concurrent('over WebSocket: the translator times out and reports an InternalError', async () => {
  const r = await runE2e('fault-no-stream-reply');
  const api = check(r).find((s) => s.logged_by === 'apiserver')!;
  expect(JSON.parse(api.status_json!)).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500 });
  expect(r.kubectlStderr).toContain('Internal error occurred');
}, 90_000);

test.concurrent('over SPDY: kubectl itself times out', async () => {
  check(await runE2e('fault-no-stream-reply-spdy'));
}, 90_000);
