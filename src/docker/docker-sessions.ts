/**
 * Turns the Engine API calls of a capture into docker sessions (hop `docker`): one exec is a create
 * (`POST /containers/{id}/exec` → exec id), a hijacked start (`POST /exec/{id}/start`), resizes and
 * inspect polls (`GET /exec/{id}/json`), each possibly on its own connection; an attach is
 * `POST /containers/{id}/attach` with the container's resizes and `wait`. The calls are matched by
 * exec id or container, so the session shows the streams, the resizes and the exit code together —
 * with where that exit code came from, since the stream itself never carries one.
 */
import type { HttpRequestHead, HttpResponseHead } from '../http/http-head.js';
import { header } from '../http/http-head.js';
import type { ExecSessionBuilder, SessionRequest } from '../k8s/exec-session.js';
import type { UpgradedTransport } from '../k8s/upgraded-transport.js';
import type { FrameOrigin } from '../core/origin.js';
import { appended } from '../core/appended.js';
import type { ConnectionRecord, ControlEvent, DockerDetails, ExecSession } from '../model/session.js';
import {
  MULTIPLEXED_STREAM,
  RAW_STREAM,
  parseCreatedId,
  parseEngineCall,
  parseErrorMessage,
  parseExecInspect,
  parseExecStart,
  parseProcessConfig,
  parseWaitResult,
  shortDockerId,
  type EngineCall,
  type ProcessConfig,
} from './engine-api.js';
import { dockerProblem } from './problems.js';
import { DockerStreamTransport, type StreamEnd } from './stream-transport.js';

export interface DockerSessionFactory {
  newSession(conn: ConnectionRecord, req: SessionRequest): ExecSessionBuilder;
}

/** One HTTP exchange of the Engine API, as the connection's HTTP consumer reports it. */
export interface DockerCall {
  requestComplete(body: Uint8Array): void;
  response(res: HttpResponseHead): void;
  responseComplete(res: HttpResponseHead, body: Uint8Array): void;
  /** The connection now carries the exec's stream (after a 101 UPGRADED or a 200 OK hijack). */
  hijacked(): UpgradedTransport;
}

