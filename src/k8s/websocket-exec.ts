/**
 * Maps the k8s WebSocket channel protocols (channel.k8s.io v1–v5, base64, legacy port-forward)
 * onto the streams of one session. Port-forward tunnelled through the WebSocket
 * (`SPDY/3.1+portforward.k8s.io`, kubectl ≥ 1.31) carries a SPDY connection in its binary messages:
 * that byte stream goes to a SPDY transport of the same session, whose frames and streams then sit at
 * offsets of the tunnelled stream rather than of the TCP stream.
 */
import type { Direction, StreamOrigin } from '../core/origin.js';
import { K8sChannelDecoder, type ChannelCloseEvent, type ChannelDataEvent, type ChannelSink } from '../websocket/channel-protocol.js';
import type { WebSocketControlEvent, WebSocketFrameEvent } from '../websocket/message-assembler.js';
import { relocate, type Problem } from '../core/problem.js';
import type { ExecSessionBuilder } from './exec-session.js';
import { SpdyExecTransport } from './spdy-exec.js';
import type { StreamRecorder } from './stream-recorder.js';
import type { UpgradedTransport } from './upgraded-transport.js';

const CHANNEL_NAMES = ['stdin', 'stdout', 'stderr', 'error', 'resize'];

export function channelName(channel: number): string {
  return CHANNEL_NAMES[channel] ?? `channel-${channel}`;
}

/** Sees every frame and control frame of the connection besides the session (the connection's frame list), and what carried a tunnel's bytes. */
export interface WebSocketFrameObserver {
  frame(ev: WebSocketFrameEvent): void;
  control(ev: WebSocketControlEvent): void;
  /** `length` tunnelled bytes, carried by `origin` one for one, or inflated from it when `compressed`. */
  tunnel(dir: Direction, length: number, origin: StreamOrigin, compressed: boolean): void;
  /** `length` tunnelled bytes lost. */
  tunnelGap(dir: Direction, length: number): void;
}

/**
 * The transport is its channel decoder's sink, with its handlers on the prototype: closures would be
 * three more objects (the sink, the handler, its context) to fetch per frame, mostly from outside the
 * CPU cache when thousands of connections interleave.
 */
export class WebSocketExecTransport implements UpgradedTransport, ChannelSink {
  private readonly decoder: K8sChannelDecoder;
  /** Recorder per channel number (exec/attach: a channel's stream name never changes). */
  private readonly byChannel: (StreamRecorder | undefined)[] = [];
  private readonly tunnel: SpdyExecTransport | null;

  constructor(
    private readonly b: ExecSessionBuilder,
    subprotocol: string,
    private readonly where: string,
    extensions?: string,
    private readonly observer?: WebSocketFrameObserver,
  ) {
    this.decoder = new K8sChannelDecoder(subprotocol, this, { portForward: b.session.kind === 'portforward', extensions });
    this.tunnel = this.decoder.protocol.codec === 'tunnel' ? new SpdyExecTransport(b, `${where} tunnel`, true) : null;
  }

  onChannelData(ev: ChannelDataEvent): void {
    const rec = this.recorder(ev.channel, ev.port);
    if (ev.messageFirst === true && ev.messageLast === true && ev.end === ev.start && rec.record.bytes === 0 && rec.record.events.length === 0) {
      rec.mark('established', ev.dir, { ...ev.message }, 'empty message: connection established');
      return;
    }
    // The decoder refills its message origin for every piece: a timeline event keeps its first and last piece's.
    const message = rec.keepsOrigins === true && (ev.messageFirst === true || ev.messageLast === true) ? { ...ev.message } : ev.message;
    this.b.data(rec, ev.dir, ev.bytes, ev.start, ev.end, message, ev.messageFirst, ev.messageLast);
  }

  onChannelClose(ev: ChannelCloseEvent): void {
    this.b.stream(this.nameFor(ev.channel), ev.channel).mark('half-close', ev.dir, { ...ev.origin }, 'v5 CLOSE signal');
  }

  onControl(ev: WebSocketControlEvent): void {
    this.observer?.control(ev);
    const detail =
      ev.kind === 'close'
        ? `Close ${ev.code ?? ''} ${ev.reason ?? ''}`.trim()
        : ev.kind === 'pong' && ev.rttNs !== undefined
          ? `pong, rtt ${(ev.rttNs / 1e6).toFixed(3)} ms`
          : `${ev.kind} ${ev.payloadLength} B`;
    this.b.control(ev.kind, ev.dir, detail, ev.origin);
    if (ev.kind === 'close') this.b.serverSignalledEnd();
  }

  onFrame(ev: WebSocketFrameEvent): void {
    this.observer?.frame(ev);
  }

  onProblem(p: Problem): void {
    this.b.warn(relocate(p, this.where));
  }

  onTunnelData(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, tunnelOffset: number, compressed: boolean): void {
    this.observer?.tunnel(dir, end - start, origin, compressed);
    this.tunnel?.push(dir, bytes, start, end, { offset: tunnelOffset, length: end - start, packet: origin.packet, ts: origin.ts });
  }

  onTunnelGap(dir: Direction, tunnelOffset: number, length: number): void {
    this.observer?.tunnelGap(dir, length);
    this.tunnel?.gap(dir, tunnelOffset, length);
  }

  push(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    this.decoder.push(dir, bytes, start, end, origin);
  }

  gap(dir: Direction, offset: number, length: number): void {
    this.decoder.gap(dir, offset, length);
  }

  end(): void {
    this.decoder.end();
    this.tunnel?.end();
  }

  private recorder(channel: number, port: number | undefined): StreamRecorder {
    // Port-forward names change once the server announces the port, so they are looked up each time.
    if (this.b.session.kind === 'portforward') return this.b.stream(this.nameFor(channel, port), channel);
    return (this.byChannel[channel] ??= this.b.stream(this.nameFor(channel), channel));
  }

  private nameFor(channel: number, port?: number): string {
    if (this.b.session.kind === 'portforward') {
      const kind = channel % 2 === 0 ? 'data' : 'error';
      return port !== undefined ? `${kind}:${port}` : `${kind}-${channel >> 1}`;
    }
    return channelName(channel);
  }
}
