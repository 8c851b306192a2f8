/**
 * Records byte streams of TCP-like connections (what a proxy or a server saw on its sockets) into one
 * pcapng: one Ethernet interface per hop (named for it), each connection as synthetic
 * Ethernet/IPv4/TCP frames with consistent sequence numbers, handshake, FINs and RSTs, stamped with
 * the time the bytes were received. TLS key-log lines go into Decryption Secrets Blocks as they
 * appear, so the secrets always precede the records they decrypt. Used by `execscope lab` and
 * `execscope tap`.
 *
 * IO: writes the file (mode 0600: recordings hold what went over the wire) asynchronously, at most
 * one write in flight, so recording never blocks the sockets being recorded. The queue is bounded:
 * when the disk falls that far behind, a connection's bytes are left out and the recording shows a
 * TCP gap of exactly their length (sequence numbers still advance), so analyzers report the loss
 * instead of seeing shifted data, and `onOverflow` says so once.
 */
import { closeSync, fchmodSync, openSync, write } from 'node:fs';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import { SyntheticTcpConnection, type Endpoint } from '../capture/synthetic-tcp.js';
import type { Direction } from '../core/origin.js';

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

export interface RecorderOptions {
  /** Largest TCP payload per recorded segment (default: loopback's). */
  mss?: number;
  /** Bytes waiting for the disk beyond which connection data is left out (as a TCP gap). */
  maxQueuedBytes?: number;
  /** Called once, the first time data had to be left out. */
  onOverflow?(droppedBytes: number): void;
  /** Called if writing the file fails; recording stops, the connections being recorded are unaffected. */
  onWriteError?(err: Error): void;
}

export class PcapngRecorder {
  private readonly writer = new PcapngWriter();
  private fd: number | null;
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

  constructor(
    readonly path: string,
    hops: readonly HopInterface[],
    private readonly clock: RecordingClock,
    private readonly options: RecorderOptions = {},
  ) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.fd = openSync(path, 'w', 0o600);
    fchmodSync(this.fd, 0o600); // an existing file keeps its mode through open(): set it
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

  /** Bytes handed to the recorder and not yet on disk. */
  get queuedBytes(): number {
    return this.pendingBytes + this.inFlightBytes;
  }

  /** Everything recorded so far is on disk (in the page cache) when this resolves. */
  flushed(): Promise<void> {
    if (this.queuedBytes === 0 || this.fd === null) return Promise.resolve();
    this.flush();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Writes what is queued and closes the file; nothing is recorded after it is called. */
  async close(): Promise<void> {
    if (this.closing) return this.flushed();
    await this.flushed();
    this.closing = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private put(block: Uint8Array): void {
    if (this.fd === null || this.closing) return;
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
    if (this.writing || this.fd === null) return;
    if (this.pendingBytes === 0) {
      for (const resolve of this.drained.splice(0)) resolve();
      return;
    }
    const out = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlightBytes = out.length;
    this.writing = true;
    this.writeAll(this.fd, out, 0);
  }

  private writeAll(fd: number, out: Buffer, from: number): void {
    write(fd, out, from, out.length - from, null, (err, written) => {
      if (err) {
        this.options.onWriteError?.(err);
        this.pending = [];
        this.pendingBytes = 0;
        this.inFlightBytes = 0;
        this.writing = false;
        closeSync(fd);
        this.fd = null;
        for (const resolve of this.drained.splice(0)) resolve();
        return;
      }
      if (from + written < out.length) {
        this.writeAll(fd, out, from + written);
        return;
      }
      this.inFlightBytes = 0;
      this.writing = false;
      this.flush();
    });
  }
}
