/**
 * HTTP/1.1 on a connection: lists every request, turns exec/attach/portforward upgrades into
 * sessions, and after a 101 hands the upgraded bytes to the SPDY or WebSocket session transport.
 * Any other WebSocket is decoded and listed with its frames, an `Upgrade: h2c` continues as HTTP/2,
 * and a CONNECT tunnel's bytes are sniffed afresh. docker Engine API calls go to the capture's docker
 * sessions, and a hijacked start or attach hands its bytes to the docker stream.
 */
import { HttpConnectionParser, header, headerValues, type HttpRequestHead, type HttpResponseHead } from '../http/http-connection.js';
import { parseStreamingRequest } from '../k8s/exec-request.js';
import { isHijackAnswer, type DockerCall } from '../docker/docker-sessions.js';
import type { ExecSessionBuilder } from '../k8s/exec-session.js';
import { SpdyExecTransport } from '../k8s/spdy-exec.js';
import type { UpgradedTransport } from '../k8s/upgraded-transport.js';
import { WebSocketExecTransport } from '../k8s/websocket-exec.js';
import type { WebSocketHandshake } from '../websocket/handshake.js';
import type { ConnectionScope } from './connection-scope.js';
import { http2Consumer } from './http2-consumer.js';
import { webSocketConsumer, WebSocketTrafficRecorder } from './websocket-traffic.js';
import { ignoreStream, type StreamConsumer } from './stream-consumer.js';
import { pipelineProblem } from './problems.js';
import { relocate } from '../core/problem.js';
import { detached, sharedText } from './shared-texts.js';

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

const upgradeTo = (req: HttpRequestHead, res: HttpResponseHead, protocol: string) =>
  res.status === 101 && (header(res, 'upgrade') ?? header(req, 'upgrade') ?? '').trim().toLowerCase().startsWith(protocol);

/**
 * `handOff` receives the session transport once both directions are upgraded: HTTP has nothing left to do then.
 * `tunnel` makes the consumer of a CONNECT tunnel's bytes (a fresh connection inside this one).
 */
export function http1Consumer(scope: ConnectionScope, handOff: (successor: StreamConsumer) => void, tunnel: () => StreamConsumer): StreamConsumer {
  const { ctx, record } = scope;
  const pending: PendingRequest[] = [];
  let upgradedSession: ExecSessionBuilder | null = null;
  let upgradedDocker: DockerCall | null = null;
  let transport: UpgradedTransport | null = null;

  const startSession = (req: HttpRequestHead): ExecSessionBuilder | null => {
    const upgrade = (header(req, 'upgrade') ?? '').toLowerCase();
    const parsed = upgrade ? parseStreamingRequest(req.method, req.target) : null;
    if (!parsed) return null;
    const kind = upgrade.startsWith('websocket') ? 'websocket' : 'spdy';
    const userAgent = header(req, 'user-agent');
    return scope.newSession({
      method: sharedText(req.method),
      target: sharedText(req.target),
      origin: req.origin,
      transport: kind,
      // Mapped: an exact-length list of detached texts (headerValues' own list holds spare slots).
      offeredProtocols: headerValues(req, kind === 'websocket' ? 'sec-websocket-protocol' : 'x-stream-protocol-version').map(detached),
      userAgent: userAgent === undefined ? null : sharedText(userAgent),
      parsed,
    });
  };

  const parser = new HttpConnectionParser({
    onRequest: (req) => {
      record.requests.push({ method: sharedText(req.method), target: sharedText(req.target), status: null, ts: req.origin.ts });
      const docker = ctx.docker.call(record, scope.where, req);
      if (docker) scope.markDockerCall();
      pending.push({ req, session: docker ? null : startSession(req), docker, requestIndex: record.requests.length - 1 });
    },
    onResponse: (res: HttpResponseHead, req) => {
      if (res.status >= 100 && res.status < 200 && res.status !== 101) return;
      const entry = pending.find((p) => p.req === req);
      if (!entry) return;
      record.requests[entry.requestIndex].status = res.status;
      entry.docker?.response(res);
      upgradedDocker = entry.docker;
      if (entry.session && res.status === 101) {
        const s = entry.session;
        const name = s.session.transport === 'websocket' ? 'sec-websocket-protocol' : 'x-stream-protocol-version';
        const protocol = (header(res, name) ?? '').trim();
        s.upgraded(101, protocol, res.origin.lastTs);
        s.control('upgrade', 's2c', `101 Switching Protocols ${protocol}`.trim(), res.origin);
        upgradedSession = s;
      }
    },
    onMessageComplete: (dir, head, body) => {
      if (dir === 'c2s') {
        pending.find((p) => p.req === head)?.docker?.requestComplete(body);
        return;
      }
      const res = head as HttpResponseHead;
      const entry = pending.shift();
      entry?.docker?.responseComplete(res, body);
      if (entry?.session && res.status !== 101) {
        entry.session.refused(res.status, body, res.origin.lastTs);
        ctx.sessionRefused(entry.session);
      }
    },
    onUpgrade: (req, res) => {
      if (upgradedDocker) {
        record.protocol = 'hijacked';
        transport = upgradedDocker.hijacked();
        return;
      }
      const s = upgradedSession;
      if (s && req) {
        if (s.session.transport === 'websocket') {
          record.protocol = 'websocket';
          const frames = new WebSocketTrafficRecorder(scope, req.target, webSocketHandshake(req, res), res.origin, s.session.id, (p) => s.warn(p));
          transport = new WebSocketExecTransport(s, s.session.protocol, scope.where, header(res, 'sec-websocket-extensions'), frames);
        } else {
          record.protocol = 'spdy';
          transport = new SpdyExecTransport(s, scope.where);
        }
      } else if (req && upgradeTo(req, res, 'websocket')) {
        record.protocol = 'websocket';
        transport = webSocketConsumer(scope, req.target, webSocketHandshake(req, res), res.origin);
      } else if (req && upgradeTo(req, res, 'h2c')) {
        // RFC 7540 §3.2: the upgrade request is stream 1, answered in HTTP/2 after the client's preface.
        record.protocol = 'http2';
        transport = http2Consumer(scope, { upgradedFrom: { method: req.method, target: req.target, ts: req.origin.ts, packet: req.origin.packet } });
      } else if (req?.method === 'CONNECT') {
        transport = tunnel();
      } else {
        ctx.warn(
          pipelineProblem('other-upgrade', `connection upgraded to "${(header(res, 'upgrade') ?? '').trim()}" by a request that is not exec/attach/portforward: upgraded bytes not decoded`, {
            where: scope.where,
            connection: record.id,
          }),
        );
      }
    },
    onUpgradedData: (dir, data, origin) => transport?.push(dir, data, origin),
    onUpgradedGap: (dir, offset, length) => transport?.gap(dir, offset, length),
    onProblem: (p) => ctx.warn(relocate(p, scope.where, { connection: record.id })),
  }, { switchesProtocols: isHijackAnswer });

  return {
    push: (dir, data, origin) => {
      parser.push(dir, data, origin);
      // The parser's end() has nothing to report for upgraded directions, so the transport can take over.
      if (parser.upgraded) handOff(transport ?? ignoreStream);
    },
    gap: (dir, offset, length) => parser.gap(dir, offset, length),
    end: () => {
      parser.end();
      transport?.end();
    },
  };
}
