/**
 * SPDY/3.1 session state from both directions' frames: streams (who opened them, headers, reply,
 * half-closes, resets, bytes), pings paired into round trips, GOAWAY, SETTINGS and flow-control
 * windows. Sans-IO and incremental: feed it what the two SpdyFrameDecoders produce, in capture order.
 *
 * Direction 'c2s' is the client (the side that sent the HTTP upgrade request), so client streams and
 * pings are odd, server ones even (spdystream connection.go NewConnection).
 *
 * Flow control is tracked as SPDY/3.1 defines it (64 KiB initial window per stream and per session;
 * SETTINGS_INITIAL_WINDOW_SIZE; WINDOW_UPDATE, stream 0 = session), but spdystream neither sends
 * WINDOW_UPDATE nor honours windows, so the windows are informational: on a Kubernetes connection
 * every direction that sends more than 64 KiB drives them to zero and below.
 */
import type { Direction, FrameOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { spdyProblem, type SpdyProblemCode } from './problems.js';
import { SpdySettingId, type SpdyControlFrame, type SpdyDataLoss, type SpdyDataPiece, type SpdySetting } from './frame.js';
import type { SpdyHeaders } from './header-block.js';

export const SPDY_INITIAL_WINDOW = 64 * 1024;
const DEFAULT_MAX_STREAMS = 10_000;
const MAX_PENDING_PINGS = 1024;

/**
 * A stream of the session. What it keeps per direction is in fields of its own (`…C2s`, `…S2c`)
 * rather than in four `{ c2s, s2c }` records, which were ~130 bytes more for each stream of every
 * open session; the records (`finished`, `bytes`, `lostBytes`, `window`) are made when read.
 */
export class SpdyStream {
  /** SYN_STREAM headers; null when not seen or not decodable. */
  headers: SpdyHeaders | null = null;
  priority = 0;
  associatedId = 0;
  unidirectional = false;
  /**
   * A SYN_REPLY came. Only whether: nothing reads the reply's origin or headers, nor the SYN_STREAM's
   * origin, and keeping them was ~250 bytes for each stream of every open session.
   */
  replied = false;
  reset: SpdyStreamReset | null = null;
  /** When each side sent its FIN (half-close), or null while that side is open. */
  finishedC2s: FrameOrigin | null = null;
  finishedS2c: FrameOrigin | null = null;
  /** DATA payload bytes seen per sending direction. */
  bytesC2s = 0;
  bytesS2c = 0;
  /** DATA payload bytes per sending direction that the capture lost. */
  lostBytesC2s = 0;
  lostBytesS2c = 0;

  constructor(
    readonly id: number,
    /** Direction of the side that opened the stream (inferred from the id's parity when the SYN_STREAM was not seen). */
    readonly openedBy: Direction,
    /** Flow-control send window of each direction's sender on this stream. */
    public windowC2s: number,
    public windowS2c: number,
  ) {}

  get finished(): Record<Direction, FrameOrigin | null> {
    return { c2s: this.finishedC2s, s2c: this.finishedS2c };
  }

  get bytes(): Record<Direction, number> {
    return { c2s: this.bytesC2s, s2c: this.bytesS2c };
  }

  get lostBytes(): Record<Direction, number> {
    return { c2s: this.lostBytesC2s, s2c: this.lostBytesS2c };
  }

  get window(): Record<Direction, number> {
    return { c2s: this.windowC2s, s2c: this.windowS2c };
  }
}

export interface SpdyStreamReset {
  by: Direction;
  status: number;
  statusName: string;
  origin: FrameOrigin;
}

export interface SpdyPingRoundTrip {
  id: number;
  /** Who sent the ping (the other side echoed it). */
  by: Direction;
  request: FrameOrigin;
  response: FrameOrigin;
  /** Nanoseconds from the request's last packet to the response's last packet, at the capture point. */
  rttNs: number;
}

export interface SpdyUnansweredPing {
  id: number;
  by: Direction;
  request: FrameOrigin;
}

export interface SpdyGoAway {
  by: Direction;
  lastGoodStreamId: number;
  status: number;
  statusName: string;
  origin: FrameOrigin;
}

export interface SpdyWindowExhausted {
  /** The direction whose sender ran out of window. */
  sender: Direction;
  /** 0 for the session window. */
  streamId: number;
  /** The window after the DATA that exhausted it (≤ 0). */
  window: number;
  /** The DATA frame that did it. */
  origin: FrameOrigin;
}

/** Events; all optional except problems. Stream objects are live: they keep changing after the event. */
export interface SpdySessionSink {
  /** A SYN_STREAM opened a stream. */
  onStreamOpened?(stream: SpdyStream): void;
  /** The receiving side accepted the stream with SYN_REPLY. */
  onStreamReply?(stream: SpdyStream): void;
  /** `dir` sent FIN on the stream (SYN_STREAM/SYN_REPLY/HEADERS flag or DATA FIN): it will send no more. */
  onStreamHalfClosed?(stream: SpdyStream, dir: Direction, origin: FrameOrigin): void;
  onStreamReset?(stream: SpdyStream, reset: SpdyStreamReset): void;
  onPingRoundTrip?(ping: SpdyPingRoundTrip): void;
  /** At end(): pings never echoed. */
  onPingUnanswered?(ping: SpdyUnansweredPing): void;
  onGoAway?(goAway: SpdyGoAway): void;
  onSettings?(by: Direction, settings: SpdySetting[], origin: FrameOrigin): void;
  /** A send window (stream or session) fell to zero or below: a flow-control-honouring sender would block here. */
  onWindowExhausted?(event: SpdyWindowExhausted): void;
  onProblem(p: Problem): void;
}

const other = (d: Direction): Direction => (d === 'c2s' ? 's2c' : 'c2s');

export class SpdySessionTracker {
  private readonly byId = new Map<number, SpdyStream>();
  /**
   * The stream of each direction's last DATA piece: a direction sends run after run on one stream,
   * and a stream object never changes for its id, so most pieces need no map lookup.
   */
  private c2sDataStream: SpdyStream | null = null;
  private s2cDataStream: SpdyStream | null = null;
  private readonly maxStreams: number;
  private readonly label: string;
  private tooManyStreamsReported = false;
  /** Made at the first PING, as the settings are at the first SETTINGS: most sessions send neither, and each empty Map was ~180 bytes of every open session. */
  private pendingPings: Map<number, { by: Direction; request: FrameOrigin }> | null = null;
  // Per direction in fields of their own, as a stream's are.
  private lastOpenedC2s = 0;
  private lastOpenedS2c = 0;
  /** Send window every new stream starts with, per sending direction (set by the receiver's SETTINGS). */
  private initialWindowC2s = SPDY_INITIAL_WINDOW;
  private initialWindowS2c = SPDY_INITIAL_WINDOW;
  private sessionWindowC2s = SPDY_INITIAL_WINDOW;
  private sessionWindowS2c = SPDY_INITIAL_WINDOW;
  private goAwayC2s: SpdyGoAway | null = null;
  private goAwayS2c: SpdyGoAway | null = null;
  private settingsSent: Record<Direction, Map<number, number>> | null = null;

  constructor(
    private readonly sink: SpdySessionSink,
    opts: { maxStreams?: number; label?: string } = {},
  ) {
    this.maxStreams = opts.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.label = opts.label ?? 'spdy';
  }

  /** Session-level send window per sending direction. */
  get sessionWindow(): Record<Direction, number> {
    return { c2s: this.sessionWindowC2s, s2c: this.sessionWindowS2c };
  }

  /** The GOAWAY each side sent, or null. */
  get goAway(): Record<Direction, SpdyGoAway | null> {
    return { c2s: this.goAwayC2s, s2c: this.goAwayS2c };
  }

  /** Latest value of each setting each side sent. */
  get settings(): Record<Direction, Map<number, number>> {
    return (this.settingsSent ??= { c2s: new Map(), s2c: new Map() });
  }

  stream(id: number): SpdyStream | undefined {
    return this.byId.get(id);
  }

  streams(): IterableIterator<SpdyStream> {
    return this.byId.values();
  }

  frame(dir: Direction, f: SpdyControlFrame): void {
    switch (f.type) {
      case 'SYN_STREAM':
        return this.synStream(dir, f);
      case 'SYN_REPLY': {
        const s = this.known(dir, f.streamId, f.origin, 'SYN_REPLY');
        if (!s) return;
        if (s.openedBy === dir) this.problem('protocol', dir, f.origin, `SYN_REPLY for stream ${f.streamId} from the side that opened it`);
        else if (s.replied) this.problem('protocol', dir, f.origin, `second SYN_REPLY for stream ${f.streamId}`);
        s.replied = true;
        this.sink.onStreamReply?.(s);
        if (f.fin) this.halfClose(s, dir, f.origin);
        return;
      }
      case 'HEADERS': {
        const s = this.known(dir, f.streamId, f.origin, 'HEADERS');
        if (s && f.fin) this.halfClose(s, dir, f.origin);
        return;
      }
      case 'RST_STREAM': {
        const s = this.known(dir, f.streamId, f.origin, 'RST_STREAM');
        if (!s) return;
        if (s.reset) return; // both sides may reset; the first one ended the stream
        s.reset = { by: dir, status: f.status, statusName: f.statusName, origin: f.origin };
        this.sink.onStreamReset?.(s, s.reset);
        return;
      }
      case 'SETTINGS':
        return this.applySettings(dir, f.settings, f.origin);
      case 'PING':
        return this.ping(dir, f.id, f.origin);
      case 'GOAWAY': {
        const g: SpdyGoAway = { by: dir, lastGoodStreamId: f.lastGoodStreamId, status: f.status, statusName: f.statusName, origin: f.origin };
        if (dir === 'c2s') this.goAwayC2s = g;
        else this.goAwayS2c = g;
        this.sink.onGoAway?.(g);
        return;
      }
      case 'WINDOW_UPDATE': {
        // The receiver `dir` grants the other side more room to send.
        const sender = other(dir);
        if (f.streamId === 0) {
          if (sender === 'c2s') this.sessionWindowC2s += f.delta;
          else this.sessionWindowS2c += f.delta;
        } else {
          const s = this.known(dir, f.streamId, f.origin, 'WINDOW_UPDATE');
          if (s) widen(s, sender, f.delta);
        }
        return;
      }
      case 'UNKNOWN':
        return;
    }
  }

  /** A piece of a DATA frame sent by `dir`. */
  data(dir: Direction, piece: SpdyDataPiece): void {
    // This runs for every piece: named accesses, as alternating keys would make finished[dir] and
    // bytes[dir] megamorphic; the stream lookup is a call only when the direction changed streams.
    const c2s = dir === 'c2s';
    const last = c2s ? this.c2sDataStream : this.s2cDataStream;
    const s = last !== null && last.id === piece.streamId ? last : this.dataStream(dir, piece);
    if (!s) return;
    const n = piece.end - piece.start;
    if (piece.first === true && (c2s ? s.finishedC2s : s.finishedS2c) !== null) {
      this.problem('protocol', dir, piece.frame, `DATA on stream ${s.id} after ${dir} sent FIN`);
    }
    if (c2s) s.bytesC2s += n;
    else s.bytesS2c += n;
    this.consumeWindow(dir, s, n, piece.frame);
    // The piece's frame is the decoder's, refilled for the next: the stream keeps a copy.
    if (piece.last === true && piece.fin === true) this.halfClose(s, dir, { ...piece.frame });
  }

  /** The stream of a DATA piece whose direction last sent on another; the first piece of a frame on a stream never opened adopts it. */
  private dataStream(dir: Direction, piece: SpdyDataPiece): SpdyStream | undefined {
    const id = piece.streamId;
    const s = this.byId.get(id) ?? (piece.first ? this.adopt(dir, id, piece.frame, 'DATA') : undefined);
    if (s) {
      if (dir === 'c2s') this.c2sDataStream = s;
      else this.s2cDataStream = s;
    }
    return s;
  }

  /** DATA bytes sent by `dir` that the capture lost (they still used flow-control window). */
  dataLost(dir: Direction, loss: SpdyDataLoss): void {
    const s = this.known(dir, loss.streamId, loss.frame, 'DATA');
    if (!s) return;
    if (dir === 'c2s') s.lostBytesC2s += loss.length;
    else s.lostBytesS2c += loss.length;
    this.consumeWindow(dir, s, loss.length, loss.frame);
  }

  /** The connection ended: report pings that were never answered. */
  end(): void {
    if (!this.pendingPings) return;
    for (const [id, p] of this.pendingPings) this.sink.onPingUnanswered?.({ id, by: p.by, request: p.request });
    this.pendingPings.clear();
  }

  private synStream(dir: Direction, f: Extract<SpdyControlFrame, { type: 'SYN_STREAM' }>): void {
    const expectOdd = dir === 'c2s';
    const lastOpened = expectOdd ? this.lastOpenedC2s : this.lastOpenedS2c;
    if (f.streamId === 0 || (f.streamId % 2 === 1) !== expectOdd) {
      this.problem('protocol', dir, f.origin, `SYN_STREAM ${f.streamId} from the ${expectOdd ? 'client' : 'server'} must use ${expectOdd ? 'odd' : 'even'} non-zero ids`);
    } else if (f.streamId <= lastOpened) {
      this.problem('protocol', dir, f.origin, `SYN_STREAM ${f.streamId} does not increase the stream id (last ${lastOpened})`);
    }
    if (expectOdd) this.lastOpenedC2s = Math.max(lastOpened, f.streamId);
    else this.lastOpenedS2c = Math.max(lastOpened, f.streamId);
    if (this.byId.has(f.streamId)) {
      this.problem('protocol', dir, f.origin, `SYN_STREAM for stream ${f.streamId}, which is already open (STREAM_IN_USE)`);
      return;
    }
    const s = this.create(f.streamId, dir);
    if (!s) return;
    s.headers = f.headers;
    s.priority = f.priority;
    s.associatedId = f.associatedId;
    s.unidirectional = f.unidirectional;
    this.sink.onStreamOpened?.(s);
    if (f.fin) this.halfClose(s, dir, f.origin);
  }

  private create(id: number, openedBy: Direction): SpdyStream | undefined {
    if (this.byId.size >= this.maxStreams) {
      if (!this.tooManyStreamsReported) {
        this.tooManyStreamsReported = true;
        this.sink.onProblem(spdyProblem('limit', `more than ${this.maxStreams} streams: further streams are not tracked`, { where: this.label }));
      }
      return undefined;
    }
    const s = new SpdyStream(id, openedBy, this.initialWindowC2s, this.initialWindowS2c);
    this.byId.set(id, s);
    return s;
  }

  /** The stream a frame refers to; one the capture never saw opened is adopted, with a problem. */
  private known(dir: Direction, id: number, origin: FrameOrigin, what: string): SpdyStream | undefined {
    return this.byId.get(id) ?? this.adopt(dir, id, origin, what);
  }

  private adopt(dir: Direction, id: number, origin: FrameOrigin, what: string): SpdyStream | undefined {
    if (id === 0) {
      this.problem('protocol', dir, origin, `${what} on stream 0`);
      return undefined;
    }
    this.problem('unknown-stream', dir, origin, `${what} on stream ${id}, whose SYN_STREAM was not seen (opened before the capture?)`);
    return this.create(id, id % 2 === 1 ? 'c2s' : 's2c');
  }

  private halfClose(s: SpdyStream, dir: Direction, origin: FrameOrigin): void {
    if (dir === 'c2s' ? s.finishedC2s : s.finishedS2c) {
      this.problem('protocol', dir, origin, `second FIN on stream ${s.id} from ${dir}`);
      return;
    }
    if (dir === 'c2s') s.finishedC2s = origin;
    else s.finishedS2c = origin;
    this.sink.onStreamHalfClosed?.(s, dir, origin);
  }

  private ping(dir: Direction, id: number, origin: FrameOrigin): void {
    const pendingPings = (this.pendingPings ??= new Map());
    const pending = pendingPings.get(id);
    if (pending && pending.by !== dir) {
      pendingPings.delete(id);
      this.sink.onPingRoundTrip?.({
        id,
        by: pending.by,
        request: pending.request,
        response: origin,
        rttNs: origin.lastTs - pending.request.lastTs,
      });
      return;
    }
    if (pending) this.problem('protocol', dir, origin, `PING ${id} sent again before it was answered`);
    else if (pendingPings.size >= MAX_PENDING_PINGS) return;
    pendingPings.set(id, { by: dir, request: origin });
  }

  private applySettings(dir: Direction, settings: SpdySetting[], origin: FrameOrigin): void {
    const mine = this.settings[dir];
    for (const { id, value } of settings) {
      mine.set(id, value);
      if (id !== SpdySettingId.INITIAL_WINDOW_SIZE) continue;
      // The receiver `dir` sets how much the other side may send per stream; open streams shift by the change.
      const sender = other(dir);
      const delta = value - (sender === 'c2s' ? this.initialWindowC2s : this.initialWindowS2c);
      if (sender === 'c2s') this.initialWindowC2s = value;
      else this.initialWindowS2c = value;
      for (const s of this.byId.values()) widen(s, sender, delta);
    }
    this.sink.onSettings?.(dir, settings, origin);
  }

  /** Runs for every DATA piece: kept small, the report a call of its own, so that it is inlined. */
  private consumeWindow(dir: Direction, s: SpdyStream, n: number, origin: FrameOrigin): void {
    const c2s = dir === 'c2s';
    const streamAfter = c2s ? (s.windowC2s -= n) : (s.windowS2c -= n);
    const sessionAfter = c2s ? (this.sessionWindowC2s -= n) : (this.sessionWindowS2c -= n);
    // Report the crossing only, not every frame sent while exhausted.
    if (streamAfter <= 0 && streamAfter + n > 0) this.windowExhausted(dir, s.id, streamAfter, origin);
    if (sessionAfter <= 0 && sessionAfter + n > 0) this.windowExhausted(dir, 0, sessionAfter, origin);
  }

  private windowExhausted(sender: Direction, streamId: number, window: number, origin: FrameOrigin): void {
    // A DATA frame's origin is the decoder's, refilled for the next: the event keeps a copy.
    this.sink.onWindowExhausted?.({ sender, streamId, window, origin: { ...origin } });
  }

  private problem(code: SpdyProblemCode, dir: Direction, origin: FrameOrigin, message: string): void {
    const where = `${this.label} ${dir} offset ${origin.offset}`;
    this.sink.onProblem(spdyProblem(code, message, { where, direction: dir, offset: origin.offset, packet: origin.packet }));
  }
}

/** `sender`'s window on the stream grows by `delta` (a WINDOW_UPDATE, or a SETTINGS change; negative shrinks it). */
function widen(s: SpdyStream, sender: Direction, delta: number): void {
  if (sender === 'c2s') s.windowC2s += delta;
  else s.windowS2c += delta;
}
