/** The `analyze --json` document. Fields may be added over time; none are renamed (see README). */
import { diagnoseAll, type Diagnosis, type Finding } from '../diagnose/diagnose.js';
import type { RpcCall } from '../model/rpc-call.js';
import { hopProgress } from '../model/cross-hop.js';
import { recordsOf, sessionById, sessionsOf } from '../model/records.js';
import type { CaptureModel, ExecSession, StreamRecord, TlsSummary } from '../model/session.js';
import { durationMs, isoTime } from '../core/time.js';
import { clockOffsetJson } from './clock-offset.js';
import { http2Json, webSocketJson } from './connection-traffic.js';
import { translatingHop } from './outcome.js';

function streamJson(r: StreamRecord, hash: boolean) {
  return {
    id: r.id,
    bytes: r.bytes,
    sha256: hash ? r.sha256 : undefined,
    closed: r.closedAt[r.dataDir] !== null,
    reset: r.resetAt !== null ? (r.resetStatus ?? true) : false,
  };
}

function dockerJson(s: ExecSession) {
  const d = s.docker!;
  const from = d.exitFrom;
  return {
    execId: d.execId,
    containerId: d.containerId,
    user: d.user,
    workingDir: d.workingDir,
    env: d.env,
    polls: d.polls,
    lastPollRunning: d.lastPollRunning,
    exitFrom: from ? { call: from.call, afterStreamClosedMs: from.afterStreamClosedNs === null ? null : from.afterStreamClosedNs / 1e6 } : null,
    connections: d.connectionIds,
  };
}

const findingJson = (f: Finding) => ({ rule: f.rule, severity: f.severity, title: f.title, hop: f.hop, session: f.session, evidence: f.evidence });

/** The doctor's verdict: the cause first, what followed from it, and notes that are not faults. */
/** The exec's hops on one clock (ms since kubectl's request), and where its bytes stopped. */
function hopProgressJson(model: CaptureModel, s: ExecSession) {
  const sessions = sessionsOf(model);
  const { hops, stopped } = hopProgress(sessions, s);
  const t0 = sessionById(sessions, hops[0].session)?.startTs ?? s.startTs;
  const ms = (t: number | null) => (t === null ? null : durationMs(t0, t));
  return {
    hops: hops.map((h) => ({ session: h.session, hop: h.hop, setupMs: h.setupNs === null ? null : durationMs(0, h.setupNs), firstOutputMs: ms(h.firstOutputTs), outputBytes: h.outputBytes, statusMs: ms(h.statusTs) })),
    stopped: stopped?.what ?? null,
  };
}

export function diagnosisJson(d: Diagnosis | undefined) {
  return {
    cause: d?.cause ? findingJson(d.cause) : null,
    consequences: (d?.consequences ?? []).map(findingJson),
    notes: (d?.notes ?? []).map(findingJson),
    inferred: d?.inferred ? d.inferred : undefined,
  };
}

/** What a session is: known from its request and upgrade (also `execscope live`'s session event). */
export function sessionIdentityJson(s: ExecSession) {
  return {
    id: s.id,
    kind: s.kind,
    hop: s.hop,
    transport: s.transport,
    protocol: s.protocol,
    httpStatus: s.httpStatus,
    client: s.client,
    server: s.server,
    namespace: s.namespace,
    pod: s.pod,
    container: s.container,
    command: s.command,
    tty: s.tty,
  };
}

/**
 * A session's JSON. Like each item of the document, its fields that may be absent are `undefined`
 * (JSON.stringify leaves them out) rather than spread in: with spreads between its fields
 * (`...(s.token !== null ? { token: s.token } : {})`) every session got a hidden class of its own,
 * allocated in V8's old generation, and writing the bench's typing capture (2000 sessions) left
 * ~16 MB of them there, no full collection coming before the process ends — with the WebSocket
 * entries' (connection-traffic.ts), 210–222 MB of peak RSS → 185–191 MB.
 */
