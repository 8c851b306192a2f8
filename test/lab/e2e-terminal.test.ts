/**
 * The real kubectl on a real pseudo-terminal against the lab (typed commands, the terminal resized),
 * and tens of megabytes of output, over WebSocket and SPDY.
 */
import { runE2e, type E2eResult } from './e2e-harness.js';

function expectAllGood(r: E2eResult): void {
  expect(r.clientProblems).toEqual([]);
  expect(r.recordingProblems).toEqual([]);
  if (r.tcpdumpProblems) expect(r.tcpdumpProblems).toEqual([]);
  expect(r.strayProcesses).toEqual([]);
}

type TruthSession = { logged_by: string; tty: boolean; resize_events: unknown[]; stdout_bytes: { length: number; head_quoted: string }; stdin_bytes: { head_quoted: string } };

describe.each(['ws', 'spdy'])('%s', (transport) => {
  test('exec -it sh on a pty, resized from 100x30 to 120x40', async () => {
    const r = await runE2e(`${transport}-tty-resize`);
    expectAllGood(r);
    const sessions = r.truth.sessions as TruthSession[];
    for (const s of sessions) {
      expect(s.resize_events).toEqual([
        { width: 100, height: 30 },
        { width: 120, height: 40 },
      ]);
      // What the shell printed: its own echo of the keys, the answers, on a terminal (CR LF).
      expect(JSON.parse(s.stdout_bytes.head_quoted)).toContain('42\r\n');
      expect(JSON.parse(s.stdout_bytes.head_quoted)).toContain('40 120\r\n');
      expect(JSON.parse(s.stdin_bytes.head_quoted)).toBe('echo $((6*7))\rstty size\rexit\r');
    }
    expect(sessions.filter((s) => s.logged_by !== 'cri').every((s) => s.tty)).toBe(true);
  }, 60_000);

  test('25 MB of output', async () => {
    const r = await runE2e(`${transport}-large-output`);
    expectAllGood(r);
    for (const s of r.truth.sessions as TruthSession[]) expect(s.stdout_bytes.length).toBe(25_000_000);
  }, 120_000);
});
