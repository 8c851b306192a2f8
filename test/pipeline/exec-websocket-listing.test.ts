/**
 * Now that every WebSocket connection is listed with its frames, an exec WebSocket (real kubectl
 * v1.32.4 in fixtures/, and the lab's kubectl → apiserver hop in fixtures/lab/) must stay what it was:
 * one exec session on one connection, whose frames the connection lists and whose messages are the
 * session's streams — never a second, generic WebSocket listing of the same bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { decodeAsFor, hasTshark, ourFrameCounts, tsharkFrameCounts, type FrameCounts } from '../kit/tshark.js';

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

if (!hasTshark) console.warn('SKIPPED: tshark is not installed: exec WebSocket frame counts were not compared with its dissector');

/** Frame counts by opcode / frame type over every connection of a capture, ours and tshark's. */
async function frameCounts(name: string, opts = analyzeOptions()): Promise<{ ours: FrameCounts; theirs: FrameCounts }> {
  const model = await analyzeCapture(join(FIXTURES, name), opts);
  // The harness's and the lab's servers listen on ports tshark does not know: each plaintext one is named for it.
  return { ours: ourFrameCounts(model), theirs: tsharkFrameCounts(join(FIXTURES, name), decodeAsFor(model)) };
}

(hasTshark ? it.each(REAL.filter((n) => !n.startsWith('tls-'))) : it.skip.each(REAL))('%s: the exec connection’s frames are the frames tshark sees', async (name) => {
  const { ours, theirs } = await frameCounts(name);
  expect(ours).toEqual(theirs);
  expect(Object.values(ours).reduce((a, b) => a + b, 0)).toBeGreaterThan(2);
});

// The lab's recordings carry their key logs (pcapng secrets blocks): tshark decrypts kubectl's TLS too.
const LAB_COMPARED = ['lab/lab-ws-echo.pcapng', 'lab/lab-spdy-echo.pcapng', 'lab/lab-ws-portforward.pcapng'];
(hasTshark ? it.each(LAB_COMPARED) : it.skip.each(LAB_COMPARED))('%s: WebSocket and HTTP/2 frames (TLS discovery, CRI gRPC) counted as tshark counts them', async (name) => {
  const { ours, theirs } = await frameCounts(name);
  expect(ours).toEqual(theirs);
  expect(Object.keys(ours).some((k) => k.startsWith('http2 '))).toBe(true);
});
