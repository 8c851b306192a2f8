/**
 * sha256 of stream payloads. The recorder only sees this interface, so hashing can run inline (tests,
 * small captures) or on a worker thread beside the parser (src/pipeline/worker-hasher.ts).
 */
import type { Hash } from 'node:crypto';
import { nodeCrypto } from '../core/node-modules.js';
import { rangeView } from '../core/byte-range.js';

export interface StreamHasher {
  /** Starts a new hash and returns its handle. */
  open(): number;
  /** bytes[start, end), only valid during the call (core/byte-range.ts). */
  update(handle: number, bytes: Uint8Array, start: number, end: number): void;
  /** Asks for the digest; `done` runs once it is known (at the latest when flush() resolves). */
  digest(handle: number, done: (hex: string) => void): void;
  /** Resolves when every requested digest has been delivered. */
  flush(): Promise<void>;
  /** A promise while the hasher is behind by more than it may buffer (the feeder should wait), else null. */
  backlog(): Promise<void> | null;
  close(): void;
}

export class InlineStreamHasher implements StreamHasher {
  private readonly hashes = new Map<number, Hash>();
  private next = 1;

  open(): number {
    this.hashes.set(this.next, nodeCrypto().createHash('sha256'));
    return this.next++;
  }

  update(handle: number, bytes: Uint8Array, start: number, end: number): void {
    this.hashes.get(handle)?.update(rangeView(bytes, start, end));
  }

  digest(handle: number, done: (hex: string) => void): void {
    const h = this.hashes.get(handle);
    this.hashes.delete(handle);
    if (h) done(h.digest('hex'));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  backlog(): null {
    return null;
  }

  close(): void {
    this.hashes.clear();
  }
}
