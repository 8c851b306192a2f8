/**
 * The Kubernetes channel protocols over WebSocket (apimachinery wsstream, client-go websocket executor):
 * each data message is one channel byte + payload.
 *
 * - `channel.k8s.io`, `v4.channel.k8s.io`, `""` (legacy servers): binary, channels 0 stdin, 1 stdout,
 *   2 stderr, 3 error, 4 resize.
 * - `v5.channel.k8s.io`: as v4, plus the CLOSE signal: message [255, ch] half-closes channel ch.
 * - `base64.channel.k8s.io`, `v4.base64.channel.k8s.io`: text messages, channel as ASCII '0'+n, payload
 *   base64 (decoded incrementally).
 * - Legacy WebSocket port-forward (same subprotocols, on a …/portforward URI: `portForward` option; also
 *   the name `portforward.k8s.io`): channels in (data, error) pairs per port; the server's first message
 *   on each channel starts with the port as uint16 little-endian.
 * - `SPDY/3.1+portforward.k8s.io` (apiserver TunnelingHandler): binary messages carry raw SPDY bytes,
 *   exposed as a byte stream through onTunnelData.
 *
 * Streaming: channel payloads go up in pieces as they arrive (never assembled into whole messages);
 * only the channel byte, a v5 CLOSE signal, a port prefix and a partial base64 group are held.
 */
import type { Direction, FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { Field } from '../core/field.js';
import type { Problem } from '../core/problem.js';
import { rangeView } from '../core/byte-range.js';
import { webSocketProblem, type WebSocketProblemCode } from './problems.js';
import { Base64StreamDecoder } from './base64-stream.js';
import { WebSocketConnectionDecoder } from './connection-decoder.js';
import { Opcode } from './frame-header.js';
import { k8sChannelProtocol, type K8sChannelProtocol } from './channel-subprotocols.js';
import {
  type WebSocketControlEvent,
  type WebSocketFrameEvent,
  type WebSocketMessageData,
  type WebSocketMessageLoss,
  type WebSocketMessageSink,
} from './message-assembler.js';

export const K8sChannel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4, Close: 255 } as const;

const CHANNEL_NAMES: Record<number, string> = { 0: 'stdin', 1: 'stdout', 2: 'stderr', 3: 'error', 4: 'resize', 255: 'CLOSE signal' };

/**
 * The channel byte of a data frame of an exec/attach channel protocol, as a field of the frame
 * (`frameFields` from webSocketFrameFields): the payload's first byte, unmasked; base64 protocols
 * write it as an ASCII digit. Null for a frame without payload or a control frame.
 */
export function k8sChannelField(frame: Uint8Array, frameFields: readonly Field[], base64: boolean): Field | null {
  const payload = frameFields.find((f) => f.id === 'websocket.payload');
  const opcode = frame[0] & 0x0f;
  if (!payload || payload.length === 0 || (opcode !== Opcode.Binary && opcode !== Opcode.Text)) return null;
  const key = frameFields.find((f) => f.id === 'websocket.masking_key');
  const raw = frame[payload.offset] ^ (key ? frame[key.offset] : 0);
  const channel = base64 ? raw - 0x30 : raw;
  const name = CHANNEL_NAMES[channel] ?? `channel ${channel}`;
  return { id: 'websocket.k8s_channel', label: 'channel', offset: payload.offset, length: 1, value: `${channel} (${name})${base64 ? ` as '${String.fromCharCode(raw)}'` : ''}` };
}

export interface ChannelDataEvent {
  dir: Direction;
  channel: number;
  /**
   * Channel payload (channel byte stripped, base64 decoded), bytes[start, end): the caller's buffer
   * where it lies, or a decoder's own (core/byte-range.ts); valid only during the call.
   */
  bytes: Uint8Array;
  start: number;
  end: number;
  /**
   * Wire bytes that carried `data`: exact for plain binary messages; for base64 or compressed messages
   * the piece it was decoded from. Valid only during the call.
   */
  origin: StreamOrigin;
  messageFirst: boolean;
  messageLast: boolean;
  /** The whole message so far; complete (lastPacket/lastTs of its end) on messageLast. Valid only during the call: copied to be kept. */
  message: FrameOrigin;
  /**
   * Port-forward only: the port of this channel pair, once the server announced it. The server's
   * first message on a channel has the 2-byte prefix stripped, so the announcement itself arrives as
   * a zero-length event with `port` set.
   */
  port?: number;
}

