/**
 * HTTP/1.1 on a connection: lists every request, turns exec/attach/portforward upgrades into
 * sessions, and after a 101 hands the upgraded bytes to the SPDY or WebSocket session transport.
 * Any other WebSocket is decoded and listed with its frames, an `Upgrade: h2c` continues as HTTP/2,
 * and a CONNECT tunnel's bytes are sniffed afresh. docker Engine API calls go to the capture's docker
 * sessions, and a hijacked start or attach hands its bytes to the docker stream.
 */
import { HttpConnectionParser, header, headerValues, type HttpConnectionSink, type HttpHead, type HttpRequestHead, type HttpResponseHead } from '../http/http-connection.js';
import type { Direction, StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { parseStreamingRequest } from '../k8s/exec-request.js';
import { isHijackAnswer, type DockerCall } from '../docker/docker-sessions.js';
import type { ExecSessionBuilder } from '../k8s/exec-session.js';
import { splitTarget } from '../http/http-head.js';
import { SpdyExecTransport } from '../k8s/spdy-exec.js';
import type { UpgradedTransport } from '../k8s/upgraded-transport.js';
import { WebSocketExecTransport } from '../k8s/websocket-exec.js';
import type { WebSocketHandshake } from '../websocket/handshake.js';
import type { ConnectionScope } from './connection-scope.js';
import { http2Consumer } from './http2-consumer.js';
import { webSocketConsumer, WebSocketTrafficRecorder } from './websocket-traffic.js';
import { ignoreStream, type HandOff, type StreamConsumer } from './stream-consumer.js';
import { pipelineProblem } from './problems.js';
import { relocate } from '../core/problem.js';
import { appended, noEntries } from '../core/appended.js';
import { rangeView } from '../core/byte-range.js';
import { sharedList, sharedText } from './shared-texts.js';

interface PendingRequest {
  req: HttpRequestHead;
  session: ExecSessionBuilder | null;
  docker: DockerCall | null;
  requestIndex: number;
}

/** The handshake of a WebSocket upgrade as its request and 101 carried it. */
function webSocketHandshake(req: HttpRequestHead, res: HttpResponseHead): WebSocketHandshake {
  return {
    key: header(req, 'sec-websocket-key'),
    offeredProtocols: headerValues(req, 'sec-websocket-protocol'),
    accept: header(res, 'sec-websocket-accept'),
    protocol: (header(res, 'sec-websocket-protocol') ?? '').trim(),
    extensions: header(res, 'sec-websocket-extensions'),
  };
}

/**
 * An exec upgrade request is kept (here and by the parser) until its answer, as long as its
 * connection when the server never answers — and 10,000 connections are open at once. Its fields,
 * slices of the head's text, keep that whole text alive: they are replaced by equal texts of their
 * own, shared with every request that repeats them (header names, the host, the subprotocol); ~0.5 KB
 * a connection. The path and query are cut from the shared target again: they keep only that alive.
 */
function keepAwaited(req: HttpRequestHead): void {
  req.method = sharedText(req.method);
  req.target = sharedText(req.target);
  const { path, query } = splitTarget(req.target);
  req.path = path;
  req.query = query;
  req.version = sharedText(req.version);
  const headers = req.headers;
  for (let i = 0; i < headers.length; i++) {
    headers[i][0] = sharedText(headers[i][0]);
    headers[i][1] = sharedText(headers[i][1]);
  }
}

const upgradeTo = (req: HttpRequestHead, res: HttpResponseHead, protocol: string) =>
  res.status === 101 && (header(res, 'upgrade') ?? header(req, 'upgrade') ?? '').trim().toLowerCase().startsWith(protocol);

/**
 * `layer` receives the session transport once both directions are upgraded: HTTP has nothing left to do then.
 * `insideTls`: the connection's TLS plaintext carries it (a CONNECT tunnel's bytes are not looked at for TLS then).
 * One object is both the stream consumer and the parser's sink, with its handlers on the prototype:
 * up to 10,000 connections are open at once, and a closure per handler cost ~0.8 KB each of them.
 */
export class Http1Consumer implements StreamConsumer, HttpConnectionSink {
  private readonly parser: HttpConnectionParser;
  private pending: PendingRequest[] = [];
  private upgradedSession: ExecSessionBuilder | null = null;
  private upgradedDocker: DockerCall | null = null;
  private transport: UpgradedTransport | null = null;

  constructor(
    private readonly scope: ConnectionScope,
    private readonly layer: HandOff,
    private readonly insideTls: boolean,
  ) {
    this.parser = new HttpConnectionParser(this, { switchesProtocols: isHijackAnswer });
  }

  push(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    this.parser.push(dir, rangeView(bytes, start, end), origin);
    // The parser's end() has nothing to report for upgraded directions, so the transport can take over.
    if (this.parser.upgraded) this.layer.handOff(this.transport ?? ignoreStream);
  }

  gap(dir: Direction, offset: number, length: number): void {
    this.parser.gap(dir, offset, length);
  }

  end(): void {
    this.parser.end();
    this.transport?.end();
  }

  onRequest(req: HttpRequestHead): void {
    const { ctx, record } = this.scope;
    record.requests = appended(record.requests, { method: sharedText(req.method), target: sharedText(req.target), status: null, ts: req.origin.ts });
    const docker = ctx.docker.call(record, this.scope.where, req);
    if (docker) this.scope.markDockerCall();
    const session = docker ? null : this.startSession(req);
    if (session) keepAwaited(req);
    this.pending = appended(this.pending, { req, session, docker, requestIndex: record.requests.length - 1 });
  }

  onResponse(res: HttpResponseHead, req: HttpRequestHead | undefined): void {
    if (res.status >= 100 && res.status < 200 && res.status !== 101) return;
    const entry = this.pending.find((p) => p.req === req);
    if (!entry) return;
    this.scope.record.requests[entry.requestIndex].status = res.status;
    entry.docker?.response(res);
    this.upgradedDocker = entry.docker;
    if (entry.session && res.status === 101) {
      const s = entry.session;
      const name = s.session.transport === 'websocket' ? 'sec-websocket-protocol' : 'x-stream-protocol-version';
      // Shared texts: a slice of the response head and a text made per session were ~150 bytes of every open one.
      const protocol = sharedText((header(res, name) ?? '').trim());
      s.upgraded(101, protocol, res.origin.lastTs);
      s.control('upgrade', 's2c', sharedText(`101 Switching Protocols ${protocol}`.trim()), res.origin);
      this.upgradedSession = s;
    }
  }

  onMessageComplete(dir: Direction, head: HttpHead, body: Uint8Array): void {
    if (dir === 'c2s') {
      this.pending.find((p) => p.req === head)?.docker?.requestComplete(body);
      return;
    }
    const res = head as HttpResponseHead;
    const entry = this.pending.shift();
    entry?.docker?.responseComplete(res, body);
    if (entry?.session && res.status !== 101) {
      entry.session.refused(res.status, body, res.origin.lastTs);
      this.scope.ctx.sessionRefused(entry.session);
    }
  }

  onUpgrade(req: HttpRequestHead | undefined, res: HttpResponseHead): void {
    const { scope } = this;
    const { ctx, record } = scope;
    if (this.upgradedDocker) {
      record.protocol = 'hijacked';
      this.transport = this.upgradedDocker.hijacked();
      return;
    }
    const s = this.upgradedSession;
    if (s && req) {
      if (s.session.transport === 'websocket') {
        record.protocol = 'websocket';
        const frames = new WebSocketTrafficRecorder(scope, req.target, webSocketHandshake(req, res), res.origin, s.session.id, (p) => s.warn(p));
        this.transport = new WebSocketExecTransport(s, s.session.protocol, scope.where, header(res, 'sec-websocket-extensions'), frames);
      } else {
        record.protocol = 'spdy';
        this.transport = new SpdyExecTransport(s, scope.where);
      }
    } else if (req && upgradeTo(req, res, 'websocket')) {
      record.protocol = 'websocket';
      this.transport = webSocketConsumer(scope, req.target, webSocketHandshake(req, res), res.origin);
    } else if (req && upgradeTo(req, res, 'h2c')) {
      // RFC 7540 §3.2: the upgrade request is stream 1, answered in HTTP/2 after the client's preface.
      record.protocol = 'http2';
      this.transport = http2Consumer(scope, { upgradedFrom: { method: req.method, target: req.target, ts: req.origin.ts, packet: req.origin.packet } });
    } else if (req?.method === 'CONNECT') {
      this.transport = this.scope.tunnel(this.insideTls);
    } else {
      ctx.warn(
        pipelineProblem('other-upgrade', `connection upgraded to "${(header(res, 'upgrade') ?? '').trim()}" by a request that is not exec/attach/portforward: upgraded bytes not decoded`, {
          where: scope.where,
          connection: record.id,
        }),
      );
    }
  }

  onUpgradedData(dir: Direction, data: Uint8Array, origin: StreamOrigin): void {
    this.transport?.push(dir, data, 0, data.length, origin);
  }

  onUpgradedGap(dir: Direction, offset: number, length: number): void {
    this.transport?.gap(dir, offset, length);
  }

  onProblem(p: Problem): void {
    this.scope.ctx.warn(relocate(p, this.scope.where, { connection: this.scope.record.id }));
  }

  private startSession(req: HttpRequestHead): ExecSessionBuilder | null {
    const upgrade = (header(req, 'upgrade') ?? '').toLowerCase();
    const parsed = upgrade ? parseStreamingRequest(req.method, req.target) : null;
    if (!parsed) return null;
    // Shared from the start (the connection's end shares them too): an exec never answered keeps them as long as its connection.
    parsed.command = sharedList(parsed.command);
    if (parsed.namespace !== undefined) parsed.namespace = sharedText(parsed.namespace);
    if (parsed.ports.length === 0) parsed.ports = noEntries();
    const kind = upgrade.startsWith('websocket') ? 'websocket' : 'spdy';
    const userAgent = header(req, 'user-agent');
    return this.scope.newSession({
      method: sharedText(req.method),
      target: sharedText(req.target),
      origin: req.origin,
      transport: kind,
      // Mapped: an exact-length list of shared texts (headerValues' own list holds spare slots).
      offeredProtocols: headerValues(req, kind === 'websocket' ? 'sec-websocket-protocol' : 'x-stream-protocol-version').map(sharedText),
      userAgent: userAgent === undefined ? null : sharedText(userAgent),
      parsed,
    });
  }
}
