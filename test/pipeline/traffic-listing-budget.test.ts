/**
 * The WebSocket and HTTP/2 listings are bounded over the whole capture, not only per connection: many
 * connections together keep CAPTURE_TRAFFIC_ENTRIES_KEPT entries, every frame is still counted, each
 * connection says how many it did not keep, and the capture says once that the budget is spent.
 */
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import type { FrameOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import { Http2FrameType } from '../../src/http2/frame.js';
import { Http2TrafficRecorder } from '../../src/pipeline/http2-traffic.js';
import { CAPTURE_TRAFFIC_ENTRIES_KEPT, TrafficListingBudget } from '../../src/pipeline/traffic-budget.js';
import { ExecConversation } from '../../src/synth/exec-conversation.js';
import { webSocketAccept } from '../../src/websocket/handshake.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { Opcode } from '../../src/websocket/frame-header.js';
import { analyzeBytes, pcapOf } from '../helpers/synthetic-capture.js';
import { connection } from '../helpers/model-builders.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const SHELLS = 30;
const KEYSTROKES = 400;
const CHATS = 5;
const CHAT_MESSAGES = 50;

/** A chat WebSocket (not k8s) whose client sends `messages` text messages, then both sides close. */
function chat(port: number, messages: number): Uint8Array[] {
  const tcp = new SyntheticTcpConnection({ ip: '10.0.0.3', port }, { ip: '10.0.0.1', port: 8080 }, 1448);
  const client = new WebSocketFrameEncoder({ client: true, maskKeys: () => 0x11223344 });
  const server = new WebSocketFrameEncoder({ client: false });
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const request = ['GET /chat HTTP/1.1', 'Host: chat', 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', '', ''].join('\r\n');
  const reply = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Accept: ${webSocketAccept(key)}`, '', ''].join('\r\n');
  const frames = [...tcp.handshake(), ...tcp.send('c2s', ascii(request)), ...tcp.send('s2c', ascii(reply))];
  for (let i = 0; i < messages; i++) frames.push(...tcp.send('c2s', client.message(Opcode.Text, ascii(`m${i}`))));
  frames.push(...tcp.send('s2c', server.close(1000)), ...tcp.send('c2s', client.close(1000)), ...tcp.close());
  return frames;
}

/** Interactive shells over WebSocket typing at once (as `npm run bench`'s typing capture), then chats. */
function typingThenChats(): Uint8Array {
  const frames: Uint8Array[] = [];
  const shells = Array.from({ length: SHELLS }, (_, i) => new ExecConversation({ transport: 'websocket', pod: `web-${i}`, command: ['sh'], stdin: true, tty: true }, 1024 + i, 6443, 1448));
  for (const s of shells) frames.push(...s.open());
  for (let k = 0; k < KEYSTROKES; k++) {
    for (const s of shells) frames.push(...s.write('stdin', ascii('l')), ...s.write('stdout', ascii('l')));
  }
  for (const s of shells) frames.push(...s.closeStdin(), ...s.finish());
  for (let i = 0; i < CHATS; i++) frames.push(...chat(30000 + i, CHAT_MESSAGES));
  return pcapOf(frames);
}

describe(`${SHELLS} typing exec sessions and ${CHATS} chats over WebSocket`, () => {
  const model = analyzeBytes(typingThenChats());
  const listed = model.connections.filter((c) => c.websocket).map((c) => c.websocket!);
  const frameTotal = (counts: Record<string, Record<string, number>>) => Object.values(counts).reduce((n, c) => Object.values(c).reduce((m, k) => m + k, n), 0);

  it('keep the capture’s budget of entries in all, and count every frame', () => {
    expect(listed).toHaveLength(SHELLS + CHATS);
    const frames = listed.reduce((n, ws) => n + frameTotal(ws.frameCounts), 0);
    // More than the budget was sent, and no connection alone reached its own cap of 1000.
    expect(frames).toBeGreaterThan(CAPTURE_TRAFFIC_ENTRIES_KEPT);
    expect(Math.max(...listed.map((ws) => frameTotal(ws.frameCounts)))).toBeLessThan(1000);
    expect(listed.reduce((n, ws) => n + ws.frames.length + ws.messages.length, 0)).toBe(CAPTURE_TRAFFIC_ENTRIES_KEPT);
    for (const ws of listed) expect(ws.frames.length + ws.framesDropped).toBe(frameTotal(ws.frameCounts));
  });

  it('the exec sessions keep every keystroke, whatever their connection listed', () => {
    expect(model.sessions).toHaveLength(SHELLS);
    for (const s of model.sessions) expect(s.streams.find((r) => r.name === 'stdin')?.bytes).toBe(KEYSTROKES);
  });

  it('connections after the budget is spent list nothing and say what they did not keep', () => {
    const chats = listed.filter((ws) => ws.sessionId === null);
    expect(chats).toHaveLength(CHATS);
    for (const ws of chats) {
      expect(ws.frames).toEqual([]);
      expect(ws.messages).toEqual([]);
      expect(ws.messagesDropped).toBe(CHAT_MESSAGES);
      expect(ws.framesDropped).toBe(CHAT_MESSAGES + 2);
      expect(ws.close.c2s).toMatchObject({ code: 1000 });
    }
  });

  it('the capture says once that the budget is spent, where it ran out', () => {
    const spent = model.warnings.filter((w) => w.code === 'pipeline.listing-budget-spent');
    expect(spent).toHaveLength(1);
    expect(spent[0]).toMatchObject({ severity: 'note', where: 'capture' });
    expect(model.sessions.map((s) => s.connectionId)).toContain(spent[0].connection);
    expect(spent[0].message).toContain(`${CAPTURE_TRAFFIC_ENTRIES_KEPT} listed`);
  });
});

const at = (n: number): FrameOrigin => ({ offset: n * 9, length: 9, packet: n + 1, ts: n, lastPacket: n + 1, lastTs: n });

it('HTTP/2 connections share the budget: frames, streams and GOAWAYs past it are counted, an h2c upgrade too', () => {
  const warnings: Problem[] = [];
  const budget = new TrafficListingBudget(4, (p) => warnings.push(p));
  const first = connection({ id: 1, protocol: 'http2' });
  const a = new Http2TrafficRecorder(first, budget);
  a.frame({ dir: 'c2s', type: Http2FrameType.HEADERS, flags: 0x5, streamId: 1, length: 10, origin: at(0) });
  a.frame({ dir: 's2c', type: Http2FrameType.GOAWAY, flags: 0, streamId: 0, length: 8, origin: at(1) });
  a.control({ dir: 's2c', type: 'GOAWAY', lastStreamId: 1, errorCode: 0, errorName: 'NO_ERROR', debugData: '', debugLength: 0, origin: at(1) });
  // Frame, stream 1 and frame 2 took 3 entries; the GOAWAY took the last one.
  expect(first.http2).toMatchObject({ framesDropped: 0, streamsDropped: 0, goawaysDropped: 0 });
  expect(first.http2!.goaways).toHaveLength(1);
  expect(warnings).toEqual([]);

  const second = connection({ id: 2, protocol: 'http2' });
  const b = new Http2TrafficRecorder(second, budget, { method: 'GET', target: '/', ts: 5, packet: 6 });
  b.frame({ dir: 's2c', type: Http2FrameType.HEADERS, flags: 0x5, streamId: 1, length: 10, origin: at(7) });
  b.frame({ dir: 'c2s', type: Http2FrameType.HEADERS, flags: 0x5, streamId: 3, length: 10, origin: at(8) });
  b.control({ dir: 's2c', type: 'GOAWAY', lastStreamId: 3, errorCode: 0, errorName: 'NO_ERROR', debugData: '', debugLength: 0, origin: at(9) });
  expect(second.http2).toMatchObject({ frames: [], framesDropped: 2, streams: [], streamsDropped: 2, goaways: [], goawaysDropped: 1 });
  expect(second.http2!.frameCounts).toEqual({ c2s: { HEADERS: 1 }, s2c: { HEADERS: 1 } });
  expect(warnings).toEqual([expect.objectContaining({ code: 'pipeline.listing-budget-spent', connection: 2, packet: 6 })]);
});
