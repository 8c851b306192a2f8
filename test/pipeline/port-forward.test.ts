/**
 * Port-forward sessions through the whole pipeline: SPDY `portforward.k8s.io` (kubelet and CRI hops,
 * kubectl's SPDY fallback) and SPDY tunnelled in WebSocket binary messages
 * (`SPDY/3.1+portforward.k8s.io`, what kubectl ≥ 1.31 sends the apiserver).
 */
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import { SpdyFrameEncoder } from '../../src/spdy/frame-encoder.js';
import { Opcode } from '../../src/websocket/frame-header.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { outcomeText } from '../../src/report/outcome.js';
import { sessionOutcome } from '../../src/report/session-summary.js';
import { analyzeBytes, pcapOf, sha256 } from '../helpers/synthetic-capture.js';
import { randomFromSeed } from '../kit/random.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const TARGET = '/api/v1/namespaces/default/pods/web-0/portforward';

/** One forwarded connection per request id: its error and data streams, a request and a reply. */
function forwardedConnections(client: SpdyFrameEncoder, server: SpdyFrameEncoder, port: number, requests: number) {
  const c2s: Uint8Array[] = [];
  const s2c: Uint8Array[] = [];
  const sent: Uint8Array[] = [];
  const received: Uint8Array[] = [];
  for (let r = 0; r < requests; r++) {
    const errorId = 4 * r + 1;
    const dataId = 4 * r + 3;
    const headers = (type: string) => ({ streamtype: type, port: String(port), requestid: String(r) });
    c2s.push(client.synStream(errorId, headers('error')), client.synStream(dataId, headers('data')));
    s2c.push(server.synReply(errorId, {}), server.synReply(dataId, {}));
    const request = ascii(`GET /${r} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const reply = ascii(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nreq${r}\n`);
    sent.push(request);
    received.push(reply);
    c2s.push(client.data(dataId, request, { fin: true }), client.data(errorId, new Uint8Array(0), { fin: true }));
    s2c.push(server.data(dataId, reply, { fin: true }), server.data(errorId, new Uint8Array(0), { fin: true }));
  }
  return { c2s, s2c, sent, received };
}

function upgrade(tcp: SyntheticTcpConnection, request: string[], reply: string[]) {
  return [...tcp.handshake(), ...tcp.send('c2s', ascii([...request, '', ''].join('\r\n'))), ...tcp.send('s2c', ascii([...reply, '', ''].join('\r\n')))];
}

/** kubectl ≥ 1.31's port-forward upgrade to the apiserver, and its 101. */
function tunnelUpgrade(tcp: SyntheticTcpConnection) {
  return upgrade(
    tcp,
    [`GET ${TARGET} HTTP/1.1`, 'Host: 10.0.0.1:6443', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io', 'Sec-WebSocket-Version: 13'],
    ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io'],
  );
}

/** The apiserver's SPDY port-forward upgrade to the kubelet, and its 101. */
function kubeletUpgrade(tcp: SyntheticTcpConnection) {
  return upgrade(
    tcp,
    ['POST /portForward/default/web-0 HTTP/1.1', 'Host: 10.0.0.1:10250', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', 'X-Stream-Protocol-Version: portforward.k8s.io'],
    ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', 'X-Stream-Protocol-Version: portforward.k8s.io'],
  );
}

test('SPDY port-forward: a data and an error stream per forwarded connection, named by port and request id', () => {
  const tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 40001 }, { ip: '10.0.0.1', port: 10250 }, 1448);
  const frames = kubeletUpgrade(tcp);
  const flow = forwardedConnections(new SpdyFrameEncoder(), new SpdyFrameEncoder(), 8080, 2);
  for (let i = 0; i < flow.c2s.length; i++) frames.push(...tcp.send('c2s', flow.c2s[i]), ...(flow.s2c[i] ? tcp.send('s2c', flow.s2c[i]) : []));
  frames.push(...tcp.close());
  const m = analyzeBytes(pcapOf(frames));
  expect(m.sessions).toHaveLength(1);
  const s = m.sessions[0];
  expect(s).toMatchObject({ kind: 'portforward', hop: 'kubelet', transport: 'spdy', protocol: 'portforward.k8s.io', pod: 'web-0', state: 'complete', exit: null });
  expect(sessionOutcome(s, m.sessions)).toEqual({ text: '2 connections forwarded to port 8080', severity: 'ok' });
  expect(s.streams.map((r) => r.name).sort()).toEqual(['data:8080:0', 'data:8080:1', 'error:8080:0', 'error:8080:1']);
  const data0 = s.streams.find((r) => r.name === 'data:8080:0')!;
  // A data stream carries both ways; its bytes count what both sides sent.
  expect(data0.bytes).toBe(flow.sent[0].length + flow.received[0].length);
  expect(data0.closedAt.c2s).not.toBeNull();
  expect(data0.closedAt.s2c).not.toBeNull();
  expect(m.warnings).toEqual([]);
});