export interface ChannelCloseEvent {
  dir: Direction;
  channel: number;
  /** The signal's message; valid only during the call. */
  origin: FrameOrigin;
}

export interface ChannelGapEvent {
  dir: Direction;
  channel: number;
  /** Lost wire range. */
  offset: number;
  /** Channel payload bytes lost (for base64 an upper estimate; for compressed messages the compressed length). */
  length: number;
  port?: number;
}

/**
 * Events of one k8s channel connection, both directions. A message with only the channel byte (the
 * server's "connection established" empty write) is one zero-length onChannelData with messageFirst
 * and messageLast set.
 */
export interface ChannelSink {
  /** `ev` is one object refilled for every piece: like its `data`, it is valid only during the call. */
  onChannelData(ev: ChannelDataEvent): void;
  /** v5 CLOSE signal: `dir`'s sender will write no more on `channel`. */
  onChannelClose(ev: ChannelCloseEvent): void;
  onControl(ev: WebSocketControlEvent): void;
  onFrame?(ev: WebSocketFrameEvent): void;
  onChannelGap?(ev: ChannelGapEvent): void;
  /**
   * SPDY tunnel: bytes[start, end) (valid only during the call) sits at `tunnelOffset` of `dir`'s
   * tunnelled byte stream; `origin` is the payload piece that carried it, one for one, or when
   * `compressed` the compressed piece it was inflated from.
   */
  onTunnelData?(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, tunnelOffset: number, compressed: boolean): void;
  onTunnelGap?(dir: Direction, tunnelOffset: number, length: number): void;
  onProblem(p: Problem): void;
}

export interface K8sChannelDecoderOptions {
  /** The upgrade was a port-forward request (the subprotocol names are shared with exec). */
  portForward?: boolean;
  /** Sec-WebSocket-Extensions of the 101 response (permessage-deflate). */
  extensions?: string;
  maxInflatedMessageBytes?: number;
}

/**
 * One k8s channel connection: the WebSocket connection's messages, per direction through the channel
 * demux. It is the WebSocket connection (not an object holding one): one object fewer to fetch per
 * frame when thousands of connections interleave.
 */
export class K8sChannelDecoder extends WebSocketConnectionDecoder {
  readonly protocol: K8sChannelProtocol;

  constructor(subprotocol: string, sink: ChannelSink, opts: K8sChannelDecoderOptions = {}) {
    const protocol = k8sChannelProtocol(subprotocol, opts.portForward);
    // Port-forward's alone: an empty Map was ~180 bytes of every open exec connection.
    const ports = protocol.portForward ? new Map<number, number>() : null;
    super((dir) => new ChannelDemux(dir, protocol, sink, ports), {
      extensions: opts.extensions,
      maxInflatedMessageBytes: opts.maxInflatedMessageBytes,
      plausibleFirstPayloadByte: plausibleChannelByte(protocol),
    });
    this.protocol = protocol;
    if (!protocol.known) {
      sink.onProblem(webSocketProblem('unknown-subprotocol', `unknown WebSocket subprotocol "${subprotocol}"; decoding as channel.k8s.io`, { where: 'upgrade' }));
    }
  }
}

/** The tests of plausibleChannelByte made so far, by protocol (a few shared objects): a closure per kind of protocol, not per connection. */
const channelByteTests = new Map<K8sChannelProtocol, (opcode: number, byte: number) => boolean>();

/** Resynchronisation evidence: the first payload byte of a data message must be a channel we expect. */
function plausibleChannelByte(p: K8sChannelProtocol): (opcode: number, byte: number) => boolean {
  let test = channelByteTests.get(p);
  if (!test) channelByteTests.set(p, (test = channelByteTest(p)));
  return test;
}

