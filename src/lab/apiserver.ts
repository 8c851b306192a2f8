/**
 * The lab's kube-apiserver: what kubectl asks before an exec (version, discovery, the Pod; pod and
 * namespace lists for `kubectl get`), over HTTP/2 when TLS negotiates h2 and HTTP/1.1 otherwise, and
 * the exec/attach/portforward subresources: pod and container checked as ExecLocation does, then a v5
 * WebSocket goes to the stream translator (apiserver ≥1.30), a port-forward WebSocket to the tunneling
 * handler (≥1.31), while SPDY and legacy WebSocket upgrades are proxied byte for byte to the kubelet
 * (UpgradeAwareHandler). IO code.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { parseStreamingRequest, type K8sStreamingRequest } from '../k8s/exec-request.js';
import { API_GROUP_LIST, apiVersions, CORE_V1_RESOURCES, LAB_VERSION, namespaceList, podList, podObject } from './cluster-objects.js';
import type { HopConnection } from './hop-server.js';
import type { HopUpgrade } from './hop-upgrade.js';
import { statusError } from './http-replies.js';
import { upgradeSession, recordRequest, type LabObservations } from './observations.js';
import type { LabRuntime, PodSpec } from './runtime.js';
import { apiErrorStatus, notFoundStatus } from './status-json.js';
import { translateToSpdy } from './stream-translator.js';
import { PORT_FORWARD_TUNNEL_PROTOCOL, tunnelToKubelet } from './port-forward-tunnel.js';
import { proxyUpgrade } from './upgrade-proxy.js';
import { isWebSocketUpgrade } from './ws-channel-server.js';

export interface ApiserverFaults {
  /** Answer WebSocket upgrades with 403 (kubectl falls back to SPDY). */
  refuseWebSocket?: boolean;
  /** The translator's upstream SPDY leg sends no PINGs. */
  noPings?: boolean;
  /** The translator never writes the Status. */
  noExitStatus?: boolean;
}

export interface ApiserverContext {
  runtime: LabRuntime;
  observations: LabObservations;
  /**
   * 1.36 ExtendWebSocketsToKubelet: the kubelet declares it translates WebSocket itself, so a v5
   * WebSocket is passed through to it instead of translated here.
   */
  kubeletTranslatesWebSockets?: boolean;
  kubeletPort: () => number;
  faults: ApiserverFaults;
  /** host:port kubectl uses, for discovery's serverAddressByClientCIDRs. */
  address: () => string;
}

const TRANSLATOR_USER_AGENT = 'kube-apiserver/v1.32.4 (linux/amd64) kubernetes/4cb5f07';

type Reply = { status: number; body: string };

export function apiserver(ctx: ApiserverContext): (conn: HopConnection) => void {
  const h1 = http.createServer();
  const h2 = http2.createServer();
  const connections = new WeakMap<Duplex, HopConnection>();
  const onRequest = (req: IncomingMessage | http2.Http2ServerRequest, res: ServerResponse | http2.Http2ServerResponse) => {
    const conn = connections.get(req.socket as Duplex) ?? connections.get((req as http2.Http2ServerRequest).stream?.session?.socket as Duplex);
    recordRequest(ctx.observations, 'apiserver', conn, req);
    const reply = answer(ctx, req.method ?? 'GET', req.url ?? '/');
    res.statusCode = reply.status;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', Buffer.byteLength(reply.body));
    res.end(reply.body);
  };
  h1.on('request', onRequest);
  h2.on('request', onRequest);
  h2.on('sessionError', () => {});
  h1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const conn = connections.get(socket);
    if (!conn) return socket.destroy();
    conn.markUpgraded();
    recordRequest(ctx.observations, 'apiserver', conn, req);
    void serveUpgrade(ctx, conn, req, socket, head);
  });
  return (conn) => {
    connections.set(conn.socket, conn);
    if (conn.alpn === 'h2') h2.emit('connection', conn.socket);
    else h1.emit('connection', conn.socket);
  };
}

function json(status: number, value: object | string): Reply {
  return { status, body: typeof value === 'string' ? value : JSON.stringify(value) };
}

const NOT_FOUND = json(404, apiErrorStatus(404, 'NotFound', 'the server could not find the requested resource', {}));

function answer(ctx: ApiserverContext, method: string, url: string): Reply {
  const path = url.split('?')[0];
  if (method !== 'GET') return json(405, apiErrorStatus(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, {}));
  if (path === '/version') return json(200, LAB_VERSION);
  if (path === '/api') return json(200, apiVersions(ctx.address()));
  if (path === '/apis') return json(200, API_GROUP_LIST);
  if (path === '/api/v1') return json(200, CORE_V1_RESOURCES);
  if (path === '/api/v1/namespaces') return json(200, namespaceList(ctx.runtime.pods));
  if (path === '/api/v1/pods') return json(200, podList(ctx.runtime.pods));
  const m = /^\/api\/v1\/namespaces\/([^/]+)(?:\/pods(?:\/([^/]+)(?:\/(exec|attach|portforward))?)?)?$/.exec(path);
  if (!m) return NOT_FOUND;
  const [, namespace, name, sub] = m;
  if (name === undefined) {
    if (!path.endsWith('/pods')) return json(200, namespaceList(ctx.runtime.pods.filter((p) => p.namespace === namespace)));
    return json(200, podList(ctx.runtime.pods.filter((p) => p.namespace === namespace)));
  }
  const pod = ctx.runtime.findPod(namespace, name);
  if (!pod) return json(404, notFoundStatus('pods', name));
  if (sub !== undefined) return json(400, apiErrorStatus(400, 'BadRequest', 'Upgrade request required'));
  return json(200, podObject(pod));
}

