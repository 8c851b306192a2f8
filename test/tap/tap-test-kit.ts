/** Servers and clients for the tap tests: real sockets on loopback and unix sockets, closed by the tests. */
import { createHash } from 'node:crypto';
import net from 'node:net';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A server that reads everything until the client's FIN, then answers with `reply(received)` and
 * closes its side: a half-close in each direction, as a runtime answering a request does.
 */
export async function startReplyServer(
  listenOn: { port: number; host: string } | { path: string },
  reply: (received: Buffer) => Buffer,
): Promise<{ server: net.Server; address: string; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const parts: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    socket.on('end', () => socket.end(reply(Buffer.concat(parts))));
  });
  await new Promise<void>((resolve) => server.listen(listenOn, resolve));
  const bound = server.address();
  const address = typeof bound === 'string' ? `unix:${bound}` : `127.0.0.1:${bound!.port}`;
  return {
    server,
    address,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects, sends `data`, half-closes, and collects the reply until the server's FIN. */
export function exchange(connectTo: { port: number; host: string } | { path: string }, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...connectTo, allowHalfOpen: true });
    const parts: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(parts));
    });
    socket.end(data);
  });
}

export function connectOptions(address: string): { port: number; host: string } | { path: string } {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) };
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}
