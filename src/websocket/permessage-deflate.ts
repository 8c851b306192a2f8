/**
 * permessage-deflate (RFC 7692): negotiation parameters, a streaming per-direction inflater for the
 * decoder and a compressor for the encoder.
 *
 * The inflater drives pako's low-level zlib API rather than the `Inflate` wrapper so it can write into
 * one reusable output buffer and stop exactly at the per-message size cap: a zlib bomb costs at most
 * `maxMessageBytes` of CPU and one output buffer of memory.
 */
import {
  Deflate,
  Z_BUF_ERROR,
  Z_OK,
  Z_STREAM_END,
  Z_SYNC_FLUSH,
  ZStream,
  zlibInflate,
  zlibInflateInit2,
  zlibInflateReset,
} from 'pako';

export interface PerMessageDeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

/**
 * Finds permessage-deflate in a Sec-WebSocket-Extensions value (the server's answer in the 101);
 * null when it was not negotiated.
 */
export function parsePerMessageDeflate(extensions: string | undefined): PerMessageDeflateParams | null {
  if (!extensions) return null;
  for (const extension of extensions.split(',')) {
    const [name, ...params] = extension.split(';').map((s) => s.trim());
    if (name.toLowerCase() !== 'permessage-deflate') continue;
    const result: PerMessageDeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false };
    for (const param of params) {
      const [key, value] = param.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
      const bits = value === undefined ? undefined : Number(value);
      switch (key.toLowerCase()) {
        case 'server_no_context_takeover':
          result.serverNoContextTakeover = true;
          break;
        case 'client_no_context_takeover':
          result.clientNoContextTakeover = true;
          break;
        case 'server_max_window_bits':
          result.serverMaxWindowBits = bits;
          break;
        case 'client_max_window_bits':
          result.clientMaxWindowBits = bits;
          break;
      }
    }
    return result;
  }
  return null;
}

/** RFC 7692 §7.2.2: the sender strips this sync-flush tail; the receiver appends it back. */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const OUTPUT_CHUNK = 64 * 1024;

export interface PerMessageInflaterOptions {
  /** The sender resets its compressor after every message (…_no_context_takeover for this direction). */
  noContextTakeover: boolean;
  /** Inflated bytes allowed per message; the rest of a bigger message is not decoded. */
  maxMessageBytes: number;
}

/**
 * One direction's decompressor. Per message: begin(), push(compressed)…, finish(). Output goes to
 * `onOutput` in chunks valid only during the call. Methods return a problem description or undefined.
 */
export class PerMessageInflater {
  private readonly strm = new ZStream();
  private readonly out = new Uint8Array(OUTPUT_CHUNK);
  private messageBytes = 0;
  /** The rest of the current message is not decoded. */
  private stopped = false;
  /** The final deflate block was seen: only the appended tail may follow in this message. */
  private streamEnded = false;
  /** The window no longer matches the sender's: with context takeover nothing later decodes. */
  private contextLost = false;

  constructor(
    private readonly onOutput: (chunk: Uint8Array) => void,
    private readonly opts: PerMessageInflaterOptions,
  ) {
    zlibInflateInit2(this.strm, -15);
  }

  begin(): string | undefined {
    this.messageBytes = 0;
    this.stopped = false;
    this.streamEnded = false;
    if (!this.contextLost) return undefined;
    if (this.opts.noContextTakeover) {
      zlibInflateReset(this.strm);
      this.contextLost = false;
      return undefined;
    }
    this.stopped = true;
    return 'compressed message not decoded: the compression context was lost earlier in this direction';
  }

  push(data: Uint8Array): string | undefined {
    if (this.stopped || data.length === 0) return undefined;
    if (this.streamEnded) return this.stop('compressed data after the final deflate block; rest of message not decoded');
    return this.run(data);
  }

  finish(): string | undefined {
    const problem = this.stopped || this.streamEnded ? undefined : this.run(TAIL);
    if (this.opts.noContextTakeover) {
      zlibInflateReset(this.strm);
      this.contextLost = false;
    }
    return problem;
  }

  /** Compressed bytes of the current message (or whole messages) were lost. */
  abandon(): void {
    this.stopped = true;
    this.contextLost = true;
  }

  private run(input: Uint8Array): string | undefined {
    const s = this.strm;
    const max = this.opts.maxMessageBytes;
    s.input = input;
    s.next_in = 0;
    s.avail_in = input.length;
    for (;;) {
      s.output = this.out;
      s.next_out = 0;
      s.avail_out = this.out.length;
      const status = zlibInflate(s, Z_SYNC_FLUSH);
      const produced = s.next_out;
      if (produced > 0) {
        const room = max - this.messageBytes;
        if (produced > room) {
          if (room > 0) this.onOutput(this.out.subarray(0, room));
          this.messageBytes = max;
          return this.stop(`inflated message exceeds ${max} bytes (zlib bomb?); rest of message not decoded`);
        }
        this.messageBytes += produced;
        this.onOutput(this.out.subarray(0, produced));
      }
      if (status === Z_STREAM_END) {
        // A sender that ends the deflate stream starts a fresh one (and window) next message.
        this.streamEnded = true;
        zlibInflateReset(s);
        return input !== TAIL && s.avail_in > 0
          ? this.stop('compressed data after the final deflate block; rest of message not decoded')
          : undefined;
      }
      if (status !== Z_OK && status !== Z_BUF_ERROR) {
        return this.stop(`inflate failed: ${s.msg || `zlib status ${status}`}; rest of message not decoded`);
      }
      // Output room left over means inflate ran out of input.
      if (s.avail_out !== 0) return undefined;
    }
  }

  private stop(problem: string): string {
    this.stopped = true;
    this.contextLost = true;
    return problem;
  }
}

/** One direction's compressor (encoder side): each message sync-flushed, the tail stripped. */
export class PerMessageDeflater {
  private deflate: Deflate | null = null;
  private parts: Uint8Array[] = [];

  constructor(private readonly opts: { noContextTakeover: boolean; level?: number }) {}

  compress(payload: Uint8Array): Uint8Array {
    if (!this.deflate || this.opts.noContextTakeover) {
      this.deflate = new Deflate({ raw: true, windowBits: 15, level: this.opts.level ?? 6 });
      this.deflate.onData = (chunk) => this.parts.push(chunk);
    }
    this.parts = [];
    if (!this.deflate.push(payload, Z_SYNC_FLUSH)) throw new Error(`deflate failed: ${this.deflate.msg}`);
    let total = 0;
    for (const p of this.parts) total += p.length;
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    const tailed =
      total >= 4 && out[total - 4] === 0 && out[total - 3] === 0 && out[total - 2] === 0xff && out[total - 1] === 0xff;
    return tailed ? out.subarray(0, total - 4) : out;
  }
}