/** Whether a response hands the connection over to the stream: a 200 OK hijack carries no Upgrade to say so. */
export function isHijackAnswer(req: HttpRequestHead, res: HttpResponseHead): boolean {
  if (res.status !== 200) return false;
  const op = parseEngineCall(req.method, req.target)?.op;
  const type = (header(res, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  return (op === 'exec-start' || op === 'attach') && (type === RAW_STREAM || type === MULTIPLEXED_STREAM);
}

const MAX_CONTAINERS = 10_000;

export class DockerSessions {
  private readonly execs = new Map<string, DockerSession>();
  /** Attach sessions by container (id or name as the client wrote it), latest last. */
  private readonly attaches = new Map<string, DockerSession[]>();
  /** What each created container runs, by id and by name: an attach names only the container. */
  private readonly containers = new Map<string, ProcessConfig>();
  private readonly all: DockerSession[] = [];

  constructor(private readonly factory: DockerSessionFactory) {}

  /** The call a request makes, or null when it is no part of an exec or attach. */
  call(conn: ConnectionRecord, where: string, req: HttpRequestHead): DockerCall | null {
    const call = parseEngineCall(req.method, req.target);
    if (!call) return null;
    const exchange = new Exchange(this, conn, where, req, call);
    return exchange;
  }

  /** Capture end: sessions whose stream never ended (or never started) settle with what was seen. */
  finish(endTs: number): void {
    for (const s of this.all) s.finish(endTs);
  }

  newSession(conn: ConnectionRecord, req: HttpRequestHead, kind: 'exec' | 'attach', containerId: string, execId: string | null): DockerSession {
    const b = this.factory.newSession(conn, { method: req.method, target: req.target, origin: req.origin, transport: 'hijacked', offeredProtocols: [], parsed: null, userAgent: header(req, 'user-agent') ?? null });
    const s = new DockerSession(b, conn, kind, containerId, execId);
    this.all.push(s);
    if (kind === 'attach') {
      const list = this.attaches.get(containerId) ?? [];
      list.push(s);
      this.attaches.set(containerId, list);
      const config = this.containers.get(containerId);
      if (config) s.configure(config);
    }
    return s;
  }

  exec(id: string): DockerSession | undefined {
    return this.execs.get(id);
  }

  registerExec(id: string, s: DockerSession): void {
    this.execs.set(id, s);
  }

  attachOf(container: string): DockerSession | undefined {
    return this.attaches.get(container)?.at(-1);
  }

  containerCreated(id: string, name: string | null, config: ProcessConfig): void {
    if (this.containers.size >= MAX_CONTAINERS) return;
    this.containers.set(id, config);
    if (name) this.containers.set(name, config);
  }
}

/** One request/response of the Engine API, applied to the session it belongs to. */
class Exchange implements DockerCall {
  private session: DockerSession | undefined;
  private config: ProcessConfig | null = null;
  private startTty: boolean | null = null;
  /** The answer hijacked the connection: the upgrade event already stands for it. */
  private hijack = false;

  constructor(
    private readonly registry: DockerSessions,
    private readonly conn: ConnectionRecord,
    private readonly where: string,
    private readonly req: HttpRequestHead,
    private readonly call: EngineCall,
  ) {
    const c = call;
    switch (c.op) {
      case 'exec-create':
        this.session = registry.newSession(conn, req, 'exec', c.container, null);
        break;
      case 'exec-start':
        this.session = registry.exec(c.exec);
        if (!this.session) {
          this.session = registry.newSession(conn, req, 'exec', '', c.exec);
          registry.registerExec(c.exec, this.session);
          const message = "the exec's create call (POST /containers/…/exec) is not in the capture: container, command and tty unknown";
          this.session.builder.warn(dockerProblem('create-not-captured', message, { where, connection: conn.id }));
        }
        break;
      case 'attach':
        this.session = registry.newSession(conn, req, 'attach', c.container, null);
        this.session.configureAttach(c);
        break;
      case 'exec-resize':
      case 'exec-inspect':
        this.session = registry.exec(c.exec);
        break;
      case 'container-resize':
      case 'container-wait':
      case 'container-start':
        this.session = registry.attachOf(c.container);
        break;
      case 'container-create':
        break;
    }
    this.session?.request(conn, this.req, this.label());
  }

  requestComplete(body: Uint8Array): void {
    switch (this.call.op) {
      case 'exec-create':
      case 'container-create':
        this.config = parseProcessConfig(body);
        if (this.config && this.call.op === 'exec-create') this.session?.configure(this.config);
        break;
      case 'exec-start':
        this.startTty = parseExecStart(body).tty;
        break;
      case 'exec-resize':
      case 'container-resize':
        if (this.call.size) this.session?.resize(this.call.size.width, this.call.size.height, this.req.origin.lastTs);
        break;
      default:
        break;
    }
  }

  response(res: HttpResponseHead): void {
    const c = this.call;
    if ((c.op === 'exec-start' || c.op === 'attach') && (res.status === 101 || isHijackAnswer(this.req, res))) {
      const type = (header(res, 'content-type') ?? '').split(';')[0].trim();
      this.hijack = true;
      this.session?.hijackedBy(this.conn, this.req, res, type);
    }
  }

  responseComplete(res: HttpResponseHead, body: Uint8Array): void {
    const c = this.call;
    const s = this.session;
    if (this.hijack) return;
    const failed = res.status >= 300;
    if (failed) {
      const message = parseErrorMessage(body) ?? Buffer.from(body.subarray(0, 200)).toString('utf8');
      if (c.op === 'exec-create' || c.op === 'exec-start' || c.op === 'attach') s?.refused(this.conn, res, message, this.label());
      else s?.answer(this.conn, res, `${this.label()} → ${res.status} ${message}`);
      return;
    }
    switch (c.op) {
      case 'container-create': {
        const id = parseCreatedId(body);
        if (id && this.config) this.registry.containerCreated(id, c.name, this.config);
        return;
      }
      case 'exec-create': {
        const id = parseCreatedId(body);
        if (id && s) {
          s.execCreated(id);
          this.registry.registerExec(id, s);
        }
        s?.answer(this.conn, res, `${this.label()} → ${res.status} exec ${id ? shortDockerId(id) : '?'}`);
        return;
      }
      case 'exec-start':
        // Detached (or no stream asked for): the start answers without a stream.
        s?.answer(this.conn, res, `${this.label()} → ${res.status}`);
        return;
      case 'exec-inspect': {
        const state = parseExecInspect(body);
        s?.polled(this.conn, res, state?.running ?? null, state?.exitCode ?? null, this.label());
        return;
      }
      case 'container-wait': {
        const result = parseWaitResult(body);
        s?.waited(this.conn, res, result?.statusCode ?? null, result?.error ?? null, this.label());
        return;
      }
      default:
        s?.answer(this.conn, res, `${this.label()} → ${res.status}`);
    }
  }

  hijacked(): UpgradedTransport {
    const s = this.session!;
    return s.transport(this.conn, this.where, this.startTty);
  }

  /** "POST /exec/1a2b3c4d5e6f/resize h=40 w=120": the call without its version prefix and long ids. */
  private label(): string {
    const c = this.call;
    switch (c.op) {
      case 'container-create':
        return 'POST /containers/create';
      case 'container-start':
        return `POST /containers/${shortDockerId(c.container)}/start`;
      case 'exec-create':
        return `POST /containers/${shortDockerId(c.container)}/exec`;
      case 'exec-start':
        return `POST /exec/${shortDockerId(c.exec)}/start`;
      case 'exec-resize':
        return `POST /exec/${shortDockerId(c.exec)}/resize${c.size ? ` h=${c.size.height} w=${c.size.width}` : ''}`;
      case 'exec-inspect':
        return `GET /exec/${shortDockerId(c.exec)}/json`;
      case 'attach':
        return `POST /containers/${shortDockerId(c.container)}/attach`;
      case 'container-resize':
        return `POST /containers/${shortDockerId(c.container)}/resize${c.size ? ` h=${c.size.height} w=${c.size.width}` : ''}`;
      case 'container-wait':
        return `POST /containers/${shortDockerId(c.container)}/wait ${c.condition}`;
    }
  }
}

/** One docker exec or attach: the session record and the facts its state is derived from. */
export class DockerSession {
  readonly details: DockerDetails;
  private streamConn: ConnectionRecord | null = null;
  private streamEnd: StreamEnd | null = null;
  private finished = false;
  private refusedBy: string | null = null;
  /** The create call said whether there is a TTY. */
  private ttyKnown = false;

  constructor(
    readonly builder: ExecSessionBuilder,
    conn: ConnectionRecord,
    kind: 'exec' | 'attach',
    containerId: string,
    execId: string | null,
  ) {
    const s = builder.session;
    s.kind = kind;
    s.hop = 'docker';
    s.container = containerId || null;
    this.details = { execId, containerId, user: null, workingDir: null, env: [], polls: 0, lastPollRunning: false, exitFrom: null, connectionIds: [conn.id] };
    s.docker = this.details;
  }

  get session(): ExecSession {
    return this.builder.session;
  }

  configure(c: ProcessConfig): void {
    const s = this.session;
    s.command = c.command;
    if (c.tty !== null) s.tty = c.tty;
    this.ttyKnown = c.tty !== null;
    if (s.kind === 'exec') {
      s.stdin = c.stdin ?? false;
      s.stdout = c.stdout ?? false;
      s.stderr = c.stderr ?? false;
    }
    this.details.user = c.user;
    this.details.workingDir = c.workingDir;
    this.details.env = c.env;
  }

  configureAttach(c: Extract<EngineCall, { op: 'attach' }>): void {
    const s = this.session;
    s.stdin = c.stdin;
    s.stdout = c.stdout;
    s.stderr = c.stderr;
  }

  execCreated(id: string): void {
    this.details.execId = id;
  }

  request(conn: ConnectionRecord, req: HttpRequestHead, label: string): void {
    this.touch(conn);
    this.control('request', 'c2s', label, req.origin, conn);
  }

  answer(conn: ConnectionRecord, res: HttpResponseHead, detail: string): void {
    this.control('request', 's2c', detail, res.origin, conn);
    this.settle();
  }

  resize(width: number, height: number, ts: number): void {
    this.session.resizes = appended(this.session.resizes, { width, height, ts });
  }

  refused(conn: ConnectionRecord, res: HttpResponseHead, message: string, label: string): void {
    const s = this.session;
    this.refusedBy = label;
    s.httpStatus = res.status;
    s.refusal = { code: res.status, message };
    s.endTs = res.origin.lastTs;
    this.control('request', 's2c', `${label} → ${res.status} ${message}`, res.origin, conn);
    this.settle();
  }

  hijackedBy(conn: ConnectionRecord, req: HttpRequestHead, res: HttpResponseHead, contentType: string): void {
    const s = this.session;
    this.streamConn = conn;
    s.connectionId = conn.id;
    s.client = conn.client;
    s.server = conn.server;
    s.method = req.method;
    s.target = req.target;
    s.requestOrigin = req.origin;
    s.startTs = Math.min(s.startTs, req.origin.ts);
    this.details.connectionIds = [conn.id, ...this.details.connectionIds.filter((id) => id !== conn.id)];
    this.builder.upgraded(res.status, contentType, res.origin.lastTs);
    this.control('upgrade', 's2c', `${res.status} ${res.reason} ${contentType}`.trim(), res.origin, conn);
  }

  transport(conn: ConnectionRecord, where: string, startTty: boolean | null): UpgradedTransport {
    const s = this.session;
    // The exec's (or container's) config says whether there is a TTY; then the start call, then the media type.
    const tty = this.ttyKnown ? s.tty : (startTty ?? (s.protocol === MULTIPLEXED_STREAM ? false : null));
    if (!this.ttyKnown && tty !== null) s.tty = tty;
    return new DockerStreamTransport(this.builder, conn, where, tty, (end) => {
      this.streamEnd = end;
      this.finishBuilder(end.ts, end);
      this.settle();
    });
  }

  polled(conn: ConnectionRecord, res: HttpResponseHead, running: boolean | null, exitCode: number | null, label: string): void {
    this.details.polls++;
    this.details.lastPollRunning = running === true;
    const state = running === true ? 'running' : exitCode !== null ? `exited, ExitCode ${exitCode}` : running === false ? 'not running' : 'unreadable answer';
    this.control('poll', 's2c', `${label} → ${state}`, res.origin, conn);
    if (running === false && exitCode !== null) this.exited('inspect', exitCode, res.origin.lastTs);
    this.settle();
  }

  waited(conn: ConnectionRecord, res: HttpResponseHead, statusCode: number | null, error: string | null, label: string): void {
    this.control('request', 's2c', `${label} → StatusCode ${statusCode ?? '?'}${error ? ` (${error})` : ''}`, res.origin, conn);
    if (statusCode !== null) this.exited('wait', statusCode, res.origin.lastTs);
    this.settle();
  }

  finish(endTs: number): void {
    if (!this.finished) this.finishBuilder(this.streamConn?.endTs ?? endTs, null);
    this.settle(endTs);
  }

  private exited(call: 'inspect' | 'wait', code: number, ts: number): void {
    this.session.exit = { status: code === 0 ? 'Success' : 'Failure', code, ...(code !== 0 ? { reason: 'NonZeroExitCode' } : {}) };
    this.details.exitFrom = { call, ts, afterStreamClosedNs: null };
  }

  private finishBuilder(ts: number, end: StreamEnd | null): void {
    if (this.finished) return;
    this.finished = true;
    this.builder.finish({ ts, connectionClosed: end?.closed ?? false, firstClose: end?.firstClose, serverReset: end?.serverReset });
  }

  /** The end state from what was seen: the stream's end, the exit code's call, a refusal. */
  private settle(captureEnd?: number): void {
    const s = this.session;
    const from = this.details.exitFrom;
    const streamClosedAt = this.streamEnd?.closed ? this.streamEnd.ts : null;
    if (from) from.afterStreamClosedNs = streamClosedAt !== null && from.ts >= streamClosedAt ? from.ts - streamClosedAt : null;
    if (this.refusedBy) {
      s.state = 'upgrade-failed';
      return;
    }
    const lastCall = Math.max(s.startTs, ...s.control.map((c) => c.ts));
    if (this.streamEnd) {
      s.endTs = Math.max(this.streamEnd.ts, lastCall);
      s.state = !this.streamEnd.closed ? 'open-at-end' : this.streamEnd.serverReset && !s.exit ? 'aborted' : 'complete';
    } else if (this.streamConn === null && s.exit) {
      s.endTs = lastCall;
      s.state = 'complete';
    } else if (captureEnd !== undefined) {
      s.endTs = Math.max(lastCall, this.streamConn?.endTs ?? captureEnd);
      s.state = 'open-at-end';
    }
  }

  private touch(conn: ConnectionRecord): void {
    if (!this.details.connectionIds.includes(conn.id)) this.details.connectionIds.push(conn.id);
    // Replaced, not pushed to: an ended connection's empty list is a shared frozen one.
    if (!conn.sessionIds.includes(this.session.id)) conn.sessionIds = [...conn.sessionIds, this.session.id];
  }

  /** Every call names its connection: the session's own changes from the create's to the start's. */
  private control(kind: ControlEvent['kind'], dir: 'c2s' | 's2c', detail: string, origin: FrameOrigin, conn: ConnectionRecord): void {
    this.builder.control(kind, dir, detail, origin);
    const added = this.session.control.at(-1);
    if (added && added.origin === origin) added.connectionId = conn.id;
  }
}
