/**
 * Ended sessions and connections kept out of memory: a capture of 200,000 exec connections kept a
 * record of each (~1 KB on the heap, twice that with V8's slack) until the report. Records are
 * serialised in batches (V8's structured clone: typed arrays, undefined and key order survive, so a
 * report reads back what it would have read in memory) appended to a private temporary file; an
 * index by id (5 bytes an id: its batch and place in it) finds each again. Sessions and connections
 * are batched apart: a report reads all of one kind, then all of the other, and a batch holding both
 * was deserialised once for each (on the bench's typing capture, 8.6 MB read back for 4.3 MB written).
 *
 * The file holds captured bytes (stream heads, request targets, tokens): it is created mode 0600 in a
 * fresh mode-0700 directory and unlinked, with its directory, as soon as it is open, so nothing is left
 * behind however the process ends (an error, a signal, SIGKILL — unless it lands in the few instructions
 * between creating the two and removing them: then an empty file in a private directory); the open
 * descriptor is the only way in.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { nodeOs, nodeV8 } from '../core/node-modules.js';
import type { HopLinked } from '../model/cross-hop.js';
import type { SpilledRecords } from '../model/records.js';
import type { ConnectionRecord, ExecSession, Hop } from '../model/session.js';

/**
 * Records serialised (and read back) together, and written at once. Each serialisation leaves ~1.7 KB
 * of C heap that is freed only with its wrapper at V8's next full collection: one a record, 200,000
 * unanswered upgrades grew the C heap by ~35 MB as they ended, 80 MB more when the 10,000 still open
 * ended at once. (Serialised batches waiting to be written together, 1 MiB at a time, left it as
 * fragmented as that.)
 */
const RECORDS_PER_BATCH = 32;
/** Batches read back lately: a report reads a session, then its diagnosis reads it and its hops again. */
const RECENT_BATCHES = 4;
/**
 * The file is read this much at a time: a report reads records in about the order they were written
 * (a connection, its sessions, the next connection), and one read a record cost more than decoding it.
 */
const READ_WINDOW_BYTES = 1 << 20;
/**
 * The high bit of an id's slot byte: a fact about the record the reports ask of every record, kept in
 * the index so they need not read it back (a connection's zero windows, which the hang doctor looks
 * for behind each session). The low bits hold the place in the batch, below RECORDS_PER_BATCH.
 */
const MARKED = 0x80;

/** Where each spilled record of one kind lies, by id: its batch, and its place in the batch; whether it is marked; and the kind's batch being filled. */
class RecordIndex {
  /** Records spilled since this kind's last batch was serialised; they make batch number `pendingBatch`. */
  pending: object[] = [];
  pendingBatch = -1;
  private batches = new Uint32Array(1024);
  /** Place in the batch, plus one (0: an id never spilled), with MARKED set for a marked record. */
  private slots = new Uint8Array(1024);
  count = 0;
  private lowest = Infinity;
  private highest = 0;

  add(id: number, batch: number, slot: number, marked: boolean): void {
    if (id >= this.slots.length) {
      const size = Math.max(id + 1, this.slots.length * 2);
      const [batches, slots] = [new Uint32Array(size), new Uint8Array(size)];
      batches.set(this.batches);
      slots.set(this.slots);
      [this.batches, this.slots] = [batches, slots];
    }
    this.batches[id] = batch;
    this.slots[id] = (slot + 1) | (marked ? MARKED : 0);
    this.count++;
    this.lowest = Math.min(this.lowest, id);
    this.highest = Math.max(this.highest, id);
  }

  find(id: number): { batch: number; slot: number } | null {
    const slot = id >= 0 && id < this.slots.length ? this.slots[id] & ~MARKED : 0;
    return slot ? { batch: this.batches[id], slot: slot - 1 } : null;
  }

  marked(id: number): boolean {
    return id >= 0 && id < this.slots.length && (this.slots[id] & MARKED) !== 0;
  }

