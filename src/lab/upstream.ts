/**
 * The client side of a hop: dial the next server on loopback, write an HTTP/1.1 upgrade request laid
 * out as Go's Request.Write does (request line, Host, User-Agent, Content-Length, then the other
 * fields sorted by name), and read the response head. Used by the apiserver and kubelet proxies
 * (UpgradeAwareHandler) and by the stream translator's SPDY client. IO code.
 */
import net from 'node:net';

const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

export interface UpstreamResponse {
  socket: net.Socket;
  status: number;
  headers: Map<string, string[]>;
  /** Every byte read so far: the head and whatever followed it in the same reads. */
  raw: Buffer;
  /** Length of the head (through the blank line) within raw. */
  headLength: number;
}

/** Header fields as [name, value] pairs (one pair per value), names as they should appear on the wire. */
export type HeaderPairs = [string, string][];

export function requestHead(method: string, target: string, host: string, fields: HeaderPairs): Buffer {
  const special = new Set(['host', 'user-agent', 'content-length']);
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`];
  const userAgent = fields.find(([n]) => n.toLowerCase() === 'user-agent');
  lines.push(`User-Agent: ${userAgent ? userAgent[1] : 'Go-http-client/1.1'}`);
  const contentLength = fields.find(([n]) => n.toLowerCase() === 'content-length');
  if (contentLength) lines.push(`Content-Length: ${contentLength[1]}`);
  const rest = fields.filter(([n]) => !special.has(n.toLowerCase()));
  // Stable sort by name keeps the values of one field in their order.
  rest.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, value] of rest) lines.push(`${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** Connects, writes `head`, and resolves with the parsed response head (rejects on connect errors). */
export function dialUpgrade(port: number, head: Buffer, extra?: Buffer): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.setNoDelay(true);
    const chunks: Buffer[] = [];
    let total = 0;
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      const raw = Buffer.concat(chunks, total);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) {
        if (total > MAX_RESPONSE_HEAD_BYTES) fail(new Error('response head too long'));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
      socket.pause();
      const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? NaN);
      if (!Number.isInteger(status)) return fail(new Error(`malformed HTTP response: ${JSON.stringify(lines[0])}`));
      const headers = new Map<string, string[]>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
      }
      resolve({ socket, status, headers, raw, headLength: end + 4 });
    };
    const onEnd = () => fail(new Error('connection closed before the response'));
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('end', onEnd);
    socket.once('connect', () => {
      socket.write(head);
      if (extra?.length) socket.write(extra);
    });
  });
}

/** Reads the rest of a non-101 response's body (by Content-Length) and closes the connection. */
export async function readResponseBody(res: UpstreamResponse): Promise<Buffer> {
  const length = Number(res.headers.get('content-length')?.[0] ?? NaN);
  let body = res.raw.subarray(res.headLength);
  if (Number.isInteger(length) && body.length < length && length <= MAX_RESPONSE_HEAD_BYTES) {
    const chunks: Buffer[] = [body];
    let got = body.length;
    await new Promise<void>((resolve) => {
      res.socket.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (got >= length) resolve();
      });
      res.socket.once('close', () => resolve());
      res.socket.once('end', () => resolve());
      res.socket.resume();
    });
    body = Buffer.concat(chunks);
  }
  res.socket.destroy();
  return Number.isInteger(length) ? body.subarray(0, length) : body;
}
