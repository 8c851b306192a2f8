/**
 * A Duplex around an accepted TCP socket that reports every byte, FIN and RST to the recorder before
 * anything else sees it. Servers (node:http, node:tls, node:http2) are handed this instead of the
 * socket: having no native handle, it makes them read through 'data' events and write through
 * _write, so the tap sees the wire bytes (TLS ciphertext on HTTPS hops). IO code.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { ConnectionRecording } from '../record/pcapng-recorder.js';

export interface TapListener {
  /** Called with every byte count moved, either direction (fault policies count and time on it). */
  onBytes?(dir: 'c2s' | 's2c', length: number): void;
}

/**
 * The recorder writes what the server read, not what the kernel buffered: a server that stops reading
 * shows as a zero window once it has not read for this long (ms) — on loopback a sender with more to
 * send fills the receive buffer well within it; a reader catching up (drain) resumes sooner.
 */
const STOPPED_READING_MS = 1000;

export class TappedSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly remoteFamily: string | undefined;
  /** The connection ended by an RST (either side). */
  wasReset = false;
  /** Bytes read from the peer and written to it so far. */
  readonly bytes = { c2s: 0, s2c: 0 };
  /** Bytes handed to write() so far: the wire offset the next write will start at. */
  queuedOut = 0;
  private listener: TapListener = {};
  /** A received chunk not yet recorded, and what was written while it was handed on (see the 'data' handler). */
  private held: Buffer | null = null;
  private answering: Buffer[] | null = null;
  /** Set while reading is paused, until the zero window is recorded; then the window is closed. */
  private stalled: NodeJS.Timeout | null = null;
  private windowClosed = false;

  constructor(
    readonly raw: Socket,
    private readonly recording: ConnectionRecording | null,
  ) {
    super({ allowHalfOpen: true });
    this.remoteAddress = raw.remoteAddress;
    this.remotePort = raw.remotePort;
    this.localAddress = raw.localAddress;
    this.localPort = raw.localPort;
    this.remoteFamily = raw.remoteFamily;
    raw.setNoDelay(true);
    raw.on('data', (chunk: Buffer) => {
      // Recorded once the chunk has been handed on, followed by what was written in answer meanwhile:
      // a TLS layer reading it logs the secrets it derives now (the traffic secrets only after it has
      // written its ServerHello flight), and the key log must land in the recording before the
      // records those secrets protect.
      this.held = chunk;
      this.answering = [];
      this.bytes.c2s += chunk.length;
      this.listener.onBytes?.('c2s', chunk.length);
      const more = this.push(chunk);
      this.flushHeld();
      if (!more) this.stopReading();
    });
    raw.on('end', () => {
      this.flushHeld();
      this.recording?.fin('c2s');
      this.push(null);
    });
    raw.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        this.wasReset = true;
        this.recording?.reset('c2s');
      }
    });
    raw.on('close', () => {
      // A close without our FIN or a reset: the kernel sent the FIN when the socket was destroyed.
      if (!this.wasReset) this.recording?.fin('s2c');
      this.destroy();
    });
  }

  private flushHeld(): void {
    if (this.held !== null) this.recording?.data('c2s', this.held);
    this.held = null;
    const answers = this.answering;
    this.answering = null;
    for (const chunk of answers ?? []) this.recording?.data('s2c', chunk);
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    if (chunk instanceof Uint8Array) this.queuedOut += chunk.length;
    else if (typeof chunk === 'string') this.queuedOut += Buffer.byteLength(chunk);
    return (super.write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }

  setListener(listener: TapListener): void {
    this.listener = listener;
  }

  override _read(): void {
    if (this.isPaused()) return;
    this.raw.resume();
    this.windowOpen();
  }

  /** Stops reading the TCP socket at once, so nothing more is read (and recorded) than is consumed. */
  override pause(): this {
    this.stopReading();
    return super.pause();
  }

  private stopReading(): void {
    this.raw.pause();
    if (!this.stalled && !this.windowClosed && this.recording) {
      this.stalled = setTimeout(() => {
        this.stalled = null;
        // A server that has closed its side is done with the connection, not backed up: no window to record.
        if (this.raw.destroyed || !this.raw.isPaused() || this.writableEnded) return;
        this.windowClosed = true;
        this.recording?.window('c2s', false);
      }, STOPPED_READING_MS).unref();
    }
  }

  override resume(): this {
    super.resume();
    this.raw.resume();
    this.windowOpen();
    return this;
  }

  private windowOpen(): void {
    if (this.stalled) clearTimeout(this.stalled);
    this.stalled = null;
    if (!this.windowClosed) return;
    this.windowClosed = false;
    this.recording?.window('c2s', true);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.raw.destroyed) {
      callback();
      return;
    }
    if (this.answering) this.answering.push(chunk);
    else this.recording?.data('s2c', chunk);
    this.bytes.s2c += chunk.length;
    this.listener.onBytes?.('s2c', chunk.length);
    this.raw.write(chunk, (err) => callback(err ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.raw.destroyed) {
      this.recording?.fin('s2c');
      this.raw.end();
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.stalled) clearTimeout(this.stalled);
    if (!this.raw.destroyed) this.raw.destroy();
    callback(error);
  }

  /** Ends the connection with an RST, as a crashed peer or a middlebox would. */
  resetAndDestroy(): this {
    if (!this.raw.destroyed) {
      this.wasReset = true;
      this.recording?.reset('s2c');
      this.raw.resetAndDestroy();
    }
    this.destroy();
    return this;
  }

  // The parts of net.Socket that node:http and node:tls call on the socket they are given.
  setTimeout(ms: number, callback?: () => void): this {
    this.raw.setTimeout(ms);
    if (callback) this.once('timeout', callback);
    if (this.raw.listenerCount('timeout') === 0) this.raw.on('timeout', () => this.emit('timeout'));
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.raw.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.raw.setKeepAlive(enable, initialDelay);
    return this;
  }

  ref(): this {
    this.raw.ref();
    return this;
  }

  unref(): this {
    this.raw.unref();
    return this;
  }
}
