/**
 * gRPC over HTTP/2 (grpc/grpc doc/PROTOCOL-HTTP2.md) as an observer sees it: fed the HTTP/2 layer's
 * events for one connection, it turns every stream whose request is `content-type: application/grpc…`
 * into a call — method path, deadline (`grpc-timeout`), message encoding, each length-prefixed message
 * (compressed flag, 4-byte big-endian length, bytes) in both directions, and the outcome from the
 * trailers (`grpc-status`, percent-encoded `grpc-message`), or from a trailers-only response.
 *
 * Messages are kept whole up to GRPC_MAX_KEPT_MESSAGE bytes (after decompression) so the layer above
 * can decode them; larger ones are counted and reported, never buffered. Sans-IO.
 */
import { HPACK_UNKNOWN, type HeaderField } from '../http2/hpack.js';
import type { Http2Request, Http2Response, Http2StreamEnd, Http2Trailers } from '../http2/connection.js';
import { nodeZlib } from '../core/node-modules.js';
import type { Direction } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { grpcProblem } from './problems.js';

/** Largest message kept for decoding; CRI's ExecSync caps each output at 16 MiB, real calls are far smaller. */
export const GRPC_MAX_KEPT_MESSAGE = 4 * 1024 * 1024;
/** Calls tracked per connection at once. */
const MAX_OPEN_CALLS = 1024;
/** Messages reported per call and direction (a server stream can be long): the rest are counted. */
const MAX_MESSAGES_PER_DIRECTION = 64;

/** gRPC status codes (grpc/grpc doc/statuscodes.md). */
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

export function grpcStatusName(code: number): string {
  return STATUS_NAMES[code] ?? `status ${code}`;
}

/** A length-prefixed message as a sender writes it: compressed flag, 4-byte big-endian length, message. */
export function grpcFrame(message: Uint8Array, compressed = false): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** `grpc-timeout`: up to 8 digits and a unit (H M S m u n), as nanoseconds; null when malformed. */
export function parseGrpcTimeout(value: string): number | null {
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return null;
  const unitNs: Record<string, number> = { H: 3600e9, M: 60e9, S: 1e9, m: 1e6, u: 1e3, n: 1 };
  return Number(m[1]) * unitNs[m[2]];
}

/** `grpc-message` is percent-encoded UTF-8; a malformed escape is kept as it is. */
function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface GrpcMessage {
  dir: Direction;
  /** The compressed flag of the length prefix. */
  compressed: boolean;
  /** Length on the wire (after the 5-byte prefix). */
  length: number;
  /** The message (decompressed), or null when it was too large or could not be decompressed. */
  bytes: Uint8Array | null;
  /** When its last byte arrived (ns since the capture origin). */
  ts: number;
}

export interface GrpcCall {
  streamId: number;
  /** `/package.Service/Method` as requested; '' when a mid-connection capture missed the indexed path. */
  path: string;
  service: string;
  method: string;
  authority: string;
  userAgent: string;
  /** `grpc-timeout` as ns, null when the client set no deadline. */
  timeoutNs: number | null;
  /** `grpc-encoding` of the request's messages, '' for identity. */
  encoding: string;
  startTs: number;
  /** The response headers (or trailers-only response) arrived. */
  responseTs: number | null;
  /** The call ended: trailers, END_STREAM from the server, or a reset. */
  endTs: number | null;
  httpStatus: number | null;
  status: number | null;
  /** The code's name; 'unknown' when a mid-connection capture missed the indexed grpc-status. */
  statusName: string | null;
  message: string | null;
  /** RST_STREAM that ended the call (e.g. CANCEL when the deadline passed at the client). */
  reset: string | null;
  /** Messages per direction, including those not reported one by one. */
  messages: Record<Direction, number>;
  bytes: Record<Direction, number>;
}

export interface GrpcSink {
  onCallStart(call: GrpcCall): void;
  onMessage(call: GrpcCall, message: GrpcMessage): void;
  /** Trailers arrived, the stream was reset, or the connection ended with the call open (endTs null). */
  onCallEnd(call: GrpcCall): void;
  onProblem(problem: Problem): void;
}

/** Length-prefixed message framing of one direction of one call. */
class MessageFramer {
  private readonly head = new Uint8Array(5);
  private headFill = 0;
  private length = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  reported = 0;

  constructor(
    readonly dir: Direction,
    private readonly emit: (compressed: boolean, length: number, body: Uint8Array | null, ts: number) => void,
  ) {}

