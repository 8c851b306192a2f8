/**
 * apimachinery's UpgradeAwareHandler.tryUpgrade, as the apiserver (SPDY, legacy WebSocket) and the
 * kubelet (everything) use it: dial the backend, write the cloned request with the backend's location
 * and X-Forwarded-For, read its response head; a non-101 answer is echoed and both connections
 * closed; a 101 is forwarded raw and the bytes copied both ways until either side stops, then both
 * connections are closed. Counts the bytes copied, so the truth can tell whether this leg carried
 * exactly what the backend did. IO code.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusError } from './http-replies.js';
import type { HopUpgrade } from './hop-upgrade.js';
import type { LabObservations, ProxyCounts, SessionObservation } from './observations.js';
import { internalErrorStatus } from './status-json.js';
import { dialUpgrade, readResponseBody, requestHead, type HeaderPairs, type UpstreamResponse } from './upstream.js';

/** How long a half-closed client connection is read for its FIN before it is closed anyway. */
const LINGER_MS = 10_000;

/** Request fields the proxy drops: the apiserver's authentication filter removes the credentials. */
const DROPPED = new Set(['authorization', 'host', 'x-forwarded-for']);

export function forwardedHeaders(req: IncomingMessage): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    if (!DROPPED.has(name.toLowerCase())) pairs.push([name, req.rawHeaders[i + 1]]);
  }
  const previous = req.headers['x-forwarded-for'];
  const client = req.socket.remoteAddress ?? '127.0.0.1';
  pairs.push(['X-Forwarded-For', previous ? `${previous}, ${client}` : client]);
  return pairs;
}

/**
 * Sends the upgrade `request` (and `head`, bytes that came after the client's) to the backend and
 * returns its 101. Anything else ends the session: a failed dial is a 500 Status to the client, a
 * non-101 answer is echoed to it as it came; then null.
 */
export async function dialBackend(
  observations: LabObservations,
  session: SessionObservation,
  socket: Duplex,
  backendPort: number,
  request: Buffer,
  head?: Buffer,
): Promise<UpstreamResponse | null> {
  let upstream;
  try {
    upstream = await dialUpgrade(backendPort, request, head);
  } catch (err) {
    session.httpStatus = 500;
    socket.end(statusError(500, internalErrorStatus(`error dialing backend: ${(err as Error).message}`)));
    observations.endSession(session, 'rejected-before-upgrade');
    return null;
  }
  session.upstreamClientAddr = `127.0.0.1:${upstream.socket.localPort}`;
  session.httpStatus = upstream.status;
  if (upstream.status === 101) return upstream;
  // Echo the backend's answer, then close both connections.
  const body = await readResponseBody(upstream);
  socket.end(Buffer.concat([upstream.raw.subarray(0, upstream.headLength), body]));
  observations.endSession(session, 'rejected-before-upgrade');
  return null;
}

export async function proxyUpgrade(up: HopUpgrade, backendPort: number, backendTarget: string): Promise<void> {
  const { observations, session, conn, req, socket, head } = up;
  const request = requestHead(req.method ?? 'GET', backendTarget, `127.0.0.1:${backendPort}`, forwardedHeaders(req));
  const upstream = await dialBackend(observations, session, socket, backendPort, request, head);
  if (!upstream) return;
  const backend = upstream.socket;
  const headers = upstream.headers;
  session.negotiatedProtocol = headers.get('x-stream-protocol-version')?.[0] ?? headers.get('sec-websocket-protocol')?.[0] ?? '';
  const counts: ProxyCounts = {
    clientIn: head.length,
    backendOut: request.length + head.length,
    requestHeadBytes: request.length,
    backendIn: upstream.raw.length,
    clientOut: upstream.raw.length,
  };
  session.proxy = counts;
  socket.write(upstream.raw);
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    // One direction stopped: Go's deferred Close()s end both connections. The client's side is
    // half-closed and read (and dropped) until its FIN instead: closed outright, the kernel answers
    // the client's next PING with an RST while our FIN still waits behind the output's tail, and the
    // tail is lost — 23,919 B of a 25 MB output on the apiserver→kubelet hop, the translator then
    // reporting Success. LINGER_MS caps the wait for a client that never closes.
    session.closedNextHopUnread = !backend.readableEnded;
    backend.destroy();
    socket.end();
    socket.resume();
    if (socket.readableEnded) socket.once('finish', () => socket.destroy());
    else {
      socket.once('finish', () => setTimeout(() => socket.destroy(), LINGER_MS).unref());
      socket.once('end', () => socket.destroy());
    }
    const end = conn.tapped.wasReset ? `reset: ${conn.faultAction ?? 'connection reset'}` : conn.faultAction ? `aborted: ${conn.faultAction}` : 'clean';
    observations.endSession(session, end);
  };
  pipe(socket, backend, (n) => (counts.clientIn += n), (n) => (counts.backendOut += n), finish);
  pipe(backend, socket, (n) => (counts.backendIn += n), (n) => (counts.clientOut += n), finish);
  backend.resume();
}

/** Copies `from` → `to` with backpressure until `from` ends or either side closes. */
function pipe(from: Duplex, to: Duplex, read: (n: number) => void, written: (n: number) => void, done: () => void): void {
  from.on('data', (chunk: Buffer) => {
    read(chunk.length);
    if (to.destroyed || to.writableEnded) return;
    written(chunk.length);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', done);
  from.on('close', done);
  from.on('error', () => {});
  to.on('close', done);
}
