/**
 * HTTP/2 (RFC 9113) as seen by an observer: fed the plaintext of both directions of one connection, it
 * lists every stream's request, response, trailers, data and end, and the connection's control frames.
 *
 * Each direction is a small state machine over the chunks it is fed (preface → frame header → payload),
 * with its own HPACK decoder. DATA payloads are counted, never buffered (only a short preview per stream
 * is copied); other payloads are read from the caller's chunk when they fit in it and copied only when
 * they straddle chunks, within fixed caps. Anything that desynchronises a direction (bad preface, an
 * oversized frame, a broken header block, a gap) stops that direction with a Problem: HPACK state cannot
 * be recovered mid-connection.
 */
import { Buffer } from 'node:buffer';
import type { Direction, FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { http2Problem, type Http2ProblemCode } from './problems.js';
import {
  HTTP2_CLIENT_PREFACE,
  HTTP2_DEFAULT_MAX_FRAME_SIZE,
  HTTP2_FRAME_HEADER_BYTES,
  HTTP2_MAX_FRAME_SIZE_LIMIT,
  Http2Flag,
  Http2FrameType,
  Http2SettingId,
  http2ErrorName,
  http2FrameTypeName,
  http2SettingName,
} from './frame.js';
import { DEFAULT_HEADER_TABLE_SIZE, type HeaderField, HpackDecoder, HpackError } from './hpack.js';

/** Largest encoded header block (HEADERS or PUSH_PROMISE plus CONTINUATIONs) assembled for decoding. */
export const HTTP2_MAX_HEADER_BLOCK = 64 * 1024;
/** Bytes of each stream's body, per direction, copied into `Http2Data.preview`. */
export const HTTP2_BODY_PREVIEW_BYTES = 4096;
/** A header frame may add a pad length byte, up to 255 bytes of padding and 5 bytes of priority. */
const MAX_HEADER_FRAME_PAYLOAD = HTTP2_MAX_HEADER_BLOCK + 1 + 255 + 5;
/** SETTINGS frames larger than this (256 parameters) are reported and skipped, not buffered. */
const MAX_SETTINGS_PAYLOAD = 6 * 256;
/** GOAWAY debug data beyond this is skipped. */
const GOAWAY_DEBUG_KEPT = 1024;
/** Streams tracked at once; real peers allow 100-1000 (SETTINGS_MAX_CONCURRENT_STREAMS). */
const MAX_OPEN_STREAMS = 4096;
/** SETTINGS frames one side may have outstanding before we stop believing its peer will ever ACK. */
const MAX_UNACKED_SETTINGS = 16;
/** Problems one direction may report before it is taken for garbage and decoded no further. */
const MAX_PROBLEMS = 100;
const EMPTY: Uint8Array = new Uint8Array(0);

export interface Http2Request {
  streamId: number;
  method: string;
  path: string;
  authority: string;
  scheme: string;
  /** Every field of the header block in order, pseudo-header fields included. */
  headers: HeaderField[];
  /** END_STREAM was set on the HEADERS frame: the request has no body. */
  endStream: boolean;
  /** Set for a server push: the stream whose PUSH_PROMISE carried this request. */
  promisedBy?: number;
  origin: FrameOrigin;
}

export interface Http2Response {
  streamId: number;
  /** The :status code; 0 when missing or not three digits (reported as a Problem). */
  status: number;
  /** Every field of the header block in order, :status included. */
  headers: HeaderField[];
  endStream: boolean;
  origin: FrameOrigin;
}

/** A header block after the request or final response on a stream. */
export interface Http2Trailers {
  dir: Direction;
  streamId: number;
  headers: HeaderField[];
  origin: FrameOrigin;
}

export interface Http2Data {
  dir: Direction;
  streamId: number;
  /** Data bytes in the frame, padding excluded. */
  length: number;
  /** Padding bytes (the pad length field not counted). */
  padding: number;
  endStream: boolean;
  /** A copy of this frame's bytes that fall within the stream's first HTTP2_BODY_PREVIEW_BYTES in this direction. */
  preview?: Uint8Array;
  origin: FrameOrigin;
}

export interface Http2StreamEnd {
  /** The direction that ended: END_STREAM closes one direction, RST_STREAM (sent in `dir`) both. */
  dir: Direction;
  streamId: number;
  how: 'end_stream' | 'rst';
  errorCode?: number;
  errorName?: string;
  origin: FrameOrigin;
}

export interface Http2Setting {
  id: number;
  name: string;
  value: number;
}

export interface Http2SettingsFrame {
  dir: Direction;
  type: 'SETTINGS';
  ack: boolean;
  settings: Http2Setting[];
  origin: FrameOrigin;
}

export interface Http2PingFrame {
  dir: Direction;
  type: 'PING';
  ack: boolean;
  /** The 8 opaque bytes as 16 hex digits. */
  opaque: string;
  origin: FrameOrigin;
}

export interface Http2GoAwayFrame {
  dir: Direction;
  type: 'GOAWAY';
  lastStreamId: number;
  errorCode: number;
  errorName: string;
  /** The first GOAWAY_DEBUG_KEPT (1024) bytes of debug data, as Latin-1. */
  debugData: string;
  debugLength: number;
  origin: FrameOrigin;
}

export interface Http2WindowUpdateFrame {
  dir: Direction;
  type: 'WINDOW_UPDATE';
  /** 0 for the connection window. */
  streamId: number;
  increment: number;
  origin: FrameOrigin;
}

export interface Http2PriorityFrame {
  dir: Direction;
  type: 'PRIORITY';
  streamId: number;
  dependsOn: number;
  exclusive: boolean;
  /** 1..256 (the wire value plus one). */
  weight: number;
  origin: FrameOrigin;
}

export type Http2Control =
  | Http2SettingsFrame
  | Http2PingFrame
  | Http2GoAwayFrame
  | Http2WindowUpdateFrame
  | Http2PriorityFrame;

export interface Http2Sink {
  onRequest(request: Http2Request): void;
  onResponse(response: Http2Response): void;
  onTrailers(trailers: Http2Trailers): void;
  onData(data: Http2Data): void;
  /**
   * The DATA bytes themselves, as they arrive (before the frame's onData): a view into the caller's
   * chunk, valid only during the call. For a layer above that frames its own messages (gRPC).
   */
  onDataBytes?(dir: Direction, streamId: number, bytes: Uint8Array, ts: number): void;
  onStreamEnd(end: Http2StreamEnd): void;
  onControl(control: Http2Control): void;
  /** Every frame, when its last byte arrived, before what it means is reported (frames skipped as malformed or of unknown type included). */
  onFrame?(frame: Http2FrameSeen): void;
  onProblem(problem: Problem): void;
}

/** A frame's header as it came, for listing. */
export interface Http2FrameSeen {
  dir: Direction;
  type: number;
  flags: number;
  streamId: number;
  /** Payload length. */
  length: number;
  origin: FrameOrigin;
}

/**
 * True when firstBytes (the start of a client's byte stream) is the HTTP/2 client preface, or a prefix of
 * it at least 4 bytes long: "PRI " already rules out every HTTP/1.x request.
 */
export function isHttp2Preface(firstBytes: Uint8Array): boolean {
  const n = Math.min(firstBytes.length, HTTP2_CLIENT_PREFACE.length);
  if (n < 4) return false;
  for (let i = 0; i < n; i++) if (firstBytes[i] !== HTTP2_CLIENT_PREFACE[i]) return false;
  return true;
}

const State = {
  PREFACE: 0,
  FRAME_HEADER: 1,
  PAYLOAD: 2,
  DATA_PAD_LENGTH: 3,
  DATA: 4,
  SKIP: 5,
  STOPPED: 6,
} as const;
type State = (typeof State)[keyof typeof State];

/** Limits one side announced in a SETTINGS frame, in force for its peer once acknowledged. */
interface AnnouncedLimits {
  headerTableSize?: number;
  maxFrameSize?: number;
}

/** A header block being assembled from HEADERS/PUSH_PROMISE and CONTINUATION frames. */
interface PendingBlock {
  push: boolean;
  streamId: number;
  promisedId: number;
  endStream: boolean;
  offset: number;
  packet: number;
  ts: number;
  bytes: Uint8Array;
  fill: number;
}

interface StreamRecord {
  requestSeen: boolean;
  finalResponseSeen: boolean;
  ended: Record<Direction, boolean>;
  previewLeft: Record<Direction, number>;
}

/** Decoding state of one direction. */
class DirectionReader {
  state: State;
  readonly hpack: HpackDecoder;
  /** Frames in this direction may be this long: the receiver's SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize = HTTP2_DEFAULT_MAX_FRAME_SIZE;
  /** The receiver's acknowledged limits for this direction's frames and header blocks. */
  ackedTableSize = DEFAULT_HEADER_TABLE_SIZE;
  ackedFrameSize = HTTP2_DEFAULT_MAX_FRAME_SIZE;
  /** SETTINGS this direction's sender announced that its peer has not acknowledged yet. */
  readonly unacked: AnnouncedLimits[] = [];
  prefaceMatched = 0;
  sawFrame = false;
  problems = 0;
  /** Stream offset just past the last byte pushed. */
  nextOffset = 0;

  // The frame being read.
  readonly header = new Uint8Array(HTTP2_FRAME_HEADER_BYTES);
  headerFill = 0;
  length = 0;
  type = 0;
  flags = 0;
  streamId = 0;
  startOffset = 0;
  startPacket = 0;
  startTs = 0;
  /** Payload bytes to collect, then bytes to skip, before the frame is complete. */
  keep = 0;
  skip = 0;
  payload = EMPTY;
  payloadFill = 0;
  /** Set when a frame is reported and skipped: nothing is emitted when it completes. */
  discard = false;
  // DATA frames.
  dataLength = 0;
  dataLeft = 0;
  padLength = 0;
  preview: Uint8Array | undefined;
  previewFill = 0;

  block: PendingBlock | undefined;

  constructor(
    readonly dir: Direction,
    readonly joinedMidConnection: boolean,
  ) {
    this.state = dir === 'c2s' && !joinedMidConnection ? State.PREFACE : State.FRAME_HEADER;
    // Joined midway, the connection's opening SETTINGS are long past.
    this.sawFrame = joinedMidConnection;
    this.hpack = new HpackDecoder({ joinedMidConnection });
  }
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function bytesAsString(bytes: Uint8Array, start: number, encoding: 'hex' | 'latin1'): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString(encoding);
}

/** A three-digit :status, or 0. */
function parseStatus(value: string): number {
  if (value.length !== 3) return 0;
  let status = 0;
  for (let i = 0; i < 3; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return 0;
    status = status * 10 + digit;
  }
  return status >= 100 ? status : 0;
}

function fieldValue(fields: HeaderField[], name: string): string | undefined {
  for (const [n, v] of fields) if (n === name) return v;
  return undefined;
}

export class Http2ConnectionDecoder {
  private readonly readers: Record<Direction, DirectionReader>;
  private readonly streams = new Map<number, StreamRecord>();
  /** Origin of the chunk being pushed. */
  private chunk: StreamOrigin = { offset: 0, length: 0, packet: 0, ts: 0 };

  /** `joinedMidConnection`: the bytes start at a frame boundary after the preface (a capture that began late). */
  constructor(
    private readonly sink: Http2Sink,
    options: { joinedMidConnection?: boolean } = {},
  ) {
    const midway = options.joinedMidConnection ?? false;
    this.readers = { c2s: new DirectionReader('c2s', midway), s2c: new DirectionReader('s2c', midway) };
  }

  push(dir: Direction, data: Uint8Array, origin: StreamOrigin): void {
    const r = this.readers[dir];
    this.chunk = origin;
    let i = 0;
    while (i < data.length && r.state !== State.STOPPED) {
      switch (r.state) {
        case State.PREFACE:
          i = this.readPreface(r, data, i);
          break;
        case State.FRAME_HEADER:
          i = this.readFrameHeader(r, data, i);
          break;
        case State.PAYLOAD:
          i = this.readPayload(r, data, i);
          break;
        case State.DATA_PAD_LENGTH:
          i = this.readPadLength(r, data, i);
          break;
        case State.DATA:
          i = this.readData(r, data, i);
          break;
        case State.SKIP:
          i = this.readSkip(r, data, i);
          break;
      }
    }
    r.nextOffset = origin.offset + data.length;
  }

  /** Bytes of `dir` are missing: its HPACK state is lost, so that direction is decoded no further. */
  gap(dir: Direction, offset: number, length: number): void {
    const r = this.readers[dir];
    if (r.state === State.STOPPED) return;
    this.stop('gap', r, offset, `${length} bytes missing: HPACK state lost, HTTP/2 not decoded further in this direction`);
  }

  end(): void {
    for (const r of [this.readers.c2s, this.readers.s2c]) {
      if (r.state === State.STOPPED) continue;
      if (r.state === State.PREFACE) {
        if (r.prefaceMatched > 0) this.problem('truncated', r, r.nextOffset, 'connection ended inside the client preface');
      } else if (r.state !== State.FRAME_HEADER || r.headerFill > 0) {
        const what = r.headerFill > 0 ? 'a frame header' : `a ${http2FrameTypeName(r.type)} frame of ${r.length} bytes`;
        this.problem('truncated', r, r.startOffset, `connection ended inside ${what}`);
      } else if (r.block) {
        this.problem('truncated', r, r.block.offset, `connection ended inside the header block of stream ${r.block.streamId}`);
      }
      this.release(r);
    }
  }

  private readPreface(r: DirectionReader, data: Uint8Array, i: number): number {
    const n = Math.min(HTTP2_CLIENT_PREFACE.length - r.prefaceMatched, data.length - i);
    for (let k = 0; k < n; k++) {
      if (data[i + k] !== HTTP2_CLIENT_PREFACE[r.prefaceMatched + k]) {
        this.stop('not-http2', r, this.chunk.offset + i + k, 'not the HTTP/2 client preface');
        return i + k;
      }
    }
    r.prefaceMatched += n;
    if (r.prefaceMatched === HTTP2_CLIENT_PREFACE.length) r.state = State.FRAME_HEADER;
    return i + n;
  }

  private readFrameHeader(r: DirectionReader, data: Uint8Array, i: number): number {
    let h = data;
    let at = i;
    if (r.headerFill === 0) {
      r.startOffset = this.chunk.offset + i;
      r.startPacket = this.chunk.packet;
      r.startTs = this.chunk.ts;
    }
    if (r.headerFill === 0 && data.length - i >= HTTP2_FRAME_HEADER_BYTES) {
      i += HTTP2_FRAME_HEADER_BYTES;
    } else {
      const n = Math.min(HTTP2_FRAME_HEADER_BYTES - r.headerFill, data.length - i);
      r.header.set(data.subarray(i, i + n), r.headerFill);
      r.headerFill += n;
      i += n;
      if (r.headerFill < HTTP2_FRAME_HEADER_BYTES) return i;
      r.headerFill = 0;
      h = r.header;
      at = 0;
    }
    r.length = (h[at]! << 16) | (h[at + 1]! << 8) | h[at + 2]!;
    r.type = h[at + 3]!;
    r.flags = h[at + 4]!;
    r.streamId = u32(h, at + 5) & 0x7fffffff;
    this.beginFrame(r);
    return i;
  }

  private beginFrame(r: DirectionReader): void {
    if (!r.sawFrame) {
      r.sawFrame = true;
      if (r.type !== Http2FrameType.SETTINGS) {
        return this.stop('not-http2', r, r.startOffset, `first frame is ${http2FrameTypeName(r.type)}, not SETTINGS: not HTTP/2`);
      }
    }
    if (r.length > r.maxFrameSize) {
      const name = http2FrameTypeName(r.type);
      return this.stop('frame-too-large', r, r.startOffset, `${name} frame of ${r.length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${r.maxFrameSize}`);
    }
    if (r.block && r.type !== Http2FrameType.CONTINUATION) {
      const name = http2FrameTypeName(r.type);
      return this.stop('protocol', r, r.startOffset, `${name} frame inside the header block of stream ${r.block.streamId}`);
    }
    switch (r.type) {
      case Http2FrameType.DATA:
        return this.beginData(r);
      case Http2FrameType.HEADERS:
      case Http2FrameType.PUSH_PROMISE:
      case Http2FrameType.CONTINUATION:
        return this.beginHeaderFrame(r);
      case Http2FrameType.SETTINGS:
        if (r.streamId !== 0) return this.reject(r, `SETTINGS on stream ${r.streamId}`);
        if (r.flags & Http2Flag.ACK && r.length !== 0) return this.reject(r, `SETTINGS ACK with ${r.length} bytes of payload`);
        if (r.length % 6 !== 0) return this.reject(r, `SETTINGS payload of ${r.length} bytes is not a multiple of 6`);
        if (r.length > MAX_SETTINGS_PAYLOAD) return this.reject(r, `SETTINGS with ${r.length / 6} parameters`);
        return this.collect(r, r.length, 0);
      case Http2FrameType.PING:
        if (r.streamId !== 0) return this.reject(r, `PING on stream ${r.streamId}`);
        if (r.length !== 8) return this.reject(r, `PING of ${r.length} bytes, not 8`);
        return this.collect(r, 8, 0);
      case Http2FrameType.GOAWAY: {
        if (r.streamId !== 0) return this.reject(r, `GOAWAY on stream ${r.streamId}`);
        if (r.length < 8) return this.reject(r, `GOAWAY of ${r.length} bytes, less than 8`);
        const keep = Math.min(r.length, 8 + GOAWAY_DEBUG_KEPT);
        return this.collect(r, keep, r.length - keep);
      }
      case Http2FrameType.WINDOW_UPDATE:
        if (r.length !== 4) return this.reject(r, `WINDOW_UPDATE of ${r.length} bytes, not 4`);
        return this.collect(r, 4, 0);
      case Http2FrameType.RST_STREAM:
        if (r.streamId === 0) return this.reject(r, 'RST_STREAM on stream 0');
        if (r.length !== 4) return this.reject(r, `RST_STREAM of ${r.length} bytes, not 4`);
        return this.collect(r, 4, 0);
      case Http2FrameType.PRIORITY:
        if (r.streamId === 0) return this.reject(r, 'PRIORITY on stream 0');
        if (r.length !== 5) return this.reject(r, `PRIORITY of ${r.length} bytes, not 5`);
        return this.collect(r, 5, 0);
      default:
        // RFC 9113 §4.1: frames of unknown type are ignored.
        r.discard = true;
        return this.collect(r, 0, r.length);
    }
  }

  /** Reports a malformed frame whose length can still be trusted, and skips it. */
  private reject(r: DirectionReader, message: string): void {
    this.problem('malformed-frame', r, r.startOffset, message);
    if (r.state === State.STOPPED) return;
    r.discard = true;
    this.collect(r, 0, r.length);
  }

  private collect(r: DirectionReader, keep: number, skip: number): void {
    r.keep = keep;
    r.skip = skip;
    r.payloadFill = 0;
    if (keep > 0) r.state = State.PAYLOAD;
    else if (skip > 0) r.state = State.SKIP;
    else this.completeFrame(r);
  }

  private readPayload(r: DirectionReader, data: Uint8Array, i: number): number {
    const available = data.length - i;
    if (r.payloadFill === 0 && available >= r.keep && r.skip === 0) {
      // The whole payload is in this chunk and is used before push returns: read it in place.
      r.payload = data.subarray(i, i + r.keep);
      this.completeFrame(r);
      return i + r.keep;
    }
    if (r.payloadFill === 0) r.payload = new Uint8Array(r.keep);
    const n = Math.min(r.keep - r.payloadFill, available);
    r.payload.set(data.subarray(i, i + n), r.payloadFill);
    r.payloadFill += n;
    if (r.payloadFill < r.keep) return i + n;
    if (r.skip > 0) r.state = State.SKIP;
    else this.completeFrame(r);
    return i + n;
  }

  private readSkip(r: DirectionReader, data: Uint8Array, i: number): number {
    const n = Math.min(r.skip, data.length - i);
    r.skip -= n;
    if (r.skip === 0) this.completeFrame(r);
    return i + n;
  }

  private beginData(r: DirectionReader): void {
    if (r.streamId === 0) return this.stop('protocol', r, r.startOffset, 'DATA on stream 0');
    r.padLength = 0;
    if (r.flags & Http2Flag.PADDED) {
      if (r.length === 0) return this.reject(r, 'PADDED DATA frame without a pad length');
      r.state = State.DATA_PAD_LENGTH;
      return;
    }
    this.beginDataBytes(r, r.length);
  }

  private readPadLength(r: DirectionReader, data: Uint8Array, i: number): number {
    r.padLength = data[i]!;
    if (r.padLength > r.length - 1) {
      this.problem('malformed-frame', r, r.startOffset, `DATA padding of ${r.padLength} bytes exceeds the ${r.length}-byte frame`);
      if (r.state === State.STOPPED) return i + 1;
      r.discard = true;
      this.collect(r, 0, r.length - 1);
    } else {
      this.beginDataBytes(r, r.length - 1 - r.padLength);
    }
    return i + 1;
  }

  private beginDataBytes(r: DirectionReader, dataLength: number): void {
    r.dataLength = dataLength;
    r.dataLeft = dataLength;
    r.skip = r.padLength;
    const stream = this.streams.get(r.streamId);
    const previewBytes = stream ? Math.min(stream.previewLeft[r.dir], dataLength) : 0;
    if (previewBytes > 0) {
      stream!.previewLeft[r.dir] -= previewBytes;
      r.preview = new Uint8Array(previewBytes);
      r.previewFill = 0;
    }
    if (dataLength > 0) r.state = State.DATA;
    else if (r.skip > 0) r.state = State.SKIP;
    else this.completeFrame(r);
  }

  private readData(r: DirectionReader, data: Uint8Array, i: number): number {
    const n = Math.min(r.dataLeft, data.length - i);
    if (n > 0) this.sink.onDataBytes?.(r.dir, r.streamId, data.subarray(i, i + n), this.chunk.ts);
    if (r.preview && r.previewFill < r.preview.length) {
      const m = Math.min(n, r.preview.length - r.previewFill);
      r.preview.set(data.subarray(i, i + m), r.previewFill);
      r.previewFill += m;
    }
    r.dataLeft -= n;
    if (r.dataLeft === 0) {
      if (r.skip > 0) r.state = State.SKIP;
      else this.completeFrame(r);
    }
    return i + n;
  }

  private beginHeaderFrame(r: DirectionReader): void {
    const name = http2FrameTypeName(r.type);
    if (r.streamId === 0) return this.stop('protocol', r, r.startOffset, `${name} on stream 0`);
    if (r.type === Http2FrameType.CONTINUATION && (!r.block || r.block.streamId !== r.streamId)) {
      return this.stop('protocol', r, r.startOffset, `CONTINUATION on stream ${r.streamId} without a header block to continue`);
    }
    if (r.type === Http2FrameType.PUSH_PROMISE && r.dir === 'c2s') {
      return this.stop('protocol', r, r.startOffset, 'PUSH_PROMISE sent by the client');
    }
    if (r.length > MAX_HEADER_FRAME_PAYLOAD) {
      const cap = HTTP2_MAX_HEADER_BLOCK;
      return this.stop('limit', r, r.startOffset, `${name} frame of ${r.length} bytes exceeds the ${cap}-byte header block cap`);
    }
    if (r.type !== Http2FrameType.CONTINUATION && r.flags & Http2Flag.PADDED && r.length === 0) {
      return this.stop('malformed-frame', r, r.startOffset, `PADDED ${name} frame without a pad length`);
    }
    this.collect(r, r.length, 0);
  }

  private completeFrame(r: DirectionReader): void {
    const origin: FrameOrigin = {
      offset: r.startOffset,
      length: HTTP2_FRAME_HEADER_BYTES + r.length,
      packet: r.startPacket,
      ts: r.startTs,
      lastPacket: this.chunk.packet,
      lastTs: this.chunk.ts,
    };
    r.state = State.FRAME_HEADER;
    this.sink.onFrame?.({ dir: r.dir, type: r.type, flags: r.flags, streamId: r.streamId, length: r.length, origin });
    if (!r.discard) this.handleFrame(r, r.payload, origin);
    r.discard = false;
    r.payload = EMPTY;
    r.preview = undefined;
  }

  private handleFrame(r: DirectionReader, p: Uint8Array, origin: FrameOrigin): void {
    const dir = r.dir;
    switch (r.type) {
      case Http2FrameType.DATA: {
        const endStream = (r.flags & Http2Flag.END_STREAM) !== 0;
        const data: Http2Data = { dir, streamId: r.streamId, length: r.dataLength, padding: r.padLength, endStream, origin };
        if (r.preview) data.preview = r.preview;
        this.sink.onData(data);
        if (endStream) this.endStream(dir, r.streamId, 'end_stream', origin);
        return;
      }
      case Http2FrameType.HEADERS:
      case Http2FrameType.PUSH_PROMISE:
      case Http2FrameType.CONTINUATION:
        return this.handleHeaderFrame(r, p, origin);
      case Http2FrameType.SETTINGS:
        return this.handleSettings(r, p, origin);
      case Http2FrameType.PING:
        const ack = (r.flags & Http2Flag.ACK) !== 0;
        this.sink.onControl({ dir, type: 'PING', ack, opaque: bytesAsString(p, 0, 'hex'), origin });
        return;
      case Http2FrameType.GOAWAY: {
        const errorCode = u32(p, 4);
        this.sink.onControl({
          dir,
          type: 'GOAWAY',
          lastStreamId: u32(p, 0) & 0x7fffffff,
          errorCode,
          errorName: http2ErrorName(errorCode),
          debugData: bytesAsString(p, 8, 'latin1'),
          debugLength: r.length - 8,
          origin,
        });
        return;
      }
      case Http2FrameType.WINDOW_UPDATE: {
        const increment = u32(p, 0) & 0x7fffffff;
        if (increment === 0) this.problem('protocol', r, r.startOffset, `WINDOW_UPDATE of 0 on stream ${r.streamId}`);
        this.sink.onControl({ dir, type: 'WINDOW_UPDATE', streamId: r.streamId, increment, origin });
        return;
      }
      case Http2FrameType.RST_STREAM:
        return this.endStream(dir, r.streamId, 'rst', origin, u32(p, 0));
      case Http2FrameType.PRIORITY:
        this.sink.onControl({
          dir,
          type: 'PRIORITY',
          streamId: r.streamId,
          dependsOn: u32(p, 0) & 0x7fffffff,
          exclusive: (p[0]! & 0x80) !== 0,
          weight: p[4]! + 1,
          origin,
        });
        return;
    }
  }

  private handleHeaderFrame(r: DirectionReader, p: Uint8Array, origin: FrameOrigin): void {
    let fragment = p;
    if (r.type !== Http2FrameType.CONTINUATION) {
      let start = 0;
      let end = p.length;
      if (r.flags & Http2Flag.PADDED) {
        start = 1;
        end -= p[0]!;
      }
      if (r.type === Http2FrameType.HEADERS && r.flags & Http2Flag.PRIORITY) start += 5;
      if (r.type === Http2FrameType.PUSH_PROMISE) start += 4;
      if (end < start) {
        return this.stop('malformed-frame', r, r.startOffset, `${http2FrameTypeName(r.type)} padding and fields exceed the ${r.length}-byte frame`);
      }
      fragment = p.subarray(start, end);
      r.block = {
        push: r.type === Http2FrameType.PUSH_PROMISE,
        streamId: r.streamId,
        promisedId: r.type === Http2FrameType.PUSH_PROMISE ? u32(p, start - 4) & 0x7fffffff : 0,
        endStream: r.type === Http2FrameType.HEADERS && (r.flags & Http2Flag.END_STREAM) !== 0,
        offset: r.startOffset,
        packet: r.startPacket,
        ts: r.startTs,
        bytes: EMPTY,
        fill: 0,
      };
    }
    const block = r.block!;
    const complete = (r.flags & Http2Flag.END_HEADERS) !== 0;
    if (!complete || block.fill > 0) {
      if (block.fill + fragment.length > HTTP2_MAX_HEADER_BLOCK) {
        return this.stop('limit', r, block.offset, `header block of stream ${block.streamId} exceeds ${HTTP2_MAX_HEADER_BLOCK} bytes`);
      }
      if (block.bytes.length < block.fill + fragment.length) {
        const size = Math.max(2 * block.bytes.length, block.fill + fragment.length, 1024);
        const grown = new Uint8Array(Math.min(size, HTTP2_MAX_HEADER_BLOCK));
        grown.set(block.bytes.subarray(0, block.fill));
        block.bytes = grown;
      }
      block.bytes.set(fragment, block.fill);
      block.fill += fragment.length;
      if (!complete) return;
      fragment = block.bytes.subarray(0, block.fill);
    }
    r.block = undefined;
    const blockOrigin: FrameOrigin = {
      offset: block.offset,
      length: origin.offset + origin.length - block.offset,
      packet: block.packet,
      ts: block.ts,
      lastPacket: origin.lastPacket,
      lastTs: origin.lastTs,
    };
    let fields: HeaderField[];
    try {
      fields = r.hpack.decode(fragment);
    } catch (e) {
      if (!(e instanceof HpackError)) throw e;
      return this.stop('hpack', r, block.offset, `HPACK: ${e.message}`);
    }
    this.handleHeaderBlock(r, block, fields, blockOrigin);
  }

  private handleHeaderBlock(r: DirectionReader, block: PendingBlock, headers: HeaderField[], origin: FrameOrigin): void {
    if (block.push) {
      const stream = this.openStream(r, block.promisedId);
      if (!stream) return;
      stream.requestSeen = true;
      // The client never sends on a pushed stream.
      stream.ended.c2s = true;
      this.emitRequest(r, block.promisedId, headers, false, origin, block.streamId);
      return;
    }
    const streamId = block.streamId;
    const stream = this.openStream(r, streamId);
    if (!stream) return;
    const { dir } = r;
    if (dir === 'c2s') {
      if (stream.requestSeen) this.sink.onTrailers({ dir, streamId, headers, origin });
      else this.emitRequest(r, streamId, headers, block.endStream, origin);
      stream.requestSeen = true;
    } else {
      const statusText = fieldValue(headers, ':status');
      if (statusText === undefined && stream.finalResponseSeen) {
        this.sink.onTrailers({ dir, streamId, headers, origin });
      } else {
        const status = parseStatus(statusText ?? '');
        if (status === 0) {
          this.problem('protocol', r, origin.offset, `response on stream ${streamId} with :status ${JSON.stringify(statusText ?? null)}`);
        }
        // 1xx responses are interim: the final one follows.
        if (status === 0 || status >= 200) stream.finalResponseSeen = true;
        this.sink.onResponse({ streamId, status, headers, endStream: block.endStream, origin });
      }
    }
    if (block.endStream) this.endStream(dir, streamId, 'end_stream', origin);
  }

  private emitRequest(
    r: DirectionReader,
    streamId: number,
    headers: HeaderField[],
    endStream: boolean,
    origin: FrameOrigin,
    promisedBy?: number,
  ): void {
    const request: Http2Request = { streamId, method: '', path: '', authority: '', scheme: '', headers, endStream, origin };
    for (const [name, value] of headers) {
      if (name === ':method') request.method = value;
      else if (name === ':path') request.path = value;
      else if (name === ':authority') request.authority = value;
      else if (name === ':scheme') request.scheme = value;
    }
    if (request.method === '') this.problem('protocol', r, origin.offset, `request on stream ${streamId} without :method`);
    if (promisedBy !== undefined) request.promisedBy = promisedBy;
    this.sink.onRequest(request);
  }

  private handleSettings(r: DirectionReader, p: Uint8Array, origin: FrameOrigin): void {
    const peer = this.readers[r.dir === 'c2s' ? 's2c' : 'c2s'];
    if (r.flags & Http2Flag.ACK) {
      this.sink.onControl({ dir: r.dir, type: 'SETTINGS', ack: true, settings: [], origin });
      if (peer.state === State.STOPPED) return;
      // This side now applies the limits its peer announced: they bound this direction.
      const acked = peer.unacked.shift();
      if (!acked) return r.joinedMidConnection ? undefined : this.problem('protocol', r, r.startOffset, 'SETTINGS ACK with no SETTINGS outstanding');
      if (acked.headerTableSize !== undefined) r.ackedTableSize = acked.headerTableSize;
      if (acked.maxFrameSize !== undefined) r.ackedFrameSize = acked.maxFrameSize;
      this.applyLimits(r, peer);
      return;
    }
    const settings: Http2Setting[] = [];
    const announced: AnnouncedLimits = {};
    for (let at = 0; at < p.length; at += 6) {
      const id = (p[at]! << 8) | p[at + 1]!;
      const value = u32(p, at + 2);
      settings.push({ id, name: http2SettingName(id), value });
      if (id === Http2SettingId.HEADER_TABLE_SIZE) announced.headerTableSize = value;
      else if (id === Http2SettingId.MAX_FRAME_SIZE) {
        if (value < HTTP2_DEFAULT_MAX_FRAME_SIZE || value > HTTP2_MAX_FRAME_SIZE_LIMIT) {
          this.problem('protocol', r, r.startOffset, `SETTINGS_MAX_FRAME_SIZE ${value} out of range: ignored`);
        } else announced.maxFrameSize = value;
      } else if (id === Http2SettingId.ENABLE_PUSH && value > 1) {
        this.problem('protocol', r, r.startOffset, `SETTINGS_ENABLE_PUSH ${value} is not 0 or 1`);
      } else if (id === Http2SettingId.INITIAL_WINDOW_SIZE && value > 0x7fffffff) {
        this.problem('protocol', r, r.startOffset, `SETTINGS_INITIAL_WINDOW_SIZE ${value} above 2^31 - 1`);
      }
    }
    if (r.state === State.STOPPED) return;
    this.sink.onControl({ dir: r.dir, type: 'SETTINGS', ack: false, settings, origin });
    if (peer.state === State.STOPPED) return;
    if (r.unacked.length >= MAX_UNACKED_SETTINGS) {
      return this.stop('limit', r, r.startOffset, `more than ${MAX_UNACKED_SETTINGS} SETTINGS frames without acknowledgement`);
    }
    r.unacked.push(announced);
    this.applyLimits(peer, r);
  }

  /**
   * Limits for `target`'s frames and header blocks: what its side acknowledged, raised by anything the
   * other side announced since. A sender may use a larger limit as soon as it has read the SETTINGS,
   * possibly before its ACK is on the wire; a smaller one binds it only after its ACK.
   */
  private applyLimits(target: DirectionReader, announcer: DirectionReader): void {
    let tableSize = target.ackedTableSize;
    let frameSize = target.ackedFrameSize;
    for (const limits of announcer.unacked) {
      tableSize = Math.max(tableSize, limits.headerTableSize ?? 0);
      frameSize = Math.max(frameSize, limits.maxFrameSize ?? 0);
    }
    target.hpack.setTableSizeLimit(tableSize);
    target.maxFrameSize = frameSize;
  }

  private openStream(r: DirectionReader, streamId: number): StreamRecord | undefined {
    let stream = this.streams.get(streamId);
    if (stream) return stream;
    if (this.streams.size >= MAX_OPEN_STREAMS) {
      this.stop('limit', r, r.startOffset, `more than ${MAX_OPEN_STREAMS} streams open at once`);
      return undefined;
    }
    stream = {
      requestSeen: false,
      finalResponseSeen: false,
      ended: { c2s: false, s2c: false },
      previewLeft: { c2s: HTTP2_BODY_PREVIEW_BYTES, s2c: HTTP2_BODY_PREVIEW_BYTES },
    };
    this.streams.set(streamId, stream);
    return stream;
  }

  private endStream(dir: Direction, streamId: number, how: 'end_stream' | 'rst', origin: FrameOrigin, errorCode?: number): void {
    const end: Http2StreamEnd = { dir, streamId, how, origin };
    if (errorCode !== undefined) {
      end.errorCode = errorCode;
      end.errorName = http2ErrorName(errorCode);
    }
    this.sink.onStreamEnd(end);
    const stream = this.streams.get(streamId);
    if (!stream) return;
    stream.ended[dir] = true;
    const other = dir === 'c2s' ? 's2c' : 'c2s';
    if (how === 'rst' || stream.ended[other] || this.readers[other].state === State.STOPPED) this.streams.delete(streamId);
  }

  /** Reports a problem decoding carries on after, unless the direction has had too many. */
  private problem(code: Http2ProblemCode, r: DirectionReader, offset: number, message: string): void {
    if (r.state === State.STOPPED) return;
    this.sink.onProblem(this.located(code, r, offset, message));
    if (++r.problems === MAX_PROBLEMS) {
      this.stop('limit', r, offset, `${MAX_PROBLEMS} problems: HTTP/2 not decoded further in this direction`);
    }
  }

  /** Reports a problem this direction cannot be decoded past, and stops decoding it. */
  private stop(code: Http2ProblemCode, r: DirectionReader, offset: number, message: string): void {
    this.sink.onProblem(this.located(code, r, offset, message));
    this.release(r);
  }

  /** A problem at `offset` of `r`'s stream; at the start of the frame being read, its packet is known too. */
  private located(code: Http2ProblemCode, r: DirectionReader, offset: number, message: string): Problem {
    const packet = offset === r.startOffset && r.startPacket > 0 ? r.startPacket : undefined;
    return http2Problem(code, message, { where: `${r.dir} offset ${offset}`, direction: r.dir, offset, packet });
  }

  private release(r: DirectionReader): void {
    r.state = State.STOPPED;
    r.block = undefined;
    r.payload = EMPTY;
    r.preview = undefined;
    r.unacked.length = 0;
  }
}
