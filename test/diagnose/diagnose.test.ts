/**
 * The hang doctor on real traffic (the shared captures, the lab's recordings of the real kubectl with
 * each fault) and on model sessions for the rules no recording exercises.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { diagnose, type Finding } from '../../src/diagnose/diagnose.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import type { CaptureModel, ExecSession } from '../../src/model/session.js';
import { data, origin, session, stream } from '../helpers/model-builders.js';

const S = 1e9;
const fixtures = join(process.cwd(), 'fixtures');
const open = (path: string) => analyzeCapture(join(fixtures, path), analyzeOptions({ keepEvents: false }));
const rules = (m: CaptureModel) => m.sessions.map((s) => diagnose(s, m.sessions).map((f) => f.rule));
const evidence = (f: Finding | undefined) => f?.evidence.join('\n') ?? '';

describe('on recordings of the real kubectl', () => {
  test('clean sessions: nothing to say', async () => {
    const shared = readdirSync(fixtures).filter((f) => /\.pcap(ng)?$/.test(f) && !/demo|hostile/.test(f));
    for (const name of [...shared, 'lab/lab-ws-echo.pcapng', 'lab/lab-spdy-stdin-sort.pcapng', 'lab/lab-ws-tty-resize.pcapng', 'lab/lab-ws-portforward.pcapng']) {
      const m = await open(name);
      expect({ name, rules: rules(m).flat() }).toEqual({ name, rules: [] });
    }
  });

  test('R3: the Status never sent (fault no-exit-status), on every hop', async () => {
    const m = await open('lab/lab-fault-no-exit-status.pcapng');
    expect(rules(m)).toEqual([['R3'], ['R3'], ['R3']]);
    expect(evidence(diagnose(m.sessions[1], m.sessions)[0])).toMatch(/the connection was closed \(FIN\) by the server at \+5\.\d+ s\nthe error stream carried no byte: no Status/);
  });

  test('R8: SYN_STREAM never answered (fault no-stream-reply over SPDY)', async () => {
    const m = await open('lab/lab-fault-no-stream-reply-spdy.pcapng');
    const f = diagnose(m.sessions[0], m.sessions).find((x) => x.rule === 'R8');
    expect(evidence(f)).toMatch(/error \(stream 1\) opened at \+[\d.]+ ms and never answered by a SYN_REPLY \(30\.\d+ s later\)/);
    expect(evidence(f)).toMatch(/give up after 30 s/);
  });

  test('R7: the translator sends no pings upstream (fault no-pings), named from the hop that still had them', async () => {
    const m = await open('lab/lab-fault-no-pings.pcapng');
    const [, kubelet, cri] = m.sessions.map((s) => diagnose(s, m.sessions).find((f) => f.rule === 'R7'));
    expect(evidence(kubelet)).toMatch(/no SPDY PING in [\d.]+ s[\s\S]*#1 \(apiserver\) carried pings: they stop after that hop — the apiserver's WebSocket translator/);
    expect(evidence(cri)).toMatch(/#1 \(apiserver\) carried pings/);
  });

  test('R9: a refused WebSocket and its SPDY retry, both ways; a proxy refusal is not RBAC (R10)', async () => {
    const m = await open('lab/lab-fault-refuse-websocket.pcapng');
    const [refused, retry] = m.sessions.map((s) => diagnose(s, m.sessions));
    expect(refused.map((f) => [f.rule, f.title])).toEqual([['R9', 'WebSocket refused, SPDY retry in #2']]);
    expect(retry.map((f) => f.rule)).toEqual(['R9']);
  });

  test('R1: stdin that never reaches EOF (the demo hang)', async () => {
    const m = await open('demo.pcapng');
    const hang = m.sessions.find((s) => s.pod === 'batch-7')!;
    const f = diagnose(hang, m.sessions)[0];
    expect(f).toMatchObject({ rule: 'R1', severity: 'error', title: 'stdin never half-closed' });
    expect(f.evidence[1]).toBe('no empty DATA frame with FIN on SPDY stream 3');
  });
});

describe('on model sessions', () => {
  const MS = 1e6;

  test('R1 over a WebSocket protocol that cannot close stdin', () => {
    const s = session({ protocol: 'v4.channel.k8s.io', stdin: true, state: 'open-at-end', endTs: 20 * S });
    data(stream(s, 'stdin', 0), 'c2s', 'hello\n', origin(300, 7, 10, 1 * S));
    expect(evidence(diagnose(s, [s])[0])).toMatch(/v4\.channel\.k8s\.io has no way to close stdin/);
  });

  test('R2: output open and quiet, no Status', () => {
    const s = session({ state: 'open-at-end', endTs: 60 * S });
    data(stream(s, 'stdout', 1), 's2c', 'started\n', origin(300, 9, 10, 1 * S));
    const f = diagnose(s, [s]).find((x) => x.rule === 'R2');
    expect(f?.evidence).toEqual([
      'stdout still open, no Status on the error stream',
      'nothing on them for the last 59.00 s of the capture',
      expect.stringContaining('holds the pipe or terminal'),
    ]);
  });

  test('R4: the Status came, the connection stayed up', () => {
    const s = session({ exit: { status: 'Success', code: 0 }, state: 'complete', upgradeTs: 1 * MS, endTs: 30 * S });
    data(stream(s, 'error', 3), 's2c', '{"metadata":{},"status":"Success"}', origin(300, 36, 10, 2 * S));
    const f = diagnose(s, [s]).find((x) => x.rule === 'R4');
    expect(f?.evidence.slice(0, 2)).toEqual(['the Status (Success, exit 0) came at +2.00 s', 'the connection was still open 28.00 s later, when the capture ended']);
    s.connectionEnd = { ts: 2.1 * S, by: 'client', reset: false };
    expect(diagnose(s, [s]).some((x) => x.rule === 'R4')).toBe(false);
  });

  test('R6: closed after a known idle timeout', () => {
    const s = session({ state: 'aborted', upgradeTs: 0, endTs: 70 * S, connectionEnd: { ts: 70.2 * S, by: 'server', reset: true } });
    data(stream(s, 'stdout', 1), 's2c', 'x', origin(300, 2, 10, 10 * S));
    const f = diagnose(s, [s]).find((x) => x.rule === 'R6');
    expect(f?.title).toBe('closed after 60.20 s of silence: a load balancer idle timeout (AWS ELB/ALB default 60 s)');
  });

  test('R10: an RBAC refusal', () => {
    const s = session({
      httpStatus: 403,
      state: 'upgrade-failed',
      refusal: { code: 403, reason: 'Forbidden', message: 'pods "web-0" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "default"' },
    });
    const f = diagnose(s, [s]).find((x) => x.rule === 'R10');
    expect(f?.evidence[1]).toMatch(/RBAC verb follows the HTTP method/);
  });

  test('findings come worst first', () => {
    const refused: ExecSession = session({ id: 1, transport: 'websocket', httpStatus: 403, state: 'upgrade-failed', refusal: { code: 403, message: 'User "bob" cannot get resource "pods/exec"' } });
    expect(diagnose(refused, [refused]).map((f) => f.severity)).toEqual(['error', 'error']);
  });
});
