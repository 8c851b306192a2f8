/**
 * Explain mode on the lab's recordings of the real kubectl: every event explains itself, the
 * explanations say the protocol facts the issue names (the 101, each SYN_STREAM's streamtype, the
 * first stdout byte, resize, v5's close signal, PING and its answer, the Status and its exit code,
 * the fallback), name who wrote the frame on each hop, and cite sections that exist in the notes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainEvent, type Explanation } from '../../src/explain/explain-event.js';
import { sessionEvents, walkSteps } from '../../src/explain/walk.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import type { CaptureModel, ExecSession } from '../../src/model/session.js';

const fixtures = join(process.cwd(), 'fixtures');
const open = (path: string) => analyzeCapture(join(fixtures, path), analyzeOptions());

/** Every explanation of a session's walk, in order. */
function walk(m: CaptureModel, s: ExecSession): Explanation[] {
  return walkSteps(s).map((step) => explainEvent(s, m.sessions, step));
}

const find = (xs: Explanation[], title: RegExp) => {
  const x = xs.find((e) => title.test(e.title));
  if (!x) throw new Error(`no step titled ${title} in:\n${xs.map((e) => e.title).join('\n')}`);
  return x;
};
const text = (x: Explanation) => [x.title, x.what, x.who, x.origin, x.source].join('\n');

