/**
 * What the lab's servers saw, kept for the truth file: every HTTP request each hop received, and per
 * exec/attach request the session as that hop served it — the bytes that went into and came out of
 * the process, the Status written, resizes, and how the connection ended. Filled by the servers
 * themselves, never by decoding traffic.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { HopConnection } from './hop-server.js';
import { headerList } from './http-replies.js';
import type { StreamTally } from './stream-tally.js';

/** The lab's hops by their server: apiserver, kubelet, runtime (CRI gRPC), cri (the streaming server). */
export type HopId = 'apiserver' | 'kubelet' | 'runtime' | 'cri' | 'docker';

export interface RequestObservation {
  hop: HopId;
  method: string;
  uri: string;
  client_addr: string;
  server_addr: string;
  upgrade: string;
  x_stream_protocol_version: string[] | null;
  sec_websocket_protocol: string[] | null;
  user_agent: string;
  http_status: number | null;
}

export interface ProxyCounts {
  /** Read from the client after the upgrade request (including bytes that came with it). */
  clientIn: number;
  /** Written to the backend: the request head, then the client's bytes. */
  backendOut: number;
  requestHeadBytes: number;
  backendIn: number;
  clientOut: number;
}

/** One connection forwarded to a pod port (port-forward's data and error stream pair). */
export interface ForwardObservation {
  port: number;
  requestId: string;
  /** Bytes the client sent to the pod's port, and what came back from it. */
  toPod: StreamTally;
  fromPod: StreamTally;
  /** What the server wrote on the error stream (null: nothing). */
  error: string | null;
}

