/**
 * The lab's kubelet (pkg/kubelet/server getExec/getAttach/getPortForward):
 * `/exec/{ns}/{pod}[/{uid}]/{container}`, `/attach/…` and `/portForward/{ns}/{pod}[/{uid}]`, GET or
 * POST. Validates the stream flags and the pod, asks the runtime for a one-time streaming URL (the CRI
 * Exec/Attach/PortForward call) and proxies the client's upgrade to it — since 1.20 the kubelet never
 * redirects. IO code.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseStreamingRequest } from '../k8s/exec-request.js';
import type { HopConnection } from './hop-server.js';
import type { HopUpgrade } from './hop-upgrade.js';
import { refuse, textError } from './http-replies.js';
import { upgradeSession, recordRequest, type LabObservations } from './observations.js';
import type { CriGrpcClient } from './cri-grpc.js';
import { containerId, type LabRuntime } from './runtime.js';
import { translateToSpdy } from './stream-translator.js';
import { proxyUpgrade } from './upgrade-proxy.js';
import { isWebSocketUpgrade } from './ws-channel-server.js';

export interface KubeletContext {
  runtime: LabRuntime;
  observations: LabObservations;
  /** The CRI Exec/Attach call: the runtime's streaming URL for the request. */
  cri: Pick<CriGrpcClient, 'call' | 'portForward'>;
  /**
   * 1.36 ExtendWebSocketsToKubelet (getExec/getAttach → stream translator): a v5 WebSocket from the
   * apiserver is terminated here and carried on to the runtime's streaming server as SPDY.
   */
  translateWebSockets?: boolean;
}

/** The kubelet's SPDY client toward the runtime, as its translator's upstream leg identifies itself. */
const KUBELET_USER_AGENT = 'kubelet/v1.36.0 (linux/amd64) kubernetes/1a2b3c4';

export function kubeletServer(ctx: KubeletContext): (conn: HopConnection) => void {
  const server = http.createServer();
  const connections = new WeakMap<Duplex, HopConnection>();
  server.on('request', (req, res) => {
    recordRequest(ctx.observations, 'kubelet', connections.get(req.socket), req);
    const streaming = parseStreamingRequest(req.method ?? '', req.url ?? '');
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (streaming?.hop === 'kubelet') {
      // UpgradeAwareHandler with UpgradeRequired, answered by the kubelet's responder.
      res.statusCode = 500;
      res.end('Upgrade request required\n');
    } else {
      res.statusCode = 404;
      res.end('404 page not found\n');
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const conn = connections.get(socket);
    if (!conn) return socket.destroy();
    conn.markUpgraded();
    recordRequest(ctx.observations, 'kubelet', conn, req);
    void serveUpgrade(ctx, conn, req, socket, head);
  });
  return (conn) => {
    connections.set(conn.socket, conn);
    server.emit('connection', conn.socket);
  };
}

async function serveUpgrade(ctx: KubeletContext, conn: HopConnection, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const websocket = isWebSocketUpgrade(req);
  const streaming = parseStreamingRequest(req.method ?? '', req.url ?? '');
  const session = ctx.observations.addSession(upgradeSession('kubelet', conn, req, websocket));
  const up: HopUpgrade = { observations: ctx.observations, session, conn, req, socket, head };
  const fail = (status: number, message: string) => {
    session.httpStatus = status;
    refuse(socket, textError(status, message));
    ctx.observations.endSession(session, 'rejected-before-upgrade');
  };
  if (!streaming || streaming.hop !== 'kubelet') return fail(404, '404 page not found');
  if (streaming.kind === 'portforward') {
    Object.assign(session, { kind: 'portforward', namespace: streaming.namespace ?? null, pod: streaming.pod ?? null });
    const pod = ctx.runtime.findPod(streaming.namespace ?? '', streaming.pod ?? '');
    if (!pod) return fail(404, 'pod does not exist');
    const answer = await ctx.cri.portForward(pod, streaming.ports);
    if ('error' in answer) return fail(500, answer.error);
    const url = new URL(answer.url);
    await proxyUpgrade(up, Number(url.port), `${url.pathname}${url.search}`);
    return;
  }
  const tty = streaming.tty === true;
  Object.assign(session, {
    kind: streaming.kind,
    namespace: streaming.namespace ?? null,
    pod: streaming.pod ?? null,
    container: streaming.container ?? null,
    command: streaming.command,
    stdin: streaming.stdin === true,
    stdout: streaming.stdout === true,
    // remotecommand NewOptions: stderr is dropped with a tty.
    stderr: streaming.stderr === true && !tty,
    tty,
  });
  if (!session.stdin && !session.stdout && !streaming.stderr) return fail(400, 'you must specify at least 1 of stdin, stdout, stderr');
  const pod = ctx.runtime.findPod(session.namespace ?? '', session.pod ?? '');
  if (!pod) return fail(404, 'pod does not exist');
  const container = session.container ?? '';
  if (!pod.containers.includes(container)) return fail(404, `container not found (${JSON.stringify(container)})`);
  const answer = await ctx.cri.call(containerId(pod, container), {
    kind: streaming.kind,
    namespace: pod.namespace,
    pod: pod.name,
    container,
    command: streaming.command,
    stdin: session.stdin,
    stdout: session.stdout,
    stderr: session.stderr,
    tty,
  });
  if ('error' in answer) return fail(500, answer.error);
  const url = new URL(answer.url);
  if (websocket && ctx.translateWebSockets && session.offeredProtocols.includes('v5.channel.k8s.io')) {
    translateToSpdy(up, {
      stdin: session.stdin,
      stdout: session.stdout,
      stderr: session.stderr,
      tty,
      kubeletPort: Number(url.port),
      kubeletTarget: `${url.pathname}${url.search}`,
      noPings: false,
      noExitStatus: false,
      userAgent: KUBELET_USER_AGENT,
    });
    return;
  }
  await proxyUpgrade(up, Number(url.port), `${url.pathname}${url.search}`);
}
