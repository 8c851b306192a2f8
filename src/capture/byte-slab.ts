/**
 * Hands out zeroed byte arrays carved from 1 MiB slabs: a writer emitting millions of small records
 * then costs one allocation per slab instead of one per record. Slabs are never reused, so every
 * array stays valid (and keeps its slab alive) as long as the caller holds it.
 */
export class ByteSlab {
  private slab = new Uint8Array(0);
  private used = 0;

  constructor(private readonly slabBytes = 1024 * 1024) {}

  take(length: number): Uint8Array {
    if (this.used + length > this.slab.length) {
      if (length > this.slabBytes / 4) return new Uint8Array(length);
      this.slab = new Uint8Array(this.slabBytes);
      this.used = 0;
    }
    const bytes = this.slab.subarray(this.used, this.used + length);
    this.used += length;
    return bytes;
  }
}