  push(bytes: Uint8Array, ts: number): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.headFill < 5) {
        const n = Math.min(5 - this.headFill, bytes.length - i);
        this.head.set(bytes.subarray(i, i + n), this.headFill);
        this.headFill += n;
        i += n;
        if (this.headFill < 5) return;
        this.length = ((this.head[1] << 24) | (this.head[2] << 16) | (this.head[3] << 8) | this.head[4]) >>> 0;
        // An oversize message is counted through, not buffered.
        this.body = this.length > GRPC_MAX_KEPT_MESSAGE ? null : new Uint8Array(this.length);
        this.bodyFill = 0;
        if (this.length === 0) this.complete(ts);
        continue;
      }
      const n = Math.min(this.length - this.bodyFill, bytes.length - i);
      this.body?.set(bytes.subarray(i, i + n), this.bodyFill);
      this.bodyFill += n;
      i += n;
      if (this.bodyFill === this.length) this.complete(ts);
    }
  }

  /** Bytes of an unfinished message (the stream ended inside it). */
  pending(): number {
    return this.headFill === 0 ? 0 : this.headFill + this.bodyFill;
  }

  private complete(ts: number): void {
    const compressed = (this.head[0] & 1) === 1;
    this.emit(compressed, this.length, this.body, ts);
    this.headFill = 0;
    this.body = null;
  }
}

interface OpenCall {
  call: GrpcCall;
  framers: Record<Direction, MessageFramer>;
  /** grpc-encoding each side announced. */
  encodings: Record<Direction, string>;
}

/** A header's value, '' when absent or indexed before a mid-connection capture began. */
function known(value: string | undefined): string {
  return value === undefined || value === HPACK_UNKNOWN ? '' : value;
}

