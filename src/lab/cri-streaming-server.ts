/**
 * The CRI streaming server (k8s.io/cri-streaming, as containerd runs it on node loopback): serves
 * `/exec/{token}` and `/attach/{token}` for the single-use tokens the runtime handed the kubelet, over
 * SPDY/3.1 (v1–v4.channel.k8s.io: handshake, expected stream count, 30 s stream-creation timeout) or
 * legacy WebSocket (channel.k8s.io, base64.channel.k8s.io and their v4 forms — never v5), and
 * `/portforward/{token}` over SPDY (port-forward-server.ts). IO code.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ResizeDecoder } from '../k8s/resize.js';
import { SpdyStream, SpdyConnection } from './spdy-connection.js';
import { ExecRunner, type ExecFaults, type ExecTransport, type StatusFormat } from './exec-runner.js';
import type { HopConnection } from './hop-server.js';
import { headerHasToken, headerList, httpResponse, refuse, spdySwitchingProtocols, textError } from './http-replies.js';
import { upgradeSession, recordRequest, type LabObservations, type SessionObservation } from './observations.js';
import type { PodServices } from './pod-services.js';
import { servePortForward } from './port-forward-server.js';
import type { LabRuntime, StreamingRequest } from './runtime.js';
import { isWebSocketUpgrade, WebSocketChannelServer, K8sChannel } from './ws-channel-server.js';

/** cri-streaming's SupportedStreamingProtocols, in its preference (the client's order decides). */
export const SPDY_SERVER_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
/** cri-streaming remotecommand/websocket.go: the protocols its wsstream.Conn accepts. */
export const LEGACY_WEBSOCKET_PROTOCOLS = ['', 'channel.k8s.io', 'base64.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];
/** DefaultStreamCreationTimeout. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

export interface CriFaults extends ExecFaults {
  /** Never answer a SYN_STREAM. */
  noStreamReply?: boolean;
}

export interface CriStreamingContext {
  runtime: LabRuntime;
  podServices: PodServices;
  observations: LabObservations;
  faults: CriFaults;
  streamCreationTimeoutMs?: number;
}

/** Returns the per-connection entry point for the hop server. */
export function criStreamingServer(ctx: CriStreamingContext): (conn: HopConnection) => void {
  const server = http.createServer();
  const connections = new WeakMap<Duplex, HopConnection>();
  server.on('request', (req, res) => {
    recordRequest(ctx.observations, 'cri', connections.get(req.socket), req);
    const route = parseRoute(req.url ?? '');
    res.statusCode = route ? 400 : 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.end(route ? `unable to upgrade: missing upgrade headers in request: ${JSON.stringify(req.headers)}\n` : '404 page not found\n');
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const conn = connections.get(socket);
    if (!conn) return socket.destroy();
    conn.markUpgraded();
    recordRequest(ctx.observations, 'cri', conn, req);
    serveUpgrade(ctx, conn, req, socket, head);
  });
  return (conn) => {
    connections.set(conn.socket, conn);
    server.emit('connection', conn.socket);
  };
}

function parseRoute(url: string): { kind: 'exec' | 'attach' | 'portforward'; token: string } | null {
  const match = /^\/(exec|attach|portforward)\/([^/?]+)(?:\?.*)?$/.exec(url);
  return match ? { kind: match[1] as 'exec' | 'attach' | 'portforward', token: match[2] } : null;
}

function serveUpgrade(ctx: CriStreamingContext, conn: HopConnection, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const route = parseRoute(req.url ?? '');
  const websocket = isWebSocketUpgrade(req);
  const session = ctx.observations.addSession(upgradeSession('cri', conn, req, websocket));
  const request = route ? ctx.runtime.consumeToken(route.token) : undefined;
  if (!route || !request || request.kind !== route.kind) {
    reject(ctx, session, socket, 404, textError(404, '404 page not found'));
    return;
  }
  if (request.kind === 'portforward') {
    Object.assign(session, { kind: 'portforward', namespace: request.namespace, pod: request.pod });
    if (websocket) reject(ctx, session, socket, 400, textError(400, 'port-forward over WebSocket is not served here'));
    else servePortForward(ctx, conn, socket, head, request, session);
    return;
  }
  Object.assign(session, {
    kind: request.kind,
    namespace: request.namespace,
    pod: request.pod,
    container: request.container,
    command: request.command,
    stdin: request.stdin,
    stdout: request.stdout,
    stderr: request.stderr && !request.tty,
    tty: request.tty,
  });
  if (websocket) serveWebSocket(ctx, conn, req, socket, head, request, session);
  else serveSpdy(ctx, conn, req, socket, head, request, session);
}

