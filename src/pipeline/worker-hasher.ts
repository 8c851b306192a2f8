/**
 * Hashes stream payloads on a worker thread so sha256 runs beside parsing instead of after it.
 * Payload pieces are copied into batch buffers (one memcpy on the parsing thread) that are
 * transferred, not cloned, and recycled; the number in flight is bounded, and backlog() lets the
 * feeder wait when the worker falls behind, so memory stays bounded on any capture size.
 */
import { Worker } from 'node:worker_threads';
import type { StreamHasher } from '../k8s/stream-hasher.js';
import { DIGEST, type HashBatch, type HashBatchReply } from './hash-batch.js';

const BATCH_BYTES = 4 << 20;
const MAX_IN_FLIGHT = 6;

export class WorkerStreamHasher implements StreamHasher {
  private readonly worker: Worker;
  private readonly spare: ArrayBuffer[] = [];
  private buffer: ArrayBuffer = new ArrayBuffer(BATCH_BYTES);
  private bytes = new Uint8Array(this.buffer);
  private view = new DataView(this.buffer);
  private used = 0;
  private inFlight = 0;
  private next = 1;
  private flushes = 0;
  private readonly waiting = new Map<number, (hex: string) => void>();
  private readonly flushWaiters = new Map<number, () => void>();
  private drained: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor() {
    this.worker = new Worker(new URL('./hash-worker.js', import.meta.url));
    this.worker.on('message', (reply: HashBatchReply) => this.onReply(reply));
  }

  open(): number {
    return this.next++;
  }

  update(handle: number, data: Uint8Array, start: number, end: number): void {
    let at = start;
    while (at < end) {
      if (this.used + 8 >= BATCH_BYTES) this.send(null);
      const take = Math.min(end - at, BATCH_BYTES - this.used - 8);
      this.view.setUint32(this.used, handle, true);
      this.view.setUint32(this.used + 4, take, true);
      // Most pieces fit whole: copying `data` itself saves making a view of it per piece.
      this.bytes.set(at === 0 && take === data.length ? data : data.subarray(at, at + take), this.used + 8);
      this.used += 8 + take;
      at += take;
    }
  }

  digest(handle: number, done: (hex: string) => void): void {
    if (this.used + 8 > BATCH_BYTES) this.send(null);
    this.waiting.set(handle, done);
    this.view.setUint32(this.used, handle, true);
    this.view.setUint32(this.used + 4, DIGEST, true);
    this.used += 8;
  }

  flush(): Promise<void> {
    const id = ++this.flushes;
    const done = new Promise<void>((resolve) => this.flushWaiters.set(id, resolve));
    this.send(id);
    return done;
  }

  backlog(): Promise<void> | null {
    if (this.inFlight < MAX_IN_FLIGHT) return null;
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  close(): void {
    void this.worker.terminate();
  }

  private send(flushId: number | null): void {
    const batch: HashBatch = { buffer: this.buffer, used: this.used, flushId };
    this.worker.postMessage(batch, [this.buffer]);
    this.inFlight++;
    this.buffer = this.spare.pop() ?? new ArrayBuffer(BATCH_BYTES);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.used = 0;
  }

  private onReply(reply: HashBatchReply): void {
    this.inFlight--;
    this.spare.push(reply.buffer);
    for (const [handle, hex] of reply.digests) {
      this.waiting.get(handle)?.(hex);
      this.waiting.delete(handle);
    }
    if (reply.flushId !== null) {
      this.flushWaiters.get(reply.flushId)?.();
      this.flushWaiters.delete(reply.flushId);
    }
    if (this.drained && this.inFlight < MAX_IN_FLIGHT / 2) {
      this.drained.resolve();
      this.drained = null;
    }
  }
}