  *ids(): Generator<number> {
    for (let id = this.lowest; id <= this.highest; id++) if (this.slots[id]) yield id;
  }
}

/** Where each batch lies in the file. */
class BatchPlaces {
  private offsets = new Float64Array(256);
  private lengths = new Uint32Array(256);

  add(batch: number, offset: number, length: number): void {
    if (batch >= this.lengths.length) {
      // Batches are sealed out of number order (each kind fills its own): grow to whichever comes.
      const size = Math.max(batch + 1, this.lengths.length * 2);
      const [offsets, lengths] = [new Float64Array(size), new Uint32Array(size)];
      offsets.set(this.offsets);
      lengths.set(this.lengths);
      [this.offsets, this.lengths] = [offsets, lengths];
    }
    this.offsets[batch] = offset;
    this.lengths[batch] = length;
  }

  offset(batch: number): number {
    return this.offsets[batch];
  }

  length(batch: number): number {
    return this.lengths[batch];
  }
}

type Links = Pick<ExecSession, 'previousHop' | 'nextHop' | 'criCall'>;

export class SpillFile implements SpilledRecords {
  private fd: number | null;
  /** Bytes in the file. */
  private end = 0;
  /** Batch numbers handed out (to batches being filled too). */
  private batchCount = 0;
  private readonly batchPlaces = new BatchPlaces();
  private readonly sessionIndex = new RecordIndex();
  private readonly connectionIndex = new RecordIndex();
  /** fallbackFrom → the lowest spilled id that fell back from it. */
  private readonly retries = new Map<number, number>();
  /** Spilled sessions on each hop: linking at the capture's end reads back only the hops it can link. */
  private readonly hops = new Map<Hop, number>();
  /** Hop links set at the capture's end, after the sessions they belong to were spilled. */
  private readonly links = new Map<number, Links>();
  /** Batches read back lately, by number, the oldest forgotten first. */
  private readonly recent = new Map<number, unknown[]>();
  lastConnectionTs = 0;
  /** The part of the file read last, and where it starts. */
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(parent = nodeOs().tmpdir()) {
    const dir = mkdtempSync(join(parent, 'execscope-spill-'));
    const path = join(dir, 'records');
    try {
      this.fd = openSync(path, 'wx+', 0o600);
    } finally {
      // Gone from the file system at once: the descriptor keeps the data until it is closed or the process ends.
      try {
        unlinkSync(path);
      } catch {
        // Never created: nothing to remove.
      }
      rmdirSync(dir);
    }
  }

  get sessionCount(): number {
    return this.sessionIndex.count;
  }

  get connectionCount(): number {
    return this.connectionIndex.count;
  }

  /** Moves an ended connection (and the sessions it alone carried) out of memory. */
  spill(connection: ConnectionRecord, sessions: readonly ExecSession[]): void {
    this.add(this.connectionIndex, connection.id, connection, connection.zeroWindows.length > 0);
    this.lastConnectionTs = Math.max(this.lastConnectionTs, connection.endTs ?? connection.startTs);
    for (const s of sessions) {
      this.add(this.sessionIndex, s.id, s, false);
      this.hops.set(s.hop, (this.hops.get(s.hop) ?? 0) + 1);
      if (s.fallbackFrom !== null) this.retries.set(s.fallbackFrom, Math.min(s.id, this.retries.get(s.fallbackFrom) ?? Infinity));
    }
  }

  /** How many spilled sessions are on `hop`. */
  sessionsOnHop(hop: Hop): number {
    return this.hops.get(hop) ?? 0;
  }

  /** The hops of the spilled sessions. */
  spilledHops(): Iterable<Hop> {
    return this.hops.keys();
  }