function reject(ctx: CriStreamingContext, session: SessionObservation, socket: Duplex, status: number, response: Buffer): void {
  session.httpStatus = status;
  refuse(socket, response);
  ctx.observations.endSession(session, 'rejected-before-upgrade');
}

function serveSpdy(
  ctx: CriStreamingContext,
  conn: HopConnection,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  request: StreamingRequest,
  session: SessionObservation,
): void {
  // httpstream.Handshake, then spdy.UpgradeResponse's header check.
  const offered = session.offeredProtocols;
  if (offered.length === 0) {
    reject(ctx, session, socket, 400, textError(400, 'unable to upgrade: X-Stream-Protocol-Version is required'));
    return;
  }
  const protocol = offered.find((p) => SPDY_SERVER_PROTOCOLS.includes(p));
  if (protocol === undefined) {
    const message = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_SERVER_PROTOCOLS.join(' ')}]`;
    const headers: [string, string][] = [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ...SPDY_SERVER_PROTOCOLS.map((p): [string, string] => ['X-Accepted-Stream-Protocol-Versions', p]),
      ['X-Content-Type-Options', 'nosniff'],
    ];
    reject(ctx, session, socket, 403, httpResponse(403, headers, `${message}\n`));
    return;
  }
  if (!headerHasToken(req.headers, 'connection', 'upgrade') || !headerList(req.headers, 'upgrade').some((u) => u.toLowerCase() === 'spdy/3.1')) {
    reject(ctx, session, socket, 400, textError(400, 'unable to upgrade: missing upgrade headers in request'));
    return;
  }
  session.httpStatus = 101;
  session.negotiatedProtocol = protocol;
  socket.write(spdySwitchingProtocols(protocol));
  const version = protocol === 'channel.k8s.io' ? 1 : Number(protocol[1]);
  const expected = 1 + (request.stdin ? 1 : 0) + (request.stdout ? 1 : 0) + (request.stderr && !request.tty ? 1 : 0) + (request.tty && version >= 3 ? 1 : 0);
  const streams = new Map<string, SpdyStream>();
  let replied = 0;
  let runner: ExecRunner | null = null;
  const creationTimer = setTimeout(() => {
    // The kubelet logs "timed out waiting for client to create streams" and leaves the connection to its idle timeout.
    session.notes.push('timed out waiting for client to create streams');
  }, ctx.streamCreationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS);
  const spdy: SpdyConnection = new SpdyConnection(socket, {
    role: 'server',
    onStream: (stream) => {
      if (ctx.faults.noStreamReply) {
        session.fault = 'no-stream-reply: SYN_STREAMs never answered';
        return;
      }
      spdy.replyTo(stream);
      const type = stream.type;
      if (!['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) || streams.has(type)) {
        session.notes.push(`unexpected stream type: "${type}"`);
        return;
      }
      streams.set(type, stream);
      if (++replied === expected) {
        clearTimeout(creationTimer);
        runner = startSpdyExec(ctx, conn, spdy, streams, request, session, version);
      }
    },
    onClose: () => {
      clearTimeout(creationTimer);
      const how = conn.faultAction ?? (conn.tapped.wasReset ? 'connection reset' : 'connection closed by the client');
      if (runner) runner.connectionClosed(how);
      else if (session.endedAt === null) ctx.observations.endSession(session, conn.tapped.wasReset ? `reset: ${how}` : `aborted: ${how} before the streams were set up`);
    },
  });
  spdy.push(head);
}

function startSpdyExec(
  ctx: CriStreamingContext,
  conn: HopConnection,
  spdy: SpdyConnection,
  streams: Map<string, SpdyStream>,
  request: StreamingRequest,
  session: SessionObservation,
  version: number,
): ExecRunner {
  const errorStream = streams.get('error')!;
  const transport: ExecTransport = {
    position: () => ({ read: conn.tapped.bytes.c2s, queued: conn.tapped.queuedOut }),
    write: (name, data) => streams.get(name)?.write(data) ?? true,
    drained: () => spdy.drained(),
    endOutput: (name) => streams.get(name)?.close(),
    writeStatus: (payload) => errorStream.write(Buffer.from(payload)),
    finish: () => spdy.close(),
    pauseInput: () => spdy.socket.pause(),
    resumeInput: () => spdy.socket.resume(),
  };
  const format: StatusFormat = version >= 4 ? 'json' : 'text';
  const runner = new ExecRunner(transport, ctx.observations, session, format, ctx.faults);
  const stdin = streams.get('stdin');
  stdin?.consume(
    (bytes) => runner.stdinData(bytes),
    () => runner.stdinEnd(),
  );
  const resize = streams.get('resize');
  if (resize) {
    const decoder = new ResizeDecoder({ onResize: (size) => runner.resize(size.width, size.height), onProblem: (p) => session.notes.push(p.message) });
    let offset = 0;
    resize.consume((bytes) => {
      decoder.push(bytes, { offset, length: bytes.length, packet: 0, ts: 0 });
      offset += bytes.length;
    });
  }
  // cri-streaming v1ProtocolHandler: the v1 server closes stdin from its side right away.
  if (version === 1) stdin?.close();
  void runner.run(request.kind === 'attach' ? ctx.runtime.attach(request) : ctx.runtime.start(request), request.command);
  return runner;
}

function serveWebSocket(
  ctx: CriStreamingContext,
  conn: HopConnection,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  request: StreamingRequest,
  session: SessionObservation,
): void {
  const readChannels = new Set<number>([K8sChannel.Resize]);
  if (request.stdin) readChannels.add(K8sChannel.Stdin);
  let runner: ExecRunner | null = null;
  let resizeOffset = 0;
  const resizeDecoder = new ResizeDecoder({ onResize: (size) => runner?.resize(size.width, size.height), onProblem: (p) => session.notes.push(p.message) });
  const ws = WebSocketChannelServer.accept(req, socket, head, LEGACY_WEBSOCKET_PROTOCOLS, readChannels, {
    onData: (channel, data) => {
      if (channel === K8sChannel.Stdin) runner?.stdinData(data);
      else if (channel === K8sChannel.Resize) {
        resizeDecoder.push(data, { offset: resizeOffset, length: data.length, packet: 0, ts: 0 });
        resizeOffset += data.length;
      }
    },
    onChannelClosed: (channel) => {
      if (channel === K8sChannel.Stdin) runner?.stdinEnd();
    },
    onClose: () => runner?.connectionClosed(conn.faultAction ?? (conn.tapped.wasReset ? 'connection reset' : 'connection closed by the client')),
  });
  if (!ws) {
    session.httpStatus = 403;
    ctx.observations.endSession(session, 'rejected-before-upgrade');
    return;
  }
  session.httpStatus = 101;
  session.negotiatedProtocol = ws.protocol;
  const stderr = request.stderr && !request.tty;
  const transport: ExecTransport = {
    position: () => ({ read: conn.tapped.bytes.c2s, queued: conn.tapped.queuedOut }),
    write: (name, data) => ws.write(name === 'stdout' ? K8sChannel.Stdout : K8sChannel.Stderr, data),
    drained: () => ws.drained(),
    endOutput: () => {},
    writeStatus: (payload) => ws.write(K8sChannel.Error, Buffer.from(payload)),
    finish: () => ws.close(),
    pauseInput: () => ws.pauseInput(),
    resumeInput: () => ws.resumeInput(),
  };
  const format: StatusFormat = ws.protocol.startsWith('v4.') ? 'json' : 'text';
  runner = new ExecRunner(transport, ctx.observations, session, format, ctx.faults);
  // "Connection established": an empty message on the lowest writable channel.
  ws.write(request.stdout ? K8sChannel.Stdout : stderr ? K8sChannel.Stderr : K8sChannel.Error, new Uint8Array(0));
  void runner.run(request.kind === 'attach' ? ctx.runtime.attach(request) : ctx.runtime.start(request), request.command);
  ws.begin();
}