test('port-forward tunnelled in WebSocket: the SPDY connection inside the binary messages is decoded', () => {
  const tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 40002 }, { ip: '10.0.0.1', port: 6443 }, 1448);
  const frames = tunnelUpgrade(tcp);
  const wsClient = new WebSocketFrameEncoder({ client: true, maskKeys: () => 0x11223344 });
  const wsServer = new WebSocketFrameEncoder({ client: false });
  const flow = forwardedConnections(new SpdyFrameEncoder(), new SpdyFrameEncoder(), 80, 3);
  // client-go writes each SPDY frame as its own message; a big one may also come fragmented.
  for (let i = 0; i < flow.c2s.length; i++) {
    frames.push(...tcp.send('c2s', wsClient.frame(Opcode.Binary, flow.c2s[i])));
    if (flow.s2c[i]) frames.push(...tcp.send('s2c', wsServer.message(Opcode.Binary, flow.s2c[i], { fragmentSize: 7 })));
  }
  frames.push(...tcp.send('s2c', wsServer.close(1000)), ...tcp.close());
  const m = analyzeBytes(pcapOf(frames));
  expect(m.sessions).toHaveLength(1);
  const s = m.sessions[0];
  expect(s).toMatchObject({ kind: 'portforward', hop: 'apiserver', transport: 'websocket', protocol: 'SPDY/3.1+portforward.k8s.io', state: 'complete' });
  expect(s.streams.map((r) => r.name).sort()).toEqual(['data:80:0', 'data:80:1', 'data:80:2', 'error:80:0', 'error:80:1', 'error:80:2']);
  for (let r = 0; r < 3; r++) {
    const data = s.streams.find((x) => x.name === `data:80:${r}`)!;
    expect(data.bytes).toBe(flow.sent[r].length + flow.received[r].length);
    expect(Buffer.concat(data.head).toString()).toContain(`req${r}`);
  }
  expect(m.warnings).toEqual([]);
});

test('the tunnelled bytes hash as what the forwarded connection carried', () => {
  const tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 40003 }, { ip: '10.0.0.1', port: 6443 }, 65483);
  const frames = tunnelUpgrade(tcp);
  const spdy = new SpdyFrameEncoder();
  const ws = new WebSocketFrameEncoder({ client: false });
  const client = new WebSocketFrameEncoder({ client: true, maskKeys: () => 1 });
  const body = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
  frames.push(...tcp.send('c2s', client.frame(Opcode.Binary, new SpdyFrameEncoder().synStream(1, { streamtype: 'data', port: '5432', requestid: '0' }))));
  frames.push(...tcp.send('s2c', Buffer.concat([ws.frame(Opcode.Binary, spdy.synReply(1, {})), ws.frame(Opcode.Binary, spdy.data(1, body))])));
  frames.push(...tcp.close());
  const s = analyzeBytes(pcapOf(frames), { hash: true }).sessions[0];
  expect(s.streams.find((r) => r.name === 'data:5432:0')).toMatchObject({ bytes: body.length, sha256: sha256(body) });
});