function field(headers: HeaderField[], name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

export function isGrpcRequest(r: Http2Request): boolean {
  return (field(r.headers, 'content-type') ?? '').startsWith('application/grpc');
}

/** A request on a connection joined midway whose content-type was indexed before the capture (name and value unknown): maybe gRPC. */
function maybeGrpcRequest(r: Http2Request): boolean {
  const type = field(r.headers, 'content-type');
  return r.method !== 'GET' && (type === HPACK_UNKNOWN || (type === undefined && r.headers.some(([name]) => name === HPACK_UNKNOWN)));
}

/** Follows the gRPC calls of one HTTP/2 connection. Feed it the HTTP/2 decoder's events. */
export class GrpcCallTracker {
  private readonly open = new Map<number, OpenCall>();

  /** `joinedMidConnection`: requests whose content-type was indexed before the capture began are followed as gRPC too. */
  constructor(
    private readonly sink: GrpcSink,
    private readonly where: string,
    private readonly options: { joinedMidConnection?: boolean } = {},
  ) {}

  request(r: Http2Request): boolean {
    if (!isGrpcRequest(r) && !(this.options.joinedMidConnection && maybeGrpcRequest(r))) return false;
    if (this.open.size >= MAX_OPEN_CALLS) {
      this.sink.onProblem(grpcProblem('limit', `more than ${MAX_OPEN_CALLS} gRPC calls open at once: this one is not followed`, { where: `${this.where} stream ${r.streamId}` }));
      return false;
    }
    // The path indexed before a mid-connection capture began: unknown ('').
    const path = r.path === HPACK_UNKNOWN ? '' : r.path;
    const slash = path.lastIndexOf('/');
    const timeout = field(r.headers, 'grpc-timeout');
    const timeoutNs = timeout === undefined ? null : parseGrpcTimeout(timeout);
    if (timeout !== undefined && timeoutNs === null) this.problem(r.streamId, 'malformed-header', `malformed grpc-timeout "${timeout}"`);
    const call: GrpcCall = {
      streamId: r.streamId,
      path,
      service: path.slice(path.startsWith('/') ? 1 : 0, Math.max(slash, 0)),
      method: path.slice(slash + 1),
      authority: r.authority === HPACK_UNKNOWN ? '' : r.authority,
      userAgent: known(field(r.headers, 'user-agent')),
      timeoutNs,
      encoding: known(field(r.headers, 'grpc-encoding')),
      startTs: r.origin.ts,
      responseTs: null,
      endTs: null,
      httpStatus: null,
      status: null,
      statusName: null,
      message: null,
      reset: null,
      messages: { c2s: 0, s2c: 0 },
      bytes: { c2s: 0, s2c: 0 },
    };
    const open: OpenCall = { call, framers: { c2s: this.framer(call, 'c2s'), s2c: this.framer(call, 's2c') }, encodings: { c2s: call.encoding, s2c: '' } };
    this.open.set(r.streamId, open);
    this.sink.onCallStart(call);
    return true;
  }

  response(r: Http2Response): void {
    const open = this.open.get(r.streamId);
    if (!open || r.status < 200) return;
    open.call.responseTs = r.origin.ts;
    open.call.httpStatus = r.status;
    open.encodings.s2c = known(field(r.headers, 'grpc-encoding'));
    // Trailers-only: the status comes in the response headers, which end the stream.
    if (field(r.headers, 'grpc-status') !== undefined) this.finish(open, r.headers, r.origin.ts);
  }

  trailers(t: Http2Trailers): void {
    const open = this.open.get(t.streamId);
    if (open && t.dir === 's2c') this.finish(open, t.headers, t.origin.ts);
  }

  data(dir: Direction, streamId: number, bytes: Uint8Array, ts: number): void {
    const open = this.open.get(streamId);
    if (!open) return;
    open.call.bytes[dir] += bytes.length;
    open.framers[dir].push(bytes, ts);
  }

  streamEnd(e: Http2StreamEnd): void {
    const open = this.open.get(e.streamId);
    if (!open) return;
    const cut = open.framers[e.dir].pending();
    if (cut) this.problem(e.streamId, 'truncated', `${e.dir === 'c2s' ? 'request' : 'response'} ended inside a gRPC message (${cut} bytes of it seen)`);
    if (e.how === 'rst') {
      open.call.reset = e.errorName ?? `error ${e.errorCode}`;
      this.close(open, e.origin.ts);
    } else if (e.dir === 's2c' && open.call.status === null) {
      this.problem(e.streamId, 'no-status', 'the server ended the call without a grpc-status');
      this.close(open, e.origin.ts);
    }
  }

  /** The connection ended: calls still open stay without an outcome. */
  end(): void {
    for (const open of this.open.values()) this.sink.onCallEnd(open.call);
    this.open.clear();
  }

  private finish(open: OpenCall, headers: HeaderField[], ts: number): void {
    const raw = field(headers, 'grpc-status');
    const code = raw !== undefined && /^\d{1,3}$/.test(raw) ? Number(raw) : null;
    // Joined midway, grpc-status may be an entry indexed before the capture: present but unknown.
    const hidden = raw === HPACK_UNKNOWN || (raw === undefined && headers.some(([name]) => name === HPACK_UNKNOWN));
    if (code === null && !hidden) this.problem(open.call.streamId, 'malformed-header', raw === undefined ? 'trailers without grpc-status' : `malformed grpc-status "${raw}"`);
    open.call.status = code;
    open.call.statusName = code !== null ? grpcStatusName(code) : hidden ? 'unknown' : null;
    const message = field(headers, 'grpc-message');
    open.call.message = message === undefined || message === HPACK_UNKNOWN ? null : percentDecode(message);
    this.close(open, ts);
  }

  private close(open: OpenCall, ts: number): void {
    open.call.endTs = ts;
    this.open.delete(open.call.streamId);
    this.sink.onCallEnd(open.call);
  }

  private framer(call: GrpcCall, dir: Direction): MessageFramer {
    const framer: MessageFramer = new MessageFramer(dir, (compressed, length, body, ts) => {
      call.messages[dir]++;
      if (framer.reported >= MAX_MESSAGES_PER_DIRECTION) return;
      framer.reported++;
      if (!body) this.problem(call.streamId, 'too-large', `gRPC message of ${length} bytes exceeds the ${GRPC_MAX_KEPT_MESSAGE}-byte cap: counted, not decoded`);
      const bytes = body && compressed ? this.decompress(call, dir, body) : body;
      this.sink.onMessage(call, { dir, compressed, length, bytes, ts });
    });
    return framer;
  }

  private decompress(call: GrpcCall, dir: Direction, body: Uint8Array): Uint8Array | null {
    const encoding = this.open.get(call.streamId)?.encodings[dir] ?? '';
    const options = { maxOutputLength: GRPC_MAX_KEPT_MESSAGE };
    try {
      if (encoding === 'gzip') return nodeZlib().gunzipSync(body, options);
      if (encoding === 'deflate') return nodeZlib().inflateSync(body, options);
      this.problem(call.streamId, 'compression', `compressed gRPC message with ${encoding ? `unsupported grpc-encoding "${encoding}"` : 'no grpc-encoding'}: not decoded`);
    } catch (err) {
      this.problem(call.streamId, 'compression', `compressed gRPC message does not decompress (${(err as Error).message}): not decoded`);
    }
    return null;
  }

  private problem(streamId: number, code: Parameters<typeof grpcProblem>[0], message: string): void {
    this.sink.onProblem(grpcProblem(code, message, { where: `${this.where} stream ${streamId}` }));
  }
}