function sessionJson(model: CaptureModel, s: ExecSession, hash: boolean, lastTs: number, diagnosis: Diagnosis | undefined) {
  const end = s.endTs ?? (s.state === 'open-at-end' ? lastTs : null);
  const translatedBy = translatingHop(model, s);
  const criCall = criCallOf(model, s);
  return Object.assign(sessionIdentityJson(s), {
    stdin: s.stdin,
    stdout: s.stdout,
    stderr: s.stderr,
    token: s.token !== null ? s.token : undefined,
    uid: s.uid !== null ? s.uid : undefined,
    ports: s.ports.length ? s.ports : undefined,
    method: s.method,
    start: isoTime(model.capture.originNs, s.startTs),
    durationMs: durationMs(s.startTs, end),
    streams: Object.fromEntries(s.streams.map((r) => [r.name, streamJson(r, hash)])),
    resizes: s.resizes.map((r) => ({ width: r.width, height: r.height })),
    exit: s.exit,
    state: s.state,
    fallbackFrom: s.fallbackFrom,
    file: s.file,
    previousHop: s.previousHop,
    nextHop: s.nextHop,
    hopProgress: s.previousHop !== null || s.nextHop !== null ? hopProgressJson(model, s) : undefined,
    translatedBy: translatedBy ? translatedBy.hop : undefined,
    criCall: criCall ? rpcJson(model, criCall) : undefined,
    refusal: s.refusal ? s.refusal : undefined,
    docker: s.docker ? dockerJson(s) : undefined,
    diagnosis: diagnosisJson(diagnosis),
    warnings: s.warnings,
  });
}

function criCallOf(model: CaptureModel, s: ExecSession): RpcCall | undefined {
  return s.criCall === null ? undefined : model.rpcs.find((c) => c.id === s.criCall);
}

/** A gRPC call: the CRI request decoded for Exec/ExecSync/Attach/PortForward; ExecSync's output is its session's. */
function rpcJson(model: CaptureModel, c: RpcCall) {
  return {
    id: c.id,
    connection: c.connectionId,
    method: c.path,
    inferred: c.inferred ? true : undefined,
    cri: c.cri ? c.cri : undefined,
    start: isoTime(model.capture.originNs, c.startTs),
    latencyMs: durationMs(c.startTs, c.endTs),
    timeoutMs: c.timeoutNs === null ? null : c.timeoutNs / 1e6,
    status: c.statusName,
    grpcStatus: c.status !== null ? c.status : undefined,
    message: c.message ? c.message : undefined,
    reset: c.reset ? c.reset : undefined,
    request: c.request ? c.request : undefined,
    url: c.url !== null ? c.url : undefined,
    token: c.url !== null ? c.token : undefined,
    exitCode: c.exitCode !== null ? c.exitCode : undefined,
    session: c.sessionId,
  };
}

/**
 * The document's top-level fields in order, each a value or, for the lists that grow with the
 * capture, a function producing the list's items one by one (so a writer can stream them).
 */
