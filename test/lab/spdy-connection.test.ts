import net from 'node:net';
import { SpdyConnection, type SpdyStream } from '../../src/lab/spdy-connection.js';
import { until } from '../kit/until.js';
import { describeSpdy, spdyFrames } from './wire-helpers.js';

/** A connected socket pair on loopback. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close: () => void }> {
  const listener = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const accepted = new Promise<net.Socket>((r) => listener.once('connection', r));
  const client = net.connect({ port: (listener.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const server = await accepted;
  return { client, server, close: () => (client.destroy(), server.destroy(), listener.close()) };
}

/** Everything `socket` receives from now on. */
function received(socket: net.Socket): () => Buffer {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
}

const frames = (bytes: () => Buffer) => describeSpdy(spdyFrames(bytes()));

describe('SpdyConnection', () => {
  test('streams as spdystream runs them: reply, data both ways, half-close, then the Kubernetes close', async () => {
    const { client, server, close } = await socketPair();
    try {
      const toClient = received(client);
      const toServer = received(server);
      const accepted: SpdyStream[] = [];
      const serverConn = new SpdyConnection(server, {
        role: 'server',
        onStream: (s) => {
          accepted.push(s);
          serverConn.replyTo(s);
        },
      });
      const clientConn = new SpdyConnection(client, { role: 'client' });
      const error = await clientConn.createStream({ streamType: 'error' });
      const stdin = await clientConn.createStream({ streamType: 'stdin' });
      const stdout = await clientConn.createStream({ streamType: 'stdout' });
      expect([error.id, stdin.id, stdout.id]).toEqual([1, 3, 5]);
      expect(accepted.map((s) => s.type)).toEqual(['error', 'stdin', 'stdout']);

      const got: string[] = [];
      stdin.write(Buffer.from('typed before anyone listens'));
      stdin.close();
      await until(() => frames(toServer).includes('DATA 3 FIN ""'));
      // The consumer attaches late: what arrived meanwhile, and the FIN, are delivered in order.
      accepted[1].consume(
        (b) => got.push(Buffer.from(b).toString()),
        (how) => got.push(`end:${how}`),
      );
      expect(got).toEqual(['typed before anyone listens', 'end:fin']);

      const out: string[] = [];
      stdout.consume((b) => out.push(Buffer.from(b).toString()), (how) => out.push(`end:${how}`));
      accepted[2].write(Buffer.from('hello'));
      accepted[2].close();
      accepted[0].write(Buffer.from('{"status":"Success"}'));
      serverConn.close();
      await until(() => frames(toClient).includes('GOAWAY 5 OK'));
      await until(() => out.length === 2);
      expect(out).toEqual(['hello', 'end:fin']);
      expect(frames(toClient)).toEqual([
        'SYN_REPLY 1',
        'SYN_REPLY 3',
        'SYN_REPLY 5',
        'DATA 5 "hello"',
        'DATA 5 FIN ""',
        'DATA 1 "{\\"status\\":\\"Success\\"}"',
        // Reset what this side has not finished (not stdout, already closed), then GOAWAY(last stream received).
        'RST_STREAM 1 CANCEL',
        'RST_STREAM 3 CANCEL',
        'GOAWAY 5 OK',
      ]);
      expect(frames(toServer)).toEqual([
        'SYN_STREAM 1 error',
        'SYN_STREAM 3 stdin',
        'SYN_STREAM 5 stdout',
        'DATA 3 "typed before anyone listens"',
        'DATA 3 FIN ""',
      ]);
    } finally {
      close();
    }
  });

  test('a SYN_STREAM never answered times out on the client', async () => {
    const { client, server, close } = await socketPair();
    try {
      new SpdyConnection(server, { role: 'server', onStream: () => {} });
      const clientConn = new SpdyConnection(client, { role: 'client' });
      await expect(clientConn.createStream({ streamType: 'error' }, 50)).rejects.toThrow('timeout waiting for SYN_REPLY');
    } finally {
      close();
    }
  });

  test('client pings periodically with odd ids; the server echoes them', async () => {
    const { client, server, close } = await socketPair();
    try {
      const toClient = received(client);
      const toServer = received(server);
      new SpdyConnection(server, { role: 'server' });
      const clientConn = new SpdyConnection(client, { role: 'client', pingPeriodMs: 20 });
      await until(() => frames(toClient).length >= 2);
      clientConn.close();
      expect(frames(toServer).slice(0, 2)).toEqual(['PING 1', 'PING 3']);
      expect(frames(toClient).slice(0, 2)).toEqual(['PING 1', 'PING 3']);
    } finally {
      close();
    }
  });

  test('a stream the peer resets, or a connection that goes away, ends its streams', async () => {
    const { client, server, close } = await socketPair();
    try {
      const accepted: SpdyStream[] = [];
      const serverConn = new SpdyConnection(server, { role: 'server', onStream: (s) => (accepted.push(s), serverConn.replyTo(s)) });
      const clientConn = new SpdyConnection(client, { role: 'client' });
      const a = await clientConn.createStream({ streamType: 'stdout' });
      const b = await clientConn.createStream({ streamType: 'stderr' });
      const ends: string[] = [];
      a.consume(() => {}, (how) => ends.push(`a:${how}`));
      b.consume(() => {}, (how) => ends.push(`b:${how}`));
      accepted[0].reset();
      await until(() => ends.length === 1);
      server.destroy();
      await until(() => ends.length === 2);
      expect(ends).toEqual(['a:reset', 'b:connection-closed']);
    } finally {
      close();
    }
  });
});
