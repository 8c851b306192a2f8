import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { WebSocketChannelServer } from '../../src/lab/ws-channel-server.js';
import { until } from '../kit/until.js';
import { serverFrames } from './wire-helpers.js';

interface Harness {
  /** Raw bytes the client received. */
  received: () => Buffer;
  send: (bytes: Uint8Array) => void;
  events: string[];
  server: () => WebSocketChannelServer | null;
  closed: Promise<void>;
  stop: () => void;
}

const client = new WebSocketFrameEncoder({ client: true });

async function connect(request: string, protocols: string[], readChannels: number[], extra?: Uint8Array): Promise<Harness> {
  const events: string[] = [];
  let ws: WebSocketChannelServer | null = null;
  const httpServer = http.createServer();
  httpServer.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    ws = WebSocketChannelServer.accept(req, socket, head, protocols, new Set(readChannels), {
      onData: (ch, data) => events.push(`data ${ch} ${Buffer.from(data).toString()}`),
      onChannelClosed: (ch) => events.push(`closed ${ch}`),
      onClose: () => events.push('connection closed'),
    });
    ws?.begin();
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
  const sock = net.connect((httpServer.address() as net.AddressInfo).port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  sock.write(extra ? Buffer.concat([Buffer.from(request), extra]) : request);
  return {
    received: () => Buffer.concat(chunks),
    send: (b) => sock.write(b),
    events,
    server: () => ws,
    closed,
    stop: () => (sock.destroy(), httpServer.close()),
  };
}

const upgrade = (protocols: string, method = 'GET') =>
  `${method} /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${protocols ? `Sec-WebSocket-Protocol: ${protocols}\r\n` : ''}\r\n`;

function framesAfterHead(bytes: Buffer): [number, Buffer][] {
  return serverFrames(bytes.subarray(bytes.indexOf('\r\n\r\n') + 4));
}

describe('WebSocketChannelServer', () => {
  test('handshake: the first client protocol the server allows, RFC 6455 accept key, x/net/websocket header order', async () => {
    const h = await connect(upgrade('v4.channel.k8s.io, v5.channel.k8s.io'), ['v5.channel.k8s.io', 'v4.channel.k8s.io'], [0]);
    try {
      await until(() => h.received().includes('\r\n\r\n'));
      expect(h.received().toString()).toBe(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n',
      );
    } finally {
      h.stop();
    }
  });

  test('no protocol in common: 403 with no body, as a failed x/net/websocket Handshake', async () => {
    const h = await connect(upgrade('v5.channel.k8s.io'), ['channel.k8s.io'], []);
    await h.closed;
    expect(h.received().toString()).toBe('HTTP/1.1 403 Forbidden\r\n\r\n');
    expect(h.server()).toBeNull();
    h.stop();
  });

  test('a client that names no protocol gets the "" protocol where allowed', async () => {
    const h = await connect(upgrade(''), ['', 'channel.k8s.io'], []);
    try {
      await until(() => h.received().includes('\r\n\r\n'));
      expect(h.server()!.protocol).toBe('');
      expect(h.received().toString()).not.toContain('Sec-WebSocket-Protocol');
    } finally {
      h.stop();
    }
  });

  test('POST is refused', async () => {
    const h = await connect(upgrade('v5.channel.k8s.io', 'POST'), ['v5.channel.k8s.io'], []);
    await h.closed;
    expect(h.received().toString()).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    h.stop();
  });

  test('v5: channel data (also in the request packet), CLOSE signal, ping → pong, writes, Close(1000)', async () => {
    const early = client.channelMessage(0, Buffer.from('early'));
    const h = await connect(upgrade('v5.channel.k8s.io'), ['v5.channel.k8s.io'], [0, 4], early);
    try {
      await until(() => h.server() !== null);
      h.send(client.channelMessage(0, Buffer.from('more')));
      h.send(client.channelMessage(2, Buffer.from('not a read channel')));
      h.send(client.ping(Buffer.from('p1')));
      h.send(client.closeChannel(0));
      await until(() => h.events.includes('closed 0'));
      expect(h.events).toEqual(['data 0 early', 'data 0 more', 'closed 0']);
      const ws = h.server()!;
      ws.write(1, Buffer.from('out'));
      ws.write(3, Buffer.from('{"status":"Success"}'));
      ws.close();
      await h.closed;
      expect(framesAfterHead(h.received()).map(([op, p]) => [op, p.toString('latin1')])).toEqual([
        [0xa, 'p1'],
        [0x2, '\x01out'],
        [0x2, '\x03{"status":"Success"}'],
        [0x8, '\x03\xe8'],
      ]);
    } finally {
      h.stop();
    }
  });

  test('a malformed CLOSE signal aborts the connection', async () => {
    const h = await connect(upgrade('v5.channel.k8s.io'), ['v5.channel.k8s.io'], [0]);
    await until(() => h.server() !== null);
    h.send(client.channelMessage(255, Buffer.from([0, 0])));
    await h.closed;
    expect(h.server()!.notes[0]).toMatch(/^v5 CLOSE signal must be exactly 2 bytes/);
    h.stop();
  });

  test('base64.channel.k8s.io: text frames both ways', async () => {
    const h = await connect(upgrade('base64.channel.k8s.io'), ['channel.k8s.io', 'base64.channel.k8s.io'], [0]);
    try {
      await until(() => h.server() !== null);
      h.send(client.base64ChannelMessage(0, Buffer.from('hi there')));
      await until(() => h.events.length === 1);
      expect(h.events).toEqual(['data 0 hi there']);
      h.server()!.write(1, Buffer.from('ok'));
      h.server()!.close();
      await h.closed;
      expect(framesAfterHead(h.received()).map(([op, p]) => [op, p.toString('latin1')])).toEqual([
        [0x1, '1b2s='],
        [0x8, '\x03\xe8'],
      ]);
    } finally {
      h.stop();
    }
  });

  test("the client's Close frame ends every read channel", async () => {
    const h = await connect(upgrade('v5.channel.k8s.io'), ['v5.channel.k8s.io'], [0, 4]);
    try {
      await until(() => h.server() !== null);
      h.send(client.close(1000));
      await until(() => h.events.length === 2);
      expect(h.events).toEqual(['closed 0', 'closed 4']);
      expect(h.server()!.isClosed).toBe(true);
    } finally {
      h.stop();
    }
  });
});
