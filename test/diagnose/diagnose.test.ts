/**
 * The hang doctor on real traffic (the shared captures, the lab's recordings of the real kubectl with
 * each fault) and on model sessions for the rules no recording exercises: one cause per exec, on the
 * hop where it happened, the rest its consequences.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import { diagnose, diagnoseAll, diagnoseConnections, type Finding } from '../../src/diagnose/diagnose.js';
import { hopProgress } from '../../src/model/cross-hop.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import type { CaptureModel, ExecSession } from '../../src/model/session.js';
import { connection, control, data, mark, origin, session, stream } from '../helpers/model-builders.js';
import { tempDirForTests } from '../kit/temp-dir.js';

const S = 1e9;
const MS = 1e6;
const fixtures = join(process.cwd(), 'fixtures');
const open = (path: string) => analyzeCapture(join(fixtures, path), analyzeOptions({ keepEvents: false }));
const causes = (m: CaptureModel) => {
  const d = diagnoseAll(m);
  return m.sessions.map((s) => {
    const c = d.get(s.id)?.cause;
    return c ? `${c.rule}@${c.hop}` : null;
  });
};
const evidence = (f: Finding | null | undefined) => f?.evidence.join('\n') ?? '';
const one = (s: ExecSession, all: ExecSession[] = [s]) => diagnose(s, all);

describe('on recordings of the real kubectl', () => {
  test('healthy captures: nothing to say, not even a note', async () => {
    const shared = readdirSync(fixtures).filter((f) => /\.pcap(ng)?$/.test(f) && !/demo|hostile/.test(f));
    const lab = readdirSync(join(fixtures, 'lab'))
      .filter((f) => /^lab-(ws|spdy)-(?!not-found)/.test(f) && /\.pcapng(\.gz)?$/.test(f))
      .map((f) => `lab/${f}`);
    expect(lab.length).toBeGreaterThan(10);
    for (const name of [...shared, ...lab]) {
      const m = await open(name);
      expect({ name, findings: m.sessions.flatMap((s) => diagnose(s, m.sessions, m.connections).map((f) => f.rule)) }).toEqual({ name, findings: [] });
    }
  });

  test('no Status (fault no-exit-status@cri): the runtime hop lost it; kubectl leaving is a consequence', async () => {
    const m = await open('lab/lab-fault-no-exit-status.pcapng');
    expect(causes(m)).toEqual(['R3@cri', 'R3@cri', 'R3@cri']);
    const d = diagnoseAll(m);
    expect(d.get(3)?.cause?.title).toBe('output ended, the Status never came');
    expect(d.get(1)?.cause?.title).toBe('cri hop (#3): output ended, the Status never came');
    expect(d.get(1)?.consequences.map((f) => f.rule)).toEqual(['R16']);
  });

  test('SYN_STREAM never answered (fault no-stream-reply over SPDY): the runtime hop, on every hop', async () => {
    // Over WebSocket too: the translator's InternalError Status 30 s later is a consequence, not a cause,
    // and not a guess at the command's end either: the apiserver reporting the runtime hop's failure.
    const ws = await open('lab/lab-fault-no-stream-reply.pcapng');
    expect(causes(ws)).toEqual(['R8@cri', 'R8@cri', 'R8@cri']);
    expect(diagnoseAll(ws).get(1)!.cause!.evidence[0]).toBe(
      "this session (#1, apiserver) ended with a Failure Status (InternalError) written in front of the cri hop (#3), which never delivered one: it reports that hop's failure, not how the command ended",
    );
    const m = await open('lab/lab-fault-no-stream-reply-spdy.pcapng');
    expect(causes(m)).toEqual(['R8@cri', 'R8@cri', 'R8@cri']);
    const cause = diagnoseAll(m).get(1)?.cause;
    expect(evidence(cause)).toMatch(/error \(stream 1\) opened at \+[\d.]+ ms and never answered by a SYN_REPLY \(30\.\d+ s later\)/);
    expect(evidence(cause)).toMatch(/give up after 30 s/);
  });

  test('idle drop of a hop without pings (no-pings + idle-drop=6@kubelet): the green exit 0 says it is a guess', async () => {
    const m = await open('lab/lab-fault-no-pings.pcapng');
    expect(causes(m)).toEqual(['R6@kubelet', 'R6@kubelet', 'R6@kubelet']);
    const d = diagnoseAll(m);
    const kubectl = d.get(1)!.cause!;
    expect(kubectl.title).toBe('kubelet hop (#2): closed after 6.03 s of silence');
    expect(evidence(kubectl)).toMatch(/this session \(#1, apiserver\) ended with exit 0: that is a guess, the kubelet hop \(#2\) never delivered a Status/);
    expect(evidence(kubectl)).toMatch(/the client is kubectl 1\.32: .*kubernetes\/kubernetes#128314/);
    // The missing pings on the kubelet hop are why it went quiet: a consequence, named from the hop that still had them.
    const r7 = d.get(2)!.consequences.find((f) => f.rule === 'R7');
    expect(evidence(r7)).toMatch(/no SPDY PING in [\d.]+ s[\s\S]*#1 \(apiserver\) carried pings: they stop after that hop — the apiserver's WebSocket translator/);
  });

  test('a runtime that stops reading a large piped stdin (fault stall-reader): backpressure from the zero window, on every hop', async () => {
    const m = await open('lab/lab-fault-stall-reader.pcapng.gz');
    expect(causes(m)).toEqual(['R8@cri', 'R8@cri', 'R8@cri']);
    const d = diagnoseAll(m);
    const cause = d.get(3)!.cause!;
    expect(cause.title).toBe('the server stopped reading stdin');
    // The window opened again only on the runtime's FIN: it never let another byte through.
    expect(cause.evidence[0]).toMatch(/^the server advertised a zero TCP window at \+1\.26 s \(packet 445\) after accepting 66114 B from the client; it never reopened: the server closed the connection 3\.85 s later$/);
    expect(cause.evidence[1]).toMatch(/^stdin \(stream \d\) was being sent: \d+ B got through/);
    // What the blocked senders show is its consequence: stdin never closed, the hop behind backed up too.
    expect(d.get(2)!.consequences.map((f) => f.rule)).toEqual(expect.arrayContaining(['R8', 'R1']));
    // Their silence, held by the closed windows until the close, is no idle timeout (R6).
    expect([2, 3].flatMap((id) => d.get(id)!.consequences.map((f) => f.rule))).not.toContain('R6');
    expect(d.get(1)!.cause!.title).toBe('cri hop (#3): the server stopped reading stdin');
  });

  test('idle drop on the apiserver hop (fault idle-drop): closed after the silence, by the server', async () => {
    const m = await open('lab/lab-fault-idle-drop.pcapng');
    expect(causes(m)).toEqual(['R6@apiserver', 'R6@apiserver', 'R6@apiserver']);
    expect(evidence(diagnoseAll(m).get(1)?.cause)).toMatch(/until the server closed it at \+2\.0\d s/);
    // kubectl's WebSocket has its error channel without opening it: it carried nothing.
    expect(diagnoseAll(m).get(1)?.consequences.find((f) => f.rule === 'R3')?.evidence[1]).toBe('nothing came on the error channel (3): no Status');
  });

  test('reset mid-stream: the kubelet hop; over WebSocket kubectl saw exit 0, which is a guess', async () => {
    for (const name of ['lab/lab-fault-reset-mid-stream.pcapng', 'lab/lab-fault-reset-mid-stream-spdy.pcapng']) {
      const m = await open(name);
      expect({ name, causes: causes(m) }).toEqual({ name, causes: ['R3@kubelet', 'R3@kubelet', 'R3@kubelet'] });
    }
    const m = await open('lab/lab-fault-reset-mid-stream.pcapng');
    const cause = diagnoseAll(m).get(1)!.cause!;
    expect(m.sessions[0].exit?.status).toBe('Success');
    expect(evidence(cause)).toMatch(/ended with exit 0: that is a guess/);
    expect(evidence(cause)).toMatch(/stdout: \d+ B reached this hop, the kubelet hop carried \d+ B before its connection ended at \+[\d.]+ m?s; whatever the command wrote after byte \d+ never arrived/);
    // Where the bytes stopped, for the stacked hops: the runtime hop carried more than the reset kubelet hop passed on.
    const { hops, stopped } = hopProgress(m.sessions, m.sessions[0]);
    expect(hops.map((h) => h.hop)).toEqual(['apiserver', 'kubelet', 'cri']);
    expect(hops[2].outputBytes).toBeGreaterThan(hops[1].outputBytes);
    expect(stopped).toMatchObject({ before: 3, after: 2 });
    expect(stopped?.what).toMatch(/^output: \d+ B reached #3 \(cri\), \d+ B crossed #2 \(kubelet\)$/);
  });

  test('a cause carried to another hop: its times say whose start they count from; output lost is told from where each hop stands', async () => {
    const m = await open('lab/lab-fault-reset-mid-stream.pcapng');
    const d = diagnoseAll(m);
    // kubectl's hop, in front of the reset one: one clock throughout, the kubelet hop's.
    const front = evidence(d.get(1)!.cause);
    expect(front).toMatch(/^this session \(#1, apiserver\) ended with exit 0: that is a guess/);
    expect(front).toMatch(/\ntimes count from the start of #2 \(kubelet\), [\d.]+ ms after this session's\n/);
    const resetAt = /reset \(RST\) by the server at (\+[\d.]+ ms)/.exec(front)![1];
    expect(front).toMatch(new RegExp(`stdout: 113144 B reached this hop, the kubelet hop carried 113144 B before its connection ended at \\${resetAt};`));
    // The runtime's hop, behind the reset one: it carried more than the kubelet hop passed on.
    const behind = evidence(d.get(3)!.cause);
    expect(behind).toMatch(/^times count from the start of #2 \(kubelet\), [\d.]+ ms before this session's\n/);
    expect(behind).toMatch(new RegExp(`stdout: this hop carried 700416 B, the kubelet hop passed on 113144 B before its connection ended at \\${resetAt}: the other 587272 B were lost there`));
    expect(behind).not.toMatch(/reached this hop|stderr/);
    // The Status lost after the output ended (fault no-exit-status): the output itself is whole.
    const whole = diagnoseAll(await open('lab/lab-fault-no-exit-status.pcapng'));
    expect(evidence(whole.get(1)!.cause)).toMatch(/stdout: all 35 B reached this hop: the cri hop saw it end, nothing of it is missing/);
    expect(evidence(whole.get(2)!.cause)).not.toMatch(/never arrived|stderr/);
  });

  test("the 1.30–1.32 translator's missing upstream pings are named only for a hop that went quiet without any", async () => {
    // Idled out without pings (no-pings + idle-drop=6@kubelet): the caveat is the explanation.
    expect(evidence(diagnoseAll(await open('lab/lab-fault-no-pings.pcapng')).get(1)?.cause)).toMatch(/kubernetes\/kubernetes#128314/);
    // Reset 35 ms into a busy output; a Status lost on a leg the translator pinged: nothing idled out.
    for (const name of ['lab/lab-fault-reset-mid-stream.pcapng', 'lab/lab-fault-no-exit-status.pcapng']) {
      const m = await open(name);
      const d = diagnoseAll(m);
      expect({ name, caveat: m.sessions.filter((s) => /#128314/.test(evidence(d.get(s.id)?.cause))).map((s) => s.id) }).toEqual({ name, caveat: [] });
    }
  });

  test('a refused WebSocket and its SPDY retry: the refusal classified (R11), the retry a note (R9)', async () => {
    const m = await open('lab/lab-fault-refuse-websocket.pcapng');
    const d = diagnoseAll(m);
    expect(d.get(1)?.cause).toMatchObject({ rule: 'R11', severity: 'warn', hop: 'apiserver', title: 'upgrade refused: the apiserver refused the WebSocket upgrade' });
    expect(d.get(2)).toMatchObject({ cause: null, consequences: [] });
    expect(d.get(2)?.notes.map((f) => f.title)).toEqual(['SPDY retry after the refused WebSocket #1']);
  });

  test('a command that does not exist: the runtime could not start it (R12), said by the runtime hop', async () => {
    const m = await open('lab/lab-ws-not-found.pcapng');
    expect(causes(m)).toEqual(['R12@cri', 'R12@cri', 'R12@cri']);
    expect(diagnoseAll(m).get(3)?.cause?.title).toBe('the command could not be started');
  });

  test("port-forward to a port nothing listens on: the runtime's error, then kubectl closed everything (R14)", async () => {
    const m = await open('lab/lab-portforward-refused.pcapng');
    expect(causes(m)).toEqual(['R14@cri', 'R14@cri', 'R14@cri']);
    const cause = diagnoseAll(m).get(3)!.cause!;
    expect(cause.evidence[0]).toMatch(/^error:81:0 carried an error at \+[\d.]+ ms: error forwarding port 81 to pod .*connection refused/);
    expect(cause.evidence[1]).toMatch(/^the client closed the port-forward connection [\d.]+ ms later, ending its forwarded connection$/);
  });

  test('R1: stdin that never reaches EOF (the demo hang)', async () => {
    const m = await open('demo.pcapng');
    const hang = m.sessions.find((s) => s.pod === 'batch-7')!;
    const f = diagnose(hang, m.sessions)[0];
    expect(f).toMatchObject({ rule: 'R1', severity: 'error', title: 'stdin never half-closed', hop: 'apiserver' });
    expect(f.evidence[1]).toBe('no empty DATA frame with FIN on SPDY stream 3');
  });
});

describe('on model sessions, rule by rule', () => {
  test('R1 over a WebSocket protocol that cannot close stdin', () => {
    const s = session({ protocol: 'v4.channel.k8s.io', stdin: true, state: 'open-at-end', endTs: 20 * S });
    data(stream(s, 'stdin', 0), 'c2s', 'hello\n', origin(300, 7, 10, 1 * S));
    expect(evidence(one(s)[0])).toMatch(/v4\.channel\.k8s\.io has no way to close stdin/);
  });

  test('R1 is not for an interactive terminal, nor for stdin busy until the capture ends', () => {
    const shell = session({ stdin: true, tty: true, state: 'open-at-end', endTs: 60 * S });
    data(stream(shell, 'stdin', 0), 'c2s', 'ls\r', origin(300, 3, 10, 1 * S));
    expect(one(shell).map((f) => f.rule)).not.toContain('R1');
    const busy = session({ stdin: true, state: 'open-at-end', upgradeTs: 0, endTs: 20 * S });
    data(stream(busy, 'stdin', 0), 'c2s', 'x'.repeat(100), origin(300, 100, 10, 19.9 * S));
    expect(one(busy).map((f) => f.rule)).not.toContain('R1');
  });

  test('R1 over WebSocket on a stdin asked for and never used: its channel has no record, the hang is still the missing EOF', () => {
    // sleep 100 | kubectl exec -i lab-0 -- cat, captured on kubectl's side while it hangs (lab, kubectl 1.32).
    const s = session({ stdin: true, state: 'open-at-end', upgradeTs: 0, endTs: 5 * S });
    stream(s, 'stdout', 1);
    const [cause] = one(s);
    expect(cause).toMatchObject({ rule: 'R1', title: 'stdin never half-closed' });
    expect(cause.evidence.slice(0, 2)).toEqual(['stdin was asked for and never used: nothing was sent on channel 0, and it was never closed', 'no v5 CLOSE signal ([255, 0]) for channel 0']);
    // Closed by v5's CLOSE signal without a byte: the EOF came.
    mark(stream(s, 'stdin', 0), 'half-close', 'c2s', origin(300, 2, 10, 1 * S), 'v5 CLOSE signal');
    expect(one(s).map((f) => f.rule)).not.toContain('R1');
  });

  test('R1 is not for a stdin yet to carry a byte when the capture ends moments after it opened; after 2 s quiet it is', () => {
    // kubectl exec -i sort < file, the capture cut 40 ms after the upgrade: the client had not started sending.
    const cut = session({ stdin: true, state: 'open-at-end', upgradeTs: 0, endTs: 40 * MS });
    mark(stream(cut, 'stdin', 3), 'open', 'c2s', origin(300, 0, 10, 10 * MS));
    expect(one(cut).map((f) => f.rule)).not.toContain('R1');
    cut.endTs = 3 * S;
    expect(one(cut).map((f) => f.rule)).toContain('R1');
  });

  test('R2: output open and quiet, no Status', () => {
    const s = session({ state: 'open-at-end', endTs: 60 * S });
    data(stream(s, 'stdout', 1), 's2c', 'started\n', origin(300, 9, 10, 1 * S));
    const f = one(s).find((x) => x.rule === 'R2');
    expect(f?.evidence).toEqual([
      'stdout still open, no Status on the error stream',
      'nothing on them for the last 59.00 s of the capture',
      expect.stringContaining('holds the pipe or terminal'),
    ]);
  });

  test('R2 on a terminal: a shell quiet at its prompt is not a hang; keys typed and never echoed are', () => {
    const atPrompt = session({ tty: true, stdin: true, state: 'open-at-end', upgradeTs: 0, endTs: 60 * S });
    data(stream(atPrompt, 'stdin', 0), 'c2s', 'ls\r', origin(300, 3, 10, 1 * S));
    data(stream(atPrompt, 'stdout', 1), 's2c', 'ls\r\nbin etc\r\n$ ', origin(400, 17, 10, 1.1 * S));
    expect(one(atPrompt).map((f) => f.rule)).not.toContain('R2');
    const unanswered = session({ tty: true, stdin: true, state: 'open-at-end', upgradeTs: 0, endTs: 60 * S });
    data(stream(unanswered, 'stdout', 1), 's2c', '$ ', origin(400, 2, 10, 1 * S));
    data(stream(unanswered, 'stdin', 0), 'c2s', 'ls\r', origin(300, 3, 10, 5 * S));
    expect(one(unanswered).map((f) => f.rule)).toContain('R2');
  });

  test('R4: the Status came, the connection stayed up', () => {
    const s = session({ exit: { status: 'Success', code: 0 }, state: 'complete', upgradeTs: 1 * MS, endTs: 30 * S });
    data(stream(s, 'error', 3), 's2c', '{"metadata":{},"status":"Success"}', origin(300, 36, 10, 2 * S));
    const f = one(s).find((x) => x.rule === 'R4');
    expect(f?.evidence.slice(0, 2)).toEqual(['the Status (Success, exit 0) came at +2.00 s', 'the connection was still open 28.00 s later, when the capture ended']);
    s.connectionEnd = { ts: 2.1 * S, by: 'client', reset: false };
    expect(one(s).some((x) => x.rule === 'R4')).toBe(false);
  });

  test('R6: closed after a known idle timeout', () => {
    const s = session({ state: 'aborted', upgradeTs: 0, endTs: 70 * S, connectionEnd: { ts: 70.2 * S, by: 'server', reset: true } });
    data(stream(s, 'stdout', 1), 's2c', 'x', origin(300, 2, 10, 10 * S));
    expect(one(s)[0].title).toBe('closed after 60.20 s of silence: a load balancer idle timeout (AWS ELB/ALB default 60 s)');
  });

  test('R6 is not for a session whose output had ended: the silence was the wait for the lost Status (R3)', () => {
    const s = session({ transport: 'spdy', hop: 'cri', state: 'aborted', upgradeTs: 0, endTs: 5 * S, connectionEnd: { ts: 4.9 * S, by: 'server', reset: false } });
    stream(s, 'error', 1);
    const stdout = stream(s, 'stdout', 3);
    data(stdout, 's2c', 'done\n', origin(300, 5, 10, 0.3 * S));
    mark(stdout, 'half-close', 's2c', origin(305, 0, 11, 0.31 * S));
    expect(one(s).map((f) => f.rule)).toEqual(['R3']);
    expect(one(s)[0].title).toBe('output ended, the Status never came');
  });

  test('R3 while kubectl still waits: the output ended behind kubectl\'s WebSocket and no Status followed (fault no-exit-status, captured during the hang)', () => {
    // Recorded with the lab and kubectl 1.32, cut at 11 s: kubectl waiting, pings every 5 s, the runtime's output closed at +31 ms.
    const hop = (id: number, name: ExecSession['hop']) => {
      const s = session({ id, hop: name, transport: id === 1 ? 'websocket' : 'spdy', state: 'open-at-end', upgradeTs: 0, endTs: 11 * S, previousHop: id === 1 ? null : id - 1, nextHop: id === 3 ? null : id + 1 });
      const out = stream(s, 'stdout', 1);
      data(out, 's2c', 'hi\n', origin(300, 3, 10, 30 * MS));
      if (id > 1) {
        stream(s, 'error', 3);
        mark(out, 'half-close', 's2c', origin(303, 0, 11, 31 * MS));
      }
      for (const t of [5, 10]) control(s, 'ping', 'c2s', 'PING', origin(400, 8, 20 + t, t * S));
      return s;
    };
    const chain = [hop(1, 'apiserver'), hop(2, 'kubelet'), hop(3, 'cri')];
    let d = diagnoseAll({ sessions: chain, connections: [] });
    // Not 'output never ends … a child holds the pipe': the runtime's hop shows the output over.
    expect(chain.map((s) => `${d.get(s.id)?.cause?.rule}@${d.get(s.id)?.cause?.hop}`)).toEqual(['R3@cri', 'R3@cri', 'R3@cri']);
    expect(d.get(3)?.cause?.evidence.slice(0, 2)).toEqual(['every output stream was closed by +31.0 ms, and no byte came on the error stream in the 10.97 s after', 'the connection was still open when the capture ended']);
    expect(d.get(1)?.consequences.map((f) => f.rule)).toEqual([]);
    // The lab stopped at 11.88 s: its apiserver closed kubectl's hop 1.88 s after the last PING. Not an idle timer.
    for (const s of chain) {
      s.state = 'aborted';
      s.connectionEnd = { ts: 11.88 * S, by: 'server', reset: false };
    }
    d = diagnoseAll({ sessions: chain, connections: [] });
    expect(chain.map((s) => `${d.get(s.id)?.cause?.rule}@${d.get(s.id)?.cause?.hop}`)).toEqual(['R3@cri', 'R3@cri', 'R3@cri']);
    expect(d.get(1)?.consequences.map((f) => f.rule)).not.toContain('R6');
  });

  test('R7: silence after the Status is the end of the session, not a missing keepalive', () => {
    const s = session({ transport: 'spdy', hop: 'kubelet', exit: { status: 'Success', code: 0 }, state: 'complete', upgradeTs: 0, endTs: 40 * S });
    data(stream(s, 'error', 1), 's2c', '{"status":"Success"}', origin(300, 20, 10, 1 * S));
    s.connectionEnd = { ts: 40 * S, by: 'client', reset: false };
    expect(one(s).map((f) => f.rule)).not.toContain('R7');
  });

  test('R7: no pings matter on a hop that went quiet, not on one busy with data until its Status', () => {
    // Stdin every 500 ms for 7 s (a client whose PINGs queue behind its data), then the Status.
    const s = session({ transport: 'spdy', hop: 'cri', stdin: true, exit: { status: 'Success', code: 0 }, state: 'complete', upgradeTs: 0, endTs: 7.2 * S });
    s.connectionEnd = { ts: 7.2 * S, by: 'server', reset: false };
    const stdin = stream(s, 'stdin', 5);
    for (let t = 0.5; t <= 7; t += 0.5) data(stdin, 'c2s', 'z'.repeat(100), origin(300 + t * 1000, 100, 10 + t * 2, t * S));
    data(stream(s, 'error', 1), 's2c', '{"status":"Success"}', origin(300, 20, 100, 7.1 * S));
    expect(one(s).map((f) => f.rule)).not.toContain('R7');
    // The same hop quiet for 5.5 s in the middle: an idle timer's prey without pings.
    stdin.events = stdin.events.filter((e) => e.ts <= 1 * S || e.ts >= 6.5 * S);
    expect(one(s).map((f) => f.rule)).toContain('R7');
  });

  test('R7: a PING never answered while the session went on is an error; one sent as it ended is not', () => {
    const s = session({ transport: 'spdy', hop: 'kubelet', state: 'open-at-end', upgradeTs: 0, endTs: 40 * S });
    data(stream(s, 'stdout', 1), 's2c', 'x', origin(300, 1, 10, 1 * S));
    control(s, 'ping', 'c2s', 'PING 1', null, 5 * S);
    control(s, 'ping', 'c2s', 'PING 1 never answered', null, 5 * S);
    expect(one(s).find((f) => f.rule === 'R7')).toMatchObject({ severity: 'error', title: 'keepalives unanswered' });
    // Large output: the PING went out 0.14 s before the client's own GOAWAY, the runtime behind already gone.
    const ended = session({ transport: 'spdy', hop: 'kubelet', exit: { status: 'Success', code: 0 }, state: 'complete', upgradeTs: 0, endTs: 6 * S, connectionEnd: { ts: 5.2 * S, by: 'server', reset: false } });
    data(stream(ended, 'stdout', 3), 's2c', 'x', origin(300, 1, 10, 5.1 * S));
    data(stream(ended, 'error', 1), 's2c', '{"status":"Success"}', origin(301, 20, 11, 5.19 * S));
    control(ended, 'ping', 'c2s', 'PING 1', null, 5.05 * S);
    control(ended, 'ping', 'c2s', 'PING 1 never answered', null, 5.05 * S);
    control(ended, 'goaway', 'c2s', 'GOAWAY last-good 5 OK', null, 5.19 * S);
    expect(one(ended).map((f) => f.rule)).toEqual([]);
  });

  test('R8: a zero TCP window that never reopened names the side that stopped reading and the stream', () => {
    const s = session({ transport: 'spdy', hop: 'cri', stdin: true, stdout: false, state: 'aborted', upgradeTs: 0, endTs: 9 * S, connectionEnd: { ts: 9 * S, by: 'client', reset: false } });
    stream(s, 'error', 1);
    data(stream(s, 'stdin', 3), 'c2s', 'y'.repeat(1000), origin(300, 1000, 10, 0.5 * S));
    const conn = connection({ id: s.connectionId, zeroWindows: [{ dir: 'c2s', ts: 0.6 * S, packet: 40, accepted: 65518, probes: 3, reopenedAt: null }] });
    const [cause] = diagnose(s, [s], [conn]);
    expect(cause).toMatchObject({ rule: 'R8', hop: 'cri', title: 'the server stopped reading stdin' });
    expect(cause.evidence[0]).toBe('the server advertised a zero TCP window at +600.0 ms (packet 40) after accepting 65518 B from the client; it never reopened: the client closed the connection 8.40 s later, 3 zero-window probes unanswered');
    expect(cause.evidence[1]).toBe('stdin (stream 3) was being sent: 1000 B got through, the last at +500.0 ms');
    // A window that closed and reopened at once is a reader catching up.
    conn.zeroWindows[0].reopenedAt = 0.61 * S;
    expect(diagnose(s, [s], [conn]).map((f) => f.rule)).not.toContain('R8');
    // Closed 3 s, then the session went on to its Status: a slow start (nothing reads stdin before the process runs), not a stop.
    conn.zeroWindows[0].reopenedAt = 3.6 * S;
    expect(diagnose(s, [s], [conn]).map((f) => f.rule)).toContain('R8');
    const finished = { ...s, exit: { status: 'Success' as const, code: 0 } };
    expect(diagnose(finished, [finished], [conn]).map((f) => f.rule)).not.toContain('R8');
    // Still closed when the server sent its Status and until the teardown (a proxy in front of a
    // command that stopped reading and exited): the server was done with stdin, not stuck.
    conn.zeroWindows[0].reopenedAt = null;
    expect(diagnose(finished, [finished], [conn]).map((f) => f.rule)).not.toContain('R8');
    // The client not reading its output while the Status still came is not explained by that end.
    conn.zeroWindows[0].dir = 's2c';
    expect(diagnose(finished, [finished], [conn]).map((f) => f.rule)).toContain('R8');
  });

  test('R10: an RBAC refusal', () => {
    const s = session({
      httpStatus: 403,
      state: 'upgrade-failed',
      refusal: { code: 403, reason: 'Forbidden', message: 'pods "web-0" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "default"' },
    });
    const [f] = one(s);
    expect(f).toMatchObject({ rule: 'R10', hop: 'apiserver' });
    expect(f.evidence[1]).toMatch(/RBAC verb follows the HTTP method/);
  });

  test('R11: refusals classified by their Status body, naming the hop that failed', () => {
    const refused = (message: string, code = 500) => one(session({ httpStatus: code, state: 'upgrade-failed', refusal: { code, message } }))[0];
    expect(refused('error dialing backend: dial tcp 10.0.0.7:10250: connect: connection refused')).toMatchObject({ rule: 'R11', hop: 'kubelet', title: 'upgrade refused: the apiserver could not reach the kubelet' });
    expect(refused('error dialing backend: remote error: tls: bad certificate'.replace('error dialing backend: ', ''))).toMatchObject({ hop: 'kubelet', title: 'upgrade refused: TLS to the kubelet failed' });
    expect(refused('pod web-0 does not have a host assigned', 400)).toMatchObject({ hop: 'apiserver', title: 'upgrade refused: the pod is not scheduled' });
    expect(refused('container nope is not valid for pod lab-0', 400)).toMatchObject({ title: 'upgrade refused: the pod or container does not exist' });
  });

  test('R11: a WebSocket refused and then its SPDY retry refused is one finding, on both', () => {
    const message = 'container nope is not valid for pod lab-0';
    const ws = session({ id: 1, httpStatus: 400, state: 'upgrade-failed', refusal: { code: 400, message } });
    const spdy = session({ id: 2, transport: 'spdy', method: 'POST', httpStatus: 400, state: 'upgrade-failed', fallbackFrom: 1, refusal: { code: 400, message } });
    const all = [ws, spdy];
    const [first] = one(ws, all);
    expect(first.title).toBe('refused twice (WebSocket 400, SPDY 400): the pod or container does not exist');
    expect(one(spdy, all)).toEqual([first]);
  });

  test('R12: a Failure right after the 101 with no output, the plaintext runtime dialled over HTTPS', () => {
    const s = session({ state: 'complete', upgradeTs: 10 * MS, endTs: 50 * MS, exit: { status: 'Failure', code: null, reason: 'InternalError', message: 'http: server gave HTTP response to HTTPS client' } });
    data(stream(s, 'error', 3), 's2c', '{}', origin(300, 2, 10, 40 * MS));
    stream(s, 'stdout', 1);
    const [f] = one(s);
    expect(f).toMatchObject({ rule: 'R12', title: 'setup failed right after the upgrade' });
    expect(evidence(f)).toMatch(/cri-dockerd#560/);
  });

  test('R14: an error on one forwarded connection, then kubectl closed them all', () => {
    const s = session({ kind: 'portforward', transport: 'spdy', state: 'complete', upgradeTs: 0, endTs: 3 * S, connectionEnd: { ts: 2.1 * S, by: 'client', reset: false } });
    data(stream(s, 'error:80:0', 1), 's2c', 'an error occurred forwarding 80 -> 80: connection refused', origin(300, 58, 10, 2 * S));
    stream(s, 'data:80:0', 3);
    stream(s, 'data:80:1', 7);
    const [f] = one(s);
    expect(f).toMatchObject({ rule: 'R14', title: 'a forwarded connection failed and kubectl closed them all' });
    expect(f.evidence[0]).toBe('error:80:0 carried an error at +2.00 s: an error occurred forwarding 80 -> 80: connection refused');
    expect(f.evidence[1]).toBe('the client closed the port-forward connection 100.0 ms later, ending all 2 forwarded connections');
  });

  test('R15: the Status came while stdin was still flowing', () => {
    const s = session({ stdin: true, state: 'complete', upgradeTs: 0, endTs: 5 * S, exit: { status: 'Failure', code: 1 } });
    const stdin = stream(s, 'stdin', 0);
    data(stdin, 'c2s', 'a'.repeat(400), origin(300, 400, 10, 1 * S));
    data(stream(s, 'error', 3), 's2c', '{}', origin(300, 2, 11, 2 * S));
    data(stdin, 'c2s', 'b'.repeat(100), origin(700, 100, 12, 3 * S));
    const [f] = one(s);
    expect(f).toMatchObject({ rule: 'R15' });
    expect(f.evidence[0]).toBe('the server sent its Status (Failure, exit 1) at +2.00 s while the client was still sending: 400 B of stdin before, 100 B after');
  });

  test('R15 on several hops of one exec: the cause is the furthest hop that showed it, whatever the clocks say', () => {
    // Captures from three nodes: the kubelet hop's file runs 2 s behind, so its Status looks earliest.
    const hop = (id: number, name: ExecSession['hop'], shift: number) => {
      const s = session({ id, hop: name, stdin: true, state: 'complete', upgradeTs: shift, endTs: shift + 4 * S, connectionEnd: { ts: shift + 4 * S, by: 'client', reset: false }, exit: { status: 'Success', code: 0 } });
      const stdin = stream(s, 'stdin', 5);
      data(stdin, 'c2s', 'a'.repeat(400), origin(300, 400, 10, shift + 1 * S));
      data(stream(s, 'error', 1), 's2c', '{}', origin(300, 2, 11, shift + 2 * S));
      data(stdin, 'c2s', 'b'.repeat(100), origin(700, 100, 12, shift + 3 * S));
      return s;
    };
    const chain = [hop(1, 'apiserver', 0), hop(2, 'kubelet', -2 * S), hop(3, 'cri', 0)];
    chain[0].nextHop = 2;
    chain[1].previousHop = 1;
    chain[1].nextHop = 3;
    chain[2].previousHop = 2;
    const d = diagnoseAll({ sessions: chain, connections: [] });
    // The runtime hop's own finding is the cause on every hop; the others' own R15 are consequences.
    expect(chain.map((s) => [d.get(s.id)?.cause?.session, d.get(s.id)?.cause?.hop, d.get(s.id)?.consequences.map((f) => `${f.rule}#${f.session}`)])).toEqual([
      [3, 'cri', ['R15#1']],
      [3, 'cri', ['R15#2']],
      [3, 'cri', []],
    ]);
    // The runtime wrote its last line; the teardown lost it in front (a proxy closing with stdin unread).
    data(stream(chain[2], 'stdout', 3), 's2c', '4000000\n', origin(800, 8, 13, 1.9 * S));
    stream(chain[0], 'stdout', 3);
    const kubectl = diagnoseAll({ sessions: chain, connections: [] }).get(1)!.cause!;
    expect(kubectl.evidence.slice(2)).toEqual([
      'stdout: 0 B reached this hop, the cri hop carried 8 B',
      'output was lost in front of the cri hop when the session was torn down with stdin still arriving: a proxy (UpgradeAwareHandler) closing a connection it has unread stdin on makes the kernel reset it and drop what it had not yet sent — and this session still ended with exit 0',
    ]);
    // Where every hop carried the same output, nothing is said about it.
    data(chain[0].streams.find((r) => r.name === 'stdout')!, 's2c', '4000000\n', origin(800, 8, 13, 1.9 * S));
    expect(diagnoseAll({ sessions: chain, connections: [] }).get(1)!.cause!.evidence).toHaveLength(2);
  });

  test('R16: the client left before any Status without closing stdin; for attach, a detach', () => {
    const s = session({ stdin: true, state: 'aborted', upgradeTs: 0, endTs: 5 * S, connectionEnd: { ts: 5 * S, by: 'client', reset: false } });
    data(stream(s, 'stdin', 0), 'c2s', 'x', origin(300, 1, 10, 4 * S));
    data(stream(s, 'stdout', 1), 's2c', 'x', origin(300, 1, 11, 4.5 * S));
    expect(one(s)[0]).toMatchObject({ rule: 'R16', severity: 'warn', title: 'the client abandoned the session' });
    const attach = { ...s, kind: 'attach' as const };
    expect(one(attach)).toEqual([expect.objectContaining({ rule: 'R16', severity: 'info', title: 'the client detached' })]);
  });

  test('the client leaving after a wait is the user giving up on the hang the wait shows (R1, R2), not the cause', () => {
    // kubectl exec … -- sh -c 'sleep 30 & echo started' (lab, kubectl 1.32), killed after 8 s: the
    // background sleep holds stdout; the lab stopped 12 s later, closing the hops behind.
    const hop = (id: number, name: ExecSession['hop'], end: { ts: number; by: 'client' | 'server' }) => {
      const s = session({ id, hop: name, transport: id === 1 ? 'websocket' : 'spdy', state: 'aborted', upgradeTs: 0, endTs: end.ts, connectionEnd: { ...end, reset: false }, previousHop: id === 1 ? null : id - 1, nextHop: id === 3 ? null : id + 1 });
      data(stream(s, 'stdout', 1), 's2c', 'started\n', origin(300, 8, 10, 0.1 * S));
      if (id > 1) stream(s, 'error', 3);
      for (let t = 5; t < end.ts / S; t += 5) control(s, 'ping', 'c2s', 'PING', origin(400, 8, 20 + t, t * S));
      return s;
    };
    const chain = [hop(1, 'apiserver', { ts: 7.91 * S, by: 'client' }), hop(2, 'kubelet', { ts: 20.6 * S, by: 'server' }), hop(3, 'cri', { ts: 20.59 * S, by: 'server' })];
    const d = diagnoseAll({ sessions: chain, connections: [] });
    expect(d.get(1)?.cause).toMatchObject({ rule: 'R2', title: 'output never ends' });
    expect(d.get(1)?.cause?.evidence[1]).toBe('nothing on them for 7.81 s before the client closed the connection at +7.91 s');
    expect(d.get(1)?.consequences.map((f) => f.rule)).toEqual(['R16']);
    // The hops behind lost their connections 12.7 s after kubectl had gone: their R3 follows, it does not explain.
    expect(d.get(3)?.cause?.rule).toBe('R2');
    expect(d.get(3)?.consequences.map((f) => f.rule)).toEqual(['R3']);
    // kubectl attach left the same way is a detach: the container's output going on is no hang.
    for (const s of chain) s.kind = 'attach';
    expect(diagnoseAll({ sessions: chain, connections: [] }).get(1)).toMatchObject({ cause: null, notes: [expect.objectContaining({ rule: 'R16', title: 'the client detached' })] });
  });

  test('a cause from a hop in front: the Status behind it is the command\'s, not a guess', () => {
    // kubectl left (R16 on its hop); the translator closed stdin, cat exited, its Status came back to the kubelet hop.
    const kubectl = session({ id: 1, stdin: true, state: 'aborted', upgradeTs: 0, endTs: 8 * S, connectionEnd: { ts: 8 * S, by: 'client', reset: false }, nextHop: 2 });
    stream(kubectl, 'stdout', 1);
    control(kubectl, 'ping', 'c2s', 'PING', origin(500, 2, 15, 5 * S));
    const behind = (id: number, hop: ExecSession['hop']) => {
      const s = session({ id, hop, transport: 'spdy', stdin: true, state: 'complete', upgradeTs: 0, endTs: 8.1 * S, exit: { status: 'Success', code: 0 }, previousHop: id - 1, nextHop: id === 3 ? null : id + 1 });
      data(stream(s, 'error', 1), 's2c', '{"metadata":{},"status":"Success"}', origin(300, 34, 20, 8 * S));
      stream(s, 'stdout', 2);
      mark(stream(s, 'stdin', 3), 'half-close', 'c2s', origin(400, 0, 19, 7.99 * S));
      return s;
    };
    const chain = [kubectl, behind(2, 'kubelet'), behind(3, 'cri')];
    const d = diagnoseAll({ sessions: chain, connections: [] });
    // The cause is the EOF that never came; kubectl left 8 s into that hang.
    expect(d.get(1)?.cause?.rule).toBe('R1');
    expect(d.get(1)?.consequences.map((f) => f.rule)).toContain('R16');
    // And the command did not go on running: the hops behind got its Status.
    expect(d.get(1)?.consequences.find((f) => f.rule === 'R16')?.evidence[1]).toBe("the kubelet hop (#2) behind it still carried the command's Status (exit 0): the command ended after the client left");
    expect(d.get(2)?.cause?.evidence[0]).toBe('this session (#2, kubelet) carried the Status (exit 0) that the apiserver hop (#1), in front of it, never delivered: the command did end');
    expect(evidence(d.get(3)?.cause)).not.toMatch(/guess/);
  });

  test('R17: pings all along a long data-idle stretch hold the idle timer off (a note)', () => {
    const s = session({ transport: 'spdy', state: 'open-at-end', upgradeTs: 0, endTs: 700 * S });
    data(stream(s, 'stdout', 1), 's2c', 'x', origin(300, 1, 10, 1 * S));
    for (let t = 5; t < 700; t += 5) control(s, 'ping', 'c2s', 'PING', null, t * S);
    const d = diagnoseAll({ sessions: [s], connections: [] }).get(1)!;
    expect(d.notes.map((f) => f.rule)).toContain('R17');
  });

  test('R17: any stretch counts, once past the shortest idle timer (50 s); a stream busy throughout is not idle', () => {
    // sh -c 'sleep 55; echo awake': the quiet is before the output, not after it.
    const s = session({ transport: 'spdy', exit: { status: 'Success', code: 0 }, state: 'complete', upgradeTs: 0, endTs: 56 * S, connectionEnd: { ts: 56 * S, by: 'client', reset: false } });
    data(stream(s, 'stdout', 3), 's2c', 'awake\n', origin(300, 6, 10, 55.2 * S));
    data(stream(s, 'error', 1), 's2c', '{"status":"Success"}', origin(306, 20, 11, 55.3 * S));
    for (let t = 5; t < 56; t += 5) control(s, 'ping', 'c2s', 'PING', null, t * S);
    const [note] = diagnoseAll({ sessions: [s], connections: [] }).get(1)!.notes;
    expect(note).toMatchObject({ rule: 'R17', severity: 'info' });
    expect(note.evidence.slice(0, 2)).toEqual(['no data for 55.20 s from +0 µs, while 11 PINGs crossed this hop', "longer than haproxy's default timeout (50 s): the pings kept every such timer from firing"]);
    // Output from 1 s to 55 s whose per-frame events were not kept: busy, not idle.
    const busy = session({ transport: 'spdy', state: 'open-at-end', upgradeTs: 0, endTs: 56 * S });
    const out = stream(busy, 'stdout', 3);
    data(out, 's2c', 'x', origin(300, 1, 10, 1 * S));
    data(out, 's2c', 'y', origin(301, 1, 11, 55 * S));
    out.events = [];
    out.firstDataAt = 1 * S; // kept by the recorder even without events
    for (let t = 5; t < 56; t += 5) control(busy, 'ping', 'c2s', 'PING', null, t * S);
    expect(diagnoseAll({ sessions: [busy], connections: [] }).get(1)!.notes.map((f) => f.rule)).not.toContain('R17');
  });

  test('version caveats: kubectl before 1.34 over WebSocket may drop early output', () => {
    const s = session({ userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/abc', state: 'open-at-end', endTs: 60 * S });
    data(stream(s, 'stdout', 1), 's2c', 'started\n', origin(300, 9, 10, 1 * S));
    expect(evidence(one(s)[0])).toMatch(/kubectl 1\.31: before 1\.34 .*kubernetes\/kubernetes#131189/);
  });

  test('a session inferred without its upgrade says how sure the inference is', () => {
    const s = session({ target: '', method: '', httpStatus: null, transport: 'spdy', state: 'open-at-end' });
    mark(stream(s, 'stdout', 1), 'open', 's2c', origin(300, 10, 10, 1 * S));
    expect(diagnoseAll({ sessions: [s], connections: [] }).get(1)?.inferred).toMatch(/^sure: .*streamType \(stdout\)/);
  });

  test('findings come cause first', () => {
    const refused: ExecSession = session({ id: 1, transport: 'websocket', httpStatus: 403, state: 'upgrade-failed', refusal: { code: 403, message: 'User "bob" cannot get resource "pods/exec"' } });
    expect(one(refused).map((f) => f.rule)).toEqual(['R10']);
  });
});

describe('TLS and plaintext crossed (R13), from a capture', () => {
  const tmp = tempDirForTests('execscope-crossed-');
  /** One connection: the client's first bytes, the server's answer. */
  function capture(name: string, c2s: Uint8Array, s2c: Uint8Array): string {
    const w = new PcapngWriter();
    const tcp = new SyntheticTcpConnection({ ip: '10.0.0.5', port: 40000 }, { ip: '10.0.0.9', port: 10250 });
    const frames = [...tcp.handshake(), ...tcp.send('c2s', c2s), ...tcp.send('s2c', s2c), ...tcp.close()];
    const path = join(tmp, name);
    writeFileSync(path, Buffer.concat([w.sectionHeader(), w.interface(1, { tsresol: 9 }), ...frames.map((f, i) => w.enhancedPacket(0, 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, f))]));
    return path;
  }
  const clientHello = Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, ...new Array(40).fill(7)]);

  test('a ClientHello answered by HTTP/1.1 400', async () => {
    const m = await analyzeCapture(capture('tls-to-plain.pcapng', clientHello, new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')), analyzeOptions());
    const [f] = diagnoseConnections(m.connections);
    expect(f).toMatchObject({ rule: 'R13', title: 'TLS spoken to a plaintext port', connection: 1 });
    expect(f.evidence[0]).toBe('10.0.0.5:40000 opened with a TLS ClientHello; 10.0.0.9:10250 answered in plain HTTP: HTTP/1.1 400 Bad Request');
  });

  test('an HTTP request answered by a TLS alert', async () => {
    const m = await analyzeCapture(capture('plain-to-tls.pcapng', new TextEncoder().encode('POST /exec/abc HTTP/1.1\r\nHost: x\r\n\r\n'), Uint8Array.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])), analyzeOptions());
    expect(diagnoseConnections(m.connections).map((f) => [f.title, f.evidence[0]])).toEqual([['plaintext spoken to a TLS port', '10.0.0.5:40000 sent a plain HTTP request; 10.0.0.9:10250 answered with a TLS alert record']]);
  });

  test('healthy captures have none', async () => {
    for (const name of ['lab/lab-ws-echo.pcapng', 'tls-ws-keylog.pcap', 'spdy-echo.pcap']) expect(diagnoseConnections((await open(name)).connections)).toEqual([]);
  });
});
