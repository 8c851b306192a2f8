/**
 * One exec/attach/port-forward session: the HTTP request that asked for it, the upgrade answer, and
 * the k8s streams that the SPDY or WebSocket adapter reports. It owns the session's model record
 * and decides the outcome and end state from what was actually carried on the wire.
 */
import { rangeView } from '../core/byte-range.js';
import type { Direction, FrameOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { appended, noEntries } from '../core/appended.js';
import type { ControlEvent, ExecSession, Hop, SessionKind, Transport } from '../model/session.js';
import type { K8sStreamingRequest } from './exec-request.js';
import { parseExecStatus, parseRefusalStatus } from './status.js';
import { ResizeDecoder } from './resize.js';
import { StreamRecorder, type RecorderOptions } from './stream-recorder.js';

/** What the upgraded connection said about its own end, for deciding complete vs aborted. */
export interface SessionEnd {
  ts: number;
  /** The TCP connection closed (FIN or RST) inside the capture. */
  connectionClosed: boolean;
  /** Its first close: by which side, whether a reset, when. */
  firstClose?: { ts: number; by: 'client' | 'server'; reset: boolean };
  /**
   * The server reset it before the client closed its side. (A client that quits — Ctrl-C on kubectl
   * port-forward — may well send a RST, answering data it left unread: that is still its own end.)
   */
  serverReset?: boolean;
}

export interface SessionIdentity {
  id: number;
  connectionId: number;
  client: string;
  server: string;
}

export interface SessionRequest {
  method: string;
  target: string;
  origin: FrameOrigin;
  transport: Transport;
  offeredProtocols: string[];
  userAgent: string | null;
  parsed: K8sStreamingRequest | null;
}

const MAX_ERROR_BYTES = 64 * 1024;
const MAX_CONTROL_EVENTS = 5000;
const MAX_WARNINGS = 200;
/** Exec's five streams and a port-forward's first few. */
const FEW_STREAMS = 8;

export class ExecSessionBuilder {
  readonly session: ExecSession;
  /**
   * The streams' recorders, found by name: a short list while there are few (a Map per session held
   * ~180 bytes for an exec's four streams, the list ~80, and finding one of 2–5 names in it takes as
   * long), past FEW_STREAMS (port-forward, a pair of streams per forwarded connection) a Map instead,
   * whose lookups do not grow with the streams. Either iterates in the order the streams came.
   */
  private recorders: StreamRecorder[] | Map<string, StreamRecorder> = noEntries();
  /** Made on the first resize byte: most sessions never resize, and its buffer is 1 KiB (10,000 open sessions held 10 MB of them). */
  private resizeDecoder: ResizeDecoder | null = null;
  private errorParts: Uint8Array[] = noEntries();
  private errorLength = 0;
  /** The server signalled the end of the session (WS Close, GOAWAY, all streams reset). */
  private serverEnded = false;

  constructor(
    who: SessionIdentity,
    req: SessionRequest,
    private readonly opts: RecorderOptions,
    private readonly tap: { session: number; stream: string; dir?: Direction; write(bytes: Uint8Array): void } | null = null,
  ) {
    const p = req.parsed;
    this.session = {
      id: who.id,
      connectionId: who.connectionId,
      kind: (p?.kind ?? 'exec') as SessionKind,
      hop: (p?.hop ?? null) as Hop,
      transport: req.transport,
      protocol: '',
      offeredProtocols: req.offeredProtocols,
      userAgent: req.userAgent,
      httpStatus: null,
      method: req.method,
      target: req.target,
      client: who.client,
      server: who.server,
      namespace: p?.namespace ?? null,
      pod: p?.pod ?? null,
      container: p?.container ?? null,
      uid: p?.uid ?? null,
      token: p?.token ?? null,
      command: p?.command ?? noEntries(),
      stdin: p?.stdin ?? false,
      stdout: p?.stdout ?? false,
      stderr: p?.stderr ?? false,
      tty: p?.tty ?? false,
      ports: p?.ports ?? noEntries(),
      startTs: req.origin.ts,
      upgradeTs: null,
      endTs: null,
      // Shared frozen lists until their first entry (`appended`): an exec never answered has none.
      streams: noEntries(),
      resizes: noEntries(),
      exit: null,
      errorBytes: null,
      state: 'open-at-end',
      fallbackFrom: null,
      previousHop: null,
      nextHop: null,
      criCall: null,
      connectionEnd: null,
      refusal: null,
      control: noEntries(),
      warnings: noEntries(),
      requestOrigin: req.origin,
    };
  }

  upgraded(status: number, protocol: string, ts: number): void {
    this.session.httpStatus = status;
    this.session.protocol = protocol;
    this.session.upgradeTs = ts;
  }

  refused(status: number, body: Uint8Array, ts: number): void {
    const s = this.session;
    s.httpStatus = status;
    s.state = 'upgrade-failed';
    s.endTs = ts;
    s.refusal = parseRefusalStatus(body, status);
  }

  /** The stream named `name` (creating it on first sight), keyed by name so each appears once. */
  stream(name: string, id: number): StreamRecorder {
    let rec = this.findStream(name);
    if (rec === undefined) {
      rec = new StreamRecorder(name, id, this.opts);
      // A session has a few streams: each added to a copy of the list's size (concat's; a spread, like a
      // push, reserves 17 slots or more: ~130 bytes more for every open session).
      const list = this.session.streams;
      const recorders = this.recorders;
      if (recorders instanceof Map) {
        this.session.streams = appended(list, rec.record);
        recorders.set(name, rec);
      } else if (recorders.length < FEW_STREAMS) {
        this.session.streams = list.concat([rec.record]);
        this.recorders = recorders.concat([rec]);
      } else {
        this.session.streams = appended(list, rec.record);
        this.recorders = new Map(recorders.map((r) => [r.record.name, r]));
        this.recorders.set(name, rec);
      }
    }
    return rec;
  }

  findStream(name: string): StreamRecorder | undefined {
    const recorders = this.recorders;
    if (recorders instanceof Map) return recorders.get(name);
    for (const rec of recorders) if (rec.record.name === name) return rec;
    return undefined;
  }

  /**
   * Payload for stream `name`, bytes[start, end) (valid only during the call: core/byte-range.ts);
   * the error and resize streams are also interpreted.
   */
  data(rec: StreamRecorder, dir: Direction, bytes: Uint8Array, start: number, end: number, frame: FrameOrigin, first: boolean, last: boolean): void {
    rec.data(dir, bytes, start, end, frame, first, last);
    const name = rec.record.name;
    const tap = this.tap;
    if (end === start || (tap === null && name !== 'error' && name !== 'resize')) return;
    const piece = rangeView(bytes, start, end);
    if (tap && tap.session === this.session.id && tap.stream === name && (tap.dir === undefined || tap.dir === dir)) tap.write(piece);
    if (name === 'error' && this.errorLength < MAX_ERROR_BYTES) {
      const take = piece.subarray(0, MAX_ERROR_BYTES - this.errorLength);
      this.errorParts = appended(this.errorParts, take.slice());
      this.errorLength += take.length;
      if (last) this.updateExit();
    } else if (name === 'resize') {
      this.resizeDecoder ??= new ResizeDecoder({
        onResize: (size, origin) => (this.session.resizes = appended(this.session.resizes, { width: size.width, height: size.height, ts: origin.ts })),
        onProblem: (problem) => this.warn(problem),
      });
      this.resizeDecoder.push(piece, { offset: frame.offset, length: piece.length, packet: frame.lastPacket, ts: frame.lastTs });
    }
  }

  control(kind: ControlEvent['kind'], dir: Direction, detail: string, origin: FrameOrigin | null, ts = origin?.lastTs ?? 0, tunnelled = false): void {
    const c = this.session.control;
    if (c.length < MAX_CONTROL_EVENTS) this.session.control = appended<ControlEvent>(c, tunnelled ? { kind, ts, dir, detail, origin, tunnelled } : { kind, ts, dir, detail, origin });
  }

  /** The server ended the session on the wire (WS Close, GOAWAY, RST of the streams after Status). */
  serverSignalledEnd(): void {
    this.serverEnded = true;
  }

  warn(p: Problem): void {
    const w = this.session.warnings;
    if (w.length < MAX_WARNINGS) this.session.warnings = appended(w, p.connection === undefined ? { ...p, connection: this.session.connectionId } : p);
  }

  /** Decide outcome and state once the connection is over or the capture ended. */
  finish(end: SessionEnd): void {
    const s = this.session;
    for (const rec of this.recorders.values()) rec.finish();
    this.resizeDecoder?.end();
    if (s.state === 'upgrade-failed') return;
    s.endTs = end.ts;
    s.connectionEnd = end.firstClose ?? null;
    this.updateExit();
    // Port-forward carries no exit status: it ends when the client closes the connection.
    if (s.kind === 'portforward') s.state = !end.connectionClosed ? 'open-at-end' : end.serverReset ? 'aborted' : 'complete';
    else if (s.exit) s.state = end.connectionClosed || this.serverEnded ? 'complete' : 'open-at-end';
    // Before v4 the server writes nothing on success: a clean close of the error stream is the outcome.
    else if (end.connectionClosed) s.state = this.preV4() && this.cleanPreV4End() ? 'complete' : 'aborted';
    else s.state = 'open-at-end';
  }

  private preV4(): boolean {
    const p = this.session.protocol;
    return p === 'channel.k8s.io' || p === 'v2.channel.k8s.io' || p === 'v3.channel.k8s.io' || p === 'base64.channel.k8s.io';
  }

  private cleanPreV4End(): boolean {
    const err = this.findStream('error')?.record;
    return !!err && err.closedAt.s2c !== null && err.resetAt === null;
  }

  private updateExit(): void {
    if (this.errorLength === 0) return;
    const bytes = this.errorBytes();
    this.session.errorBytes = bytes;
    this.session.exit = parseExecStatus(bytes, this.session.protocol);
  }

  private errorBytes(): Uint8Array {
    if (this.errorParts.length !== 1) this.errorParts = [Buffer.concat(this.errorParts, this.errorLength)];
    return this.errorParts[0];
  }
}
