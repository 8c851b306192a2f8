/**
 * Records byte streams of TCP-like connections (what a proxy or a server saw on its sockets) into one
 * pcapng: one Ethernet interface per hop (named for it), each connection as synthetic
 * Ethernet/IPv4/TCP frames with consistent sequence numbers, handshake, FINs and RSTs, stamped with
 * the time the bytes were received. TLS key-log lines go into Decryption Secrets Blocks as they
 * appear, so the secrets always precede the records they decrypt. Used by `execscope lab` and
 * `execscope tap`.
 *
 * IO: writes the file (mode 0600: recordings hold what went over the wire) asynchronously, at most
 * one write in flight, so recording never blocks the sockets being recorded. The same bytes can also
 * go to a RecordingFeed, read in this process as they are recorded (the tap's --ui and --json-lines);
 * with a file, each batch reaches the feed once it is written, so every offset a reader of the feed
 * names can already be read back from the file. The queue is bounded, the feed's unread bytes
 * included: when the disk or the feed's reader falls that far behind, a connection's bytes are left
 * out and the recording shows a TCP gap of exactly their length (sequence numbers still advance), so
 * analyzers report the loss instead of seeing shifted data, and `onOverflow` says so once.
 */
import { closeSync, write } from 'node:fs';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import { SyntheticTcpConnection, type Endpoint } from '../capture/synthetic-tcp.js';
import type { Direction } from '../core/origin.js';
import { openRecordingFileSync } from './recording-file.js';

const LINKTYPE_ETHERNET = 1;
/** pcapng if_tsresol 9: nanoseconds. */
const TSRESOL_NS = 9;
/** Loopback MTU 65536 less IPv4 and TCP headers with timestamps, as Linux picks it on lo. */
export const LOOPBACK_MSS = 65483;
const SECRETS_TLS_KEY_LOG = 0x544c534b;
/** Blocks are gathered into writes of about this size. */
const WRITE_BATCH_BYTES = 1 << 20;
const DEFAULT_MAX_QUEUED_BYTES = 64 << 20;

/** Wall-clock nanoseconds with hrtime resolution: one wall-clock anchor, hrtime offsets from it. */
export class RecordingClock {
  private readonly wallNs = BigInt(Date.now()) * 1_000_000n;
  private readonly hr0 = process.hrtime.bigint();

  nowNs(): bigint {
    return this.wallNs + (process.hrtime.bigint() - this.hr0);
  }
}

export interface HopInterface {
  /** Interface name in the capture, e.g. "kubectl→apiserver". */
  name: string;
  description: string;
}

/** The byte events of one TCP connection, in the order they were seen. */
export interface ConnectionRecording {
  data(dir: Direction, bytes: Uint8Array): void;
  /** `dir`'s sender closed its side. */
  fin(dir: Direction): void;
  /** `dir`'s sender reset the connection. */
  reset(dir: Direction): void;
  /** The receiver of `dir` stopped taking bytes (a zero window), or takes them again. */
  window(dir: Direction, open: boolean): void;
}

/**
 * A recording's bytes, in order, as the recorder lets them out: an async iterable of pcapng chunks
 * that ends when the recorder is closed. Holds what its reader has not taken yet (`bufferedBytes`).
 */
