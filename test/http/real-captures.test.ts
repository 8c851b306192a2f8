/**
 * The HTTP layer on the TCP streams of the real kubectl v1.32.4 captures (fixtures/*.pcap), checked
 * against what the server logged in the truth files.
 */
import { readFileSync } from 'node:fs';
import { header } from '../../src/http/http-connection.js';
import { readTcpStreams, type TcpStreamCapture } from './pcap-tcp-streams.js';
import { HttpRecorder, text } from './http-test-kit.js';
import { HttpConnectionParser } from '../../src/http/http-connection.js';

interface Truth {
  sessions: { request_uri: string; http_method: string; http_status: number; transport: string; negotiated_subprotocol: string }[];
  http_requests_seen_by_server: { method: string; uri: string; client_addr: string }[];
}

function parse(conn: TcpStreamCapture): HttpRecorder {
  const sink = new HttpRecorder();
  const parser = new HttpConnectionParser(sink.sink, { label: `${conn.client}→${conn.server}` });
  for (const seg of conn.segments) parser.push(seg.dir, seg.data, { offset: seg.offset, length: seg.data.length, packet: seg.packet, ts: seg.ts });
  parser.end();
  return sink;
}

const plaintext = ['spdy-echo', 'spdy-exit-code', 'ws-echo', 'ws-stdin-cat', 'ws-tty-resize'];

describe.each(plaintext)('%s.pcap', (name) => {
  const truth = JSON.parse(readFileSync(`fixtures/${name}.truth.json`, 'utf8')) as Truth;
  const conns = readTcpStreams(`fixtures/${name}.pcap`).filter((c) => c.segments.length > 0);
  const parsed = conns.map((conn) => ({ conn, sink: parse(conn) }));

  it('sees every request the server logged, per connection and in order, answered', () => {
    for (const { conn, sink } of parsed) {
      const logged = truth.http_requests_seen_by_server.filter((r) => r.client_addr === conn.client).map((r) => [r.method, r.uri]);
      expect(sink.requests.map((r) => [r.method, r.target])).toEqual(logged);
      expect(sink.responses.length).toBe(sink.requests.length);
      expect(sink.problems).toEqual([]);
      expect(sink.originErrors).toEqual([]);
    }
  });

  it('delimits every discovery response body by its Content-Length', () => {
    const discovery = parsed.find(({ sink }) => sink.requests[0]?.target === '/version?timeout=5s');
    expect(discovery).toBeDefined();
    const responses = discovery!.sink.completions.filter((c) => c.dir === 's2c');
    expect(responses.map((c) => 'status' in c.head && c.head.status)).toEqual([200, 200, 200, 200, 200]);
    for (const c of responses) {
      expect(c.bodyLength).toBe(Number(header(c.head, 'content-length')));
      expect(JSON.parse(text(c.body))).toBeInstanceOf(Object);
    }
    // The whole s2c stream is accounted for by the five messages.
    expect(responses.reduce((sum, c) => sum + c.origin.length, 0)).toBe(discovery!.conn.bytes.s2c.length);
  });

  it('switches at the 101 and hands over exactly the bytes after the heads', () => {
    const session = truth.sessions[0];
    const exec = parsed.find(({ sink }) => sink.requests.some((r) => r.target === session.request_uri));
    expect(exec).toBeDefined();
    const { conn, sink } = exec!;
    expect(sink.log.filter((e) => e[0] === 'upgrade')).toEqual([['upgrade', session.request_uri, session.http_status]]);
    const req = sink.requests[0];
    const res = sink.responses[0];
    expect(req.method).toBe(session.http_method);
    const negotiated = session.transport === 'websocket' ? header(res, 'sec-websocket-protocol') : header(res, 'x-stream-protocol-version');
    expect(negotiated).toBe(session.negotiated_subprotocol);
    expect(sink.upgraded.c2s).toEqual([...conn.bytes.c2s.subarray(req.origin.length)]);
    expect(sink.upgraded.s2c).toEqual([...conn.bytes.s2c.subarray(res.origin.length)]);
    const firstServerFrame = sink.upgradedPieces.find((p) => p.dir === 's2c')!;
    expect(firstServerFrame.origin.offset).toBe(res.origin.length);
    // SPDY control frames start 0x80 0x03; the server's first WebSocket frame is an unmasked binary one.
    expect([...firstServerFrame.data.subarray(0, 2)]).toEqual(session.transport === 'spdy' ? [0x80, 0x03] : [0x82, firstServerFrame.data[1]]);
    expect(firstServerFrame.data[1] & 0x80).toBe(0);
  });
});

describe('tls-ws-keylog.pcap', () => {
  it('reports the TLS connections as not HTTP in both directions', () => {
    const conns = readTcpStreams('fixtures/tls-ws-keylog.pcap').filter((c) => c.segments.length > 0);
    expect(conns.length).toBe(2);
    for (const conn of conns) {
      expect(parse(conn).log).toEqual([
        ['not-http', 'c2s', 'does not start like an HTTP/1.x request'],
        ['not-http', 's2c', 'does not start like an HTTP/1.x response'],
      ]);
    }
  });
});
