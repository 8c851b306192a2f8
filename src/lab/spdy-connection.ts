/**
 * One live SPDY/3.1 connection as moby/spdystream (with the Kubernetes httpstream wrapper) runs it,
 * for the lab's CRI streaming server (server role) and the apiserver translator's upstream leg
 * (client role): streams opened by SYN_STREAM and answered with an empty SYN_REPLY, DATA, half-close
 * by an empty DATA+FIN, RST_STREAM CANCEL for a reset, PINGs echoed (and sent periodically by a
 * client), and the Kubernetes close: reset every stream not finished locally, then GOAWAY(OK, last
 * stream received), then close TCP. No flow control (spdystream has none). IO glue around the
 * sans-IO SpdyFrameDecoder / SpdyFrameEncoder.
 */
import { rangeView } from '../core/byte-range.js';
import type { Duplex } from 'node:stream';
import type { StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { SpdyFrameDecoder, type SpdyControlFrame, type SpdyDataPiece } from '../spdy/frame-decoder.js';
import { SpdyFrameEncoder } from '../spdy/frame-encoder.js';
import { SpdyRstStatus } from '../spdy/frame.js';
import type { SpdyHeaderInput, SpdyHeaders } from '../spdy/header-block.js';
import { socketDrained } from './socket-drained.js';

/** apimachinery spdy connection.go createStreamResponseTimeout. */
export const CREATE_STREAM_RESPONSE_TIMEOUT_MS = 30_000;

export type StreamEnd = 'fin' | 'reset' | 'connection-closed';

export class SpdyStream {
  localFinished = false;
  remoteEnded = false;
  replied = false;
  private onData: ((bytes: Uint8Array) => void) | null = null;
  private onEnd: ((how: StreamEnd) => void) | null = null;
  /** What arrived before a consumer attached (data can share a read with the SYN_REPLY). */
  private early: Uint8Array[] = [];
  private earlyEnd: StreamEnd | null = null;

  constructor(
    private readonly conn: SpdyConnection,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {}

  /**
   * Attaches the consumer: `onData` gets payload bytes (views valid during the call; node does not
   * reuse the chunk, so writing them on is safe), `onEnd` once the peer half-closed (DATA FIN), reset
   * the stream, or the connection went away. What arrived before is delivered first.
   */
  consume(onData: (bytes: Uint8Array) => void, onEnd: (how: StreamEnd) => void = () => {}): void {
    this.onData = onData;
    this.onEnd = onEnd;
    for (const bytes of this.early.splice(0)) onData(bytes);
    if (this.earlyEnd) onEnd(this.earlyEnd);
  }

  /** @internal */
  deliver(bytes: Uint8Array): void {
    if (this.onData) this.onData(bytes);
    else this.early.push(Buffer.from(bytes));
  }

  get type(): string {
    return this.headers['streamtype']?.[0] ?? '';
  }

  /** Writes one DATA frame; false when the socket's buffer is full (wait for drain). */
  write(bytes: Uint8Array): boolean {
    if (this.localFinished || bytes.length === 0) return true;
    return this.conn.send(this.conn.encoder.data(this.id, bytes));
  }

  /** spdystream Stream.Close: half-close with an empty DATA+FIN. */
  close(): void {
    if (this.localFinished) return;
    this.localFinished = true;
    this.conn.send(this.conn.encoder.data(this.id, new Uint8Array(0), { fin: true }));
  }

  /** spdystream Stream.Reset: RST_STREAM CANCEL, unless this side already finished the stream. */
  reset(): void {
    this.endRemote('reset');
    if (this.localFinished) return;
    this.localFinished = true;
    this.conn.send(this.conn.encoder.rstStream(this.id, SpdyRstStatus.CANCEL));
  }

  /** @internal */
  endRemote(how: StreamEnd): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    if (this.onEnd) this.onEnd(how);
    else this.earlyEnd = how;
  }
}

export interface SpdyConnectionOptions {
  role: 'client' | 'server';
  /** Server: a SYN_STREAM arrived. Reply with replyTo() (or never, to imitate a wedged server). */
  onStream?(stream: SpdyStream): void;
  /** Client PING period (client-go: 5 s); 0 or absent: no pings. */
  pingPeriodMs?: number;
  /** The TCP connection closed (after which every stream has ended). */
  onClose?(): void;
  onProblem?(p: Problem): void;
}

export class SpdyConnection {
  readonly encoder = new SpdyFrameEncoder();
  private readonly decoder: SpdyFrameDecoder;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly pendingReplies = new Map<number, { resolve: (s: SpdyStream) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextStreamId: number;
  private nextPingId: number;
  private lastReceivedStreamId = 0;
  private inOffset = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private closed = false;
  goneAway = false;

  constructor(
    readonly socket: Duplex,
    private readonly opts: SpdyConnectionOptions,
  ) {
    const client = opts.role === 'client';
    this.nextStreamId = client ? 1 : 2;
    this.nextPingId = client ? 1 : 2;
    this.decoder = new SpdyFrameDecoder(
      {
        onControl: (frame) => this.onControl(frame),
        onData: (piece) => this.onData(piece),
        onProblem: (p) => {
          opts.onProblem?.(p);
          this.socket.destroy();
        },
      },
      { label: `spdy ${opts.role}` },
    );
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('end', () => this.shutdown());
    socket.on('close', () => this.shutdown());
    socket.on('error', () => {});
    if (opts.pingPeriodMs) this.pingTimer = setInterval(() => this.ping(), opts.pingPeriodMs);
  }

  /** Bytes that arrived with the upgrade response/request (before 'data' events started). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const origin: StreamOrigin = { offset: this.inOffset, length: bytes.length, packet: 0, ts: 0 };
    this.inOffset += bytes.length;
    this.decoder.push(bytes, 0, bytes.length, origin);
  }

  /** @internal */
  send(frame: Uint8Array): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return true;
    return this.socket.write(frame);
  }

  /** Resolves once the socket can take more (immediately if it can now). */
  drained(): Promise<void> {
    return socketDrained(this.socket);
  }

  /** Server: accept a stream with an empty SYN_REPLY. */
  replyTo(stream: SpdyStream): void {
    if (stream.replied) return;
    stream.replied = true;
    this.send(this.encoder.synReply(stream.id, {}));
  }

  /** Client: SYN_STREAM, resolved by the SYN_REPLY; rejected after `timeoutMs` as client-go does. */
  createStream(headers: SpdyHeaderInput, timeoutMs = CREATE_STREAM_RESPONSE_TIMEOUT_MS): Promise<SpdyStream> {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, lowerCased(headers));
    this.streams.set(id, stream);
    this.send(this.encoder.synStream(id, headers));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingReplies.delete(id);
        reject(new Error('timeout waiting for SYN_REPLY'));
      }, timeoutMs);
      this.pendingReplies.set(id, { resolve, reject, timer });
    });
  }

  /** The Kubernetes httpstream close: reset unfinished streams, GOAWAY, close the TCP connection. */
  close(): void {
    if (this.closed) return;
    for (const stream of [...this.streams.values()].sort((a, b) => a.id - b.id)) stream.reset();
    if (!this.goneAway) {
      this.goneAway = true;
      this.send(this.encoder.goAway(this.lastReceivedStreamId));
    }
    this.socket.end();
    // spdystream's reader runs until EOF: a side paused for backpressure reads (and drops) the rest,
    // or the peer's FIN would wait behind a zero window until someone gives up.
    this.socket.resume();
    this.shutdown();
  }

  pauseInput(): void {
    this.socket.pause();
  }

  private ping(): void {
    const id = this.nextPingId;
    this.nextPingId += 2;
    this.send(this.encoder.ping(id));
  }

  private onControl(frame: SpdyControlFrame): void {
    switch (frame.type) {
      case 'SYN_STREAM': {
        this.lastReceivedStreamId = Math.max(this.lastReceivedStreamId, frame.streamId);
        const stream = new SpdyStream(this, frame.streamId, frame.headers ?? Object.create(null));
        this.streams.set(frame.streamId, stream);
        if (frame.fin) stream.endRemote('fin');
        if (this.opts.onStream) this.opts.onStream(stream);
        else stream.reset();
        break;
      }
      case 'SYN_REPLY': {
        const stream = this.streams.get(frame.streamId);
        const waiter = this.pendingReplies.get(frame.streamId);
        if (!stream || !waiter) break;
        this.pendingReplies.delete(frame.streamId);
        clearTimeout(waiter.timer);
        stream.replied = true;
        if (frame.fin) stream.endRemote('fin');
        waiter.resolve(stream);
        break;
      }
      case 'RST_STREAM': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) break;
        const waiter = this.pendingReplies.get(frame.streamId);
        if (waiter) {
          this.pendingReplies.delete(frame.streamId);
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`stream ${frame.streamId} reset: ${frame.statusName}`));
        }
        stream.localFinished = true;
        stream.endRemote('reset');
        this.streams.delete(frame.streamId);
        break;
      }
      case 'PING': {
        // Echo the peer's pings (odd from a client, even from a server); ours coming back need nothing.
        const peerParity = this.opts.role === 'server' ? 1 : 0;
        if (frame.id % 2 === peerParity) this.send(this.encoder.ping(frame.id));
        break;
      }
      case 'GOAWAY':
        this.goneAway = true;
        break;
      default:
        break;
    }
  }

  private onData(piece: SpdyDataPiece): void {
    const stream = this.streams.get(piece.streamId);
    if (!stream) return;
    if (piece.end > piece.start) stream.deliver(rangeView(piece.bytes, piece.start, piece.end));
    if (piece.fin && piece.last) stream.endRemote('fin');
  }

  private shutdown(): void {
    if (this.pingTimer) {
      clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
    if (!this.socket.destroyed && !this.socket.readableEnded) return; // our close(): wait for the peer
    if (this.closed) return;
    this.closed = true;
    if (!this.socket.writableEnded) this.socket.end(); // spdystream closes its side when reads fail
    for (const waiter of this.pendingReplies.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('connection closed'));
    }
    this.pendingReplies.clear();
    for (const stream of this.streams.values()) stream.endRemote('connection-closed');
    this.opts.onClose?.();
  }
}

function lowerCased(headers: SpdyHeaderInput): SpdyHeaders {
  const out = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = typeof value === 'string' ? [value] : [...value];
  return out;
}
