/**
 * Byte ranges of a sequence (a TCP stream, an IP datagram) held until the bytes before them arrive.
 * Ranges are kept sorted and disjoint; on overlap the bytes seen first win, and the caller learns
 * whether the newcomer disagreed with them.
 */

export interface HeldRange {
  start: number;
  end: number;
  /** A private copy of the bytes, or null for bytes known to be lost (cut off by the snaplen). */
  data: Uint8Array | null;
  /** Packet number and time of the packet that carried the range. */
  packet: number;
  ts: number;
}

/** Bookkeeping charged per range against memory caps, so a flood of 1-byte ranges is bounded too. */
export const RANGE_OVERHEAD_BYTES = 64;

/** Below this many consumed slots the array is not compacted: shifting one slot at a time costs nothing then. */
const COMPACT_AFTER = 64;

export class RangeBuffer {
  /** ranges[head...] are live; slots before head were consumed by shift(). */
  private ranges: HeldRange[] = [];
  private head = 0;
  /** Sum of the live ranges' lengths (lost ranges included). */
  covered = 0;
  /** Memory charged: data bytes held plus RANGE_OVERHEAD_BYTES per range. */
  cost = 0;

  get isEmpty(): boolean {
    return this.head === this.ranges.length;
  }

  first(): HeldRange | undefined {
    return this.ranges[this.head];
  }

  /** End of the last range, or -1 when empty. */
  lastEnd(): number {
    return this.isEmpty ? -1 : this.ranges[this.ranges.length - 1].end;
  }

  shift(): HeldRange | undefined {
    const r = this.ranges[this.head];
    if (!r) return undefined;
    this.head++;
    this.covered -= r.end - r.start;
    this.cost -= this.costOf(r);
    if (this.head === this.ranges.length) {
      this.ranges = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.ranges.length) {
      this.ranges.splice(0, this.head);
      this.head = 0;
    }
    return r;
  }

  /**
   * Holds [start, start + length), whose bytes are data[at, at + length): copies of the parts not held
   * yet (`data` may be a transient buffer; null = known-lost bytes). Returns true when held bytes
   * overlapped by `data` differ from it.
   */
  insert(start: number, data: Uint8Array | null, at: number, length: number, packet: number, ts: number): boolean {
    const end = start + length;
    const ranges = this.ranges;
    let i = this.firstEndingAfter(start);
    let pos = start;
    let conflict = false;
    while (pos < end) {
      const r = ranges[i];
      if (!r || r.start >= end) {
        this.add(i, start, data, at, pos, end, packet, ts);
        break;
      }
      if (r.start > pos) {
        this.add(i, start, data, at, pos, r.start, packet, ts);
        i++;
      }
      if (!conflict && data && r.data) {
        const from = Math.max(pos, r.start);
        conflict = differ(data, at + from - start, r.data, from - r.start, Math.min(end, r.end) - from);
      }
      pos = r.end;
      i++;
    }
    return conflict;
  }

  private add(i: number, start: number, data: Uint8Array | null, at: number, from: number, to: number, packet: number, ts: number): void {
    const range: HeldRange = { start: from, end: to, data: data ? data.slice(at + from - start, at + to - start) : null, packet, ts };
    if (i === this.ranges.length) this.ranges.push(range);
    else this.ranges.splice(i, 0, range);
    this.covered += to - from;
    this.cost += this.costOf(range);
  }

  private costOf(r: HeldRange): number {
    return (r.data ? r.data.length : 0) + RANGE_OVERHEAD_BYTES;
  }

  /** Index of the first live range ending after `pos` (ranges.length if none). */
  private firstEndingAfter(pos: number): number {
    let lo = this.head;
    let hi = this.ranges.length;
    // Most arrivals extend the sequence: answer that without a search.
    if (lo === hi || this.ranges[hi - 1].end <= pos) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid].end > pos) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

function differ(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (a[aOff + k] !== b[bOff + k]) return true;
  return false;
}
