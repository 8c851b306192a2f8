/**
 * Real TLS traffic for tests: a node:tls server on 127.0.0.1, a client, and a recording TCP relay
 * between them that keeps every chunk in the order it passed, per direction — what a capture on
 * the wire would hold. The client's 'keylog' events give the NSS key log.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Direction } from '../../src/core/origin.js';

export interface RecordedChunk {
  dir: Direction;
  data: Buffer;
}

export interface TlsConversation {
  chunks: RecordedChunk[];
  /** NSS key log written by the client. */
  keylog: string;
  clientSent: Buffer;
  serverSent: Buffer;
  /** TLS session for resuming (the last 'session' event). */
  session: Buffer | undefined;
  reused: boolean;
  protocol: string | null;
  cipher: string;
  alpn: string | false | null;
}

export interface ConversationScript {
  client?: tls.ConnectionOptions;
  /** Written one write() each as soon as the handshake completes. */
  clientMessages: string[];
  /** The first on the server's handshake completion, the rest once all client bytes arrived; then the server ends. */
  serverMessages: string[];
}

export class RecordingTlsServer {
  private readonly sessions = new Map<string, Buffer>();

  private constructor(
    private readonly server: tls.Server,
    private readonly port: number,
  ) {}

  /** `sessionIds`: resume by session id (RFC 5246) instead of tickets. */
  static async start(options: tls.TlsOptions, sessionIds = false): Promise<RecordingTlsServer> {
    const server = tls.createServer({ ticketKeys: Buffer.alloc(48, 7), ...options });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const recording = new RecordingTlsServer(server, (server.address() as net.AddressInfo).port);
    if (sessionIds) {
      server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
        recording.sessions.set(id.toString('hex'), data);
        done();
      });
      server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
        done(null, recording.sessions.get(id.toString('hex')) ?? null);
      });
    }
    return recording;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  async converse(script: ConversationScript): Promise<TlsConversation> {
    const chunks: RecordedChunk[] = [];
    const clientBytes = Buffer.from(script.clientMessages.join(''));
    const serverBytes = Buffer.from(script.serverMessages.join(''));

    const onSecure = (socket: tls.TLSSocket): void => {
      let received = 0;
      socket.write(script.serverMessages[0]);
      socket.on('data', (d: Buffer) => {
        received += d.length;
        if (received < clientBytes.length) return;
        for (const m of script.serverMessages.slice(1)) socket.write(m);
        socket.end();
      });
      socket.on('error', () => {});
    };
    this.server.on('secureConnection', onSecure);

    const relay = net.createServer({ allowHalfOpen: true });
    const relayClosed = new Promise<void>((resolve) => {
      relay.on('connection', (down) => {
        const up = net.connect({ port: this.port, host: '127.0.0.1', allowHalfOpen: true });
        let open = 2;
        const closed = (): void => {
          if (--open === 0) resolve();
        };
        down.on('data', (d: Buffer) => {
          chunks.push({ dir: 'c2s', data: Buffer.from(d) });
          up.write(d);
        });
        up.on('data', (d: Buffer) => {
          chunks.push({ dir: 's2c', data: Buffer.from(d) });
          down.write(d);
        });
        down.on('end', () => up.end());
        up.on('end', () => down.end());
        down.on('close', closed);
        up.on('close', closed);
        down.on('error', () => {});
        up.on('error', () => {});
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));

    const keylog: string[] = [];
    let session: Buffer | undefined;
    const result = await new Promise<Omit<TlsConversation, 'chunks' | 'keylog' | 'session'>>((resolve, reject) => {
      const client = tls.connect({
        host: '127.0.0.1',
        port: (relay.address() as net.AddressInfo).port,
        rejectUnauthorized: false,
        ...script.client,
      });
      const received: Buffer[] = [];
      client.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));
      client.on('session', (s: Buffer) => (session = s));
      client.on('error', reject);
      client.on('secureConnect', () => {
        for (const m of script.clientMessages) client.write(m);
      });
      client.on('data', (d: Buffer) => received.push(d));
      client.on('end', () => {
        client.end();
        resolve({
          clientSent: clientBytes,
          serverSent: Buffer.concat(received),
          reused: client.isSessionReused(),
          protocol: client.getProtocol(),
          cipher: client.getCipher().name,
          alpn: client.alpnProtocol,
        });
      });
    });
    await relayClosed;
    await new Promise<void>((resolve) => relay.close(() => resolve()));
    this.server.off('secureConnection', onSecure);
    if (!result.serverSent.equals(serverBytes)) throw new Error('the client did not receive what the server sent');
    return { ...result, chunks, keylog: keylog.join(''), session };
  }
}
