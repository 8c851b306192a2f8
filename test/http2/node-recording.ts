/**
 * Records a real HTTP/2 (h2c) conversation between node:http2's client and server, through a TCP relay
 * on 127.0.0.1 that keeps every chunk each side wrote, in the order the relay saw them.
 */
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import type { Chunk } from './h2-frames.js';

export const FIXED_DATE = 'Mon, 01 Jan 2024 00:00:00 GMT';
export const POD_JSON = JSON.stringify({ kind: 'Pod', metadata: { name: 'web-0', annotations: { pad: 'p'.repeat(6000) } } });
export const VERSION_JSON = '{"major":"1","minor":"32","gitVersion":"v1.32.4"}';

export interface ExchangeResult {
  streamId: number;
  /** Raw header pairs as node's client saw the response. */
  response: [string, string][];
  trailers: [string, string][];
  body: string;
}

export interface Recording {
  chunks: Chunk[];
  authority: string;
  /** Raw header pairs as node's server saw each request, by stream id. */
  requests: Map<number, [string, string][]>;
  results: ExchangeResult[];
}

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const path = headers[':path'];
  if (path === '/version') {
    stream.respond({ ':status': 200, 'content-type': 'application/json', date: FIXED_DATE });
    stream.end(VERSION_JSON);
  } else if (path === '/api/v1/namespaces/default/pods/web-0') {
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'audit-id': 'a1b2c3', date: FIXED_DATE });
    stream.end(POD_JSON);
  } else if (path === '/echo') {
    let body = '';
    stream.setEncoding('latin1');
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => {
      stream.respond({ ':status': 201, 'content-type': 'text/plain', date: FIXED_DATE }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': sha256(body) }));
      stream.end(body);
    });
  } else if (path === '/big-header') {
    stream.respond({ ':status': 204, date: FIXED_DATE }, { endStream: true });
  } else {
    stream.respond({ ':status': 404, date: FIXED_DATE }, { endStream: true });
  }
}

/** Sends each request in turn (waiting for each response) and records the whole connection. */
export async function recordExchange(
  requests: { headers: http2.OutgoingHttpHeaders; body?: string }[],
  padded = false,
): Promise<Recording> {
  const paddingStrategy = padded ? http2.constants.PADDING_STRATEGY_MAX : http2.constants.PADDING_STRATEGY_NONE;
  const seen = new Map<number, [string, string][]>();
  const server = http2.createServer({ paddingStrategy });
  // node passes the raw header list as a 4th argument that @types/node does not declare.
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) => {
    seen.set(stream.id!, pairs(rawHeaders!));
    serve(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const serverPort = (server.address() as net.AddressInfo).port;

  const chunks: Chunk[] = [];
  let closedSockets = 0;
  let allClosed!: () => void;
  const bothClosed = new Promise<void>((resolve) => (allClosed = resolve));
  const relay = net.createServer((down) => {
    relay.close(); // one connection only
    const up = net.connect(serverPort, '127.0.0.1');
    const record = (dir: Chunk['dir'], to: net.Socket) => (b: Buffer) => {
      chunks.push({ dir, bytes: new Uint8Array(b) });
      to.write(b);
    };
    down.on('data', record('c2s', up));
    up.on('data', record('s2c', down));
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    const onClose = () => {
      if (++closedSockets === 2) allClosed();
    };
    down.on('close', onClose);
    up.on('close', onClose);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const relayPort = (relay.address() as net.AddressInfo).port;

  const client = http2.connect(`http://127.0.0.1:${relayPort}`, { paddingStrategy });
  const results: ExchangeResult[] = [];
  for (const { headers, body } of requests) {
    const req = client.request(headers, { endStream: body === undefined });
    const result: ExchangeResult = { streamId: 0, response: [], trailers: [], body: '' };
    req.setEncoding('latin1');
    req.on('response', (_h: http2.IncomingHttpHeaders, _f: number, raw?: string[]) => (result.response = pairs(raw!)));
    req.on('trailers', (_h: http2.IncomingHttpHeaders, _f: number, raw?: string[]) => (result.trailers = pairs(raw!)));
    req.on('data', (d: string) => (result.body += d));
    if (body !== undefined) req.end(body);
    await new Promise<void>((resolve, reject) => {
      req.on('end', resolve);
      req.on('error', reject);
    });
    result.streamId = req.id!;
    results.push(result);
  }
  client.close();
  await bothClosed;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { chunks, authority: `127.0.0.1:${relayPort}`, requests: seen, results };
}
