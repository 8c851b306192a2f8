/**
 * RFC 6455 §5.4–5.5 message layer for one direction, fed by a WebSocketFrameDecoder: checks fragment
 * sequencing, passes data messages up in pieces (never assembled), inflates permessage-deflate
 * messages, and decodes control frames (close code/reason, ping/pong pairing across directions).
 *
 * Sink protocol per data message: onMessageData with first=true on its first piece … last=true on its
 * final piece (which may be empty: zero-length messages, and compressed messages whose end is only
 * known after inflating the tail). onMessageLost reports payload bytes lost inside a message. A message
 * abandoned by lost framing or a protocol error simply never gets its last piece; the next message
 * starts with first=true. Text messages that are not valid UTF-8 (RFC 6455 §8.1) are reported, once each,
 * and still passed up as they are.
 */
import { ZERO_TS, type Direction, type FrameOrigin, type StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { webSocketProblem, type WebSocketProblemCode } from './problems.js';
import type { WebSocketFrameHeader, WebSocketFrameSink } from './frame-decoder.js';
import { Opcode, isControlOpcode, opcodeName } from './frame-header.js';
import { PerMessageInflater } from './permessage-deflate.js';
import { Utf8Validator } from './utf8-validator.js';
import { rangeView } from '../core/byte-range.js';

export interface WebSocketMessageData {
  dir: Direction;
  /** Opcode.Text or Opcode.Binary. */
  opcode: number;
  /**
   * Unmasked (and inflated) bytes, bytes[start, end): the caller's buffer where they lie, or the
   * decoder's scratch or inflated output (core/byte-range.ts); valid only during the call.
   */
  bytes: Uint8Array;
  start: number;
  end: number;
  /** Wire bytes that carried `data` (for compressed messages: the compressed piece it was inflated from); valid only during the call. */
  origin: StreamOrigin;
  first: boolean;
  last: boolean;
  compressed: boolean;
  /** Frames of the message so far, this piece's included: 1 for an unfragmented message. */
  frames: number;
  /**
   * From the first frame's first byte to the end of this piece: the whole message on the last piece.
   * One object shared by the assemblers, refilled for every piece: valid only during the call, copied to be kept.
   */
  message: FrameOrigin;
}

export interface WebSocketMessageLoss {
  dir: Direction;
  opcode: number;
  /** Lost range of the stream: payload (compressed wire bytes when `compressed`). */
  offset: number;
  length: number;
  compressed: boolean;
}

export interface WebSocketControlEvent {
  dir: Direction;
  kind: 'ping' | 'pong' | 'close';
  /** Close status code, when the Close frame carried one. */
  code?: number;
  reason?: string;
  /** The payload (at most maxControlPayload bytes kept). */
  payload: Uint8Array;
  payloadLength: number;
  /** Pong only: time from the paired ping's last byte to this pong's last byte. */
  rttNs?: number;
  /** Pong only: the ping it answers. */
  ping?: FrameOrigin;
  origin: FrameOrigin;
}

export interface WebSocketFrameEvent {
  dir: Direction;
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  masked: boolean;
  maskKey: number;
  payloadLength: number;
  origin: FrameOrigin;
}

export interface WebSocketMessageSink {
  /** `ev` is one object refilled for every piece: like its `data` and origins, it is valid only during the call. */
  onMessageData(ev: WebSocketMessageData): void;
  onMessageLost(ev: WebSocketMessageLoss): void;
  onControl(ev: WebSocketControlEvent): void;
  /** Every frame, at its end (for the UI's frame layer). `ev` and its origin are refilled for every frame: valid only during the call. */
  onFrame?(ev: WebSocketFrameEvent): void;
  onProblem(p: Problem): void;
}

/**
 * Pairs pongs with pings sent the other way: the oldest unanswered ping with the same payload that
 * completed no later than the pong. Shared by the two directions' assemblers.
 */
export class PingPongTracker {
  /** Made at the first ping: most connections send none, and the record and its two lists were ~140 bytes of every open WebSocket. */
  private unanswered: Record<Direction, { payload: Uint8Array; origin: FrameOrigin }[]> | null = null;

  constructor(private readonly maxUnanswered = 64) {}

  ping(dir: Direction, payload: Uint8Array, origin: FrameOrigin): void {
    const queue = (this.unanswered ??= { c2s: [], s2c: [] })[dir];
    queue.push({ payload, origin });
    if (queue.length > this.maxUnanswered) queue.shift();
  }

  /** Returns the ping this pong answers, if any. */
  pong(dir: Direction, payload: Uint8Array, origin: FrameOrigin): FrameOrigin | undefined {
    if (this.unanswered === null) return undefined;
    const queue = this.unanswered[dir === 'c2s' ? 's2c' : 'c2s'];
    for (let i = 0; i < queue.length; i++) {
      const candidate = queue[i];
      if (candidate.origin.lastTs <= origin.lastTs && sameBytes(candidate.payload, payload)) {
        queue.splice(i, 1);
        return candidate.origin;
      }
    }
    return undefined;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface WebSocketMessageAssemblerOptions {
  dir: Direction;
  /** Prefix of Problem.where; defaults to dir. */
  label?: string;
  /** permessage-deflate negotiated; noContextTakeover is this direction's sender's …_no_context_takeover. */
  deflate?: { noContextTakeover: boolean } | null;
  /** Inflated size cap per compressed message (default 64 MiB). */
  maxInflatedMessageBytes?: number;
  maxControlPayload?: number;
  pings?: PingPongTracker;
}

const EMPTY = new Uint8Array(0);
/** What the refilled event points at between pieces (not frozen: one object shape at every access). */
const NO_ORIGIN: StreamOrigin = { offset: 0, length: 0, packet: 0, ts: 0 };
/**
 * The events handed to the sink, refilled for every piece or frame rather than allocated per
 * segment, and shared by every assembler: each is valid only during the call, and no sink feeds
 * another WebSocket connection from inside it. An event of each assembler's own was two or three
 * more cache lines fetched per frame when thousands of connections interleave.
 */
const sharedEvent: WebSocketMessageData = { dir: 'c2s', opcode: 0, bytes: EMPTY, start: 0, end: 0, origin: NO_ORIGIN, first: false, last: false, compressed: false, frames: 0, message: { offset: 0, length: 0, packet: 0, ts: 0, lastPacket: 0, lastTs: 0 } };
const sharedFrameEvent: WebSocketFrameEvent = { dir: 'c2s', opcode: 0, fin: false, rsv1: false, masked: false, maskKey: 0, payloadLength: 0, origin: { offset: 0, length: 0, packet: 0, ts: 0, lastPacket: 0, lastTs: 0 } };
/** Where a message ends (its last frame's end), for the empty or inflated piece that finishes it. */
const sharedEndOrigin: StreamOrigin = { offset: 0, length: 0, packet: 0, ts: 0 };

/** What the frame in progress is to the message layer. */
const FRAME_DISCARD = 0;
const FRAME_DATA = 1;
const FRAME_CONTROL = 2;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

export class WebSocketMessageAssembler implements WebSocketFrameSink {
  private readonly dir: Direction;
  private readonly label: string;
  private readonly inflater: PerMessageInflater | null;
  private readonly pings: PingPongTracker | undefined;

  private frame: WebSocketFrameHeader | null = null;
  private frameRole = FRAME_DISCARD;
  /** Payload bytes of the current frame received or lost so far. */
  private frameDone = 0;

  /** The control frame's payload so far: made at the first Close, Ping or Pong, as most directions send none until their Close. */
  private control: Uint8Array | null = null;
  private readonly maxControlPayload: number;
  private controlLength = 0;
  private controlLost = false;

  /** Opcode of the data message in progress; 0 when none. */
  private msgOpcode = 0;
  private msgCompressed = false;
  private msgFrames = 0;
  private msgOffset = 0;
  private msgPacket = 0;
  private msgTs = ZERO_TS;
  private msgFirstPending = false;
  private msgLastSent = false;
  /**
   * Text messages: the payload so far is valid UTF-8 (a message is reported once). Made at the first
   * text message: a k8s exec sends binary ones, and it was ~110 bytes of every open WebSocket.
   */
  private utf8: Utf8Validator | null = null;
  private textValid = true;
  /** Wire origin of the compressed piece being inflated, for the output it produces. */
  private inflatingOrigin: StreamOrigin = NO_ORIGIN;

  private closed = false;
  private afterCloseReported = false;

  constructor(
    private readonly sink: WebSocketMessageSink,
    opts: WebSocketMessageAssemblerOptions,
  ) {
    this.dir = opts.dir;
    this.label = opts.label ?? opts.dir;
    this.pings = opts.pings;
    this.maxControlPayload = opts.maxControlPayload ?? 125;
    this.inflater = opts.deflate
      ? new PerMessageInflater((chunk) => this.emit(chunk, 0, chunk.length, this.inflatingOrigin, false), {
          noContextTakeover: opts.deflate.noContextTakeover,
          maxMessageBytes: opts.maxInflatedMessageBytes ?? 64 * 1024 * 1024,
        })
      : null;
  }

  onFrameStart(h: WebSocketFrameHeader): void {
    this.frame = h;
    this.frameDone = 0;
    if (this.closed && !this.afterCloseReported) {
      this.afterCloseReported = true;
      this.problem('after-close', h.origin.offset, `${opcodeName(h.opcode)} frame after this side's Close frame (reported once)`, h.origin.packet);
    }
    if (isControlOpcode(h.opcode)) {
      const known = h.opcode === Opcode.Close || h.opcode === Opcode.Ping || h.opcode === Opcode.Pong;
      this.frameRole = known ? FRAME_CONTROL : FRAME_DISCARD;
      if (known) this.control ??= new Uint8Array(this.maxControlPayload);
      this.controlLength = 0;
      this.controlLost = false;
      return;
    }
    if (h.opcode === Opcode.Continuation) {
      if (this.msgOpcode === 0) {
        this.problem('orphan-continuation', h.origin.offset, 'continuation frame without a fragmented message to continue; ignored', h.origin.packet);
        this.frameRole = FRAME_DISCARD;
      } else {
        this.frameRole = FRAME_DATA;
        this.msgFrames++;
      }
      return;
    }
    if (h.opcode !== Opcode.Text && h.opcode !== Opcode.Binary) {
      this.frameRole = FRAME_DISCARD;
      return;
    }
    if (this.msgOpcode !== 0) {
      this.problem('abandoned-message', h.origin.offset, `${opcodeName(h.opcode)} frame while a fragmented message is unfinished; that message is abandoned`, h.origin.packet);
      this.abandonMessage();
    }
    this.frameRole = FRAME_DATA;
    this.startMessage(h);
  }

  onPayload(bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    this.frameDone += end - start;
    if (this.frameRole === FRAME_CONTROL) {
      const control = this.control!;
      const room = control.length - this.controlLength;
      if (room > 0) {
        const n = Math.min(room, end - start);
        control.set(bytes.subarray(start, start + n), this.controlLength);
        this.controlLength += n;
      }
    } else if (this.frameRole === FRAME_DATA) {
      if (this.msgCompressed) {
        this.inflatingOrigin = origin;
        this.reportInflate(this.inflater!.push(rangeView(bytes, start, end)), origin.offset);
      } else {
        const h = this.frame!;
        this.emit(bytes, start, end, origin, h.fin && this.frameDone === h.payloadLength);
      }
    }
  }

  onPayloadLost(offset: number, length: number): void {
    this.frameDone += length;
    if (this.frameRole === FRAME_CONTROL) {
      this.controlLost = true;
    } else if (this.frameRole === FRAME_DATA) {
      if (this.msgCompressed) this.inflater!.abandon();
      this.sink.onMessageLost({ dir: this.dir, opcode: this.msgOpcode, offset, length, compressed: this.msgCompressed });
    }
  }

  onFrameEnd(h: WebSocketFrameHeader, frame: FrameOrigin): void {
    this.frame = null;
    if (this.sink.onFrame) this.frameEvent(h, frame);
    // Control frames' origins are kept (pings awaiting their pong, the sink's control events): a copy of the decoder's.
    if (this.frameRole === FRAME_CONTROL) this.controlFrame(h, { ...frame });
    else if (this.frameRole === FRAME_DATA && h.fin) this.finishMessage(frame);
  }

  /**
   * A whole frame of one piece: between messages, an unfragmented binary one is its message, handed
   * on as its only piece (first and last) and then listed as a frame, as the three steps would; any
   * other (text to validate, a frame after Close or inside a fragmented message) takes those steps.
   */
  onWholeFrame(h: WebSocketFrameHeader, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, frame: FrameOrigin): void {
    if (h.opcode !== Opcode.Binary || this.msgOpcode !== 0 || this.closed === true) {
      this.onFrameStart(h);
      this.onPayload(bytes, start, end, origin);
      this.onFrameEnd(h, frame);
      return;
    }
    // The message starts and ends with this frame: its state is set as startMessage would, without
    // the text and compression set-up a binary uncompressed frame does not use, and cleared after.
    this.msgOpcode = Opcode.Binary;
    this.msgCompressed = false;
    this.msgFrames = 1;
    this.msgOffset = frame.offset;
    this.msgPacket = frame.packet;
    this.msgTs = frame.ts;
    this.deliver(bytes, start, end, origin, true, true);
    this.msgOpcode = 0;
    if (this.sink.onFrame !== undefined) this.frameEvent(h, frame);
  }

  onSyncLost(): void {
    this.frame = null;
    // Whole compressed messages may have vanished with the framing.
    this.inflater?.abandon();
    this.msgOpcode = 0;
  }

  onStreamEnd(): void {
    if (this.msgOpcode !== 0 && this.frame === null) {
      this.problem('truncated', this.msgOffset, 'stream ended inside a fragmented message', this.msgPacket);
    }
  }

  onProblem(p: Problem): void {
    this.sink.onProblem(p);
  }

  private frameEvent(h: WebSocketFrameHeader, frame: FrameOrigin): void {
    const ev = sharedFrameEvent;
    ev.dir = this.dir;
    ev.opcode = h.opcode;
    ev.fin = h.fin;
    ev.rsv1 = h.rsv1;
    ev.masked = h.masked;
    ev.maskKey = h.maskKey;
    ev.payloadLength = h.payloadLength;
    ev.origin = frame;
    this.sink.onFrame!(ev);
  }

  private startMessage(h: WebSocketFrameHeader): void {
    this.msgOpcode = h.opcode;
    this.msgCompressed = h.rsv1 && this.inflater !== null;
    this.msgFrames = 1;
    this.msgOffset = h.origin.offset;
    this.msgPacket = h.origin.packet;
    this.msgTs = h.origin.ts;
    this.msgFirstPending = true;
    this.msgLastSent = false;
    this.utf8?.reset();
    this.textValid = true;
    if (this.msgCompressed) this.reportInflate(this.inflater!.begin(), h.origin.offset);
  }

  private abandonMessage(): void {
    if (this.msgCompressed) this.inflater!.abandon();
    this.msgOpcode = 0;
  }

  private finishMessage(frame: FrameOrigin): void {
    if (this.msgCompressed || !this.msgLastSent) {
      const end = sharedEndOrigin;
      end.offset = frame.offset + frame.length;
      end.packet = frame.lastPacket;
      end.ts = frame.lastTs;
      if (this.msgCompressed) {
        this.inflatingOrigin = end;
        this.reportInflate(this.inflater!.finish(), end.offset);
      }
      if (!this.msgLastSent) this.emit(EMPTY, 0, 0, end, true);
    }
    this.msgOpcode = 0;
  }

  private emit(bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, last: boolean): void {
    if (this.msgOpcode === Opcode.Text && this.textValid) this.checkText(bytes, start, end, last);
    const first = this.msgFirstPending;
    this.msgFirstPending = false;
    if (last) this.msgLastSent = true;
    this.deliver(bytes, start, end, origin, first, last);
  }

  /** Hands a piece of the message in progress, bytes[start, end), to the sink, as the message's (shared) event. */
  private deliver(bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, first: boolean, last: boolean): void {
    const ev = sharedEvent;
    ev.dir = this.dir;
    ev.opcode = this.msgOpcode;
    // Stored only when it changes (the capture reader's buffer, once a read): a pointer stored into
    // this old object costs the write barrier's slow path whenever the buffer is young.
    if (ev.bytes !== bytes) ev.bytes = bytes;
    ev.start = start;
    ev.end = end;
    ev.origin = origin;
    ev.first = first;
    ev.last = last;
    ev.compressed = this.msgCompressed;
    ev.frames = this.msgFrames;
    const m = ev.message;
    m.offset = this.msgOffset;
    m.length = origin.offset + origin.length - this.msgOffset;
    m.packet = this.msgPacket;
    m.ts = this.msgTs;
    m.lastPacket = origin.packet;
    m.lastTs = origin.ts;
    this.sink.onMessageData(ev);
  }

  private checkText(bytes: Uint8Array, start: number, end: number, last: boolean): void {
    const utf8 = (this.utf8 ??= new Utf8Validator());
    const bad = utf8.push(bytes, start, end);
    if (bad >= 0) {
      this.textValid = false;
      this.problem('invalid-utf8', this.msgOffset, `text message is not valid UTF-8: byte ${bad} of its payload (RFC 6455 §8.1)`, this.msgPacket);
    } else if (last && utf8.incomplete) {
      this.textValid = false;
      this.problem('invalid-utf8', this.msgOffset, 'text message ends inside a UTF-8 sequence (RFC 6455 §8.1)', this.msgPacket);
    }
  }

  private reportInflate(problem: string | undefined, offset: number): void {
    if (problem) this.problem('inflate', offset, problem);
  }

  private controlFrame(h: WebSocketFrameHeader, frame: FrameOrigin): void {
    const payload = this.control!.slice(0, this.controlLength);
    const kind = h.opcode === Opcode.Close ? 'close' : h.opcode === Opcode.Ping ? 'ping' : 'pong';
    const ev: WebSocketControlEvent = { dir: this.dir, kind, payload, payloadLength: h.payloadLength, origin: frame };
    if (this.controlLost) {
      this.problem('gap', frame.offset, `${kind} payload incomplete (bytes lost); not interpreted`, frame.packet);
    } else if (kind === 'close') {
      this.closePayload(payload, ev, frame);
    } else if (kind === 'ping') {
      this.pings?.ping(this.dir, payload, frame);
    } else {
      const ping = this.pings?.pong(this.dir, payload, frame);
      if (ping) {
        ev.ping = ping;
        ev.rttNs = frame.lastTs - ping.lastTs;
      }
    }
    if (kind === 'close') this.closed = true;
    this.sink.onControl(ev);
  }

  private closePayload(payload: Uint8Array, ev: WebSocketControlEvent, frame: FrameOrigin): void {
    const { offset, packet } = frame;
    if (payload.length === 0) return;
    if (payload.length === 1) {
      this.problem('malformed-close', offset, 'Close payload of 1 byte (a status code needs 2)', packet);
      return;
    }
    const code = (payload[0] << 8) | payload[1];
    ev.code = code;
    if (!isValidCloseCode(code)) this.problem('malformed-close', offset, `invalid Close status code ${code} (RFC 6455 §7.4)`, packet);
    const reason = payload.subarray(2);
    try {
      ev.reason = strictUtf8.decode(reason);
    } catch {
      this.problem('invalid-utf8', offset, 'Close reason is not valid UTF-8', packet);
      ev.reason = lenientUtf8.decode(reason);
    }
  }

  private problem(code: WebSocketProblemCode, offset: number, message: string, packet?: number): void {
    this.sink.onProblem(webSocketProblem(code, message, { where: `${this.label} offset ${offset}`, direction: this.dir, offset, packet }));
  }
}

/** RFC 6455 §7.4.1 and the IANA registry: codes an endpoint may send in a Close frame. */
function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
