/**
 * The exec-session model every front end reads: the CLI's JSON/text, the hang doctor and the TUI.
 * It is built incrementally while a capture decodes, so a UI can render it before the end.
 */
import type { CarrierLog } from '../core/carrier-log.js';
import type { Direction, FrameOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import type { RpcCall } from './rpc-call.js';
import type { Http2Traffic, WebSocketTraffic } from './connection-traffic.js';
import type { SpilledRecords } from './records.js';

/** `execsync`: a CRI ExecSync call (probes, `crictl exec --sync`): its output and exit code travel inline in the gRPC response. */
export type SessionKind = 'exec' | 'attach' | 'portforward' | 'execsync';
export type Hop = 'apiserver' | 'kubelet' | 'cri' | 'docker';
/** `hijacked`: docker's Engine API hands the HTTP connection over to the raw or stdcopy-multiplexed stream. */
export type Transport = 'spdy' | 'websocket' | 'grpc' | 'hijacked';
export type SessionState = 'complete' | 'aborted' | 'open-at-end' | 'upgrade-failed';

/** Outcome carried on the error stream (never guessed: null when nothing was carried). */
export interface ExecOutcome {
  status: 'Success' | 'Failure' | 'Invalid';
  code: number | null;
  reason?: string;
  message?: string;
  httpCode?: number;
}

/** Something that happened on one k8s stream, at the time its carrying frame completed. */
export interface StreamEvent {
  kind: 'open' | 'reply' | 'data' | 'half-close' | 'reset' | 'established';
  ts: number;
  dir: Direction;
  /** Payload bytes (data events). */
  length: number;
  /** Offset of this event's first payload byte in the k8s stream (data events). */
  streamOffset: number;
  /** The frame (SPDY frame / WebSocket message) that carried it. */
  origin: FrameOrigin;
  detail?: string;
}

export interface StreamRecord {
  /** stdin | stdout | stderr | error | resize | data (port-forward) | unknown-N */
  name: string;
  /** SPDY stream id or WebSocket channel number. */
  id: number;
  /** Which side writes payload on this stream (stdin, resize: c2s; stdout, stderr, error: s2c). */
  dataDir: Direction;
  openedAt: number | null;
  /** When the server answered the stream's SYN_STREAM (SPDY), or null. */
  repliedAt: number | null;
  /** When its first payload byte arrived (kept even when per-frame events are not). */
  firstDataAt: number | null;
  /**
   * When its last payload byte arrived (kept even when per-frame events are not); NaN before the
   * first: read it through lastDataAt(). A number from the start, so V8 lays the field out as a
   * double and each packet's store writes its time in place (a field that began as null took every
   * time as a new heap number, stored through the write barrier: ~95 instructions a small packet).
   */
  lastDataTs: number;
  /** Half-close per side (SPDY FIN, v5 CLOSE signal): replaced, not written to, as open streams share one. */
  closedAt: { readonly c2s: number | null; readonly s2c: number | null };
  resetAt: number | null;
  resetStatus: string | null;
  bytes: number;
  /** Hex sha256 of the exact payload, filled at the end when hashing was asked for. */
  sha256: string | null;
  /** First bytes of the payload (capped), for previews and the content pane. */
  head: Uint8Array[];
  headBytes: number;
  events: StreamEvent[];
  /** Events dropped because the per-stream cap was reached (the model stays bounded). */
  eventsDropped: number;
  port?: number;
}

/** When the stream's last payload byte arrived, null if none did (or there is no such stream). */
export function lastDataAt(r: StreamRecord | undefined): number | null {
  return r === undefined || Number.isNaN(r.lastDataTs) ? null : r.lastDataTs;
}

/** Session-level control traffic for the timeline's control lane. */
export interface ControlEvent {
  kind: 'ping' | 'pong' | 'window-update' | 'flow-control' | 'settings' | 'rst' | 'goaway' | 'close' | 'gap' | 'upgrade' | 'request' | 'poll';
  ts: number;
  dir: Direction;
  detail: string;
  origin: FrameOrigin | null;
  /** The connection that carried it, when not the session's own (docker: resize, inspect, wait calls). */
  connectionId?: number;
  /** A frame of the SPDY connection tunnelled in the session's WebSocket messages: its origin counts the tunnel's bytes. */
  tunnelled?: true;
}

export interface ResizeEvent {
  width: number;
  height: number;
  ts: number;
}

export interface ExecSession {
  id: number;
  connectionId: number;
  kind: SessionKind;
  hop: Hop;
  transport: Transport;
  /** Negotiated subprotocol, '' when none was negotiated. */
  protocol: string;
  offeredProtocols: string[];
  /** Index into capture.files of the capture this session was read from (merged captures only); its packet numbers count in that file. */
  file?: number;
  /** The request's User-Agent (kubectl's names its version), null when not seen. */
  userAgent: string | null;
  httpStatus: number | null;
  method: string;
  target: string;
  client: string;
  server: string;
  namespace: string | null;
  pod: string | null;
  container: string | null;
  uid: string | null;
  token: string | null;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  ports: number[];
  startTs: number;
  upgradeTs: number | null;
  endTs: number | null;
  streams: StreamRecord[];
  resizes: ResizeEvent[];
  exit: ExecOutcome | null;
  /** Raw bytes of the error stream (capped), as carried on the wire. */
  errorBytes: Uint8Array | null;
  state: SessionState;
  /** Session id of the refused WebSocket attempt this SPDY session fell back from. */
  fallbackFrom: number | null;
  /**
   * The same exec on the neighbouring hops in this capture (model/cross-hop.ts): the session that
   * opened this one (nearer kubectl) and the one this one opened (nearer the process).
   */
  previousHop: number | null;
  nextHop: number | null;
  /** The CRI call (RpcCall id) that returned this session's streaming token, or that is this ExecSync. */
  criCall: number | null;
  /** How the TCP connection ended inside the capture: the first side to close it, and whether by RST; null while open. */
  connectionEnd: { ts: number; by: 'client' | 'server'; reset: boolean } | null;
  refusal: { code: number; reason?: string; message: string } | null;
  control: ControlEvent[];
  warnings: Problem[];
  /** Request origin (the HTTP head). */
  requestOrigin: FrameOrigin;
  /** Hop `docker` only: what the Engine API calls around the stream said. */
  docker?: DockerDetails;
}

/** The Engine API calls of one docker exec or attach (create, start, resize, inspect polls, wait). */
export interface DockerDetails {
  execId: string | null;
  /** Container id or name, as the client named it. */
  containerId: string;
  user: string | null;
  workingDir: string | null;
  /** Names of the environment variables the create call set; their values are never kept. */
  env: string[];
  /** Answered `GET /exec/{id}/json` polls. */
  polls: number;
  /** The last of them said the process was still running. */
  lastPollRunning: boolean;
  /** Which call told the exit code, when, and how long after the stream closed (null: before, or no stream). */
  exitFrom: { call: 'inspect' | 'wait'; ts: number; afterStreamClosedNs: number | null } | null;
  /** Every connection that carried one of the calls, the stream's first. */
  connectionIds: number[];
}

/** Every TCP connection, exec or not, so discovery GETs and unknown TCP can be listed. */
export interface ConnectionRecord {
  id: number;
  client: string;
  server: string;
  startTs: number;
  endTs: number | null;
  firstPacket: number;
  /** `grpc`: HTTP/2 that carried gRPC calls; `websocket`: any WebSocket, exec or not. */
  protocol: 'http' | 'http2' | 'grpc' | 'tls' | 'spdy' | 'websocket' | 'hijacked' | 'unknown' | 'empty';
  bytes: { c2s: number; s2c: number };
  requests: { method: string; target: string; status: number | null; ts: number }[];
  /** Set when the connection is TLS; `protocol` then names what it carries once decrypted. */
  tls: TlsSummary | null;
  sessionIds: number[];
  gaps: { dir: Direction; offset: number; length: number; ts: number }[];
  /** TLS and plaintext crossed: a ClientHello answered in plain HTTP, or a plain request answered by TLS. */
  crossed?: { kind: 'tls-to-plaintext' | 'plaintext-to-tls'; serverSaid: string };
  /** Index into capture.files of the capture this connection was read from (merged captures only). */
  file?: number;
  /** Times the receiver of `dir` closed its TCP window (capped): backpressure, as TCP saw it. */
  zeroWindows: ZeroWindow[];
  /** A WebSocket connection's frames and messages. */
  websocket?: WebSocketTraffic;
  /** An HTTP/2 connection's frames and streams. */
  http2?: Http2Traffic;
}

/** A zero TCP window: the receiver of `dir` stopped taking bytes. */
export interface ZeroWindow {
  dir: Direction;
  ts: number;
  packet: number;
  /** Bytes of `dir` the receiver had accepted (acknowledged) when it closed the window. */
  accepted: number;
  /** Zero-window probes the sender made while it stayed closed. */
  probes: number;
  /** When the receiver opened it again; null if it never did within the capture. */
  reopenedAt: number | null;
}

export interface TlsSummary {
  sni?: string;
  alpn?: string;
  version?: string;
  cipherSuite?: string;
  keysFound: boolean | null;
  /** The keys found fail on this connection (wrong or partial key log); absent otherwise. */
  keysWrong?: true;
  /**
   * Record-level timeline (capped), so "who stopped talking" shows even without keys. `offset`: the
   * record's first byte in its direction's TCP stream; `plaintext`: the application bytes it added to
   * the direction's decrypted stream (whose offsets are these summed in order), 0 for any other record.
   */
  records: { dir: Direction; ts: number; offset: number; length: number; type: string; decrypted: boolean; plaintext: number }[];
  recordsDropped: number;
  /**
   * Each direction's decrypted stream, record by record: which record (its TCP range) held each
   * plaintext byte. Not capped per connection like `records`: bounded by the capture's carrier-log
   * budget (core/carrier-log.ts). The Event pane's packets for bytes it cannot decrypt again.
   */
  plaintextCarriers: Record<Direction, CarrierLog>;
}

export interface CaptureSummary {
  format: 'pcap' | 'pcapng' | null;
  packets: number;
  linkTypes: string[];
  /** Link types of interfaces whose packets cannot be decoded. */
  unsupportedLinkTypes: string[];
  /** Absolute time of the capture origin, ns since the epoch. */
  originNs: bigint | null;
  bytesRead: number;
  /**
   * A pcapng secrets block came after TLS connections that had found no keys, and the capture (a pipe)
   * could not be read again with them (a file is). Absent otherwise.
   */
  secretsCameLate?: true;
  /**
   * Several captures merged into one view (one per node): each file, its own origin, and the offset
   * added to its clock so that its times line up with the first file's (estimated from the hops of one
   * exec seen in both). Absent for a single capture.
   */
  files?: CaptureFile[];
}

export interface CaptureFile {
  path: string;
  originNs: bigint | null;
  packets: number;
  /** Added to the file's timestamps (ns); 0 for the reference file. */
  clockOffsetNs: number;
  /** What causality allows the offset to be (ns): ±Infinity where nothing bounds it. */
  clockOffsetMinNs: number;
  clockOffsetMaxNs: number;
  /** How the offset was found: the linked hops it came from, the bounds they set, or why it could not be. */
  clockOffsetFrom: string;
  /** Added to the file's own connection and session ids to make them unique in the merged model. */
  connectionIdShift: number;
  sessionIdShift: number;
}

/**
 * Ended plain-HTTP connections without anything to look at, counted instead of listed once the
 * capture has listed its first `listed` of them (a capture of a million probes keeps no million
 * records): every connection with an exec session, a problem, an error status, TLS, WebSocket,
 * HTTP/2 or a docker call stays listed.
 */
export interface UnlistedConnections {
  /** The bound: this many such connections were listed before counting began. */
  listed: number;
  connections: number;
  requests: number;
  bytes: { c2s: number; s2c: number };
  /** Highest connection id among them (ids stay those of the capture's connections). */
  lastId: number;
}

export interface CaptureModel {
  capture: CaptureSummary;
  /** The sessions held in memory, by id: every one unless `spilled` holds ended ones. */
  sessions: ExecSession[];
  /** The connections held in memory, by id: every listed one unless `spilled` holds ended ones. */
  connections: ConnectionRecord[];
  /**
   * Ended sessions and connections moved out of the two lists above to keep memory bounded (the
   * CLI's reports ask the pipeline for it); absent when the lists hold every record. Reports read
   * both through model/records.ts's CaptureRecords.
   */
  spilled?: SpilledRecords;
  /** Absent when every connection is listed. */
  unlistedConnections?: UnlistedConnections;
  /** gRPC calls (the kubelet's CRI calls), in the order they started. */
  rpcs: RpcCall[];
  warnings: Problem[];
  /** Set when decoding stopped early: the capture is truncated or corrupt. */
  fatal: { message: string; where: string; truncated: boolean } | null;
  done: boolean;
}
