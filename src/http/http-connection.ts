import type { Direction, FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { httpProblem, type HttpProblemCode } from './problems.js';
import { HttpBodyDecoder, type BodyPieceHandler } from './body-decoder.js';
import { appended } from '../core/appended.js';
import {
  isUpgradeRequest,
  parseRequestHead,
  parseResponseHead,
  startLooksLikeHttp,
  type HeadParseResult,
  type HttpHead,
  type HttpHeaders,
  type HttpRequestHead,
  type HttpResponseHead,
} from './http-head.js';
import { LineCollector, NEED_MORE, TOO_LONG } from './line-collector.js';

export { header, headerValues, isUpgradeRequest } from './http-head.js';
export type { HttpHead, HttpHeaders, HttpRequestHead, HttpResponseHead } from './http-head.js';
import { requestBodyFraming, responseBodyFraming, type BodyFraming, type FramingResult } from './message-framing.js';

/**
 * What an HttpConnectionParser reports, in stream order. Byte arrays handed to `onBody` and
 * `onUpgradedData` are views into the caller's pushed buffers: valid only during the call, copy to keep.
 * `body` in `onMessageComplete` is the sink's to keep.
 */
export interface HttpConnectionSink {
  /** A request head was parsed (its body, if any, follows). */
  onRequest(req: HttpRequestHead): void;
  /** A response head was parsed; `req` is the request it answers (in order, pipelining-aware), undefined if unknown. 1xx interim responses are reported too. */
  onResponse(res: HttpResponseHead, req: HttpRequestHead | undefined): void;
  /** Body payload bytes as they arrive (chunked framing removed). */
  onBody?(dir: Direction, piece: Uint8Array, origin: StreamOrigin): void;
  /**
   * A message ended. `body` holds its first bytes (up to maxBodyExcerptBytes; fewer after a gap inside
   * it), `bodyLength` the full payload length, `origin` the whole message from head to last byte,
   * `trailers` the chunked trailer fields (empty otherwise). Reported for a 101 too (before onUpgrade),
   * but not for interim 1xx responses, so completions pair one to one with requests.
   */
  onMessageComplete(
    dir: Direction,
    head: HttpHead,
    body: Uint8Array,
    bodyLength: number,
    origin: FrameOrigin,
    trailers: HttpHeaders,
  ): void;
  /**
   * The connection switched protocols: after a 101 (or a 2xx answer to CONNECT), before any upgraded byte.
   * `req` is undefined when the 101 answered no upgrade request.
   */
  onUpgrade(req: HttpRequestHead | undefined, res: HttpResponseHead): void;
  /** Bytes after the switch, per direction in stream order, including bytes that shared a segment with the 101. */
  onUpgradedData(dir: Direction, data: Uint8Array, origin: StreamOrigin): void;
  /** Bytes missing from upgraded data. Without this handler the gap becomes a Problem. */
  onUpgradedGap?(dir: Direction, offset: number, length: number): void;
  /**
   * The direction's first bytes are not HTTP/1.x (TLS, a capture starting mid-connection, another
   * protocol); it is no longer parsed. Without this handler it is reported as a Problem.
   */
  onNotHttp?(dir: Direction, reason: string): void;
  onProblem(problem: Problem): void;
}

export interface HttpConnectionOptions {
  /** Prefix for Problem.where, e.g. "10.0.0.1:51234→10.0.0.9:6443". */
  label?: string;
  /** Longest head (or chunked trailer section) accepted; default 64 KiB. */
  maxHeadBytes?: number;
  /** How much of each body is kept for onMessageComplete; default 64 KiB. */
  maxBodyExcerptBytes?: number;
  /** How many bytes the client may send after an upgrade request before the answer arrives; default 1 MiB. */
  maxHeldBytes?: number;
  /**
   * Responses that hand the connection over without a 101 or CONNECT (docker's `200 OK` hijack of an
   * exec start, moby:api/server/router/container/exec.go): from them on both directions are upgraded.
   */
  switchesProtocols?: (req: HttpRequestHead, res: HttpResponseHead) => boolean;
}

const KiB = 1024;
const CR = 0x0d;
const LF = 0x0a;
/** Requests awaiting responses; a client whose responses are never seen must not grow memory without end. */
const MAX_PENDING_REQUESTS = 128;
/** Head warnings reported one by one before the rest are summarised. */
const MAX_WARNINGS_PER_HEAD = 3;
const EMPTY = new Uint8Array(0);

/**
 * - head: reading a head (or skipping the blank lines between messages)
 * - body: reading the current message's body
 * - held: client side after an upgrade request, keeping bytes until the answer says what they are
 * - upgraded: everything is the new protocol's
 * - stopped: parsing gave up on this direction (reported once)
 */
type SideState = 'head' | 'body' | 'held' | 'upgraded' | 'stopped';

type HeldEntry = { data: Uint8Array; origin: StreamOrigin } | { gapOffset: number; gapLength: number };

/** Where a side's head and body pieces start before its first byte: replaced, never changed. */
const NO_ORIGIN: StreamOrigin = Object.freeze({ offset: 0, length: 0, packet: 0, ts: 0 });
/** What a side holds before it holds anything: one shared frozen list (HeldEntry lists grow by `appended`). */
const NOTHING_HELD: HeldEntry[] = Object.freeze([]) as unknown as HeldEntry[];

/**
 * One direction of the connection. Up to 10,000 connections are open at once, most of them waiting
 * with a head parsed on one side and nothing yet on the other: the collector, body decoder, origins
 * and held list are made when first needed, not with the side (~0.45 KB a connection).
 */
class Side implements BodyPieceHandler {
  state: SideState = 'head';
  private headCollector: LineCollector | null = null;
  private bodyDecoder: HttpBodyDecoder | null = null;
  /** Heads parsed so far: until the first one, unparseable bytes mean "not HTTP" rather than "broken HTTP". */
  messages = 0;
  /** Whether the first bytes of the current head have been checked for looking like HTTP. */
  startChecked = false;
  headStart: StreamOrigin = NO_ORIGIN;
  message: HttpHead | undefined;
  bodyLength = 0;
  excerpt: Uint8Array = EMPTY;
  excerptLength = 0;
  /** A gap fell inside the body: later bytes would not be contiguous with the excerpt. */
  excerptClosed = false;
  /** Origin of the push being consumed, for body pieces. */
  origin: StreamOrigin = NO_ORIGIN;
  /** Stream offset just past the last byte seen (pushed or gapped). */
  nextOffset = 0;
  lastPacket = 0;
  lastTs = 0;
  ended = false;
  // Client side only.
  /** The upgrade (or CONNECT) request whose answer decides what follows it. */
  awaiting: HttpRequestHead | undefined;
  /** The answer switched protocols while the awaited request's body was still arriving. */
  switchAfterMessage = false;
  held: HeldEntry[] = NOTHING_HELD;
  heldBytes = 0;
  heldOverflowReported = false;

  constructor(
    readonly dir: Direction,
    private readonly maxHeadBytes: number,
    private readonly parser: HttpConnectionParser,
  ) {}

  get head(): LineCollector {
    return (this.headCollector ??= new LineCollector(this.maxHeadBytes, true));
  }

  /** Bytes of a head collected so far (0 before the side's first head). */
  get headLength(): number {
    return this.headCollector === null ? 0 : this.headCollector.length;
  }

  /** Between messages, the collector and decoder are given back: a client awaiting its upgrade's answer may wait as long as its connection. */
  releaseDecoders(): void {
    this.headCollector = null;
    this.bodyDecoder = null;
  }

  /** Forgets a partly collected head (a side that made none has none to forget). */
  resetHead(): void {
    this.headCollector?.reset();
  }

  get body(): HttpBodyDecoder {
    return (this.bodyDecoder ??= new HttpBodyDecoder(this, this.maxHeadBytes));
  }

  bodyPiece(data: Uint8Array, from: number, to: number): void {
    this.parser.bodyPiece(this, data, from, to);
  }
}

/**
 * Sans-IO HTTP/1.1 parser for one TCP connection, fed both directions in capture order: requests
 * client→server, responses server→client, matched in order (keep-alive and pipelining), bodies by
 * Content-Length, chunked or close, and the switch to an upgraded protocol after a 101.
 */
export class HttpConnectionParser {
  private readonly c2s: Side;
  /** Made at the server's first byte, gap or end: a server that never answers costs no side. */
  private s2cSide: Side | null = null;
  /** Requests sent and not yet answered with a final response, oldest first. */
  private pending: HttpRequestHead[] = [];
  private pendingOverflowReported = false;
  private readonly maxHeadBytes: number;
  private readonly maxExcerpt: number;
  private readonly maxHeld: number;
  private readonly label: string;
  private readonly switchesProtocols: HttpConnectionOptions['switchesProtocols'];

  constructor(
    private readonly sink: HttpConnectionSink,
    options: HttpConnectionOptions = {},
  ) {
    this.maxHeadBytes = options.maxHeadBytes ?? 64 * KiB;
    this.maxExcerpt = options.maxBodyExcerptBytes ?? 64 * KiB;
    this.maxHeld = options.maxHeldBytes ?? 1024 * KiB;
    this.label = options.label ? `${options.label} ` : '';
    this.switchesProtocols = options.switchesProtocols;
    this.c2s = new Side('c2s', this.maxHeadBytes, this);
  }

  private get s2c(): Side {
    return (this.s2cSide ??= new Side('s2c', this.maxHeadBytes, this));
  }

  /** Both directions switched protocols: from now on every byte and gap goes to onUpgradedData / onUpgradedGap. */
  get upgraded(): boolean {
    return this.c2s.state === 'upgraded' && this.s2cSide?.state === 'upgraded';
  }

  /** `data` is only read during the call; `origin` describes data[0..]. */
  push(dir: Direction, data: Uint8Array, origin: StreamOrigin): void {
    if (data.length === 0) return;
    const side = this.side(dir);
    if (side.state === 'upgraded') {
      this.sink.onUpgradedData(dir, data, origin);
      return;
    }
    side.nextOffset = origin.offset + data.length;
    side.lastPacket = origin.packet;
    side.lastTs = origin.ts;
    if (side.state === 'held') this.hold(side, data, origin);
    else this.consume(side, data, 0, origin);
  }

  /** Bytes [offset, offset+length) of `dir` were not captured. */
  gap(dir: Direction, offset: number, length: number): void {
    const side = this.side(dir);
    side.nextOffset = offset + length;
    switch (side.state) {
      case 'upgraded':
        if (this.sink.onUpgradedGap) this.sink.onUpgradedGap(dir, offset, length);
        else this.problem('upgraded-gap', side, offset, `${length} bytes missing from upgraded data`);
        return;
      case 'held':
        this.holdGap(side, offset, length);
        return;
      case 'body':
        this.bodyGap(side, offset, length);
        return;
      case 'head':
        this.stop('unresynchronisable-gap', side, offset, `${length} bytes missing outside a body of known length; HTTP cannot resynchronise`);
        return;
      case 'stopped':
        return;
    }
  }

  /** No more bytes will come in `dir` (FIN, RST or end of capture); without `dir`, in both directions. */
  end(dir?: Direction): void {
    if (dir === undefined || dir === 'c2s') this.endSide(this.c2s);
    if (dir === undefined || dir === 's2c') this.endSide(this.s2c);
    const client = this.c2s;
    if (client.state === 'held' && this.s2c.ended) {
      this.problem(
        'upgrade-unanswered',
        client,
        client.nextOffset,
        `upgrade request never answered; ${client.heldBytes} bytes the client sent after it are dropped`,
      );
      this.releaseHeld(client);
      client.state = 'stopped';
    }
  }

  private side(dir: Direction): Side {
    return dir === 'c2s' ? this.c2s : this.s2c;
  }

  private consume(side: Side, data: Uint8Array, start: number, origin: StreamOrigin): void {
    let i = start;
    while (i < data.length) {
      switch (side.state) {
        case 'head':
          i = this.readHead(side, data, i, origin);
          break;
        case 'body':
          i = this.readBody(side, data, i, origin);
          break;
        case 'held':
          this.hold(side, data.subarray(i), subOrigin(origin, i, data.length - i));
          return;
        case 'upgraded':
          this.sink.onUpgradedData(side.dir, data.subarray(i), subOrigin(origin, i, data.length - i));
          return;
        case 'stopped':
          return;
      }
    }
  }

  private readHead(side: Side, data: Uint8Array, start: number, origin: StreamOrigin): number {
    let i = start;
    if (side.headLength === 0) {
      // Blank lines between messages are ignored (RFC 9112 §2.2).
      while (i < data.length && (data[i] === CR || data[i] === LF)) i++;
      if (i === data.length) return i;
      side.headStart = subOrigin(origin, i, 0);
      side.startChecked = false;
    }
    const end = side.head.feed(data, i);
    if (end === NEED_MORE || end === TOO_LONG) {
      const seen = side.head.length > 0 ? side.head.bytes() : data.subarray(i);
      if (!side.startChecked) {
        const verdict = startLooksLikeHttp(side.dir === 'c2s' ? 'request' : 'response', seen);
        if (verdict === false) {
          this.unparseable(side, `does not start like an HTTP/1.x ${kindOf(side)}`);
          return data.length;
        }
        side.startChecked = verdict === true;
      }
      if (end === TOO_LONG) this.unparseable(side, `HTTP head longer than ${this.maxHeadBytes} bytes`);
      return data.length;
    }
    const bytes = side.head.bytes();
    // The verdict on a start that cannot be HTTP, whether the head came in one push or in many.
    if (!side.startChecked && startLooksLikeHttp(side.dir === 'c2s' ? 'request' : 'response', bytes) === false) {
      side.head.reset();
      this.unparseable(side, `does not start like an HTTP/1.x ${kindOf(side)}`);
      return data.length;
    }
    const headOrigin: FrameOrigin = {
      offset: side.headStart.offset,
      length: bytes.length,
      packet: side.headStart.packet,
      ts: side.headStart.ts,
      lastPacket: origin.packet,
      lastTs: origin.ts,
    };
    const parsed: HeadParseResult<HttpHead> =
      side.dir === 'c2s' ? parseRequestHead(bytes, headOrigin) : parseResponseHead(bytes, headOrigin);
    side.head.reset();
    if ('error' in parsed) {
      this.unparseable(side, parsed.error);
      return data.length;
    }
    // The head has its own origin now; the next one sets this again where it starts.
    side.headStart = NO_ORIGIN;
    side.messages++;
    this.reportWarnings(side, headOrigin.offset, parsed.warnings);
    if (side.dir === 'c2s') this.requestHead(side, parsed.head as HttpRequestHead, origin, end);
    else this.responseHead(side, parsed.head as HttpResponseHead, origin, end);
    return end;
  }

  /** Bytes that cannot be parsed: "not HTTP" if nothing on this side was HTTP yet, a broken stream otherwise. */
  private unparseable(side: Side, reason: string): void {
    if (side.messages === 0) {
      side.state = 'stopped';
      side.head.reset();
      if (this.sink.onNotHttp) this.sink.onNotHttp(side.dir, reason);
      else this.problem('not-http', side, side.headStart.offset, `not HTTP/1.x: ${reason}`);
    } else {
      this.stop('malformed-head', side, side.headStart.offset, `${reason}; HTTP parsing of this direction stops`);
    }
  }

  private requestHead(side: Side, req: HttpRequestHead, origin: StreamOrigin, end: number): void {
    if (this.pending.length === MAX_PENDING_REQUESTS) {
      this.pending.shift();
      if (!this.pendingOverflowReported) {
        this.pendingOverflowReported = true;
        this.problem('too-many-pending', side, req.origin.offset, `more than ${MAX_PENDING_REQUESTS} requests without responses; the oldest are forgotten`);
      }
    }
    this.pending = appended(this.pending, req);
    this.sink.onRequest(req);
    if (isUpgradeRequest(req) || req.method === 'CONNECT') {
      side.awaiting = req;
      side.switchAfterMessage = false;
    }
    this.beginMessage(side, req, requestBodyFraming(req), origin, end);
  }

  private responseHead(side: Side, res: HttpResponseHead, origin: StreamOrigin, end: number): void {
    const interim = res.status >= 100 && res.status < 200 && res.status !== 101;
    const req = interim ? this.pending[0] : this.pending.shift();
    if (req === undefined && this.c2s.messages > 0) {
      this.problem('unmatched-response', side, res.origin.offset, `response ${res.status} matches no request`);
    }
    this.sink.onResponse(res, req);
    const switching =
      res.status === 101 ||
      (req?.method === 'CONNECT' && res.status >= 200 && res.status < 300) ||
      (req !== undefined && this.switchesProtocols?.(req, res) === true);
    if (switching) {
      if (res.status === 101 && (req === undefined || !isUpgradeRequest(req))) {
        this.problem('unrequested-upgrade', side, res.origin.offset, '101 Switching Protocols without an upgrade request');
      }
      this.beginMessage(side, res, { framing: { kind: 'none' } }, origin, end);
      this.sink.onUpgrade(req, res);
      side.state = 'upgraded';
      this.pending.length = 0;
      this.switchClient();
      return;
    }
    if (interim) return;
    if (req !== undefined && req === this.c2s.awaiting) this.refuseClientUpgrade();
    this.beginMessage(side, res, responseBodyFraming(res, req), origin, end);
  }

  private beginMessage(side: Side, head: HttpHead, framing: FramingResult, origin: StreamOrigin, end: number): void {
    if ('error' in framing) {
      this.stop('body-length-unknown', side, head.origin.offset, `${framing.error}; body length unknown`);
      return;
    }
    if (framing.warning) this.problem('framing', side, head.origin.offset, framing.warning);
    side.message = head;
    side.bodyLength = 0;
    side.excerptLength = 0;
    side.excerptClosed = false;
    side.excerpt = EMPTY;
    side.body.start(framing.framing);
    if (side.body.done) this.completeMessage(side, origin.packet, origin.ts, origin.offset + end);
    else {
      side.state = 'body';
      this.sizeExcerpt(side, framing.framing);
    }
  }

  private readBody(side: Side, data: Uint8Array, start: number, origin: StreamOrigin): number {
    side.origin = origin;
    const end = side.body.push(data, start);
    if (side.body.failed) {
      this.stop('malformed-body', side, origin.offset + end, side.body.error);
      return data.length;
    }
    if (side.body.done) this.completeMessage(side, origin.packet, origin.ts, origin.offset + end);
    return end;
  }

  /** A body piece of `side`'s current message (its decoder calls it through the side). */
  bodyPiece(side: Side, data: Uint8Array, from: number, to: number): void {
    const n = to - from;
    side.bodyLength += n;
    if (!side.excerptClosed && side.excerptLength < this.maxExcerpt) {
      const take = Math.min(n, this.maxExcerpt - side.excerptLength);
      this.ensureExcerpt(side, side.excerptLength + take);
      side.excerpt.set(data.subarray(from, from + take), side.excerptLength);
      side.excerptLength += take;
    }
    if (this.sink.onBody) this.sink.onBody(side.dir, data.subarray(from, to), subOrigin(side.origin, from, n));
  }

  private sizeExcerpt(side: Side, framing: BodyFraming): void {
    if (framing.kind === 'length') side.excerpt = new Uint8Array(Math.min(framing.length, this.maxExcerpt));
  }

  private ensureExcerpt(side: Side, needed: number): void {
    if (needed <= side.excerpt.length) return;
    const grown = new Uint8Array(Math.min(Math.max(needed, side.excerpt.length * 2, KiB), this.maxExcerpt));
    grown.set(side.excerpt.subarray(0, side.excerptLength));
    side.excerpt = grown;
  }

  private bodyGap(side: Side, offset: number, length: number): void {
    if (!side.body.gap(length)) {
      this.stop('unresynchronisable-gap', side, offset, `${side.body.error}; HTTP cannot resynchronise`);
      return;
    }
    side.bodyLength += length;
    side.excerptClosed = true;
    this.problem('body-gap', side, offset, `${length} bytes of a message body missing`);
    if (side.body.done) this.completeMessage(side, side.lastPacket, side.lastTs, offset + length);
  }

  private completeMessage(side: Side, lastPacket: number, lastTs: number, endOffset: number): void {
    const head = side.message;
    if (head === undefined) return;
    const origin: FrameOrigin = {
      offset: head.origin.offset,
      length: endOffset - head.origin.offset,
      packet: head.origin.packet,
      ts: head.origin.ts,
      lastPacket,
      lastTs,
    };
    const body = side.excerpt.subarray(0, side.excerptLength);
    side.excerpt = EMPTY;
    side.message = undefined;
    side.state = 'head';
    this.reportWarnings(side, endOffset, side.body.trailerWarnings);
    this.sink.onMessageComplete(side.dir, head, body, side.bodyLength, origin, side.body.trailers);
    if (side.dir === 'c2s' && head === side.awaiting) {
      side.releaseDecoders();
      if (side.switchAfterMessage) {
        side.awaiting = undefined;
        side.state = 'upgraded';
      } else {
        side.state = 'held';
      }
    }
  }

  /** The server switched protocols: the client's side follows, starting with whatever it sent meanwhile. */
  private switchClient(): void {
    const client = this.c2s;
    switch (client.state) {
      case 'held':
        client.state = 'upgraded';
        client.awaiting = undefined;
        for (const entry of this.releaseHeld(client)) {
          if ('data' in entry) this.sink.onUpgradedData('c2s', entry.data, entry.origin);
          else this.gap('c2s', entry.gapOffset, entry.gapLength);
        }
        return;
      case 'body':
        if (client.message !== undefined && client.message === client.awaiting) {
          client.switchAfterMessage = true;
          return;
        }
        break;
      case 'head':
        if (client.headLength > 0) {
          // Bytes taken for the start of a head were in fact the new protocol's.
          const partial = client.head.bytes().slice();
          client.head.reset();
          client.state = 'upgraded';
          this.sink.onUpgradedData('c2s', partial, { ...client.headStart, length: partial.length });
          return;
        }
        break;
      case 'upgraded':
      case 'stopped':
        break;
    }
    client.awaiting = undefined;
    client.state = 'upgraded';
  }

  /** The upgrade was answered with an ordinary response: what the client sent after it is HTTP again. */
  private refuseClientUpgrade(): void {
    const client = this.c2s;
    client.awaiting = undefined;
    if (client.state !== 'held') return;
    client.state = 'head';
    for (const entry of this.releaseHeld(client)) {
      if ('data' in entry) this.push('c2s', entry.data, entry.origin);
      else this.gap('c2s', entry.gapOffset, entry.gapLength);
    }
  }

  private hold(side: Side, data: Uint8Array, origin: StreamOrigin): void {
    const room = this.maxHeld - side.heldBytes;
    const kept = Math.min(room, data.length);
    if (kept > 0) {
      side.held = appended(side.held, { data: data.slice(0, kept), origin: subOrigin(origin, 0, kept) });
      side.heldBytes += kept;
    }
    if (kept < data.length) {
      if (!side.heldOverflowReported) {
        side.heldOverflowReported = true;
        this.problem('held-overflow', side, origin.offset + kept, `client sent more than ${this.maxHeld} bytes before the upgrade was answered; the rest is dropped`);
      }
      this.holdGap(side, origin.offset + kept, data.length - kept);
    }
  }

  private holdGap(side: Side, offset: number, length: number): void {
    const last = side.held[side.held.length - 1];
    if (last !== undefined && 'gapOffset' in last && last.gapOffset + last.gapLength === offset) last.gapLength += length;
    else side.held = appended<HeldEntry>(side.held, { gapOffset: offset, gapLength: length });
  }

  private releaseHeld(side: Side): HeldEntry[] {
    const entries = side.held;
    side.held = NOTHING_HELD;
    side.heldBytes = 0;
    side.heldOverflowReported = false;
    return entries;
  }

  private endSide(side: Side): void {
    if (side.ended) return;
    side.ended = true;
    if (side.state === 'body') {
      if (side.body.readsUntilClose) {
        this.completeMessage(side, side.lastPacket, side.lastTs, side.nextOffset);
      } else {
        const expected = side.body.expected;
        this.problem(
          'truncated-body',
          side,
          side.nextOffset,
          `connection ended inside a message body after ${side.bodyLength} bytes` +
            (expected === undefined ? '' : ` (${expected} more expected)`),
        );
        side.state = 'stopped';
      }
    } else if (side.state === 'head' && side.headLength > 0) {
      this.problem('truncated-head', side, side.headStart.offset, `connection ended inside an HTTP head (${side.head.length} bytes)`);
      side.head.reset();
      side.state = 'stopped';
    }
  }

  private stop(code: HttpProblemCode, side: Side, offset: number, message: string): void {
    this.problem(code, side, offset, message);
    side.state = 'stopped';
    side.resetHead();
  }

  private reportWarnings(side: Side, offset: number, warnings: string[]): void {
    for (let i = 0; i < Math.min(warnings.length, MAX_WARNINGS_PER_HEAD); i++) this.problem('header', side, offset, warnings[i]);
    if (warnings.length > MAX_WARNINGS_PER_HEAD) {
      this.problem('header', side, offset, `${warnings.length - MAX_WARNINGS_PER_HEAD} more header problems not shown`);
    }
  }

  private problem(code: HttpProblemCode, side: Side, offset: number, message: string): void {
    const where = `${this.label}${side.dir} offset ${offset}`;
    this.sink.onProblem(httpProblem(code, message, { where, direction: side.dir, offset }));
  }
}

function kindOf(side: Side): string {
  return side.dir === 'c2s' ? 'request' : 'response';
}

function subOrigin(origin: StreamOrigin, from: number, length: number): StreamOrigin {
  if (from === 0 && length === origin.length) return origin;
  return { offset: origin.offset + from, length, packet: origin.packet, ts: origin.ts };
}
