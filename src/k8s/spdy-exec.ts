/**
 * Maps SPDY/3.1 frames of an upgraded connection onto the k8s streams of one session
 * (remotecommand / portforward: one SPDY stream per k8s stream, named by its `streamtype` header).
 */
import { DirectionPair } from '../core/direction-pair.js';
import type { Direction, FrameOrigin } from '../core/origin.js';
import type { ControlEvent } from '../model/session.js';
import { SpdyFrameDecoder, type SpdyControlFrame, type SpdyDataPiece, type SpdyFrameSink } from '../spdy/frame-decoder.js';
import { SpdySessionTracker, type SpdyPingRoundTrip, type SpdySessionSink, type SpdyUnansweredPing, type SpdyWindowExhausted } from '../spdy/session.js';
import type { SpdyHeaders } from '../spdy/header-block.js';
import { relocate, type Problem } from '../core/problem.js';
import { k8sProblem } from './problems.js';
import type { ExecSessionBuilder } from './exec-session.js';
import type { StreamRecorder } from './stream-recorder.js';
import type { UpgradedTransport } from './upgraded-transport.js';

/** Order in which client-go creates the streams (v2.go/v3.go), for captures that missed the SYN_STREAM headers. */
function creationOrder(b: ExecSessionBuilder): string[] {
  const s = b.session;
  if (s.kind === 'portforward') return [];
  if (!s.stdin && !s.stdout && !s.stderr && !s.tty) return ['error', 'stdin', 'stdout', 'stderr', 'resize'];
  const order = ['error'];
  if (s.stdin) order.push('stdin');
  if (s.stdout) order.push('stdout');
  if (s.stderr && !s.tty) order.push('stderr');
  if (s.tty) order.push('resize');
  return order;
}

/**
 * The session's transport, and the sink of its SPDY session tracker: the tracker's events are its
 * methods rather than closures over it, which were five functions and a context (~340 bytes) for
 * every open session.
 */
export class SpdyExecTransport extends DirectionPair<SpdyFrameDecoder> implements UpgradedTransport, SpdySessionSink {
  private readonly byId = new Map<number, StreamRecorder>();
  /**
   * Each direction's last recorder lookup: a direction's DATA runs on one stream (stdin up, stdout
   * down), so one shared entry would miss on every frame of an interactive session.
   */
  private c2sId = -1;
  private c2sRecorder: StreamRecorder | null = null;
  private s2cId = -1;
  private s2cRecorder: StreamRecorder | null = null;
  /** Ping pairing, flow-control windows: the session-level view spdystream itself keeps. */
  private readonly tracker: SpdySessionTracker;
  private warnedMissingHeaders = false;

  /** `tunnelled`: this SPDY connection rides in a WebSocket's binary messages (kubectl port-forward's tunnel). */
  constructor(
    private readonly b: ExecSessionBuilder,
    private readonly where: string,
    private readonly tunnelled = false,
  ) {
    // The frames' handlers are this transport's, called once it is constructed.
    super((dir, pair) => new SpdyFrameDecoder(new DirectionFrames(pair as SpdyExecTransport, dir, b, where)));
    this.tracker = new SpdySessionTracker(this);
  }

  onPingRoundTrip(p: SpdyPingRoundTrip): void {
    this.control('pong', p.by === 'c2s' ? 's2c' : 'c2s', `PING ${p.id} reply, rtt ${(p.rttNs / 1e6).toFixed(3)} ms`, p.response);
  }

  onPingUnanswered(p: SpdyUnansweredPing): void {
    this.control('ping', p.by, `PING ${p.id} never answered`, p.request);
  }

  onWindowExhausted(e: SpdyWindowExhausted): void {
    this.control(
      'flow-control',
      e.sender,
      `${e.streamId ? `stream ${e.streamId}` : 'session'} flow-control window exhausted (${e.window}); spdystream ignores SPDY flow control, so data keeps flowing`,
      e.origin,
    );
  }

  onProblem(p: Problem): void {
    this.b.warn(relocate(p, this.where));
  }

  override end(): void {
    super.end();
    this.tracker.end();
  }

