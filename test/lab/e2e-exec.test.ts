/**
 * The real kubectl against the lab, end to end, over WebSocket (kubectl's default) and SPDY: echo,
 * piped stdin, non-zero exit, command not found, stderr, attach. Each run's recording and an independent
 * tcpdump capture must decode to what the lab observed.
 */
import { runE2e, type E2eResult } from './e2e-harness.js';

function expectAllGood(r: E2eResult): void {
  expect(r.clientProblems).toEqual([]);
  expect(r.recordingProblems).toEqual([]);
  if (r.tcpdumpProblems) expect(r.tcpdumpProblems).toEqual([]);
  expect(r.strayProcesses).toEqual([]);
}

type TruthSession = { logged_by: string; transport: string; http_status: number; stdout_bytes?: { length: number }; status_json?: string | null; end: string };
const sessions = (r: E2eResult) => r.truth.sessions as TruthSession[];

describe.each(['ws', 'spdy'])('%s', (transport) => {
  const front = transport === 'ws' ? 'websocket' : 'spdy';

  test('echo: three hops, each with its own Success', async () => {
    const r = await runE2e(`${transport}-echo`);
    expectAllGood(r);
    expect(sessions(r).map((s) => [s.logged_by, s.transport, s.http_status, s.end])).toEqual([
      ['apiserver', front, 101, 'clean'],
      ['kubelet', 'spdy', 101, 'clean'],
      ['cri', 'spdy', 101, 'clean'],
    ]);
    for (const s of sessions(r)) expect(s.status_json).toBe('{"metadata":{},"status":"Success"}');
  });

  test('stdin piped into sort', async () => {
    expectAllGood(await runE2e(`${transport}-stdin-sort`));
  });

  test('non-zero exit code', async () => {
    const r = await runE2e(`${transport}-exit-code`);
    expectAllGood(r);
    const [api, , cri] = sessions(r);
    expect(JSON.parse(cri.status_json!)).toEqual({
      metadata: {},
      status: 'Failure',
      message: "command terminated with non-zero exit code: error executing command [sh -c echo about to fail; exit 3], exit code 3",
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    // The translator writes its own Status around the exit code it decoded.
    if (transport === 'ws') expect(JSON.parse(api.status_json!).message).toBe('command terminated with non-zero exit code: command terminated with exit code 3');
  });

  test('command not found: InternalError Status', async () => {
    const r = await runE2e(`${transport}-not-found`);
    expectAllGood(r);
    const cri = sessions(r)[2];
    expect(JSON.parse(cri.status_json!)).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500 });
  });

  test('stdout and stderr', async () => {
    expectAllGood(await runE2e(`${transport}-stderr`));
  });

  test("attach to the container's main shell", async () => {
    const r = await runE2e(`${transport}-attach`);
    expectAllGood(r);
    expect(sessions(r).map((s) => [s.logged_by, (s as unknown as { kind: string }).kind, s.end])).toEqual([
      ['apiserver', 'attach', 'clean'],
      ['kubelet', 'attach', 'clean'],
      ['cri', 'attach', 'clean'],
    ]);
  });
});