test('an error the server sends back for a forwarded connection, and a connection the server reset, are the outcome', () => {
  const tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 40004 }, { ip: '10.0.0.1', port: 10250 }, 1448);
  const frames = kubeletUpgrade(tcp);
  const client = new SpdyFrameEncoder();
  const server = new SpdyFrameEncoder();
  const headers = (type: string) => ({ streamtype: type, port: '9999', requestid: '0' });
  frames.push(...tcp.send('c2s', Buffer.concat([client.synStream(1, headers('error')), client.synStream(3, headers('data'))])));
  const error = 'error forwarding port 9999 to pod 1f2e, uid : failed to connect to localhost:9999 inside namespace "1f2e": connection refused\x1b]0;pwned\x07';
  frames.push(...tcp.send('s2c', Buffer.concat([server.synReply(1, {}), server.synReply(3, {}), server.data(1, ascii(error), { fin: true })])));
  const m = analyzeBytes(pcapOf([...frames, tcp.reset('s2c')]));
  const s = m.sessions[0];
  expect(s.state).toBe('aborted');
  expect(outcomeText(s)).toMatch(/^1 connection forwarded to port 9999 · 1 failed: error forwarding port 9999 to pod 1f2e.*connection refused.*· connection reset$/);
  const shown = sessionOutcome(s, m.sessions);
  expect(shown.severity).toBe('error');
  expect(shown.text).not.toContain('\x1b');
  // kubectl quitting (Ctrl-C) with bytes left unread resets the connection itself: its own end.
  expect(analyzeBytes(pcapOf([...frames, tcp.reset('c2s')])).sessions[0].state).toBe('complete');
});

test('hostile bytes in the tunnel: SPDY that is garbage, a header bomb, frames cut anywhere — decoded as far as they go, never a crash', () => {
  const random = randomFromSeed(99);
  const rand = () => Math.floor(random() * 0x10000);
  const spdy = new SpdyFrameEncoder();
  // A header block that inflates to 8 MiB (the decoder stops at its cap), then a normal stream.
  const bomb = spdy.synStream(3, { streamtype: 'error', port: '80', requestid: '0', padding: 'a'.repeat(8 << 20) });
  expect(bomb.length).toBeLessThan(64 * 1024);
  const valid = Buffer.concat([bomb, spdy.synStream(1, { streamtype: 'data', port: '80', requestid: '0' }), spdy.data(1, ascii('x'.repeat(3000)))]);
  for (let round = 0; round < 40; round++) {
    const tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 41000 + round }, { ip: '10.0.0.1', port: 6443 }, 1448);
    const frames = tunnelUpgrade(tcp);
    const ws = new WebSocketFrameEncoder({ client: true, maskKeys: () => rand() });
    // Valid SPDY with bytes flipped at random, cut into messages of random sizes.
    const bytes = Buffer.from(valid);
    for (let k = 0; k < round; k++) bytes[rand() % bytes.length] = rand() & 0xff;
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + (rand() % 700);
      frames.push(...tcp.send('c2s', ws.frame(Opcode.Binary, bytes.subarray(at, at + n))));
      at += n;
    }
    frames.push(...tcp.close());
    const m = analyzeBytes(pcapOf(frames));
    expect(m.fatal).toBeNull();
    expect(m.sessions).toHaveLength(1);
    const data = m.sessions[0].streams.reduce((n, r) => n + r.bytes, 0);
    expect(data).toBeLessThanOrEqual(valid.length);
    if (round === 0) {
      expect(m.sessions[0].warnings.map((w) => w.message).join('\n')).toMatch(/header block inflates to more than 262144 bytes \(zlib bomb\?\)/);
      // The shared zlib context is gone with it: the next stream's headers are unknown, its bytes still counted.
      expect(m.sessions[0].streams.find((r) => r.name === 'stream-1')?.bytes).toBe(3000);
    }
  }
});