  /** A control frame `dir` sent. */
  onControl(dir: Direction, f: SpdyControlFrame): void {
    const b = this.b;
    this.tracker.frame(dir, f);
    switch (f.type) {
      case 'SYN_STREAM': {
        const rec = b.stream(this.streamName(f.streamId, f.headers), f.streamId);
        this.byId.set(f.streamId, rec);
        if (f.streamId === this.c2sId) this.c2sRecorder = rec;
        if (f.streamId === this.s2cId) this.s2cRecorder = rec;
        rec.mark('open', dir, f.origin);
        if (f.fin) rec.mark('half-close', dir, f.origin);
        return;
      }
      case 'SYN_REPLY':
      case 'HEADERS': {
        const rec = this.recorder(f.streamId, dir, f.origin);
        if (f.type === 'SYN_REPLY') rec.mark('reply', dir, f.origin);
        if (f.fin) rec.mark('half-close', dir, f.origin);
        return;
      }
      case 'RST_STREAM':
        this.recorder(f.streamId, dir, f.origin).mark('reset', dir, f.origin, f.statusName);
        this.control('rst', dir, `RST_STREAM ${f.streamId} ${f.statusName}`, f.origin);
        return;
      case 'PING':
        // A reply is reported by the tracker, with its round-trip time.
        if ((f.id % 2 === 1) === (dir === 'c2s')) this.control('ping', dir, `PING ${f.id}`, f.origin);
        return;
      case 'GOAWAY':
        this.control('goaway', dir, `GOAWAY last-good ${f.lastGoodStreamId} ${f.statusName}`, f.origin);
        b.serverSignalledEnd();
        return;
      case 'WINDOW_UPDATE':
        this.control('window-update', dir, `WINDOW_UPDATE stream ${f.streamId} +${f.delta}`, f.origin);
        return;
      case 'SETTINGS':
        this.control('settings', dir, `SETTINGS ${f.settings.map((s) => `${s.id}=${s.value}`).join(' ')}`, f.origin);
        return;
      default:
        this.control('settings', dir, `control frame type ${f.frameType} ignored`, f.origin);
    }
  }

  /** A piece of a DATA frame `dir` sent. */
  onData(dir: Direction, piece: SpdyDataPiece): void {
    this.tracker.data(dir, piece);
    const rec = this.recorder(piece.streamId, dir, piece.frame);
    // The decoder refills the frame's origin for every piece: a timeline event keeps its first and last piece's.
    const frame = rec.keepsOrigins === true && (piece.first === true || piece.last === true) ? { ...piece.frame } : piece.frame;
    this.b.data(rec, dir, piece.bytes, piece.start, piece.end, frame, piece.first, piece.last);
    if (piece.last === true && piece.fin === true) rec.mark('half-close', dir, { ...piece.frame });
  }

  /** Records a control event; a tunnelled connection's say so, their origins counting the tunnel's bytes. */
  private control(kind: ControlEvent['kind'], dir: Direction, detail: string, origin: FrameOrigin): void {
    this.b.control(kind, dir, detail, origin, origin.lastTs, this.tunnelled);
  }

  /** The recorder for a stream id, inventing one for a stream whose SYN_STREAM the capture missed. */
  private recorder(id: number, dir: Direction, origin: FrameOrigin): StreamRecorder {
    if (dir === 'c2s') {
      if (id !== this.c2sId) {
        this.c2sRecorder = this.lookup(id, dir, origin);
        this.c2sId = id;
      }
      return this.c2sRecorder!;
    }
    if (id !== this.s2cId) {
      this.s2cRecorder = this.lookup(id, dir, origin);
      this.s2cId = id;
    }
    return this.s2cRecorder!;
  }

  private lookup(id: number, dir: Direction, origin: FrameOrigin): StreamRecorder {
    let rec = this.byId.get(id);
    if (!rec) {
      rec = this.b.stream(this.streamName(id, null), id);
      this.byId.set(id, rec);
      // A copy: a DATA frame's origin is the decoder's, refilled for the next frame.
      if (dir) rec.mark('open', dir, { ...origin }, 'first seen mid-stream');
    }
    return rec;
  }

  private streamName(id: number, headers: SpdyHeaders | null): string {
    const type = headers?.['streamtype']?.[0];
    if (type) {
      const port = headers?.['port']?.[0];
      const request = headers?.['requestid']?.[0];
      return port !== undefined ? `${type}:${port}:${request ?? '?'}` : type;
    }
    const guess = id % 2 === 1 ? creationOrder(this.b)[(id - 1) / 2] : undefined;
    if (!this.warnedMissingHeaders) {
      this.warnedMissingHeaders = true;
      this.b.warn(
        k8sProblem(
          'stream-types-inferred',
          'SPDY stream headers not seen (capture started after the SYN_STREAM or lost zlib context): stream types inferred from the creation order error, stdin, stdout, stderr, resize',
          { where: `stream ${id}` },
        ),
      );
    }
    return guess ?? `stream-${id}`;
  }
}

/**
 * One direction's frame decoder's sink: an object with its handlers on the prototype rather than
 * closures over the transport, which were three objects (the sink, the handler, its context) to
 * fetch per frame, mostly from outside the CPU cache when thousands of connections interleave.
 */
class DirectionFrames implements SpdyFrameSink {
  constructor(
    private readonly transport: SpdyExecTransport,
    private readonly dir: Direction,
    private readonly b: ExecSessionBuilder,
    private readonly where: string,
  ) {}

  onControl(f: SpdyControlFrame): void {
    this.transport.onControl(this.dir, f);
  }

  onData(piece: SpdyDataPiece): void {
    this.transport.onData(this.dir, piece);
  }

  onProblem(p: Problem): void {
    this.b.warn(relocate(p, `${this.where} ${this.dir}`, { direction: this.dir }));
  }
}
