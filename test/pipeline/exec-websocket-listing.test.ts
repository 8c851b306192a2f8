/**
 * Now that every WebSocket connection is listed with its frames, an exec WebSocket (real kubectl
 * v1.32.4 in fixtures/, and the lab's kubectl → apiserver hop in fixtures/lab/) must stay what it was:
 * one exec session on one connection, whose frames the connection lists and whose messages are the
 * session's streams — never a second, generic WebSocket listing of the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { opcodeName } from '../../src/websocket/frame-header.js';
import { http2FrameTypeName } from '../../src/http2/frame.js';

const FIXTURES = join(process.cwd(), 'fixtures');
const REAL = ['ws-echo.pcap', 'ws-stdin-cat.pcap', 'ws-tty-resize.pcap', 'tls-ws-keylog.pcap'];
const LAB = readdirSync(join(FIXTURES, 'lab')).filter((f) => /^lab-(ws|fault)-.*\.pcapng(\.gz)?$/.test(f)).map((f) => `lab/${f}`);
const keyLogs = (name: string) => (name.startsWith('tls-') ? [{ text: readFileSync(join(FIXTURES, 'tls-ws-keylog.keylog'), 'utf8'), source: 'tls-ws-keylog.keylog' }] : []);

describe.each([...REAL, ...LAB])('%s', (name) => {
  it('lists each exec WebSocket once: one session, its connection carrying the frames, no generic messages', async () => {
    const model = await analyzeCapture(join(FIXTURES, name), analyzeOptions({ keyLogs: keyLogs(name) }));
    expect(model.fatal).toBeNull();
    const upgraded = model.sessions.filter((s) => s.transport === 'websocket' && s.httpStatus === 101);
    const listed = model.connections.filter((c) => c.websocket);
    if (name.startsWith('lab/lab-fault-') && upgraded.length === 0) return;
    expect(upgraded.length).toBeGreaterThan(0);
    expect(listed.map((c) => c.id).sort()).toEqual(upgraded.map((s) => s.connectionId).sort());
    for (const s of upgraded) {
      const conn = model.connections.find((c) => c.id === s.connectionId)!;
      expect(conn.protocol).toBe('websocket');
      expect(conn.sessionIds).toEqual([s.id]);
      expect(conn.websocket).toMatchObject({ sessionId: s.id, subprotocol: s.protocol, messages: [], messagesDropped: 0 });
      const frames = conn.websocket!.frames;
      expect(frames.length).toBeGreaterThan(0);
      // A channel protocol carries binary data messages only (plus control frames).
      expect(frames.filter((f) => !['binary', 'continuation', 'close', 'ping', 'pong'].includes(f.opcode))).toEqual([]);
      // Every payload byte of the session's streams came in those frames (1 channel byte per message on top).
      const payload = s.streams.reduce((n, r) => n + r.bytes, 0);
      const framed = frames.filter((f) => f.opcode === 'binary' || f.opcode === 'continuation').reduce((n, f) => n + f.length, 0);
      if (conn.websocket!.framesDropped === 0 && !conn.websocket!.deflate) expect(framed).toBeGreaterThanOrEqual(payload);
    }
  });
});

const tshark = (() => {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!tshark) console.warn('SKIPPED: tshark is not installed: exec WebSocket frame counts were not compared with its dissector');

/** Frame counts by opcode / frame type over every connection of a capture, ours and tshark's. */
async function frameCounts(name: string, opts = analyzeOptions()): Promise<{ ours: Record<string, number>; theirs: Record<string, number> }> {
  const model = await analyzeCapture(join(FIXTURES, name), opts);
  const ours: Record<string, number> = {};
  const add = (counts: Record<string, number>, prefix: string) => {
    for (const [k, n] of Object.entries(counts)) ours[prefix + k] = (ours[prefix + k] ?? 0) + n;
  };
  // The harness's and the lab's servers listen on ports tshark does not know: each plaintext one is named for it.
  const decodeAs: string[] = [];
  for (const c of model.connections) {
    const port = c.server.slice(c.server.lastIndexOf(':') + 1);
    if (c.websocket) for (const counts of Object.values(c.websocket.frameCounts)) add(counts, 'websocket ');
    if (c.http2) for (const counts of Object.values(c.http2.frameCounts)) add(counts, 'http2 ');
    if (c.websocket && !c.tls) decodeAs.push('-d', `tcp.port==${port},http`);
    if (c.http2 && !c.tls) decodeAs.push('-d', `tcp.port==${port},http2`);
  }
  const theirs: Record<string, number> = {};
  for (const [filter, field, nameOf] of [['websocket', 'websocket.opcode', opcodeName], ['http2', 'http2.type', http2FrameTypeName]] as const) {
    const out = execFileSync('tshark', ['-r', join(FIXTURES, name), ...decodeAs, '-Y', filter, '-T', 'fields', '-e', field], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const v of out.split(/[\n,]/).filter(Boolean)) theirs[`${filter} ${nameOf(Number(v))}`] = (theirs[`${filter} ${nameOf(Number(v))}`] ?? 0) + 1;
  }
  return { ours, theirs };
}

(tshark ? it.each(REAL.filter((n) => !n.startsWith('tls-'))) : it.skip.each(REAL))('%s: the exec connection’s frames are the frames tshark sees', async (name) => {
  const { ours, theirs } = await frameCounts(name);
  expect(ours).toEqual(theirs);
  expect(Object.values(ours).reduce((a, b) => a + b, 0)).toBeGreaterThan(2);
});

// The lab's recordings carry their key logs (pcapng secrets blocks): tshark decrypts kubectl's TLS too.
const LAB_COMPARED = ['lab/lab-ws-echo.pcapng', 'lab/lab-spdy-echo.pcapng', 'lab/lab-ws-portforward.pcapng'];
(tshark ? it.each(LAB_COMPARED) : it.skip.each(LAB_COMPARED))('%s: WebSocket and HTTP/2 frames (TLS discovery, CRI gRPC) counted as tshark counts them', async (name) => {
  const { ours, theirs } = await frameCounts(name);
  expect(ours).toEqual(theirs);
  expect(Object.keys(ours).some((k) => k.startsWith('http2 '))).toBe(true);
});