function channelByteTest(p: K8sChannelProtocol): (opcode: number, byte: number) => boolean {
  if (p.codec === 'tunnel') return (opcode) => opcode === Opcode.Binary;
  const maxChannel = p.portForward ? 63 : K8sChannel.Resize;
  if (p.codec === 'base64') return (opcode, byte) => opcode === Opcode.Text && byte >= 0x30 && byte - 0x30 <= maxChannel;
  return (opcode, byte) => opcode === Opcode.Binary && (byte <= maxChannel || (p.closeSignal && byte === K8sChannel.Close));
}

/** Where the demux is inside the current message. */
const AWAIT_CHANNEL = 0;
const DATA = 1;
const CLOSE_SIGNAL = 2;
const PORT_PREFIX = 3;
const SKIP = 4;

const EMPTY = new Uint8Array(0);
/**
 * The event handed to onChannelData, refilled for every piece rather than allocated per segment, and
 * the origin of a piece after its message's channel byte: shared by every demux, as each is valid
 * only during the call (a pair of each demux's own was two or three more cache lines fetched per
 * frame when thousands of connections interleave).
 */
const sharedEvent: ChannelDataEvent = {
  dir: 'c2s',
  channel: 0,
  bytes: EMPTY,
  start: 0,
  end: 0,
  origin: { offset: 0, length: 0, packet: 0, ts: 0 },
  messageFirst: false,
  messageLast: false,
  message: { offset: 0, length: 0, packet: 0, ts: 0, lastPacket: 0, lastTs: 0 },
  port: undefined,
};
const sharedAfterChannel: StreamOrigin = { offset: 0, length: 0, packet: 0, ts: 0 };

/** One direction's messages → channel events. */
class ChannelDemux implements WebSocketMessageSink {
  private phase = AWAIT_CHANNEL;
  private channel = 0;
  private msg!: WebSocketMessageData;
  private emittedAny = false;
  private lastSent = false;
  private closeSignalLength = 0;
  private closeSignalChannel = 0;
  /** The port prefix's bytes so far, little-endian (a number, not a buffer: every direction of every open connection has one). */
  private portValue = 0;
  private portLength = 0;
  private readonly base64: Base64StreamDecoder | null;
  private tunnelOffset = 0;
  /** Made at the first (port-forward's channels; unknown channels are rare): two Sets were ~300 bytes per direction of every open connection. */
  private portAnnounced: Set<number> | null = null;
  private unknownChannelsReported: Set<number> | null = null;
  private opcodeReported = false;
  /** Exec channels of binary messages, no CLOSE signal or port needed to tell them: wholeMessage's. */
  private readonly plainChannels: boolean;

  constructor(
    private readonly dir: Direction,
    private readonly protocol: K8sChannelProtocol,
    private readonly sink: ChannelSink,
    /** Port-forward: pair index (channel >> 1) → port, shared by both directions; null for the other protocols. */
    private readonly ports: Map<number, number> | null,
  ) {
    this.base64 = protocol.codec === 'base64' ? new Base64StreamDecoder() : null;
    this.plainChannels = protocol.codec === 'binary' && !protocol.portForward;
  }

  onMessageData(ev: WebSocketMessageData): void {
    this.msg = ev;
    const bytes = ev.bytes;
    let start = ev.start;
    const end = ev.end;
    if (ev.first === true && ev.last === true && this.plainChannels === true && ev.opcode === Opcode.Binary && ev.compressed === false && end - start >= 2 && bytes[start] <= K8sChannel.Resize) {
      return this.wholeMessage(ev);
    }
    if (ev.first) this.beginMessage(ev);
    if (this.protocol.codec === 'tunnel') {
      if (end > start) {
        this.sink.onTunnelData?.(this.dir, bytes, start, end, ev.origin, this.tunnelOffset, ev.compressed);
        this.tunnelOffset += end - start;
      }
      return;
    }
    let origin = ev.origin;
    if (this.phase === AWAIT_CHANNEL && end > start) {
      this.readChannel(bytes[start], ev);
      start++;
      if (!ev.compressed) {
        const o = sharedAfterChannel;
        o.offset = origin.offset + 1;
        o.length = origin.length - 1;
        o.packet = origin.packet;
        o.ts = origin.ts;
        origin = o;
      }
    }
    if (this.phase !== AWAIT_CHANNEL && this.phase !== SKIP) {
      if (this.base64) this.decodeBase64(rangeView(bytes, start, end), origin, ev);
      else this.payload(bytes, start, end, origin, ev.last);
    }
    if (ev.last) this.endMessage(ev);
  }

