import { splitTarget } from '../http/http-head.js';

/**
 * Recognises exec/attach/port-forward requests on each hop (PROTOCOL.md 2.1) from the request line.
 */

export type StreamingKind = 'exec' | 'attach' | 'portforward';
export type StreamingHop = 'apiserver' | 'kubelet' | 'cri';

export interface K8sStreamingRequest {
  kind: StreamingKind;
  hop: StreamingHop;
  namespace?: string;
  pod?: string;
  container?: string;
  /** Pod UID (kubelet URLs with four path parameters). */
  uid?: string;
  /** CRI streaming-server token. */
  token?: string;
  /** argv from the repeated `command` parameter. */
  command: string[];
  /**
   * Requested streams. null when the URL does not say: a CRI streaming server keeps them with the
   * token (cri-streaming server.go), so `/exec/{token}` carries none. Otherwise an absent flag is false.
   */
  stdin: boolean | null;
  stdout: boolean | null;
  stderr: boolean | null;
  tty: boolean | null;
  /** Port-forward ports from `ports` (apiserver) or `port` (kubelet WebSocket), comma lists allowed. */
  ports: number[];
}

/** A Map, not an object literal: a path ending in `/constructor` found Object's constructor as its kind. */
const SUBRESOURCES = new Map<string, StreamingKind>([
  ['exec', 'exec'],
  ['attach', 'attach'],
  ['portforward', 'portforward'],
]);

/**
 * Parses a request target into what it asks for; null when it is not an exec, attach or port-forward
 * request. Recognised paths (any prefix before `/api/v1/` is allowed, as proxies such as Rancher add one):
 * - apiserver: `/api/v1/namespaces/{ns}/pods/{pod}/{exec|attach|portforward}`
 * - kubelet: `/{exec|attach}/{ns}/{pod}[/{uid}]/{container}`, `/portForward/{ns}/{pod}[/{uid}]`
 * - CRI streaming server: `/{exec|attach|portforward}/{token}`
 */
export function parseStreamingRequest(method: string, target: string): K8sStreamingRequest | null {
  // Both the apiserver and the kubelet route GET and POST (WebSocket needs GET, SPDY uses POST).
  if (method !== 'GET' && method !== 'POST') return null;
  const { path, query } = splitTarget(target);
  // A loop, not filter and map with closures: run for every request with an Upgrade header, and
  // inlined into the set-up code TurboFan compiles once sessions number hundreds.
  const parts = path.split('/');
  const segments: string[] = [];
  for (let i = 0; i < parts.length; i++) if (parts[i] !== '') segments.push(percentDecode(parts[i]));
  const params = parseQuery(query);
  return apiserverForm(segments, params) ?? nodeForm(segments, params);
}

function apiserverForm(segments: string[], params: QueryParams): K8sStreamingRequest | null {
  // The last seven segments by index: destructuring a slice of them made TurboFan compile an iterator.
  const at = segments.length - 7;
  if (at < 0) return null;
  const kind = SUBRESOURCES.get(segments[at + 6]);
  if (segments[at] !== 'api' || segments[at + 1] !== 'v1' || segments[at + 2] !== 'namespaces' || segments[at + 4] !== 'pods' || kind === undefined) return null;
  return {
    kind,
    hop: 'apiserver',
    namespace: segments[at + 3],
    pod: segments[at + 5],
    container: params.last('container'),
    command: params.all('command'),
    stdin: apiserverFlag(params, 'stdin'),
    stdout: apiserverFlag(params, 'stdout'),
    stderr: apiserverFlag(params, 'stderr'),
    tty: apiserverFlag(params, 'tty'),
    ports: kind === 'portforward' ? ports(params) : [],
  };
}

function nodeForm(segments: string[], params: QueryParams): K8sStreamingRequest | null {
  if (segments.length < 2) return null;
  const kind = SUBRESOURCES.get(segments[0].toLowerCase());
  if (kind === undefined) return null;
  const args = segments.slice(1);
  if (args.length === 1) return { ...nodeQuery(kind, 'cri', params), token: args[0] };
  // Port-forward names no container: {ns}/{pod}[/{uid}]; exec and attach end in one: {ns}/{pod}[/{uid}]/{container}.
  const named = kind === 'portforward' ? args.length : args.length - 1;
  if (named !== 2 && named !== 3) return null;
  const request: K8sStreamingRequest = { ...nodeQuery(kind, 'kubelet', params), namespace: args[0], pod: args[1] };
  if (named === 3) request.uid = args[2];
  if (kind !== 'portforward') request.container = args[named];
  return request;
}