/** PortForwardLocation: the kubelet's `/portForward/{ns}/{pod}`, with the ports asked for, if any. */
async function servePortForward(
  ctx: ApiserverContext,
  up: HopUpgrade,
  request: K8sStreamingRequest,
  websocket: boolean,
  fail: (code: number, body: string) => void,
): Promise<void> {
  const session = up.session;
  Object.assign(session, { kind: 'portforward', namespace: request.namespace ?? null, pod: request.pod ?? null });
  const pod = ctx.runtime.findPod(request.namespace ?? '', request.pod ?? '');
  if (!pod) return fail(404, notFoundStatus('pods', request.pod ?? ''));
  const query = request.ports.map((p) => `port=${p}`).join('&');
  const target = `/portForward/${pod.namespace}/${pod.name}${query ? `?${query}` : ''}`;
  if (!websocket) return proxyUpgrade(up, ctx.kubeletPort(), target);
  if (ctx.faults.refuseWebSocket) {
    session.fault = 'refuse-websocket: WebSocket upgrade answered 403';
    return fail(403, apiErrorStatus(403, 'Forbidden', `pods "${pod.name}" is forbidden: WebSocket upgrades are refused here (lab fault refuse-websocket)`, { name: pod.name, kind: 'pods' }));
  }
  if (!session.offeredProtocols.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) {
    return fail(400, apiErrorStatus(400, 'BadRequest', `port-forward over WebSocket needs the ${PORT_FORWARD_TUNNEL_PROTOCOL} subprotocol`));
  }
  await tunnelToKubelet(up, ctx.kubeletPort(), target);
}

/** registry/core/pod/strategy.go streamLocation: the container to use, or the BadRequest text. */
function pickContainer(pod: PodSpec, requested: string | undefined): { container: string } | { error: string } {
  if (requested) {
    return pod.containers.includes(requested) ? { container: requested } : { error: `container ${requested} is not valid for pod ${pod.name}` };
  }
  if (pod.containers.length === 1) return { container: pod.containers[0] };
  return { error: `a container name must be specified for pod ${pod.name}, choose one of: [${pod.containers.join(' ')}]` };
}

/** The kubelet URL ExecLocation builds: url.Values.Encode of streamParams (keys sorted). */
export function kubeletTarget(req: K8sStreamingRequest, container: string): string {
  const params: [string, string][] = req.command.map((c) => ['command', c]);
  if (req.stderr) params.push(['error', '1']);
  if (req.stdin) params.push(['input', '1']);
  if (req.stdout) params.push(['output', '1']);
  if (req.tty) params.push(['tty', '1']);
  const query = params.map(([k, v]) => `${k}=${goQueryEscape(v)}`).join('&');
  return `/${req.kind}/${req.namespace}/${req.pod}/${container}${query ? `?${query}` : ''}`;
}

/** Go's url.QueryEscape: unreserved bytes kept, space as '+', everything else %XX. */
export function goQueryEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

async function serveUpgrade(ctx: ApiserverContext, conn: HopConnection, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const websocket = isWebSocketUpgrade(req);
  const request = parseStreamingRequest(req.method ?? '', req.url ?? '');
  const session = ctx.observations.addSession(upgradeSession('apiserver', conn, req, websocket));
  const fail = (code: number, body: string) => {
    session.httpStatus = code;
    socket.end(statusError(code, body));
    ctx.observations.endSession(session, 'rejected-before-upgrade');
  };
  if (!request || request.hop !== 'apiserver') {
    return fail(404, apiErrorStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
  }
  const up: HopUpgrade = { observations: ctx.observations, session, conn, req, socket, head };
  if (request.kind === 'portforward') return servePortForward(ctx, up, request, websocket, fail);
  Object.assign(session, {
    kind: request.kind,
    namespace: request.namespace ?? null,
    pod: request.pod ?? null,
    container: request.container ?? null,
    command: request.command,
    stdin: request.stdin === true,
    stdout: request.stdout === true,
    stderr: request.stderr === true,
    tty: request.tty === true,
  });
  const pod = ctx.runtime.findPod(request.namespace ?? '', request.pod ?? '');
  if (!pod) return fail(404, notFoundStatus('pods', request.pod ?? ''));
  const picked = pickContainer(pod, request.container);
  if ('error' in picked) return fail(400, apiErrorStatus(400, 'BadRequest', picked.error));
  if (!request.stdin && !request.stdout && !request.stderr) {
    return fail(400, apiErrorStatus(400, 'BadRequest', 'you must specify at least 1 of stdin, stdout, stderr'));
  }
  const target = kubeletTarget(request, picked.container);
  const offersV5 = session.offeredProtocols.includes('v5.channel.k8s.io');
  if (websocket && ctx.faults.refuseWebSocket) {
    session.fault = 'refuse-websocket: WebSocket upgrade answered 403';
    return fail(
      403,
      apiErrorStatus(403, 'Forbidden', `pods "${pod.name}" is forbidden: WebSocket upgrades are refused here (lab fault refuse-websocket)`, {
        name: pod.name,
        kind: 'pods',
      }),
    );
  }
  if (websocket && offersV5 && !ctx.kubeletTranslatesWebSockets) {
    translateToSpdy(up, {
      stdin: session.stdin,
      stdout: session.stdout,
      stderr: session.stderr,
      tty: session.tty,
      kubeletPort: ctx.kubeletPort(),
      kubeletTarget: target,
      noPings: ctx.faults.noPings === true,
      noExitStatus: ctx.faults.noExitStatus === true,
      userAgent: TRANSLATOR_USER_AGENT,
    });
    return;
  }
  await proxyUpgrade(up, ctx.kubeletPort(), target);
}