  /**
   * A message of one piece on an exec channel, with payload after its channel byte (a keystroke, its
   * echo): its one event, as beginMessage, readChannel, payload and endMessage would make it.
   */
  private wholeMessage(ev: WebSocketMessageData): void {
    const origin = ev.origin;
    this.phase = AWAIT_CHANNEL;
    this.channel = ev.bytes[ev.start];
    this.emittedAny = false;
    const o = sharedAfterChannel;
    o.offset = origin.offset + 1;
    o.length = origin.length - 1;
    o.packet = origin.packet;
    o.ts = origin.ts;
    this.emit(ev.bytes, ev.start + 1, ev.end, o, true);
  }

  onMessageLost(ev: WebSocketMessageLoss): void {
    if (this.protocol.codec === 'tunnel') {
      this.sink.onTunnelGap?.(this.dir, this.tunnelOffset, ev.length);
      this.tunnelOffset += ev.length;
      return;
    }
    if (this.phase === AWAIT_CHANNEL) {
      this.problem('channel-lost', ev.offset, 'channel byte lost; rest of message ignored');
      this.phase = SKIP;
    } else if (this.phase === DATA) {
      const length = this.base64 ? this.base64.lose(ev.length) : ev.length;
      this.sink.onChannelGap?.({ dir: this.dir, channel: this.channel, offset: ev.offset, length, port: this.portOf(this.channel) });
    } else if (this.phase !== SKIP) {
      const what = this.phase === CLOSE_SIGNAL ? 'v5 CLOSE signal' : 'port-forward port prefix';
      this.problem('channel-lost', ev.offset, `bytes of a ${what} lost; message ignored`);
      this.phase = SKIP;
    }
  }

  onControl(ev: WebSocketControlEvent): void {
    this.sink.onControl(ev);
  }

  onFrame(ev: WebSocketFrameEvent): void {
    this.sink.onFrame?.(ev);
  }

  onProblem(p: Problem): void {
    this.sink.onProblem(p);
  }

  private beginMessage(ev: WebSocketMessageData): void {
    this.phase = AWAIT_CHANNEL;
    this.emittedAny = false;
    this.lastSent = false;
    this.base64?.reset();
    const expected = this.protocol.codec === 'base64' ? Opcode.Text : Opcode.Binary;
    if (ev.opcode !== expected && !this.opcodeReported) {
      this.opcodeReported = true;
      this.problem('wrong-message-type', ev.message.offset, `${expected === Opcode.Text ? 'binary' : 'text'} message in a ${this.protocol.codec} channel protocol (reported once)`);
    }
  }

  private readChannel(byte: number, ev: WebSocketMessageData): void {
    const channel = this.base64 ? byte - 0x30 : byte;
    if (channel < 0) {
      this.problem('invalid-base64', ev.message.offset, `invalid base64 channel character 0x${byte.toString(16)}; message ignored`);
      this.phase = SKIP;
      return;
    }
    this.channel = channel;
    if (this.protocol.closeSignal && channel === K8sChannel.Close) {
      this.phase = CLOSE_SIGNAL;
      this.closeSignalLength = 0;
      return;
    }
    if (!this.protocol.portForward && channel > K8sChannel.Resize && !this.unknownChannelsReported?.has(channel)) {
      (this.unknownChannelsReported ??= new Set()).add(channel);
      this.problem('unknown-channel', ev.message.offset, `unknown channel ${channel} (reported once)`);
    }
    if (this.protocol.portForward && this.dir === 's2c' && !this.portAnnounced?.has(channel)) {
      (this.portAnnounced ??= new Set()).add(channel);
      this.phase = PORT_PREFIX;
      this.portValue = 0;
      this.portLength = 0;
      return;
    }
    this.phase = DATA;
  }

