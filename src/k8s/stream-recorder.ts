/**
 * Accounting for one k8s stream (SPDY stream or WebSocket channel): byte counts, an optional sha256,
 * a capped head of the payload and a capped list of timeline events. Payload is never kept whole, so
 * a multi-GB stdout costs the same memory as a short one.
 */
import type { Direction, FrameOrigin } from '../core/origin.js';
import type { StreamEvent, StreamRecord } from '../model/session.js';
import type { StreamHasher } from './stream-hasher.js';
import { appended, noEntries } from '../core/appended.js';

export interface RecorderOptions {
  /** Computes each stream's sha256 when set. */
  hasher: StreamHasher | null;
  /** Keep per-frame timeline events (the TUI wants them; `analyze --json` does not). */
  keepEvents: boolean;
  maxEventsPerStream: number;
  /** Payload bytes kept per stream for previews and the content pane. */
  headBytes: number;
}

export const defaultRecorderOptions: RecorderOptions = {
  hasher: null,
  keepEvents: true,
  maxEventsPerStream: 20000,
  headBytes: 256 * 1024,
};

const DATA_DIR: Record<string, Direction> = { stdin: 'c2s', resize: 'c2s' };
/** A stream neither side has closed: one shared record until its first half-close, not ~40 bytes for each stream of every open session. */
const NOT_CLOSED: StreamRecord['closedAt'] = Object.freeze({ c2s: null, s2c: null });
/** The head's first chunk holds a few keystrokes' worth at least. */
const MIN_HEAD_CHUNK = 64;
/**
 * A port-forward error stream's text ("error forwarding port 81 to pod …") is what the doctor quotes
 * (R14) and the outcome names: kept even where no head is (`analyze --json`), so that report says
 * what `diagnose` says. Such streams are few and short.
 */
const PORT_FORWARD_ERROR_HEAD_BYTES = 1024;

export class StreamRecorder {
  readonly record: StreamRecord;
  private hash: number | null;
  private openEvent: StreamEvent | null = null;
  /** The head's last chunk with its spare room; the head's last entry is the part of it filled so far. */
  private headChunk: Uint8Array | null = null;
  private headChunkFilled = 0;
  /** Payload bytes this stream keeps as its head. */
  private readonly headLimit: number;

  constructor(
    name: string,
    id: number,
    private readonly opts: RecorderOptions,
  ) {
    this.record = {
      name,
      id,
      dataDir: DATA_DIR[name] ?? 's2c',
      openedAt: null,
      repliedAt: null,
      firstDataAt: null,
      lastDataTs: NaN,
      closedAt: NOT_CLOSED,
      resetAt: null,
      resetStatus: null,
      bytes: 0,
      sha256: null,
      // Shared frozen lists until their first entry (`appended`): `analyze --json` keeps neither.
      head: noEntries(),
      headBytes: 0,
      events: noEntries(),
      eventsDropped: 0,
    };
    this.hash = opts.hasher ? opts.hasher.open() : null;
    this.headLimit = name.startsWith('error:') ? Math.max(opts.headBytes, PORT_FORWARD_ERROR_HEAD_BYTES) : opts.headBytes;
  }

  /** Whether data() keeps its `frame` (in timeline events): a caller whose origins are transient passes copies then. */
  get keepsOrigins(): boolean {
    return this.opts.keepEvents;
  }

  /** A lifecycle event (open, reply, half-close, reset, established); `origin` is kept. */
  mark(kind: StreamEvent['kind'], dir: Direction, origin: FrameOrigin, detail?: string): void {
    const r = this.record;
    if (kind === 'open' && r.openedAt === null) r.openedAt = origin.lastTs;
    if (kind === 'reply' && r.repliedAt === null) r.repliedAt = origin.lastTs;
    if (kind === 'half-close' && r.closedAt[dir] === null) r.closedAt = dir === 'c2s' ? { c2s: origin.lastTs, s2c: r.closedAt.s2c } : { c2s: r.closedAt.c2s, s2c: origin.lastTs };
    if (kind === 'reset' && r.resetAt === null) {
      r.resetAt = origin.lastTs;
      r.resetStatus = detail ?? null;
    }
    this.push({ kind, ts: origin.lastTs, dir, length: 0, streamOffset: r.bytes, origin, detail });
  }

  /**
   * Payload of one frame/message, possibly in pieces: bytes[start, end), valid only during the call
   * (core/byte-range.ts). Beyond the head and without a hash it is only counted. `first` starts a
   * timeline event, `last` completes it (its time is when the carrying frame completed).
   */
  data(dir: Direction, bytes: Uint8Array, start: number, end: number, frame: FrameOrigin, first: boolean, last: boolean): void {
    const r = this.record;
    if (first === true && this.opts.keepEvents === true) {
      this.openEvent = { kind: 'data', ts: frame.ts, dir, length: 0, streamOffset: r.bytes, origin: frame };
    }
    const length = end - start;
    if (length > 0) {
      r.bytes += length;
      r.firstDataAt ??= frame.lastTs;
      r.lastDataTs = frame.lastTs;
      if (this.hash !== null) this.opts.hasher?.update(this.hash, bytes, start, end);
      if (r.headBytes < this.headLimit) this.keepHead(bytes, start, Math.min(end, start + this.headLimit - r.headBytes));
    }
    const ev = this.openEvent;
    if (ev !== null) {
      ev.length += length;
      if (last) {
        ev.ts = frame.lastTs;
        ev.origin = frame;
        this.push(ev);
        this.openEvent = null;
      }
    }
  }

  /**
   * Copies bytes[start, end) to the head. Pieces share chunks, each made twice the size of the one before (up to
   * what the head may still take) and filled before the next is made, so a head never allocates more
   * than headBytes: an array a piece held 1.6 million one-byte arrays for the bench's typing capture
   * (~700 MB, and spilling them cost 100 ms a batch). Entries handed out never change: a chunk is only
   * written past the end of the last view of it.
   */
  private keepHead(bytes: Uint8Array, start: number, end: number): void {
    const r = this.record;
    for (let at = start; ; ) {
      let chunk = this.headChunk;
      if (chunk === null || this.headChunkFilled === chunk.length) {
        chunk = new Uint8Array(Math.min(this.headLimit - r.headBytes, Math.max(end - at, 2 * (chunk?.length ?? 0), MIN_HEAD_CHUNK)));
        this.headChunk = chunk;
        this.headChunkFilled = 0;
        r.head = appended(r.head, chunk);
      }
      const n = Math.min(end - at, chunk.length - this.headChunkFilled);
      chunk.set(bytes.subarray(at, at + n), this.headChunkFilled);
      this.headChunkFilled += n;
      r.headBytes += n;
      r.head[r.head.length - 1] = chunk.subarray(0, this.headChunkFilled);
      at += n;
      if (at === end) return;
    }
  }

  /** Asks for the digest; it lands in record.sha256 by the time the hasher has flushed. */
  finish(): void {
    if (this.hash === null || !this.opts.hasher) return;
    this.opts.hasher.digest(this.hash, (hex) => (this.record.sha256 = hex));
    this.hash = null;
  }

  private push(ev: StreamEvent): void {
    if (!this.opts.keepEvents) return;
    const r = this.record;
    if (r.events.length >= this.opts.maxEventsPerStream) r.eventsDropped++;
    else r.events = appended(r.events, ev);
  }
}