export interface SessionObservation {
  hop: HopId;
  kind: 'exec' | 'attach' | 'portforward';
  transport: 'spdy' | 'websocket';
  method: string;
  requestUri: string;
  httpStatus: number | null;
  negotiatedProtocol: string;
  offeredProtocols: string[];
  clientAddr: string;
  serverAddr: string;
  namespace: string | null;
  pod: string | null;
  container: string | null;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** Byte tallies of the streams this hop terminated itself (CRI server, translator's WS side). */
  streams: { stdin: StreamTally; stdout: StreamTally; stderr: StreamTally } | null;
  /** Port-forward: the connections this hop forwarded to the pod itself, in request order. */
  forwards: ForwardObservation[];
  /** The exact error-stream payload this hop wrote (null: none written). */
  statusJson: string | null;
  resizes: { width: number; height: number }[];
  /** Process exit code (CRI sessions). */
  processExitCode: number | null;
  /**
   * The connection this hop opened to the next one for this session (its local address, which the
   * next hop sees as client address), or null.
   */
  upstreamClientAddr: string | null;
  /** Bytes this hop's server socket read and wrote on the session's connection (final once it closed). */
  wire: { c2s: number; s2c: number } | null;
  /**
   * Sessions this hop terminated: the wire offsets past which its connection carries no more stream
   * content — c2s once stdin ended (0 without stdin), s2c once the Status was written. null: not reached.
   */
  contentEnd: { c2s: number | null; s2c: number | null };
  /**
   * A proxying hop (bytes copied unchanged): what it read and wrote on each side. The account of
   * the session behind it holds for this leg only if every byte went through both ways.
   */
  proxy: ProxyCounts | null;
  /**
   * A proxying hop closed its connection to the next hop with bytes still unread (Go's deferred
   * Close() once the other side failed): the kernel answers with an RST and drops whatever the next
   * hop had written that the wire had not yet carried, even if that hop saw its session end cleanly.
   */
  closedNextHopUnread: boolean;
  /** clean | reset: … | hung: … | rejected-before-upgrade | aborted: … */
  end: string;
  fault: string | null;
  notes: string[];
  startedAt: number;
  endedAt: number | null;
}

/** What the lab's terminal logs as it happens: a request arriving at a hop, a session ending. */
export type LabActivity = { request: RequestObservation } | { ended: SessionObservation };

export class LabObservations {
  readonly requests: RequestObservation[] = [];
  readonly sessions: SessionObservation[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly watchers = new Set<(a: LabActivity) => void>();

  /** Calls `watcher` on each request and each session's end from now on. */
  watch(watcher: (a: LabActivity) => void): void {
    this.watchers.add(watcher);
  }

  addRequest(r: RequestObservation): void {
    this.requests.push(r);
    for (const w of this.watchers) w({ request: r });
  }

  addSession(s: SessionObservation): SessionObservation {
    this.sessions.push(s);
    return s;
  }

  /** Marks a session over and wakes whoever waits for the lab to be idle. */
  endSession(s: SessionObservation, end: string): void {
    if (s.endedAt !== null) return;
    s.end = end;
    s.endedAt = Date.now();
    for (const w of this.watchers) w({ ended: s });
    for (const l of this.listeners) l();
  }

  /** Resolves when every session has ended (or at once if none is open). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.sessions.every((s) => s.endedAt !== null)) {
          this.listeners.delete(check);
          resolve();
        }
      };
      this.listeners.add(check);
      check();
    });
  }
}

export function newSession(init: Partial<SessionObservation> & Pick<SessionObservation, 'hop' | 'transport' | 'method' | 'requestUri' | 'clientAddr' | 'serverAddr'>): SessionObservation {
  return {
    kind: 'exec',
    httpStatus: null,
    negotiatedProtocol: '',
    offeredProtocols: [],
    namespace: null,
    pod: null,
    container: null,
    command: [],
    stdin: false,
    stdout: false,
    stderr: false,
    tty: false,
    streams: null,
    forwards: [],
    statusJson: null,
    resizes: [],
    processExitCode: null,
    upstreamClientAddr: null,
    wire: null,
    contentEnd: { c2s: null, s2c: null },
    proxy: null,
    closedNextHopUnread: false,
    end: 'open',
    fault: null,
    notes: [],
    startedAt: Date.now(),
    endedAt: null,
    ...init,
  };
}

/** Notes one HTTP request a hop received (`conn` gives the addresses). */
export function recordRequest(
  observations: LabObservations,
  hop: HopId,
  conn: { client: { ip: string; port: number }; server: { ip: string; port: number } } | undefined,
  req: { method?: string; url?: string; headers: IncomingHttpHeaders | Record<string, string | string[] | undefined> },
): void {
  const headers = req.headers as IncomingHttpHeaders;
  const list = (name: string) => {
    const raw = headers[name];
    const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => v.split(',')).map((v) => v.trim());
    return values.length ? values : null;
  };
  observations.addRequest({
    hop,
    method: req.method ?? '',
    uri: req.url ?? '',
    client_addr: conn ? `${conn.client.ip}:${conn.client.port}` : '',
    server_addr: conn ? `${conn.server.ip}:${conn.server.port}` : '',
    upgrade: String(headers.upgrade ?? ''),
    x_stream_protocol_version: list('x-stream-protocol-version'),
    sec_websocket_protocol: list('sec-websocket-protocol'),
    user_agent: String(headers['user-agent'] ?? ''),
    http_status: null,
  });
}

/** The observation of an upgrade request as a hop's server receives it, before it answers. */
export function upgradeSession(hop: SessionObservation['hop'], conn: HopConnection, req: IncomingMessage, websocket: boolean): SessionObservation {
  return newSession({
    hop,
    transport: websocket ? 'websocket' : 'spdy',
    method: req.method ?? '',
    requestUri: req.url ?? '',
    clientAddr: `${conn.client.ip}:${conn.client.port}`,
    serverAddr: `${conn.server.ip}:${conn.server.port}`,
    wire: conn.tapped.bytes,
    offeredProtocols: headerList(req.headers, websocket ? 'sec-websocket-protocol' : 'x-stream-protocol-version'),
  });
}