describe('every event explains itself', () => {
  const names = [
    'lab/lab-ws-tty-resize.pcapng',
    'lab/lab-spdy-tty-resize.pcapng',
    'lab/lab-ws-stdin-sort.pcapng',
    'lab/lab-spdy-exit-code.pcapng',
    'lab/lab-fault-refuse-websocket.pcapng',
    'lab/lab-fault-no-stream-reply.pcapng',
    'lab/lab-ws-portforward.pcapng',
    'lab/lab-spdy-portforward.pcapng',
    'lab/lab-fault-reset-mid-stream-spdy.pcapng',
    'hostile-escapes.pcap',
  ];
  test.each(names)('%s: each event has what, who, where and a source in the protocol notes', async (name) => {
    const notes = readFileSync(join(process.cwd(), '..', 'shared', 'PROTOCOL.md'), 'utf8');
    const m = await open(name);
    expect(m.sessions.length).toBeGreaterThan(0);
    for (const s of m.sessions) {
      for (const ref of sessionEvents(s)) {
        const x = explainEvent(s, m.sessions, ref);
        for (const field of [x.title, x.what, x.who, x.origin, x.source]) expect(field.trim().length).toBeGreaterThan(3);
        // Captured bytes never reach a terminal raw: no C0 (but tab) or C1 control, no ESC.
        expect(text(x)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
        // Every section cited exists in the notes under that title.
        const cited = [...x.source.matchAll(/PROTOCOL\.md (§[\d.]+) ([^—;]+?) —/g)];
        if (!x.source.startsWith('a fact of this capture')) expect(cited.length).toBeGreaterThan(0);
        for (const [, section, title] of cited) expect(notes).toContain(`### ${section.slice(1)} ${title}`);
      }
    }
  });
});

describe('what the explanations say', () => {
  test('WebSocket v5 with a tty: the 101 and its protocol, connection established, the first stdout byte, resizes, the Status', async () => {
    const m = await open('lab/lab-ws-tty-resize.pcapng');
    const xs = walk(m, m.sessions[0]);
    expect(xs[0].title).toMatch(/^GET \/api\/v1\/namespaces\/default\/pods\/lab-0\/exec — asks for an upgrade/);
    expect(xs[0].what).toMatch(/Sec-WebSocket-Protocol offering v5\.channel\.k8s\.io/);
    const upgrade = find(xs, /^101 Switching Protocols, v5\.channel\.k8s\.io/);
    expect(upgrade.what).toMatch(/close signal/);
    expect(upgrade.who).toMatch(/the apiserver's StreamTranslator/);
    expect(find(xs, /connection established/).what).toMatch(/empty binary message on channel 1/);
    const stdout = find(xs, /^stdout .* the first stdout byte/);
    expect(stdout.what).toMatch(/after the 101/);
    expect(find(xs, /^resize 100×30 — the terminal size at start/).what).toContain('{"Width":100,"Height":30}');
    expect(find(xs, /^resize 120×40$/).what).toMatch(/SIGWINCH/);
    const status = find(xs, /^error stream: the exit status/);
    expect(status.what).toMatch(/Here: status Success — kubectl exits 0/);
    expect(status.source).toMatch(/^PROTOCOL\.md §2\.7/);
  });

  test('SPDY: each SYN_STREAM and its streamtype, in client-go order, answered by SYN_REPLY; the normal end', async () => {
    const m = await open('lab/lab-spdy-tty-resize.pcapng');
    const s = m.sessions[0];
    expect(s.hop).toBe('apiserver');
    const xs = walk(m, s);
    const opens = xs.filter((x) => x.title.startsWith('SYN_STREAM')).map((x) => x.title);
    expect(opens).toEqual(['SYN_STREAM 1 opens error', 'SYN_STREAM 3 opens stdin', 'SYN_STREAM 5 opens stdout', 'SYN_STREAM 7 opens resize']);
    expect(find(xs, /^SYN_STREAM 3 opens stdin/).what).toContain('streamtype: stdin');
    expect(find(xs, /^SYN_REPLY 1 accepts error/).who).toMatch(/runtime's streaming server, relayed byte for byte by the kubelet and the apiserver/);
    expect(find(xs, /^101 Switching Protocols, v4\.channel\.k8s\.io/).what).toMatch(/SPDY never negotiates v5/);
    expect(find(xs, /^GOAWAY/).what).toMatch(/normal end of a SPDY session/);
  });

  test('the hops of one exec: the translator writes the kubelet leg, the kubelet relays to the runtime', async () => {
    const m = await open('lab/lab-ws-tty-resize.pcapng');
    const [, kubelet, cri] = m.sessions;
    expect(find(walk(m, kubelet), /^SYN_STREAM 1 opens error/).who).toMatch(/^the apiserver's StreamTranslator\./);
    expect(find(walk(m, cri), /^SYN_STREAM 1 opens error/).who).toMatch(/^the apiserver's StreamTranslator, relayed byte for byte by the kubelet\./);
    expect(find(walk(m, cri), /^SYN_REPLY 1/).who).toMatch(/^the container runtime's streaming server\./);
    expect(find(walk(m, cri), /^POST \/exec\//).what).toMatch(/one-time URL/);
  });

  test("v5's close signal: kubectl's stdin reached EOF", async () => {
    const m = await open('lab/lab-ws-stdin-sort.pcapng');
    const close = find(walk(m, m.sessions[0]), /^\[0xFF, 0\] close stdin/);
    expect(close.what).toMatch(/v5's close signal/);
    expect(close.who).toMatch(/stdin reached its end \(EOF\)/);
  });

  test('a non-zero exit: how the code is read from the Status', async () => {
    const m = await open('lab/lab-spdy-exit-code.pcapng');
    const status = find(walk(m, m.sessions[0]), /^error stream: the exit status/);
    const code = m.sessions[0].exit?.code;
    expect(code).toBeGreaterThan(0);
    expect(status.what).toContain(`the cause ExitCode carries ${code} — kubectl prints "command terminated with exit code ${code}"`);
  });

  test('PING and its answer on SPDY and WebSocket', async () => {
    const m = await open('lab/lab-fault-no-stream-reply.pcapng');
    const all = m.sessions.flatMap((s) => walk(m, s));
    expect(find(all, /^PING \d+$/).what).toMatch(/pings every 5 s/);
    expect(find(all, /^PING \d+ reply, rtt/).what).toMatch(/echoed back with the same id/);
    expect(find(all, /^WebSocket ping/).what).toMatch(/61 s/);
  });

  test('the fallback from WebSocket to SPDY', async () => {
    const m = await open('lab/lab-fault-refuse-websocket.pcapng');
    const [refused, retry] = m.sessions;
    const first = walk(m, refused)[0];
    expect(first.what).toMatch(/The server refused it: HTTP 403/);
    expect(first.what).toMatch(/fall back to SPDY/);
    expect(first.source).toMatch(/^PROTOCOL\.md §2\.9/);
    expect(walk(m, retry)[0].what).toContain(`the WebSocket upgrade of session #${refused.id} was refused`);
  });

  test('port-forward: error then data stream per connection, bytes both ways', async () => {
    const m = await open('lab/lab-spdy-portforward.pcapng');
    const xs = walk(m, m.sessions[0]);
    expect(find(xs, /^SYN_STREAM \d+ opens data/).what).toMatch(/requestID/);
    expect(find(xs, /from the pod$/).source).toMatch(/^PROTOCOL\.md §2\.11/);
  });
});

test('port-forward tunnelled in WebSocket: a ping of the WebSocket itself is explained as one, a ping of the tunnel as SPDY’s', async () => {
  const m = await open('lab/lab-ws-portforward.pcapng');
  const s = m.sessions.find((x) => x.protocol === 'SPDY/3.1+portforward.k8s.io')!;
  // The recording has no ping (95 ms): the session's own Close stands for a WebSocket control frame, its tunnel's GOAWAY for a SPDY one.
  const close = s.control.find((c) => c.kind === 'close' && !c.tunnelled)!;
  const goaway = s.control.find((c) => c.kind === 'goaway')!;
  expect(goaway.tunnelled).toBe(true);
  const ping = (from: typeof close) => explainEvent(s, m.sessions, { stream: null, event: { ...from, kind: 'ping', detail: 'ping 0 B' } });
  expect(ping(close).title).toBe('WebSocket ping (ping 0 B)');
  expect(ping(goaway).what).toMatch(/^A SPDY PING/);
});

test('the 1.36 topology (lab --kubelet-websockets): the apiserver relays, the kubelet translates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-explain-'));
  try {
    const capture = join(dir, 'k136.pcapng');
    const cli = join(process.cwd(), 'dist', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'lab', '--kubelet-websockets', '--dir', join(dir, 'lab'), '--record', capture, '--', 'kubectl', 'exec', 'lab-0', '--', 'echo', 'hello'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout).toBe('hello\n');
    const m = await analyzeCapture(capture, analyzeOptions());
    const [api, kubelet, cri] = m.sessions;
    expect([api.transport, kubelet.transport, cri.transport]).toEqual(['websocket', 'websocket', 'spdy']);
    expect(find(walk(m, api), /^101 Switching Protocols, v5/).who).toMatch(/^the kubelet's StreamTranslator \(ExtendWebSocketsToKubelet, 1\.36\), relayed byte for byte by the apiserver/);
    expect(find(walk(m, kubelet), /connection established/).who).toMatch(/^the kubelet's StreamTranslator/);
    expect(find(walk(m, cri), /^SYN_STREAM 1 opens error/).who).toMatch(/^the kubelet's StreamTranslator/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the guided walk', () => {
  test('protocol order, the request first, every event accounted for', async () => {
    const m = await open('lab/lab-ws-tty-resize.pcapng');
    for (const s of m.sessions) {
      const steps = walkSteps(s);
      expect(steps[0].event.kind).toBe('request');
      for (let i = 2; i < steps.length; i++) expect(steps[i].event.ts).toBeGreaterThanOrEqual(steps[i - 1].event.ts);
      const counted = steps.reduce((n, st) => n + 1 + st.repeats, 0);
      expect(counted).toBe(sessionEvents(s).length);
    }
  });

  test('a 25 MB stdout is one step standing for its frames', async () => {
    const m = await open('lab/lab-ws-large-output.pcapng.gz');
    const s = m.sessions[0];
    const steps = walkSteps(s);
    const stdout = steps.filter((st) => st.stream?.name === 'stdout' && st.event.kind === 'data');
    expect(stdout).toHaveLength(1);
    expect(stdout[0].repeats).toBeGreaterThan(100);
    expect(steps.length).toBeLessThan(30);
  });
});

describe('analyze --explain', () => {
  const cli = join(process.cwd(), 'dist', 'cli.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

  test('prints each session with its walk, each step explained', () => {
    const r = run('analyze', join(fixtures, 'lab/lab-ws-stdin-sort.pcapng'), '--explain');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/explained, in protocol order \(\d+ steps for \d+ events\):/);
    expect(r.stdout).toMatch(/client→ {2}\[0xFF, 0\] close stdin\n +what +v5's close signal/);
    expect(r.stdout).toMatch(/source PROTOCOL\.md §2\.5 Channel protocol over WebSocket/);
    expect(r.stdout).toMatch(/… and \d+ more like it, \d+ B, the last at \+/);
  });

  test('is refused with --json', () => {
    const r = run('analyze', join(fixtures, 'ws-echo.pcap'), '--explain', '--json');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--explain is for the text summary/);
  });
});