function reportFields(model: CaptureModel, opts: { hash: boolean }): [string, unknown | (() => Iterable<unknown>)][] {
  const records = recordsOf(model);
  const lastTs = records.lastConnectionTs();
  const diagnoses = diagnoseAll(records);
  const fields: [string, unknown | (() => Iterable<unknown>)][] = [
    [
      'capture',
      {
        format: model.capture.format,
        packets: model.capture.packets,
        linkTypes: model.capture.linkTypes,
        start: isoTime(model.capture.originNs, 0),
        ...(model.unlistedConnections ? { unlistedConnections: model.unlistedConnections } : {}),
        ...(model.capture.files ? { files: model.capture.files.map((f) => ({ path: f.path, packets: f.packets, start: isoTime(f.originNs, 0), ...clockOffsetJson(f) })) } : {}),
      },
    ],
    ['sessions', () => lazyMap(records.sessions(), (s) => sessionJson(model, s, opts.hash, lastTs, diagnoses.get(s.id)))],
    [
      'connections',
      () =>
        lazyMap(records.connections(), (c) => ({
          id: c.id,
          client: c.client,
          server: c.server,
          protocol: c.protocol,
          start: isoTime(model.capture.originNs, c.startTs),
          bytes: c.bytes,
          requests: c.requests.map((r) => ({ method: r.method, target: r.target, status: r.status })),
          tls: c.tls ? tlsJson(c.tls) : undefined,
          sessions: c.sessionIds,
          gaps: c.gaps.map((g) => ({ dir: g.dir, offset: g.offset, length: g.length })),
          crossed: c.crossed ? c.crossed : undefined,
          websocket: c.websocket ? webSocketJson(c.websocket) : undefined,
          http2: c.http2 ? http2Json(c.http2) : undefined,
        })),
    ],
    ['rpcs', () => lazyMap(model.rpcs, (c) => rpcJson(model, c))],
    ['warnings', () => model.warnings],
  ];
  if (model.fatal) fields.push(['error', model.fatal]);
  return fields;
}

/** The connection's TLS as listed: the carrier logs are the Event pane's, not the report's. */
function tlsJson({ plaintextCarriers: _carriers, ...listed }: TlsSummary): Omit<TlsSummary, 'plaintextCarriers'> {
  return listed;
}

function* lazyMap<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

export function jsonReport(model: CaptureModel, opts: { hash: boolean }): object {
  return Object.fromEntries(reportFields(model, opts).map(([key, value]) => [key, typeof value === 'function' ? [...(value as () => Iterable<unknown>)()] : value]));
}

/**
 * The text of JSON.stringify(jsonReport(model, opts), null, 2), in pieces: each session, connection,
 * RPC and warning is stringified on its own, so the whole document never sits in memory at once
 * (200,000 sessions make a document of hundreds of megabytes). `encode` is applied to every piece
 * (the terminal sanitiser at the CLI's edge).
 *
 * Each value is stringified inside a wrapper that puts it where the document has it (a field of the
 * top-level object, an item of one of its lists), so JSON.stringify indents it as the document does
 * and only the wrapper's own text is cut off: re-indenting the text of every item with a regular
 * expression (each line break replaced) cost as much again as stringifying it.
 */
export function* jsonReportText(model: CaptureModel, opts: { hash: boolean }, encode: (json: string) => string = (json) => json): Generator<string> {
  const fields = reportFields(model, opts);
  yield '{';
  // An index loop: this generator is resumed for every item, so TurboFan compiles it (twice: the end
  // of the first list is code it has not run), and destructured entries brought iterators into it.
  for (let i = 0; i < fields.length; i++) {
    const key = fields[i][0];
    const value = fields[i][1];
    const comma = i + 1 < fields.length ? ',' : '';
    // `{\n  "key": VALUE\n}` without its braces and last line break.
    if (typeof value !== 'function') {
      yield `${encode(JSON.stringify({ [key]: value }, null, 2).slice(1, -2))}${comma}`;
      continue;
    }
    // `{\n  "key": [\n    ITEM\n  ]\n}`: the item is what follows the list's opening bracket, up to its closing line.
    const opening = `\n  ${JSON.stringify(key)}: [`;
    const itemStart = opening.length + 1;
    let first = true;
    for (const item of (value as () => Iterable<unknown>)()) {
      yield `${first ? opening : ','}${encode(JSON.stringify({ [key]: [item] }, null, 2).slice(itemStart, -LIST_CLOSING.length))}`;
      first = false;
    }
    yield first ? `${opening}]${comma}` : `\n  ]${comma}`;
  }
  yield '\n}';
}

/** How a list that is the value of a top-level field ends, and the document's closing brace after it. */
const LIST_CLOSING = '\n  ]\n}';
