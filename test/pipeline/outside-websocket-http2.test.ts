/**
 * Real WebSocket and HTTP/2 traffic written by other projects (zeek's and suricata-verify's test
 * traces, read in place from ../shared/outside-captures, never copied into the repo): every capture
 * decodes without a crash or a false exec session, each WebSocket and HTTP/2 connection is listed with
 * its frames, and the edge cases they were recorded for are asserted one by one. Where tshark is
 * installed, our frame counts per opcode and frame type are compared with its dissectors'.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import type { CaptureModel, ConnectionRecord } from '../../src/model/session.js';
import type { Http2Traffic, WebSocketTraffic } from '../../src/model/connection-traffic.js';
import { hasTshark, ourFrameCounts, tsharkFrameCounts } from '../kit/tshark.js';
import { connectionLines } from '../../src/report/text-report.js';
import { jsonReport } from '../../src/report/json-report.js';

const OUTSIDE = join(process.cwd(), '..', 'shared', 'outside-captures');
const present = existsSync(OUTSIDE);
if (!present) console.warn(`SKIPPED: ${OUTSIDE} is not here (the team's shared outside captures): the real WebSocket/HTTP/2 edge-case tests did not run`);

const CAPTURES = present
  ? readdirSync(OUTSIDE, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(OUTSIDE, d.name)).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => `${d.name}/${f}`))
      .sort()
  : [];

const models = new Map<string, CaptureModel>();
async function analyze(name: string): Promise<CaptureModel> {
  let m = models.get(name);
  if (!m) {
    m = await analyzeCapture(join(OUTSIDE, name), analyzeOptions());
    models.set(name, m);
  }
  return m;
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0];
}
const webSocketOf = async (name: string): Promise<{ conn: ConnectionRecord; ws: WebSocketTraffic; model: CaptureModel }> => {
  const model = await analyze(name);
  const conn = only(model.connections.filter((c) => c.websocket));
  return { conn, ws: conn.websocket!, model };
};
const http2Of = async (name: string): Promise<{ conn: ConnectionRecord; h2: Http2Traffic; model: CaptureModel }[]> => {
  const model = await analyze(name);
  return model.connections.filter((c) => c.http2).map((conn) => ({ conn, h2: conn.http2!, model }));
};
const text = (head: Uint8Array) => Buffer.from(head).toString('utf8');
const codes = (m: CaptureModel) => m.warnings.map((w) => w.code);

(present ? describe : describe.skip)('outside captures: any WebSocket and HTTP/2 connection', () => {
  it('finds the captures', () => {
    expect(CAPTURES.length).toBeGreaterThanOrEqual(23);
  });

  it.each(CAPTURES)('%s decodes without a crash, a false exec session or an undecoded upgrade', async (name) => {
    const m = await analyze(name);
    expect(m.fatal).toBeNull();
    // The docker attach is a docker session (its own test asserts it); nothing here is a k8s exec.
    expect(m.sessions.filter((s) => s.hop !== 'docker')).toEqual([]);
    expect(codes(m)).not.toContain('pipeline.other-upgrade');
    for (const c of m.connections) {
      if (c.requests.some((r) => r.status === 101) && c.protocol !== 'hijacked') expect(['websocket', 'http2', 'grpc']).toContain(c.protocol);
      if (c.protocol === 'websocket') expect(c.websocket).toBeDefined();
      if (c.protocol === 'http2' || c.protocol === 'grpc') expect(c.http2).toBeDefined();
      // Problems point back to the connection they were found on.
      for (const w of m.warnings.filter((w) => w.code.startsWith('websocket.') || w.code.startsWith('http2.'))) expect(w.connection).toBeDefined();
    }
    // Both reports list it without choking on captured bytes.
    for (const c of m.connections) expect(connectionLines(c).join('\n')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(() => JSON.stringify(jsonReport(m, { hash: false }))).not.toThrow();
  });

  it('reply-ping-coalesced: the server PING rides in the same segment as the 101, and is listed from there', async () => {
    const { ws, model } = await webSocketOf('zeek/reply-ping-coalesced.pcap');
    expect(ws.subprotocol).toBe('v1');
    const first = ws.frames[0];
    expect(first).toMatchObject({ dir: 's2c', opcode: 'ping', fin: true, length: 4, origin: { packet: 6 } });
    // Packet 6 is the 101 itself (tshark: frame 6 "HTTP/1.1 101" + WebSocket Ping).
    const separate = (await webSocketOf('zeek/reply-ping-separate.pcap')).ws.frames[0];
    expect(separate).toMatchObject({ opcode: 'ping', origin: { packet: 8 } });
    expect(ws.frames.map((f) => `${f.dir} ${f.opcode}`)).toEqual(['s2c ping', 'c2s pong', 'c2s text', 's2c text', 'c2s close', 's2c close']);
    expect(ws.messages.map((m) => `${m.dir} ${text(m.head)}`)).toEqual(['c2s Hello Zeek!', 's2c Hello there!']);
    expect(ws.close).toMatchObject({ c2s: { code: 1000 }, s2c: { code: 1000 } });
    expect(model.warnings).toEqual([]);
  });

  it('websocket-control-frag: a PING between the fragments of a text message does not break the message', async () => {
    const { ws, model } = await webSocketOf('suricata-verify/websocket-control-frag__input.pcap');
    expect(ws.frames.map((f) => [f.dir, f.opcode, f.fin, f.length])).toEqual([
      ['c2s', 'text', false, 20],
      ['c2s', 'ping', true, 4],
      ['c2s', 'continuation', true, 28],
      ['s2c', 'pong', true, 4],
    ]);
    const message = only(ws.messages);
    expect(message).toMatchObject({ dir: 'c2s', opcode: 'text', frames: 2, bytes: 48, complete: true, compressed: false });
    expect(text(message.head)).toBe('MALWARE_DOWNLOAD cmd.exe /c powershell -enc AAAA');
    expect(model.warnings).toEqual([]);
  });

  it('message-too-big-status: the client closes with 1009 and its reason', async () => {
    const { ws } = await webSocketOf('zeek/message-too-big-status.pcap');
    expect(ws.close.c2s).toMatchObject({ code: 1009, reason: 'over size limit (4 > 2 bytes)' });
    expect(ws.frames.find((f) => f.dir === 'c2s' && f.opcode === 'close')).toMatchObject({ closeCode: 1009, length: 31, masked: true });
    expect(ws.close.s2c).toMatchObject({ code: 1000 });
  });

  it('oversized-close-frame: a 258-byte Close is a protocol error, reported with its connection, direction and packet', async () => {
    const { conn, ws, model } = await webSocketOf('zeek/oversized-close-frame.pcapng');
    expect(only(ws.frames)).toMatchObject({ dir: 's2c', opcode: 'close', length: 258, closeCode: 1000, origin: { packet: 6 } });
    const tooLong = only(model.warnings.filter((w) => w.code === 'websocket.control-too-long'));
    expect(tooLong).toMatchObject({ severity: 'warning', connection: conn.id, direction: 's2c', packet: 6 });
    expect(tooLong.message).toContain('258 bytes exceeds 125');
  });

  it('websocket_compressed: permessage-deflate with 12-bit windows inflates both ways', async () => {
    const { ws, model } = await webSocketOf('zeek/websocket_compressed.pcap');
    expect(ws.deflate).toEqual({ serverMaxWindowBits: 12, clientMaxWindowBits: 12, serverNoContextTakeover: false, clientNoContextTakeover: false });
    expect(ws.frames.filter((f) => f.opcode === 'text').map((f) => [f.dir, f.rsv1, f.length])).toEqual([
      ['c2s', true, 32],
      ['s2c', true, 42],
    ]);
    const [hello, reply] = ws.messages;
    expect(hello).toMatchObject({ dir: 'c2s', compressed: true, complete: true, bytes: 1000 });
    expect(text(hello.head)).toBe('Hello_Zeek_Analyzer_'.repeat(5).slice(0, hello.head.length));
    expect(reply).toMatchObject({ dir: 's2c', compressed: true, complete: true, bytes: 1350 });
    expect(text(reply.head).startsWith('Zeek_WebSocket_Test_String_Zeek_')).toBe(true);
    expect(codes(model).filter((c) => c.startsWith('websocket.'))).toEqual([]);
  });

  it('websocket-compressed example: ten compressed server messages with the default 15-bit window', async () => {
    const { ws } = await webSocketOf('suricata-verify/websocket-compressed__example_websocket.pcap');
    expect(ws.deflate).toMatchObject({ clientMaxWindowBits: 15, serverMaxWindowBits: null });
    expect(ws.messages).toHaveLength(10);
    expect(ws.messages.every((m) => m.dir === 's2c' && m.compressed && m.complete)).toBe(true);
    expect(text(ws.messages[0].head)).toBe('KEY=07cb9559eff21e3e34f3bbd18240bac3');
    expect(ws.messages.slice(1).map((m) => text(m.head).slice(0, 7))).toEqual(Array(9).fill('TOGGLE='));
  });

  it('fragmented messages: 2 and 5 binary fragments reassemble into one message each', async () => {
    const two = await webSocketOf('zeek/two-binary-fragments.pcap');
    expect(two.ws.messages.filter((m) => m.dir === 's2c')).toEqual([expect.objectContaining({ opcode: 'binary', frames: 2, bytes: 12, complete: true })]);
    const five = await webSocketOf('zeek/fragmented-http-reply.pcap');
    expect(five.ws.messages.filter((m) => m.dir === 's2c')).toEqual([expect.objectContaining({ opcode: 'binary', frames: 5, bytes: 1 + 7 + 9 + 18 + 21, complete: true })]);
  });

  it('wrong-accept-header: the bad Sec-WebSocket-Accept is reported, the frames still listed', async () => {
    const { conn, ws, model } = await webSocketOf('zeek/wrong-accept-header.pcap');
    const bad = only(model.warnings.filter((w) => w.code === 'websocket.handshake'));
    // It points at the 101 (packet 6), in the server's direction.
    expect(bad).toMatchObject({ connection: conn.id, direction: 's2c', packet: 6 });
    expect(bad.message).toContain('N8ntNYkX6Qerw4tK3s/CYzpSZNc=-wrong');
    expect(ws.frames.map((f) => f.opcode)).toEqual(['ping']);
  });

  it('websocket-ping: an unmasked client PING is reported (RFC 6455 §5.1)', async () => {
    const { ws, model } = await webSocketOf('suricata-verify/websocket-ping__input.pcap');
    expect(ws.frames.map((f) => [f.dir, f.opcode, f.masked])).toEqual([
      ['c2s', 'ping', false],
      ['s2c', 'text', false],
      ['s2c', 'pong', false],
    ]);
    expect(codes(model)).toEqual(['websocket.masking']);
  });

  it('a handshake where every check passes says nothing', async () => {
    for (const name of ['zeek/websocket.pcap', 'zeek/jupyter-websocket.pcap', 'zeek/broker-websocket.pcap', 'suricata-verify/websocket__basic_websockets.pcap']) {
      expect(codes(await analyze(name)).filter((c) => c === 'websocket.handshake')).toEqual([]);
    }
  });

  it('http2-continuation: HEADERS + 2 CONTINUATION frames make one request; the server resets the stream', async () => {
    const { h2 } = only(await http2Of('suricata-verify/http2-continuation__input.pcap'));
    expect(h2.frames.filter((f) => f.streamId === 1 && f.dir === 'c2s').map((f) => `${f.type} ${f.flags}`)).toEqual(['HEADERS ', 'CONTINUATION 0x1', 'CONTINUATION END_HEADERS']);
    expect(only(h2.streams)).toMatchObject({ id: 1, method: 'GET', path: '/tata', status: 200, dataBytes: { c2s: 0, s2c: 13 }, reset: { dir: 's2c', error: 'NO_ERROR' } });
  });

  it('http2-errorcode: gRPC SayHello through a CONNECT proxy and direct, grpc-status 0, GOAWAY on both legs', async () => {
    const legs = await http2Of('suricata-verify/http2-errorcode__input.pcap');
    expect(legs.map(({ conn }) => conn.protocol)).toEqual(['grpc', 'grpc']);
    expect(legs[0].conn.requests[0]).toMatchObject({ method: 'CONNECT', target: '127.0.0.1:6233', status: 200 });
    for (const { h2 } of legs) {
      expect(only(h2.streams)).toMatchObject({ method: 'POST', path: '/helloworld.GreeterService/SayHello', status: 200, contentType: 'application/grpc', grpc: { status: 0, statusName: 'OK', message: 'OK' } });
      expect(h2.goaways.map((g) => [g.dir, g.error, g.lastStreamId])).toEqual([
        ['c2s', 'INTERNAL_ERROR', 0],
        ['s2c', 'NO_ERROR', 1],
      ]);
    }
    const { model } = legs[0];
    expect(model.rpcs.map((r) => [r.path, r.status, r.message])).toEqual(Array(2).fill(['/helloworld.GreeterService/SayHello', 0, 'OK']));
  });

  it('http2-keywords2: Upgrade: h2c turns the request into stream 1, answered in HTTP/2', async () => {
    const { conn, h2 } = only(await http2Of('suricata-verify/http2-keywords2__input.pcap'));
    expect(conn.protocol).toBe('http2');
    expect(h2.streams.map((s) => [s.id, s.method, s.path, s.status])).toEqual([
      [1, 'GET', '/robots.txt', 200],
      [3, 'GET', '/humans.txt', 404],
    ]);
    // The server's SETTINGS came in the segment of the 101.
    expect(h2.frames[0]).toMatchObject({ dir: 's2c', type: 'SETTINGS', origin: { packet: 2 } });
  });

  if (!hasTshark) console.warn('SKIPPED: tshark is not installed: frame counts were not compared with its dissectors');
  /** tshark finds HTTP only on its well-known ports: the proxy and the h2c server of http2-errorcode are named for it. */
  const DECODE_AS: Record<string, string[]> = { 'suricata-verify/http2-errorcode__input.pcap': ['-d', 'tcp.port==8888,http', '-d', 'tcp.port==6233,http2'] };

  (hasTshark ? it.each(CAPTURES) : it.skip.each(CAPTURES))('%s: WebSocket opcodes and HTTP/2 frame types counted as tshark counts them', async (name) => {
    const m = await analyze(name);
    expect(ourFrameCounts(m)).toEqual(tsharkFrameCounts(join(OUTSIDE, name), DECODE_AS[name]));
  });
});
