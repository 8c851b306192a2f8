/**
 * A WebSocket or HTTP/2 connection's frames, messages and streams as the reports and the TUI's
 * connection detail show them: what they say, how they stay bounded, and that captured bytes (a
 * request target, a subprotocol, a close reason, a message, a gRPC message, GOAWAY debug data) never
 * reach the terminal as control sequences.
 */
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import { TRAFFIC_ENTRIES_KEPT, type Http2Traffic } from '../../src/model/connection-traffic.js';
import { connectionLines } from '../../src/report/text-report.js';
import { jsonReport } from '../../src/report/json-report.js';
import { http2Lines } from '../../src/report/connection-traffic.js';
import { terminalSafeJson } from '../../src/report/terminal-text.js';
import { connectionRows } from '../../src/ui/ConnectionOverlay.js';
import { connectionSummary } from '../../src/ui/ConnectionList.js';
import { webSocketAccept } from '../../src/websocket/handshake.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { Opcode } from '../../src/websocket/frame-header.js';
import { analyzeBytes, pcapOf } from '../helpers/synthetic-capture.js';

const ESCAPES = ['\x1b[2J', '\x1b]0;PWNED\x07', '\x1b]52;c;ZXZpbA==\x07', '\x1bP+q\x1b\\', '\u009b31m', '\u0090q\u009c', '\u202e', '\u2066'];
const HOSTILE = ESCAPES.join('x');
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A chat WebSocket (not k8s) whose every captured field is hostile, then `extra` more text messages from the client. */
function hostileWebSocket(extra = 0): Uint8Array {
  const tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 40000 }, { ip: '10.0.0.1', port: 8080 }, 1448);
  const client = new WebSocketFrameEncoder({ client: true, maskKeys: () => 0x11223344 });
  const server = new WebSocketFrameEncoder({ client: false });
  const request = [`GET /chat?${HOSTILE} HTTP/1.1`, 'Host: chat', 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${KEY}`, `Sec-WebSocket-Protocol: chat${HOSTILE}`, 'Sec-WebSocket-Version: 13', '', ''].join('\r\n');
  const reply = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Accept: ${webSocketAccept(KEY)}`, `Sec-WebSocket-Protocol: chat${HOSTILE}`, '', ''].join('\r\n');
  const frames = [...tcp.handshake(), ...tcp.send('c2s', utf8(request)), ...tcp.send('s2c', utf8(reply))];
  frames.push(...tcp.send('c2s', client.message(Opcode.Text, utf8(`hello ${HOSTILE}`), { fragmentSize: 7 })));
  frames.push(...tcp.send('s2c', server.message(Opcode.Binary, utf8(HOSTILE))));
  for (let i = 0; i < extra; i++) frames.push(...tcp.send('c2s', client.message(Opcode.Text, utf8(`m${i}`))));
  frames.push(...tcp.send('s2c', server.close(4000, `bye ${HOSTILE}`)));
  frames.push(...tcp.send('c2s', client.close(1000)));
  return pcapOf([...frames, ...tcp.close()]);
}

describe('a WebSocket connection that is not an exec session', () => {
  const model = analyzeBytes(hostileWebSocket());
  const conn = model.connections[0];

  it('is decoded: fragments, a binary message, the close code and reason both ways', () => {
    expect(model.sessions).toEqual([]);
    expect(conn.protocol).toBe('websocket');
    const ws = conn.websocket!;
    expect(ws.subprotocol).toBe(`chat${HOSTILE}`);
    const hello = utf8(`hello ${HOSTILE}`);
    expect(ws.messages.map((m) => [m.dir, m.opcode, m.frames, m.bytes, m.complete])).toEqual([
      ['c2s', 'text', Math.ceil(hello.length / 7), hello.length, true],
      ['s2c', 'binary', 1, utf8(HOSTILE).length, true],
    ]);
    expect(ws.close).toMatchObject({ s2c: { code: 4000, reason: `bye ${HOSTILE}` }, c2s: { code: 1000, reason: '' } });
    expect(model.warnings).toEqual([]);
  });

  it('shows no captured control sequence in the text report, the TUI detail and list, or JSON', () => {
    const lines = connectionLines(conn);
    expect(lines.join('\n')).toContain('subprotocol chat');
    expect(lines.join('\n')).toMatch(/server closed 4000 "bye /);
    for (const line of lines) expect(line).not.toMatch(CONTROLS);
    for (const row of connectionRows(conn, 80)) for (const seg of row) expect(seg.text).not.toMatch(CONTROLS);
    expect(connectionSummary(conn)).not.toMatch(CONTROLS);
    expect(connectionSummary(conn)).toContain('frames');
    expect(terminalSafeJson(jsonReport(model, { hash: false }))).not.toMatch(CONTROLS);
  });
});

it('a long WebSocket keeps its first frames and messages, counts them all, and says how many it left out', () => {
  const extra = TRAFFIC_ENTRIES_KEPT + 200;
  const model = analyzeBytes(hostileWebSocket(extra));
  const ws = model.connections[0].websocket!;
  expect(ws.frames).toHaveLength(TRAFFIC_ENTRIES_KEPT);
  expect(ws.messages).toHaveLength(TRAFFIC_ENTRIES_KEPT);
  const frames = Object.values(ws.frameCounts).reduce((n, c) => Object.values(c).reduce((m, k) => m + k, n), 0);
  expect(frames).toBe(ws.frames.length + ws.framesDropped);
  expect(ws.messages.length + ws.messagesDropped).toBe(2 + extra);
  // The Close frames came after the cut: still known.
  expect(ws.close.s2c).toMatchObject({ code: 4000 });
  const text = connectionLines(model.connections[0]).join('\n');
  expect(text).toMatch(/… \d+ more frames \(\d+ not kept; --json lists the first 1000\)/);
  expect(text.split('\n').length).toBeLessThan(120);
});

it('HTTP/2 streams, gRPC status and GOAWAY debug data from a capture are neutralised', () => {
  const h2: Http2Traffic = {
    frames: [],
    framesDropped: 0,
    frameCounts: { c2s: { HEADERS: 1 }, s2c: { HEADERS: 2, GOAWAY: 1 } },
    streams: [
      {
        id: 1,
        method: `POST${HOSTILE}`,
        path: `/svc/M${HOSTILE}`,
        authority: HOSTILE,
        status: 200,
        contentType: 'application/grpc',
        dataBytes: { c2s: 5, s2c: 7 },
        headerFrames: 3,
        ended: { c2s: true, s2c: true },
        reset: null,
        grpc: { status: 13, statusName: 'INTERNAL', message: `boom ${HOSTILE}` },
        startTs: 0,
        endTs: 1,
      },
    ],
    streamsDropped: 0,
    goaways: [{ dir: 's2c', lastStreamId: 1, error: 'ENHANCE_YOUR_CALM', debug: `calm ${HOSTILE}`, ts: 1, packet: 9 }],
    goawaysDropped: 0,
  };
  const lines = http2Lines(h2);
  expect(lines[1]).toMatch(/^stream 1 POST.* → 200 · gRPC INTERNAL "boom .*" · headers in 3 frames · data 5\/7 B · ended$/);
  expect(lines[2]).toMatch(/^GOAWAY by the server \(packet 9\): ENHANCE_YOUR_CALM, last stream 1 "calm /);
  for (const line of lines) expect(line).not.toMatch(CONTROLS);
});