export class RecordingFeed implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private waiting: ((result: IteratorResult<Uint8Array>) => void) | null = null;
  private ended = false;
  bufferedBytes = 0;

  push(chunk: Uint8Array): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  end(): void {
    this.ended = true;
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => {
        const chunk = this.chunks.shift();
        if (chunk) {
          this.bufferedBytes -= chunk.length;
          return Promise.resolve({ value: chunk, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
    };
  }
}

export interface RecorderOptions {
  /** Also hand the recording to this feed as it is recorded. */
  feed?: RecordingFeed;
  /** Largest TCP payload per recorded segment (default: loopback's). */
  mss?: number;
  /** Bytes waiting for the disk beyond which connection data is left out (as a TCP gap). */
  maxQueuedBytes?: number;
  /** Called once, the first time data had to be left out. */
  onOverflow?(droppedBytes: number): void;
  /** `path` already opened by openRecordingFile (which waits for a FIFO's reader with the thread free). */
  fd?: number;
  /** Called if writing the file fails; recording stops, the connections being recorded are unaffected. */
  onWriteError?(err: Error): void;
}

export class PcapngRecorder {
  private readonly writer = new PcapngWriter();
  private fd: number | null = null;
  private readonly feed: RecordingFeed | null;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private inFlightBytes = 0;
  private writing = false;
  private flushScheduled = false;
  private drained: (() => void)[] = [];
  private closing = false;
  private isn = 0x1000_0000;
  private readonly maxQueuedBytes: number;
  /** Connection bytes left out because the disk fell behind. */
  droppedBytes = 0;

  /** `path` null: the recording goes to `options.feed` only. */
  constructor(
    readonly path: string | null,
    hops: readonly HopInterface[],
    private readonly clock: RecordingClock,
    private readonly options: RecorderOptions = {},
  ) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.feed = options.feed ?? null;
    if (path !== null) this.fd = options.fd ?? openRecordingFileSync(path);
    this.put(this.writer.sectionHeader());
    for (const hop of hops) {
      this.put(this.writer.interface(LINKTYPE_ETHERNET, { name: hop.name, description: hop.description, tsresol: TSRESOL_NS }));
    }
  }

  /** A connection on hop `hopIndex` (its position in the constructor's list). */
  connection(hopIndex: number, client: Endpoint, server: Endpoint): ConnectionRecording {
    const isn = { client: this.isn, server: (this.isn + 0x0800_0000) >>> 0 };
    this.isn = (this.isn + 0x0100_0000) >>> 0;
    const tcp = new SyntheticTcpConnection(client, server, this.options.mss ?? LOOPBACK_MSS, isn);
    const write = (frames: Uint8Array | Uint8Array[]) => {
      const ts = this.clock.nowNs();
      for (const frame of Array.isArray(frames) ? frames : [frames]) this.put(this.writer.enhancedPacket(hopIndex, ts, frame));
    };
    write(tcp.handshake());
    const finned: Record<Direction, boolean> = { c2s: false, s2c: false };
    let over = false;
    return {
      data: (dir, bytes) => {
        if (over || !bytes.length) return;
        if (this.queuedBytes + bytes.length > this.maxQueuedBytes) {
          tcp.skip(dir, bytes.length);
          if (this.droppedBytes === 0) this.options.onOverflow?.(bytes.length);
          this.droppedBytes += bytes.length;
          return;
        }
        write(tcp.send(dir, bytes));
      },
      fin: (dir) => {
        if (over || finned[dir]) return;
        finned[dir] = true;
        write(tcp.fin(dir));
        if (finned.c2s && finned.s2c) {
          write(tcp.ack(dir === 'c2s' ? 's2c' : 'c2s'));
          over = true;
        }
      },
      reset: (dir) => {
        if (over) return;
        over = true;
        write(tcp.reset(dir));
      },
      window: (dir, open) => {
        if (over) return;
        // The receiver of `dir` advertises it: an ACK from the other side.
        write(tcp.ack(dir === 'c2s' ? 's2c' : 'c2s', open ? undefined : 0));
      },
    };
  }

  /** NSS key-log text (whole lines), stored as a Decryption Secrets Block. */
  keyLog(text: string): void {
    this.put(this.writer.decryptionSecrets(SECRETS_TLS_KEY_LOG, new TextEncoder().encode(text)));
  }

  /** Bytes handed to the recorder and not yet on disk, or not yet taken from the feed. */
  get queuedBytes(): number {
    return this.pendingBytes + this.inFlightBytes + (this.feed?.bufferedBytes ?? 0);
  }

  /** Everything recorded so far is on disk (in the page cache) and in the feed when this resolves. */
  flushed(): Promise<void> {
    if (this.pendingBytes + this.inFlightBytes === 0 || !this.recording) return Promise.resolve();
    this.flush();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Writes what is queued, closes the file and ends the feed; nothing is recorded after it is called. */
  async close(): Promise<void> {
    if (this.closing) return this.flushed();
    await this.flushed();
    this.closing = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.feed?.end();
  }

  /** Somewhere to record to: the file (until writing it failed) or the feed. */
  private get recording(): boolean {
    return this.fd !== null || this.feed !== null;
  }

  private put(block: Uint8Array): void {
    if (!this.recording || this.closing) return;
    this.pending.push(block); // the writer's slabs are never reused: holding the view is safe
    this.pendingBytes += block.length;
    if (this.pendingBytes >= WRITE_BATCH_BYTES) this.flush();
    else if (!this.flushScheduled) {
      // Blocks of one event-loop turn go out in one write, soon enough for a reader following the file.
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.writing || !this.recording) return;
    if (this.pendingBytes === 0) {
      for (const resolve of this.drained.splice(0)) resolve();
      return;
    }
    const out = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.fd === null) {
      this.feed!.push(out);
      this.flush();
      return;
    }
    this.inFlightBytes = out.length;
    this.writing = true;
    this.writeAll(this.fd, out, 0);
  }

  private writeAll(fd: number, out: Buffer, from: number): void {
    write(fd, out, from, out.length - from, null, (err, written) => {
      if (err) {
        this.options.onWriteError?.(err);
        this.inFlightBytes = 0;
        this.writing = false;
        closeSync(fd);
        this.fd = null;
        // The feed goes on without the file; with no feed, what was queued has nowhere to go.
        this.feed?.push(out);
        if (!this.feed) {
          this.pending = [];
          this.pendingBytes = 0;
        }
        this.flush();
        for (const resolve of this.drained.splice(0)) resolve();
        return;
      }
      if (from + written < out.length) {
        this.writeAll(fd, out, from + written);
        return;
      }
      this.inFlightBytes = 0;
      this.writing = false;
      this.feed?.push(out);
      this.flush();
    });
  }
}