  private decodeBase64(chars: Uint8Array, origin: StreamOrigin, ev: WebSocketMessageData): void {
    const b64 = this.base64!;
    if (b64.error) return;
    for (let i = 0; i < chars.length; ) {
      i = b64.decode(chars, i);
      const final = ev.last && i === chars.length && !b64.pending;
      if (b64.produced > 0) this.payload(b64.output, 0, b64.produced, origin, final);
      if (b64.error) this.problem('invalid-base64', origin.offset, `${b64.error}; rest of message ignored`);
    }
    if (ev.last) {
      const problem = b64.finish();
      if (problem) this.problem('invalid-base64', origin.offset, problem);
      if (b64.produced > 0) this.payload(b64.output, 0, b64.produced, origin, true);
    }
  }

  /** Decoded channel payload, bytes[start, end); `last` when it ends the message. */
  private payload(bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, last: boolean): void {
    if (this.phase === CLOSE_SIGNAL) {
      if (this.closeSignalLength === 0 && end > start) this.closeSignalChannel = bytes[start];
      this.closeSignalLength += end - start;
      return;
    }
    if (this.phase === PORT_PREFIX) {
      const n = Math.min(2 - this.portLength, end - start);
      for (let k = 0; k < n; k++) this.portValue |= bytes[start + k] << (8 * this.portLength++);
      if (this.portLength < 2) return;
      this.ports!.set(this.channel >> 1, this.portValue);
      this.phase = DATA;
      start += n;
      // The announcement is an event of its own, even when data follows in the same message.
      this.emit(EMPTY, 0, 0, origin, last && start === end);
      if (start === end) return;
      origin = { offset: origin.offset + n, length: origin.length - n, packet: origin.packet, ts: origin.ts };
    }
    if (end > start) this.emit(bytes, start, end, origin, last);
  }

  private endMessage(ev: WebSocketMessageData): void {
    const where = ev.message.offset;
    if (this.phase === AWAIT_CHANNEL) {
      this.problem('empty-message', where, 'empty message without a channel byte');
    } else if (this.phase === CLOSE_SIGNAL) {
      if (this.closeSignalLength === 1) {
        this.sink.onChannelClose({ dir: this.dir, channel: this.closeSignalChannel, origin: ev.message });
      } else {
        this.problem('malformed-close-signal', where, `v5 CLOSE signal must be exactly 2 bytes [255, channel], got ${this.closeSignalLength + 1}`);
      }
    } else if (this.phase === PORT_PREFIX) {
      this.problem('truncated-port-prefix', where, `port-forward port prefix truncated (${this.portLength} of 2 bytes)`);
    } else if (this.phase === DATA && !this.lastSent) {
      this.emit(EMPTY, 0, 0, { offset: ev.origin.offset + ev.origin.length, length: 0, packet: ev.origin.packet, ts: ev.origin.ts }, true);
    }
    this.phase = AWAIT_CHANNEL;
  }

  private emit(bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, last: boolean): void {
    const first = !this.emittedAny;
    this.emittedAny = true;
    if (last) this.lastSent = true;
    const ev = sharedEvent;
    ev.dir = this.dir;
    ev.channel = this.channel;
    // Stored only when it changes, as the message assembler's (the write barrier).
    if (ev.bytes !== bytes) ev.bytes = bytes;
    ev.start = start;
    ev.end = end;
    ev.origin = origin;
    ev.messageFirst = first;
    ev.messageLast = last;
    ev.message = this.msg.message;
    ev.port = this.portOf(this.channel);
    this.sink.onChannelData(ev);
  }

  private portOf(channel: number): number | undefined {
    return this.ports?.get(channel >> 1);
  }

  private problem(code: WebSocketProblemCode, offset: number, message: string): void {
    this.sink.onProblem(webSocketProblem(code, message, { where: `${this.dir} offset ${offset}`, direction: this.dir, offset }));
  }
}