/** Kubelet and CRI servers read `input`/`output`/`error`/`tty` as "1" (cri-streaming remotecommand httpstream.go NewOptions). */
function nodeQuery(kind: StreamingKind, hop: StreamingHop, params: QueryParams): K8sStreamingRequest {
  const flagsInUrl = ['input', 'output', 'error', 'tty'].some((name) => params.has(name));
  const flag = (name: string): boolean | null =>
    hop === 'cri' && !flagsInUrl ? null : params.last(name) === '1';
  const request: K8sStreamingRequest = {
    kind,
    hop,
    command: params.all('command'),
    stdin: flag('input'),
    stdout: flag('output'),
    stderr: flag('error'),
    tty: flag('tty'),
    ports: kind === 'portforward' ? ports(params) : [],
  };
  const container = params.last('container');
  if (container !== undefined) request.container = container;
  return request;
}

/** apimachinery's query→bool conversion: absent is false, "0"/"false" (any case) false, anything else true. */
function apiserverFlag(params: QueryParams, name: string): boolean {
  const value = params.first(name);
  if (value === undefined) return false;
  return value !== '0' && value.toLowerCase() !== 'false';
}

function ports(params: QueryParams): number[] {
  const result: number[] = [];
  for (const value of [...params.all('ports'), ...params.all('port')]) {
    for (const part of value.split(',')) {
      const text = part.trim();
      if (!/^\d{1,5}$/.test(text)) continue;
      const port = Number(text);
      if (port >= 1 && port <= 65535) result.push(port);
    }
  }
  return result;
}

/**
 * How many streams the server waits for before running the command (PROTOCOL.md 2.4): error, plus
 * stdin, stdout, stderr (not with a tty), plus resize for a tty from v3 on. null for port-forward
 * (two per forwarded connection, open-ended), unknown flags or an unknown protocol.
 */
export function expectedStreamCount(req: K8sStreamingRequest, protocolVersion: string): number | null {
  if (req.kind === 'portforward') return null;
  const version = channelProtocolVersion(protocolVersion);
  const { stdin, stdout, stderr, tty } = req;
  if (version === null || stdin === null || stdout === null || stderr === null || tty === null) return null;
  let count = 1;
  if (stdin) count++;
  if (stdout) count++;
  if (stderr && !tty) count++;
  if (tty && version >= 3) count++;
  return count;
}

/** 1 for `channel.k8s.io` / `base64.channel.k8s.io`, N for `vN.channel.k8s.io` / `vN.base64.channel.k8s.io`; null otherwise. */
export function channelProtocolVersion(protocol: string): number | null {
  const match = /^(?:v(\d+)\.)?(?:base64\.)?channel\.k8s\.io$/.exec(protocol.trim());
  if (match === null) return null;
  return match[1] === undefined ? 1 : Number(match[1]);
}

/** A query's values by name, in order. A class: four closures over the map were made for every request. */
class QueryParams {
  private readonly values = new Map<string, string[]>();

  add(name: string, value: string): void {
    const values = this.values.get(name);
    if (values) values.push(value);
    else this.values.set(name, [value]);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  first(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  last(name: string): string | undefined {
    const values = this.values.get(name);
    return values?.[values.length - 1];
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }
}

/** Go's url.ParseQuery: "&"-separated, "+" is a space, percent-decoding; values in order. */
function parseQuery(query: string): QueryParams {
  const params = new QueryParams();
  const pairs = query.split('&');
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    params.add(decodeQueryComponent(eq === -1 ? pair : pair.slice(0, eq)), eq === -1 ? '' : decodeQueryComponent(pair.slice(eq + 1)));
  }
  return params;
}

function decodeQueryComponent(text: string): string {
  return percentDecode(text.replace(/\+/g, ' '));
}

/** Malformed escapes are kept as written rather than failing the whole request. */
function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