  /** What linking reads of each spilled session on one of `hops`, in id order (one read at a time). */
  *linkKeys(hops: ReadonlySet<Hop>): Generator<HopLinked> {
    for (const id of this.sessionIndex.ids()) {
      const s = this.session(id);
      if (!s || !hops.has(s.hop)) continue;
      const { hop, kind, transport, startTs, upgradeTs, endTs, namespace, pod, container, command, token, criCall, previousHop, nextHop } = s;
      yield { id, hop, kind, transport, startTs, upgradeTs, endTs, namespace, pod, container, command, token, criCall, previousHop, nextHop };
    }
  }

  /** Links found for a spilled session at the capture's end: applied to it whenever it is read. */
  relink(id: number, links: Links): void {
    this.links.set(id, links);
  }

  *sessionIds(): Iterable<number> {
    yield* this.sessionIndex.ids();
  }

  *connectionIds(): Iterable<number> {
    yield* this.connectionIndex.ids();
  }

  session(id: number): ExecSession | undefined {
    const s = this.read<ExecSession>(this.sessionIndex, id);
    const links = s && this.links.get(id);
    return links ? Object.assign(s, links) : s;
  }

  connection(id: number): ConnectionRecord | undefined {
    return this.read<ConnectionRecord>(this.connectionIndex, id);
  }

  hasZeroWindows(id: number): boolean {
    return this.connectionIndex.marked(id);
  }

  retryIdOf(id: number): number | undefined {
    return this.retries.get(id);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    this.sessionIndex.pending = this.connectionIndex.pending = [];
    this.window = Buffer.alloc(0);
    this.recent.clear();
  }

  private add(index: RecordIndex, id: number, record: object, marked: boolean): void {
    if (index.pendingBatch < 0) index.pendingBatch = this.batchCount++;
    index.add(id, index.pendingBatch, index.pending.length, marked);
    index.pending.push(record);
    if (index.pending.length === RECORDS_PER_BATCH) this.sealBatch(index);
  }

  /** Serialises the records of `index`'s kind spilled since its last batch and writes them. */
  private sealBatch(index: RecordIndex): void {
    if (index.pendingBatch < 0) return;
    const bytes = nodeV8().serialize(index.pending);
    this.batchPlaces.add(index.pendingBatch, this.end, bytes.length);
    index.pending = [];
    index.pendingBatch = -1;
    for (let done = 0; done < bytes.length; ) {
      const n = writeSync(this.open(), bytes, done, bytes.length - done, this.end + done);
      done += n;
    }
    this.end += bytes.length;
  }

  private read<T>(index: RecordIndex, id: number): T | undefined {
    const where = index.find(id);
    if (!where) return undefined;
    let records = this.recent.get(where.batch);
    if (!records) {
      if (where.batch === index.pendingBatch) this.sealBatch(index);
      records = this.readBatch(where.batch);
      if (this.recent.size >= RECENT_BATCHES) this.recent.delete(this.recent.keys().next().value as number);
      this.recent.set(where.batch, records);
    }
    return records[where.slot] as T;
  }

  private readBatch(batch: number): unknown[] {
    const [offset, length] = [this.batchPlaces.offset(batch), this.batchPlaces.length(batch)];
    const at = offset - this.windowStart;
    if (at < 0 || at + length > this.window.length) this.readWindow(offset, length);
    const from = offset - this.windowStart;
    return nodeV8().deserialize(this.window.subarray(from, from + length)) as unknown[];
  }

  /** Reads the file from `offset` on, at least `length` bytes. A new buffer each time: what was deserialised (a stream's head) may be a view of the last one. */
  private readWindow(offset: number, length: number): void {
    const size = Math.min(Math.max(length, READ_WINDOW_BYTES), this.end - offset);
    const bytes = Buffer.allocUnsafeSlow(size);
    for (let done = 0; done < size; ) {
      const n = readSync(this.open(), bytes, done, size - done, offset + done);
      if (n === 0) throw new Error(`spilled records cut short at byte ${offset + done} of ${this.end}`);
      done += n;
    }
    this.window = bytes;
    this.windowStart = offset;
  }

  private open(): number {
    if (this.fd === null) throw new Error('the spilled records were closed');
    return this.fd;
  }
}
