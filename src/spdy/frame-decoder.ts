/**
 * SPDY/3.1 frame decoder for one direction of a connection (the bytes after the HTTP 101).
 *
 * A small state machine over the chunks it is pushed: an 8-byte frame header, then either a control
 * payload (buffered, capped) or a DATA payload (passed up in pieces as views into the input, never
 * buffered). Header blocks go through the direction's one SpdyHeaderInflater in wire order.
 *
 * Capture gaps: a gap inside a payload whose frame header was seen is skipped in place and the
 * decoder stays in sync; a gap that takes a frame header makes the decoder scan for the next
 * plausible frame header (resync). Bytes lost outside DATA payloads may have held a header block, so
 * from then on this direction's header blocks are reported undecodable instead of risking garbage
 * from a zlib stream with a hole in it (zlib would not notice: its checksum comes only at stream end).
 */
import { ZERO_TS, type FrameOrigin, type StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { ResyncCarry } from '../core/resync-carry.js';
import { spdyProblem, type SpdyProblemCode } from './problems.js';
import {
  SPDY_FRAME_HEADER_BYTES,
  SPDY_VERSION,
  SpdyFlag,
  SpdyFrameType,
  goAwayStatusName,
  rstStatusName,
  type SpdyControlFrame,
  type SpdyDataLoss,
  type SpdyDataPiece,
  type SpdySetting,
} from './frame.js';
import { SpdyHeaderInflater, type SpdyHeaders } from './header-block.js';
import { fixedLength, headerBlockStart, isKnownControlType, plausibleSpdyFrame, spdyControlTypeName, u24, u32, type SpdyPlausibility } from './frame-header.js';

export type { SpdyControlFrame, SpdyDataLoss, SpdyDataPiece, SpdySetting } from './frame.js';

export interface SpdyFrameSink {
  onControl(frame: SpdyControlFrame): void;
  /**
   * A DATA frame's payload, delivered in pieces as bytes arrive (never buffered whole). `piece` and its
   * `origin` are objects refilled for every piece: like its `data`, valid only during the call.
   */
  onData(piece: SpdyDataPiece): void;
  onProblem(p: Problem): void;
  /** DATA payload bytes lost in a capture gap; the frame's remaining pieces still follow. Optional. */
  onDataLost?(loss: SpdyDataLoss): void;
  /**
   * The inflated name/value block of the SYN_STREAM, SYN_REPLY or HEADERS frame at `frameOffset`,
   * before its headers are parsed (the Event pane shows each header at its place in it); `inflated`
   * is valid only during the call. Optional.
   */
  onHeaderBlock?(frameOffset: number, inflated: Uint8Array): void;
}

export interface SpdyFrameDecoderOptions {
  /** Compressed header blocks above this are skipped (and the direction's header context with them). Default 1 MiB. */
  maxHeaderBlockBytes?: number;
  /** SETTINGS frames above this are skipped (other control frames have at most 8 bytes worth keeping).
   *  Default 16 MiB (the protocol maximum). */
  maxControlFrameBytes?: number;
  /** Cap on one inflated header block. Default 256 KiB. */
  maxInflatedHeaderBytes?: number;
  /** Prefix of Problem.where, e.g. "10.0.0.1:5555→10.0.0.2:10250 c2s". Default "spdy". */
  label?: string;
}

const DEFAULT_MAX_HEADER_BLOCK_BYTES = 1024 * 1024;
const DEFAULT_MAX_CONTROL_FRAME_BYTES = 16 * 1024 * 1024;
/** Control buffers up to this size are kept for the next frame; larger ones are dropped after use. */
const REUSED_CONTROL_BUFFER_BYTES = 64 * 1024;
const INITIAL_CONTROL_BUFFER_BYTES = 256;
/** SETTINGS entries beyond this are not reported (real peers send at most 8). */
const MAX_SETTINGS_REPORTED = 64;
/** Stream ids remembered for resync plausibility. */
const MAX_REMEMBERED_STREAMS = 4096;
/** Bytes kept across chunks while scanning, so a header candidate may straddle two chunks. */
const RESYNC_TAIL_BYTES = SPDY_FRAME_HEADER_BYTES - 1;

/** A control frame without the fields every control frame has. */
type ControlFrameBody = SpdyControlFrame extends infer F
  ? F extends SpdyControlFrame
    ? Omit<F, 'version' | 'flags' | 'length' | 'origin'>
    : never
  : never;

const EMPTY = new Uint8Array(0);
/**
 * The DATA frame handed with each piece (and with a loss), refilled from the decoder's fields and
 * shared as the piece is: a sink that keeps it keeps a copy. Made per frame, it was an object, two
 * boxed times and two write barriers for every keystroke.
 */
const sharedDataFrame: FrameOrigin = { offset: 0, length: 0, packet: 0, ts: ZERO_TS, lastPacket: 0, lastTs: ZERO_TS };
/**
 * Handed to onData, refilled for every piece rather than allocated per segment, and shared by every
 * decoder (valid only during the call, and no sink feeds another SPDY connection from inside it): a
 * piece of each decoder's own was two more cache lines fetched per frame when thousands of
 * connections interleave. So is its origin, which no consumer keeps.
 */
const sharedPiece: SpdyDataPiece = {
  streamId: 0,
  flags: 0,
  fin: false,
  frameLength: 0,
  bytes: EMPTY,
  start: 0,
  end: 0,
  origin: { offset: 0, length: 0, packet: 0, ts: 0 },
  frame: sharedDataFrame,
  first: false,
  last: false,
};

/**
 * The stream ids a direction has used, and with them what a plausible frame of its is: the evidence
 * resynchronisation judges candidates by. A class rather than an object with a closure over the
 * decoder, which were two more objects and a context for each direction of every open session.
 */
class StreamsSeen implements SpdyPlausibility {
  readonly ids = new Set<number>();
  readonly maxSettings = MAX_SETTINGS_REPORTED;

  constructor(readonly maxHeaderBlockBytes: number) {}

  dataStream(id: number): boolean {
    return this.ids.has(id);
  }
}

/** What a frame header is followed by. */
type State =
  | 'header' // collecting the 8-byte frame header
  | 'control' // buffering the part of a control payload that gets parsed
  | 'data' // passing a DATA payload up in pieces
  | 'skip' // dropping the rest of a frame by its length
  | 'resync'; // lost framing: scanning for a plausible frame header

export class SpdyFrameDecoder {
  private readonly maxHeaderBlockBytes: number;
  private readonly maxControlFrameBytes: number;
  private readonly label: string;
  private readonly inflater: SpdyHeaderInflater;

  private state: State = 'header';
  /** Stream offset of the next byte expected; -1 until the first push or gap (SPDY starts after the 101). */
  private pos = -1;

  // The frame being decoded.
  /** A header that straddles pushes, gathered; made at the first such header (most connections have none). */
  private head: Uint8Array | null = null;
  private headFill = 0;
  private frameOffset = 0;
  private framePacket = 0;
  private frameTs = ZERO_TS;
  private isControl = false;
  private version = 0;
  private type = 0;
  private flags = 0;
  private length = 0;
  private streamId = 0;
  /** Payload bytes of the frame not yet consumed (data, control and skip states). */
  private remaining = 0;
  /** A control frame's origin, made for each: the session and the records keep them (half-closes, resets, control events). */
  private origin: FrameOrigin | null = null;

  // DATA state.
  private firstPiece = true;
  /** The packet and time of the DATA frame's last piece so far (its header's at first). */
  private dataLastPacket = 0;
  private dataLastTs = ZERO_TS;

  // Control state: the first `keep` payload bytes are parsed, the rest is skipped.
  private keep = 0;
  private controlBuf: Uint8Array | null = null;
  private controlFill = 0;
  /** A parsed control frame waiting for the end of its skipped tail. */
  private pending: SpdyControlFrame | null = null;

  // Resync state.
  /** The undecided tail of earlier chunks; made on the first resynchronisation. */
  private carried: ResyncCarry | null = null;
  private tailLen = 0;
  private tailOffset = 0;
  private resyncFrom = 0;
  private resyncLost = 0;
  private resyncSkipped = 0;

  /** The id last added to the streams seen: a direction's DATA frames mostly follow on one stream, so
   *  beginFrame checks it before calling rememberStream. */
  private lastSeenStream = 0;
  private readonly plausibility: StreamsSeen;

  constructor(
    private readonly sink: SpdyFrameSink,
    opts: SpdyFrameDecoderOptions = {},
  ) {
    this.maxHeaderBlockBytes = opts.maxHeaderBlockBytes ?? DEFAULT_MAX_HEADER_BLOCK_BYTES;
    this.maxControlFrameBytes = opts.maxControlFrameBytes ?? DEFAULT_MAX_CONTROL_FRAME_BYTES;
    this.label = opts.label ?? 'spdy';
    this.inflater = new SpdyHeaderInflater({ maxInflatedBytes: opts.maxInflatedHeaderBytes });
    this.plausibility = new StreamsSeen(this.maxHeaderBlockBytes);
  }

  /**
   * Feed the next bytes of the direction; `origin` describes `data` (offset, packet, ts).
   *
   * Every keystroke of an interactive session is a frame in a push of its own, so the steady path
   * (push, readHeader, beginFrame, readData) is kept small enough for the optimizer to inline it into
   * one function: rarer work (realigning, a header split across pushes, control frames) is in
   * functions of its own.
   */
  push(data: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    // The stream offset of data[0]: data[i] is at base + i, in every step below.
    const base = origin.offset - start;
    let i = origin.offset === this.pos ? start : start + this.realign(origin.offset);
    if (i >= end) return;
    const { packet, ts } = origin;
    while (i < end) {
      switch (this.state) {
        case 'header':
          i = this.readHeader(data, i, end, base, packet, ts);
          break;
        case 'control':
          i = this.readControl(data, i, end, packet, ts);
          break;
        case 'data':
          i = this.readData(data, i, end, base, packet, ts);
          break;
        case 'skip':
          i = this.readSkip(data, i, end, packet, ts);
          break;
        case 'resync':
          i = this.readResync(data, i, end, base, packet, ts);
          break;
      }
    }
    this.pos = base + end;
  }

  /** A push that does not start where the last one ended: the first, or after lost or repeated bytes. Returns where to start in it. */
  private realign(offset: number): number {
    if (this.pos < 0) this.pos = offset;
    if (offset > this.pos) this.gap(this.pos, offset - this.pos);
    return Math.max(0, this.pos - offset); // bytes already seen (retransmission overlap)
  }

  /** The capture lost `length` bytes of this direction at `offset`. */
  gap(offset: number, length: number): void {
    if (this.pos < 0) this.pos = offset;
    if (offset < this.pos) {
      length -= this.pos - offset;
      offset = this.pos;
    } else if (offset > this.pos) {
      length += offset - this.pos; // bytes never pushed are lost too
      offset = this.pos;
    }
    if (length <= 0) return;
    this.pos = offset + length;
    while (length > 0) {
      const taken = this.lose(offset, length);
      offset += taken;
      length -= taken;
    }
  }

  /** The direction ended (FIN/RST or end of capture). */
  end(): void {
    switch (this.state) {
      case 'header':
        if (this.headFill > 0) {
          this.problem('truncated', this.frameOffset, `stream ends inside a frame header (${this.headFill} of 8 bytes)`);
        }
        break;
      case 'control':
      case 'data':
      case 'skip':
        this.problem(
          'truncated',
          this.frameOffset,
          `stream ends inside a ${this.frameName()} frame: ${this.remaining} of its ${this.length} payload bytes missing`,
        );
        break;
      case 'resync':
        this.resyncSkipped += this.tailLen;
        this.tailLen = 0;
        this.problem('truncated', this.resyncFrom, `stream ends while looking for a frame header: ${this.describeResync()}`);
        break;
    }
    this.state = 'header';
    this.headFill = 0;
    this.pending = null;
    this.releaseControlBuffer();
  }

  // ---- frame header ----

  private readHeader(data: Uint8Array, i: number, end: number, base: number, packet: number, ts: number): number {
    if (this.headFill === 0) {
      this.frameOffset = base + i;
      this.framePacket = packet;
      this.frameTs = ts;
      if (end - i >= SPDY_FRAME_HEADER_BYTES) {
        this.beginFrame(data, i, base + i + SPDY_FRAME_HEADER_BYTES, packet, ts);
        return i + SPDY_FRAME_HEADER_BYTES;
      }
    }
    return this.collectHeader(data, i, end, base, packet, ts);
  }

  /** Part of a header that straddles pushes: it is gathered in `head`. */
  private collectHeader(data: Uint8Array, i: number, end: number, base: number, packet: number, ts: number): number {
    const n = Math.min(SPDY_FRAME_HEADER_BYTES - this.headFill, end - i);
    const head = (this.head ??= new Uint8Array(SPDY_FRAME_HEADER_BYTES));
    head.set(data.subarray(i, i + n), this.headFill);
    this.headFill += n;
    if (this.headFill === SPDY_FRAME_HEADER_BYTES) {
      this.headFill = 0;
      this.beginFrame(head, 0, base + i + n, packet, ts);
    }
    return i + n;
  }

  /** Decode the header at b[at..at+8) whose last byte came in `packet`; `payloadOffset` follows it. */
  private beginFrame(b: Uint8Array, at: number, payloadOffset: number, packet: number, ts: number): void {
    const b0 = b[at]!;
    this.flags = b[at + 4]!;
    this.length = u24(b, at + 5);
    this.remaining = this.length;
    this.isControl = (b0 & 0x80) !== 0;
    if (this.isControl) return this.beginControl(b, at, packet, ts);
    this.dataLastPacket = packet;
    this.dataLastTs = ts;
    // Spelled out rather than u32(): with its inlining budget spent on this path, the optimizer left that a call.
    this.streamId = ((b0 & 0x7f) << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
    if (this.streamId !== this.lastSeenStream) this.rememberStream(this.streamId);
    this.firstPiece = true;
    // An empty DATA frame (a FIN) is one empty piece, and the next frame header follows.
    if (this.length > 0) this.state = 'data';
    else this.emitPiece(EMPTY, 0, 0, payloadOffset, packet, ts);
  }

  // ---- DATA ----

  /** `base` is the stream offset of data[0]. */
  private readData(data: Uint8Array, i: number, end: number, base: number, packet: number, ts: number): number {
    const n = Math.min(this.remaining, end - i);
    this.remaining -= n;
    if (this.remaining === 0) this.state = 'header';
    this.emitPiece(data, i, i + n, base + i, packet, ts);
    return i + n;
  }

  /** data[start, end) lies at stream offset `offset`, its first byte came in `packet` at `ts`. */
  private emitPiece(data: Uint8Array, start: number, end: number, offset: number, packet: number, ts: number): void {
    this.dataLastPacket = packet;
    this.dataLastTs = ts;
    const frame = this.dataFrame();
    const piece = sharedPiece;
    const origin = piece.origin;
    origin.offset = offset;
    origin.length = end - start;
    origin.packet = packet;
    origin.ts = ts;
    piece.streamId = this.streamId;
    piece.flags = this.flags;
    piece.fin = (this.flags & SpdyFlag.FIN) !== 0;
    piece.frameLength = this.length;
    // Stored only when it changes (the capture reader's buffer, once a read): a pointer stored into
    // this old object costs the write barrier's slow path whenever the buffer is young.
    if (piece.bytes !== data) piece.bytes = data;
    piece.start = start;
    piece.end = end;
    piece.frame = frame;
    piece.first = this.firstPiece;
    piece.last = this.remaining === 0;
    this.firstPiece = false;
    this.sink.onData(piece);
  }

  /** The DATA frame being decoded, up to its last piece so far, in the shared origin. */
  private dataFrame(): FrameOrigin {
    const frame = sharedDataFrame;
    frame.offset = this.frameOffset;
    frame.length = SPDY_FRAME_HEADER_BYTES + this.length;
    frame.packet = this.framePacket;
    frame.ts = this.frameTs;
    frame.lastPacket = this.dataLastPacket;
    frame.lastTs = this.dataLastTs;
    return frame;
  }

  // ---- control frames ----

  /** The header at b[at..at+8) starts a control frame, whose header's last byte came in `packet` at `ts`. */
  private beginControl(b: Uint8Array, at: number, packet: number, ts: number): void {
    this.origin = { offset: this.frameOffset, length: SPDY_FRAME_HEADER_BYTES + this.length, packet: this.framePacket, ts: this.frameTs, lastPacket: packet, lastTs: ts };
    this.version = ((b[at]! & 0x7f) << 8) | b[at + 1]!;
    this.type = (b[at + 2]! << 8) | b[at + 3]!;
    const name = this.frameName();
    if (this.version !== SPDY_VERSION) {
      this.problem('bad-version', this.frameOffset, `control frame with version ${this.version} (expected 3), type ${this.type}: skipped ${this.length} bytes`);
      return this.skipRest(null);
    }
    if (!isKnownControlType(this.type)) return this.skipRest(this.frame({ type: 'UNKNOWN', frameType: this.type }));
    const blockStart = headerBlockStart(this.type);
    const fixed = fixedLength(this.type);
    if (blockStart > 0) {
      if (this.length < blockStart) {
        this.problem('malformed-frame', this.frameOffset, `${name} payload of ${this.length} bytes is too short (needs ${blockStart} + header block)`);
        return this.skipRest(null);
      }
      this.keep = this.length;
      if (this.length - blockStart > this.maxHeaderBlockBytes) {
        // Feeding the block to the inflater would not save the context: its output would pass the
        // inflated cap (a compressed block is never much larger than its output) and stop there.
        this.keep = blockStart;
        this.inflater.loseContext(`a ${this.length - blockStart}-byte header block at offset ${this.frameOffset} was too large to decode`);
        this.problem('limit', this.frameOffset, `${name} header block of ${this.length - blockStart} bytes exceeds ${this.maxHeaderBlockBytes}: skipped`);
      }
    } else if (fixed > 0) {
      if (this.length < fixed) {
        this.problem('malformed-frame', this.frameOffset, `${name} payload of ${this.length} bytes is too short (expected ${fixed})`);
        return this.skipRest(null);
      }
      if (this.length !== fixed) {
        this.problem('malformed-frame', this.frameOffset, `${name} payload of ${this.length} bytes (expected ${fixed}); spdystream would lose framing`);
      }
      this.keep = fixed;
    } else {
      // SETTINGS
      if (this.length > this.maxControlFrameBytes) {
        this.problem('limit', this.frameOffset, `${name} of ${this.length} bytes exceeds ${this.maxControlFrameBytes}: skipped`);
        return this.skipRest(null);
      }
      this.keep = this.length;
    }
    this.controlFill = 0;
    this.state = 'control';
    if (this.keep === 0) this.finishControl(EMPTY);
  }

  private readControl(data: Uint8Array, i: number, end: number, packet: number, ts: number): number {
    const avail = end - i;
    const origin = this.origin!;
    origin.lastPacket = packet;
    origin.lastTs = ts;
    if (this.controlFill === 0 && avail >= this.keep) {
      this.remaining -= this.keep;
      this.finishControl(data.subarray(i, i + this.keep)); // whole in this chunk: parse in place
      return i + this.keep;
    }
    const n = Math.min(this.keep - this.controlFill, avail);
    this.ensureControlCapacity(this.controlFill + n);
    this.controlBuf!.set(data.subarray(i, i + n), this.controlFill);
    this.controlFill += n;
    this.remaining -= n;
    if (this.controlFill === this.keep) {
      const buf = this.controlBuf!.subarray(0, this.keep);
      this.finishControl(buf);
      this.releaseControlBuffer();
    }
    return i + n;
  }

  private ensureControlCapacity(needed: number): void {
    const cur = this.controlBuf;
    if (cur && cur.length >= needed) return;
    // Grow with the bytes that actually arrived, never straight to a length field's claim.
    const size = Math.min(this.keep, Math.max(needed, INITIAL_CONTROL_BUFFER_BYTES, (cur?.length ?? 0) * 2));
    const bigger = new Uint8Array(size);
    if (cur) bigger.set(cur.subarray(0, this.controlFill));
    this.controlBuf = bigger;
  }

  private releaseControlBuffer(): void {
    if (this.controlBuf && this.controlBuf.length > REUSED_CONTROL_BUFFER_BYTES) this.controlBuf = null;
    this.controlFill = 0;
  }

  /** The kept prefix of a control payload is complete: parse it, emit now or after the skipped rest. */
  private finishControl(p: Uint8Array): void {
    const frame = this.parseControl(p);
    if (this.remaining > 0) return this.skipRest(frame);
    this.state = 'header';
    if (frame) this.sink.onControl(frame);
  }

  private parseControl(p: Uint8Array): SpdyControlFrame | null {
    const fin = (this.flags & SpdyFlag.FIN) !== 0;
    switch (this.type) {
      case SpdyFrameType.SYN_STREAM: {
        const streamId = u32(p, 0) & 0x7fffffff;
        this.rememberStream(streamId);
        return this.frame({
          type: 'SYN_STREAM',
          streamId,
          associatedId: u32(p, 4) & 0x7fffffff,
          priority: p[8]! >> 5,
          slot: p[9]!,
          fin,
          unidirectional: (this.flags & SpdyFlag.UNIDIRECTIONAL) !== 0,
          headers: this.headerBlock(p, 10),
        });
      }
      case SpdyFrameType.SYN_REPLY:
      case SpdyFrameType.HEADERS: {
        const streamId = u32(p, 0) & 0x7fffffff;
        this.rememberStream(streamId);
        const type = this.type === SpdyFrameType.SYN_REPLY ? 'SYN_REPLY' : 'HEADERS';
        return this.frame({ type, streamId, fin, headers: this.headerBlock(p, 4) });
      }
      case SpdyFrameType.RST_STREAM: {
        const status = u32(p, 4);
        return this.frame({ type: 'RST_STREAM', streamId: u32(p, 0) & 0x7fffffff, status, statusName: rstStatusName(status) });
      }
      case SpdyFrameType.SETTINGS:
        return this.parseSettings(p);
      case SpdyFrameType.PING:
        return this.frame({ type: 'PING', id: u32(p, 0) });
      case SpdyFrameType.GOAWAY: {
        const status = u32(p, 4);
        return this.frame({
          type: 'GOAWAY',
          lastGoodStreamId: u32(p, 0) & 0x7fffffff,
          status,
          statusName: goAwayStatusName(status),
        });
      }
      default: // WINDOW_UPDATE: the only type left that reaches here
        return this.frame({ type: 'WINDOW_UPDATE', streamId: u32(p, 0) & 0x7fffffff, delta: u32(p, 4) & 0x7fffffff });
    }
  }

  private parseSettings(p: Uint8Array): SpdyControlFrame | null {
    if (p.length < 4) {
      this.problem('malformed-frame', this.frameOffset, `SETTINGS payload of ${p.length} bytes has no entry count`);
      return null;
    }
    const count = u32(p, 0);
    const room = Math.floor((p.length - 4) / 8);
    if (count !== room || p.length !== 4 + 8 * room) {
      this.problem('malformed-frame', this.frameOffset, `SETTINGS claims ${count} entries in a ${p.length}-byte payload`);
    }
    const n = Math.min(count, room, MAX_SETTINGS_REPORTED);
    if (Math.min(count, room) > n) this.problem('limit', this.frameOffset, `SETTINGS with ${Math.min(count, room)} entries: only the first ${n} reported`);
    const settings: SpdySetting[] = [];
    for (let k = 0; k < n; k++) {
      const word = u32(p, 4 + 8 * k);
      settings.push({ id: word & 0xffffff, flags: word >>> 24, value: u32(p, 8 + 8 * k) });
    }
    return this.frame({ type: 'SETTINGS', clear: (this.flags & SpdyFlag.SETTINGS_CLEAR) !== 0, settings });
  }

  /** Headers of a SYN_STREAM/SYN_REPLY/HEADERS, or null (block skipped, lost context, undecodable). */
  private headerBlock(p: Uint8Array, start: number): SpdyHeaders | null {
    if (this.keep < this.length) return null; // block skipped as oversized; already reported
    const result = this.inflater.inflate(p.subarray(start));
    if (result.inflated) this.sink.onHeaderBlock?.(this.frameOffset, result.inflated);
    if (result.problem) this.problem('header-block', this.frameOffset, `${this.frameName()}: ${result.problem}`);
    return result.headers;
  }

  /**
   * The header's fields added to `body` itself: spreading bodies of this many shapes into a new
   * object sent V8 through its slow path (map migrations), ~6,000 instructions a control frame.
   */
  private frame(body: ControlFrameBody): SpdyControlFrame {
    const frame = body as SpdyControlFrame;
    frame.version = this.version;
    frame.flags = this.flags;
    frame.length = this.length;
    frame.origin = this.origin!;
    return frame;
  }

  private rememberStream(id: number): void {
    const seen = this.plausibility.ids;
    if (id === this.lastSeenStream || id === 0 || seen.size >= MAX_REMEMBERED_STREAMS) return;
    seen.add(id);
    this.lastSeenStream = id;
  }

  // ---- skipping ----

  /** Drop the rest of the current frame; `then` is emitted once its last byte has gone by. */
  private skipRest(then: SpdyControlFrame | null): void {
    this.pending = then;
    if (this.remaining === 0) {
      this.state = 'header';
      if (then) this.sink.onControl(then);
      this.pending = null;
    } else {
      this.state = 'skip';
    }
  }

  private readSkip(data: Uint8Array, i: number, end: number, packet: number, ts: number): number {
    const n = Math.min(this.remaining, end - i);
    this.remaining -= n;
    if (this.remaining === 0) {
      this.state = 'header';
      const then = this.pending;
      this.pending = null;
      if (then) {
        then.origin.lastPacket = packet;
        then.origin.lastTs = ts;
        this.sink.onControl(then);
      }
    }
    return i + n;
  }

  // ---- gaps ----

  /** Account for lost bytes starting at `offset`; returns how many of `length` the current state took. */
  private lose(offset: number, length: number): number {
    switch (this.state) {
      case 'data': {
        const n = Math.min(length, this.remaining);
        this.remaining -= n;
        this.problem('gap', offset, `capture gap: ${n} bytes of DATA for stream ${this.streamId} lost (frame at offset ${this.frameOffset})`);
        this.sink.onDataLost?.({ streamId: this.streamId, offset, length: n, frame: this.dataFrame() });
        if (this.remaining === 0) {
          // The frame's FIN (in its header) still counts: close the frame with an empty last piece.
          this.state = 'header';
          this.emitPiece(EMPTY, 0, 0, offset + n, this.dataLastPacket, this.dataLastTs);
        }
        return n;
      }
      case 'control':
      case 'skip': {
        const n = Math.min(length, this.remaining);
        this.remaining -= n;
        if (this.pending || this.state === 'control') {
          if (headerBlockStart(this.type) > 0) {
            this.inflater.loseContext(`part of the ${this.frameName()} at offset ${this.frameOffset} was not captured`);
          }
          this.problem('gap', offset, `capture gap: ${n} bytes of the ${this.frameName()} frame at offset ${this.frameOffset} lost; frame dropped`);
          this.pending = null;
          this.releaseControlBuffer();
        }
        this.state = 'skip';
        if (this.remaining === 0) this.state = 'header';
        return n;
      }
      case 'header':
        this.state = 'resync';
        this.resyncFrom = this.headFill > 0 ? this.frameOffset : offset;
        this.resyncLost = 0;
        this.resyncSkipped = this.headFill;
        this.headFill = 0;
        this.tailLen = 0;
        this.carried ??= new ResyncCarry(RESYNC_TAIL_BYTES);
        this.inflater.loseContext(`framing was lost at offset ${this.resyncFrom} and the lost bytes may have held a header block`);
        return 0; // the resync state takes the bytes
      case 'resync':
        this.resyncLost += length;
        this.resyncSkipped += this.tailLen; // a header cannot straddle a hole
        this.tailLen = 0;
        return length;
    }
  }

  // ---- resync ----

  private readResync(data: Uint8Array, i: number, end: number, base: number, packet: number, ts: number): number {
    // Candidates that start in the tail of earlier chunks and end in this one.
    const carried = this.carried!;
    if (this.tailLen > 0) {
      const scratch = carried.window;
      scratch.set(carried.bytes.subarray(0, this.tailLen));
      const fromData = Math.min(RESYNC_TAIL_BYTES, end - i);
      scratch.set(data.subarray(i, i + fromData), this.tailLen);
      const total = this.tailLen + fromData;
      for (let j = 0; j < this.tailLen && j + SPDY_FRAME_HEADER_BYTES <= total; j++) {
        if (!this.plausibleHeader(scratch, j)) continue;
        this.resyncSkipped += j;
        this.resumeAt(this.tailOffset + j);
        this.frameOffset = this.tailOffset + j;
        this.framePacket = carried.packets[j]!;
        this.frameTs = carried.times[j]!;
        this.headFill = this.tailLen - j;
        (this.head ??= new Uint8Array(SPDY_FRAME_HEADER_BYTES)).set(carried.bytes.subarray(j, this.tailLen));
        this.tailLen = 0;
        return i; // the header state completes the header from this chunk
      }
      if (fromData < RESYNC_TAIL_BYTES) {
        // Too few new bytes to judge every tail position: keep the undecided ones as the new tail.
        return this.keepTail(scratch, total, end, packet, ts);
      }
      this.resyncSkipped += this.tailLen;
      this.tailLen = 0;
    }
    const lastStart = end - SPDY_FRAME_HEADER_BYTES;
    for (let k = i; k <= lastStart; k++) {
      if (!this.plausibleHeader(data, k)) continue;
      this.resyncSkipped += k - i;
      this.resumeAt(base + k);
      return k;
    }
    const undecided = Math.min(RESYNC_TAIL_BYTES, end - i);
    this.resyncSkipped += end - i - undecided;
    this.tailOffset = base + end - undecided;
    carried.bytes.set(data.subarray(end - undecided, end));
    carried.packets.fill(packet, 0, undecided);
    carried.times.fill(ts, 0, undecided);
    this.tailLen = undecided;
    return end;
  }

  /** Keep the last undecided bytes of tail + this (short) chunk for the next chunk. */
  private keepTail(scratch: Uint8Array, total: number, end: number, packet: number, ts: number): number {
    const keepFrom = Math.max(0, total - RESYNC_TAIL_BYTES);
    const oldTail = this.tailLen;
    const { bytes, packets, times } = this.carried!;
    for (let j = keepFrom; j < total; j++) {
      const t = j - keepFrom;
      bytes[t] = scratch[j]!;
      if (j < oldTail) {
        packets[t] = packets[j]!;
        times[t] = times[j]!;
      } else {
        packets[t] = packet;
        times[t] = ts;
      }
    }
    this.resyncSkipped += keepFrom;
    this.tailOffset += keepFrom;
    this.tailLen = total - keepFrom;
    return end;
  }

  private resumeAt(offset: number): void {
    this.state = 'header';
    this.headFill = 0;
    this.problem('resync', this.resyncFrom, `resynchronised at offset ${offset}: ${this.describeResync()}`);
  }

  private describeResync(): string {
    return `${this.resyncLost} bytes lost in the capture, ${this.resyncSkipped} bytes skipped looking for a frame header`;
  }

  /** Could b[at..at+8) start a frame this peer would send? */
  private plausibleHeader(b: Uint8Array, at: number): boolean {
    return plausibleSpdyFrame(b, at, this.plausibility);
  }

  // ---- helpers ----

  private frameName(): string {
    if (!this.isControl) return `DATA (stream ${this.streamId})`;
    return spdyControlTypeName(this.type);
  }

  private problem(code: SpdyProblemCode, offset: number, message: string): void {
    this.sink.onProblem(spdyProblem(code, message, { where: `${this.label} offset ${offset}`, offset }));
  }
}
