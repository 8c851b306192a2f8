/**
 * What the lab observed on one stream, for its truth files: length, sha256 and the first bytes — in
 * the shape of the shared captures' truth (`{length, sha256, head_quoted}`).
 */
import { createHash, type Hash } from 'node:crypto';

const HEAD_BYTES = 200;

export interface StreamDigest {
  length: number;
  sha256: string;
  head_quoted: string;
}

export class StreamTally {
  private readonly hash: Hash = createHash('sha256');
  private readonly head = Buffer.alloc(HEAD_BYTES);
  length = 0;

  add(bytes: Uint8Array): void {
    if (this.length < HEAD_BYTES) this.head.set(bytes.subarray(0, HEAD_BYTES - this.length), this.length);
    this.length += bytes.length;
    this.hash.update(bytes);
  }

  /** The bytes seen so far (the hash is computed on a copy, so more may still be added). */
  digest(): StreamDigest {
    const head = this.head.subarray(0, Math.min(this.length, HEAD_BYTES)).toString('latin1');
    return { length: this.length, sha256: this.hash.copy().digest('hex'), head_quoted: JSON.stringify(head) };
  }
}
