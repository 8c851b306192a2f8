const LF = 0x0a;
const CR = 0x0d;
const INITIAL_CAPACITY = 256;
/** Buffers that grew past this are dropped on reset so an idle connection does not pin a large head's memory. */
const KEEP_CAPACITY = 8192;
/** The buffer of a collector that never had to hold a partial line (most: heads arrive whole). */
const NOTHING = new Uint8Array(0);

/** `feed` result: the terminator has not arrived yet; every byte offered was collected. */
export const NEED_MORE = -1;
/** `feed` result: the collected bytes would exceed the cap before a terminator; nothing more was collected. */
export const TOO_LONG = -2;

/**
 * Collects one line, or a block of lines closed by an empty line (an HTTP head or trailer section),
 * across pushes into a bounded buffer.
 *
 * Each byte is looked at once (the search for LF resumes where it stopped), so a head arriving a byte
 * at a time costs the same as one arriving whole. Lines end at LF; a CR before it is part of the
 * terminator, as Go's textproto reads them.
 */
export class LineCollector {
  private buf = NOTHING;
  private len = 0;
  /** A block that arrived whole in one feed: a view of that data, not copied (see bytes()). */
  private whole: Uint8Array | null = null;
  /** Block mode: where the current line starts in the collected bytes. */
  private lineStart = 0;

  constructor(
    private readonly maxBytes: number,
    /** true: stop at an empty line (header block); false: stop at the first LF. */
    private readonly untilEmptyLine: boolean,
  ) {}

  get length(): number {
    return this.whole === null ? this.len : this.whole.length;
  }

  /**
   * Collects data[start..] up to and including the terminator. Returns the index in `data` just past
   * the terminator, NEED_MORE, or TOO_LONG.
   */
  feed(data: Uint8Array, start: number): number {
    let from = start;
    for (;;) {
      const nl = data.indexOf(LF, from);
      if (nl === -1) {
        if (this.len + data.length - start > this.maxBytes) return TOO_LONG;
        this.append(data, start, data.length);
        return NEED_MORE;
      }
      const lfPos = this.len + nl - start;
      if (lfPos + 1 > this.maxBytes) return TOO_LONG;
      if (!this.untilEmptyLine || this.isEmptyLine(lfPos, data, start)) {
        // A plain Uint8Array view even of a Buffer: callers copy with slice(), which for a Buffer
        // would be another view of the bytes fed (a tap relays them after blanking its copy).
        if (this.len === 0) this.whole = new Uint8Array(data.buffer, data.byteOffset + start, nl + 1 - start);
        else this.append(data, start, nl + 1);
        return nl + 1;
      }
      this.lineStart = lfPos + 1;
      from = nl + 1;
    }
  }

  /**
   * The collected bytes, valid until the next reset; when they arrived whole in the last feed they
   * are a view of the data fed, valid only as long as that is (read them before the feeding call returns).
   */
  bytes(): Uint8Array {
    return this.whole ?? this.buf.subarray(0, this.len);
  }

  reset(): void {
    this.len = 0;
    this.lineStart = 0;
    this.whole = null;
    if (this.buf.length > KEEP_CAPACITY) this.buf = NOTHING;
  }

  /** Whether the line ending with the LF at collected position lfPos is empty ("" or "\r"). */
  private isEmptyLine(lfPos: number, data: Uint8Array, start: number): boolean {
    const lineLength = lfPos - this.lineStart;
    if (lineLength === 0) return true;
    if (lineLength !== 1) return false;
    const pos = this.lineStart;
    const byte = pos < this.len ? this.buf[pos] : data[start + pos - this.len];
    return byte === CR;
  }

  private append(data: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    const needed = this.len + n;
    if (needed > this.buf.length) {
      let capacity = Math.max(this.buf.length * 2, INITIAL_CAPACITY);
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(Math.min(capacity, this.maxBytes));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(data.subarray(from, to), this.len);
    this.len = needed;
  }
}
