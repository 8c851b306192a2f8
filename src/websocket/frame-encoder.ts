/**
 * RFC 6455 frame writer (plus the k8s channel message forms) for tests, the benchmark generator and the
 * lab server. Client encoders mask every frame (random keys unless given); payloads are copied once into
 * the frame and masked in place a word at a time.
 */
import { Opcode } from './frame-header.js';
import { maskInPlace } from './mask.js';
import { PerMessageDeflater } from './permessage-deflate.js';

export interface WebSocketFrameEncoderOptions {
  /** Client side: frames are masked. */
  client: boolean;
  /** permessage-deflate: data messages built by message()/channel helpers are compressed (RSV1). */
  deflate?: { noContextTakeover: boolean; level?: number };
  /** Masking-key source (big-endian uint32); default crypto.getRandomValues. */
  maskKeys?: () => number;
}

export interface FrameOptions {
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  /** Masking key (big-endian uint32); null sends unmasked. Default: a fresh key on clients, unmasked on servers. */
  maskKey?: number | null;
}

export type Payload = Uint8Array | readonly Uint8Array[];

const BASE64 = new TextEncoder().encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const textEncoder = new TextEncoder();

export class WebSocketFrameEncoder {
  private readonly client: boolean;
  private readonly deflater: PerMessageDeflater | null;
  private readonly maskKeys: () => number;
  private readonly randomKeys = new Uint32Array(256);
  private randomIndex = 256;

  constructor(opts: WebSocketFrameEncoderOptions) {
    this.client = opts.client;
    this.deflater = opts.deflate ? new PerMessageDeflater(opts.deflate) : null;
    this.maskKeys = opts.maskKeys ?? (() => this.randomKey());
  }

  /**
   * Just the header, for streaming a payload too big to build (mask the pieces with maskInPlace at
   * their payload position). Returns the key used (null when unmasked).
   */
  frameHeader(opcode: number, payloadLength: number, opts: FrameOptions = {}): { bytes: Uint8Array; maskKey: number | null } {
    const maskKey = opts.maskKey !== undefined ? opts.maskKey : this.client ? this.maskKeys() : null;
    const ext = payloadLength < 126 ? 0 : payloadLength < 65536 ? 2 : 8;
    const bytes = new Uint8Array(2 + ext + (maskKey === null ? 0 : 4));
    bytes[0] = (opts.fin === false ? 0 : 0x80) | (opts.rsv1 ? 0x40 : 0) | (opcode & 0x0f);
    const maskBit = maskKey === null ? 0 : 0x80;
    if (ext === 0) {
      bytes[1] = maskBit | payloadLength;
    } else if (ext === 2) {
      bytes[1] = maskBit | 126;
      bytes[2] = payloadLength >>> 8;
      bytes[3] = payloadLength & 0xff;
    } else {
      bytes[1] = maskBit | 127;
      writeUint32(bytes, 2, Math.floor(payloadLength / 2 ** 32));
      writeUint32(bytes, 6, payloadLength >>> 0);
    }
    if (maskKey !== null) writeUint32(bytes, 2 + ext, maskKey);
    return { bytes, maskKey };
  }

  /** One frame. */
  frame(opcode: number, payload: Payload, opts: FrameOptions = {}): Uint8Array {
    const parts = payload instanceof Uint8Array ? [payload] : payload;
    let length = 0;
    for (const p of parts) length += p.length;
    const { bytes: header, maskKey } = this.frameHeader(opcode, length, opts);
    const out = new Uint8Array(header.length + length);
    out.set(header);
    let o = header.length;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    if (maskKey !== null) maskInPlace(out.subarray(header.length), maskKey, 0);
    return out;
  }

  /**
   * A whole data message: compressed when deflate is configured, split into frames of at most
   * `fragmentSize` payload bytes (text/binary frame then continuations). Frames are concatenated.
   */
  message(opcode: number, payload: Payload, opts: { fragmentSize?: number } = {}): Uint8Array {
    const compressed = this.deflater !== null;
    let body: Payload = payload;
    if (compressed) body = this.deflater!.compress(concat(payload));
    const fragmentSize = opts.fragmentSize;
    if (fragmentSize === undefined) return this.frame(opcode, body, { rsv1: compressed });
    const bytes = concat(body);
    const frames: Uint8Array[] = [];
    for (let start = 0; start === 0 || start < bytes.length; start += fragmentSize) {
      const end = Math.min(bytes.length, start + fragmentSize);
      frames.push(
        this.frame(start === 0 ? opcode : Opcode.Continuation, bytes.subarray(start, end), {
          fin: end === bytes.length,
          rsv1: compressed && start === 0,
        }),
      );
    }
    return concat(frames);
  }

  close(code?: number, reason = ''): Uint8Array {
    if (code === undefined) return this.frame(Opcode.Close, new Uint8Array(0));
    return this.frame(Opcode.Close, [new Uint8Array([code >>> 8, code & 0xff]), textEncoder.encode(reason)]);
  }

  ping(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    return this.frame(Opcode.Ping, payload);
  }

  pong(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    return this.frame(Opcode.Pong, payload);
  }

  /** k8s binary channel message: [channel] + payload. */
  channelMessage(channel: number, payload: Uint8Array, opts: { fragmentSize?: number } = {}): Uint8Array {
    return this.message(Opcode.Binary, [new Uint8Array([channel]), payload], opts);
  }

  /** k8s base64 channel message: text '0'+channel followed by base64(payload). */
  base64ChannelMessage(channel: number, payload: Uint8Array, opts: { fragmentSize?: number } = {}): Uint8Array {
    const text = new Uint8Array(1 + 4 * Math.ceil(payload.length / 3));
    text[0] = 0x30 + channel;
    encodeBase64(payload, text, 1);
    return this.message(Opcode.Text, text, opts);
  }

  /** v5.channel.k8s.io CLOSE signal: [255, channel]. */
  closeChannel(channel: number): Uint8Array {
    return this.message(Opcode.Binary, new Uint8Array([255, channel]));
  }

  private randomKey(): number {
    if (this.randomIndex === this.randomKeys.length) {
      crypto.getRandomValues(this.randomKeys);
      this.randomIndex = 0;
    }
    return this.randomKeys[this.randomIndex++];
  }
}

function writeUint32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function concat(payload: Payload): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  let length = 0;
  for (const p of payload) length += p.length;
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of payload) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Standard padded base64 of `src` written at out[at…]. */
function encodeBase64(src: Uint8Array, out: Uint8Array, at: number): void {
  let o = at;
  let i = 0;
  for (; i + 3 <= src.length; i += 3) {
    const v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
    out[o++] = BASE64[v >>> 18];
    out[o++] = BASE64[(v >>> 12) & 63];
    out[o++] = BASE64[(v >>> 6) & 63];
    out[o++] = BASE64[v & 63];
  }
  const rest = src.length - i;
  if (rest > 0) {
    const v = (src[i] << 16) | (rest === 2 ? src[i + 1] << 8 : 0);
    out[o++] = BASE64[v >>> 18];
    out[o++] = BASE64[(v >>> 12) & 63];
    out[o++] = rest === 2 ? BASE64[(v >>> 6) & 63] : 0x3d;
    out[o++] = 0x3d;
  }
}
