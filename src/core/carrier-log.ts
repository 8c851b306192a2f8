/**
 * Which bytes of an outer stream carried each byte of an inner one, as a compact log: a TLS
 * direction's plaintext in its records (TCP ranges), a tunnel's bytes in the payloads of its WebSocket
 * frames. The inner stream is laid end to end; each entry says how many inner bytes came next and
 * which outer range carried them, either `whole` (any of its inner bytes needed all of it: a record,
 * which is decrypted as one; a compressed piece, inflated as one) or linear (they are its last bytes,
 * one for one: a frame's payload after its header).
 *
 * 16 bytes an entry (a float64 outer offset, two uint32 lengths) in chunks of 16, 32, … up to 4096
 * entries, made as the log grows (none until its first entry); every log of a capture draws its
 * chunks from one CarrierLogBudget, so what they hold is bounded whatever the capture's size. Plain
 * data (typed arrays), so a record holding one can be serialised.
 */

/** Entries in a log's largest chunks (64 KiB of offsets and lengths). */
const CHUNK_ENTRIES = 4096;
const FIRST_CHUNK_ENTRIES = 16;
/** The largest inner or outer length of one entry (a longer linear stretch is split: lengths keep a flag bit). */
const MAX_ENTRY_LENGTH = 0x7fffffff;

export interface CarrierLog {
  /** Per chunk: each entry's outer offset. */
  offsets: Float64Array[];
  /** Per chunk: each entry's outer length, then its inner length times two plus 1 when `whole`. */
  lengths: Uint32Array[];
  /** Entries logged. */
  count: number;
  /** Inner bytes the entries account for: bytes past it are not logged. */
  innerEnd: number;
  /** The capture's budget ran out while this log was growing: it stops at `innerEnd`. */
  full: boolean;
}

/** Where some inner bytes went: the entry's outer range, and the outer bytes that held them. */
export interface CarriedSpan {
  /** The entry's whole outer range (a record, a frame's payload). */
  offset: number;
  length: number;
  /** The outer bytes carrying the inner bytes asked for: all of the entry's when `whole`. */
  heldOffset: number;
  heldLength: number;
}

/**
 * Entries allocated over all the logs of one capture: 2,097,152, 32 MiB — a record log's entry is a
 * TLS record, so some 32 GB of 16 KiB records, or the 5,000 records a connection's list keeps in
 * each of 400 connections.
 */
export const CAPTURE_CARRIER_ENTRIES = 1 << 21;

/** Entries (allocated, in chunks) over all the logs of one capture. */
export class CarrierLogBudget {
  private left: number;

  /** `spent`: called once, when the first entry is refused. */
  constructor(
    readonly entries: number,
    private readonly spent: () => void = () => {},
  ) {
    this.left = entries;
  }

  /** Room for `n` more entries (a chunk), if the budget has it. */
  take(n: number): boolean {
    if (this.left >= n) {
      this.left -= n;
      return true;
    }
    if (this.left >= 0) {
      this.left = -1;
      this.spent();
    }
    return false;
  }
}

export function newCarrierLog(): CarrierLog {
  return { offsets: [], lengths: [], count: 0, innerEnd: 0, full: false };
}

/**
 * `innerLength` more inner bytes, carried by the outer range [outerOffset, outerOffset + outerLength):
 * all of it (`whole`), or one for one its last `innerLength` bytes (an outer range of length 0: bytes
 * nothing carried, as a loss). A linear range that continues the previous one is merged into it.
 */
export function logCarrier(log: CarrierLog, budget: CarrierLogBudget, innerLength: number, outerOffset: number, outerLength: number, whole: boolean): void {
  if (log.full || innerLength <= 0) return;
  // More bytes than the range holds cannot be its last ones: they needed all of it.
  if (!whole && innerLength > outerLength && outerLength > 0) whole = true;
  if (!whole && (outerLength > MAX_ENTRY_LENGTH || innerLength > MAX_ENTRY_LENGTH)) {
    // Only the payload part of a very long range is logged, one for one, in pieces.
    const lost = outerLength === 0;
    let at = outerOffset + outerLength - innerLength;
    for (let left = innerLength; left > 0; ) {
      const n = Math.min(left, MAX_ENTRY_LENGTH);
      logCarrier(log, budget, n, lost ? outerOffset : at, lost ? 0 : n, false);
      at += n;
      left -= n;
    }
    return;
  }
  if (whole && (outerLength > MAX_ENTRY_LENGTH || innerLength > MAX_ENTRY_LENGTH)) {
    // No record or inflated piece is this long: such a log would mislead, so it stops.
    log.full = true;
    return;
  }
  const last = log.count - 1;
  if (!whole && outerLength === innerLength && outerLength > 0 && last >= 0) {
    const k = log.offsets.length - 1;
    const i = last - chunkStart(k);
    const lengths = log.lengths[k];
    const prevOuter = lengths[2 * i];
    const prevInner = lengths[2 * i + 1];
    const prevEnd = log.offsets[k][i] + prevOuter;
    if ((prevInner & 1) === 0 && prevOuter > 0 && prevEnd === outerOffset && prevOuter + outerLength <= MAX_ENTRY_LENGTH && (prevInner >>> 1) + innerLength <= MAX_ENTRY_LENGTH) {
      lengths[2 * i] = prevOuter + outerLength;
      lengths[2 * i + 1] = prevInner + 2 * innerLength;
      log.innerEnd += innerLength;
      return;
    }
  }
  const n = log.count;
  let chunk = log.offsets.length - 1;
  let start = chunkStart(chunk);
  if (chunk < 0 || n - start >= log.offsets[chunk].length) {
    chunk++;
    start = chunkStart(chunk);
    const size = chunkSize(chunk);
    if (!budget.take(size)) {
      log.full = true;
      return;
    }
    log.offsets.push(new Float64Array(size));
    log.lengths.push(new Uint32Array(2 * size));
  }
  const i = n - start;
  log.offsets[chunk][i] = outerOffset;
  log.lengths[chunk][2 * i] = outerLength;
  log.lengths[chunk][2 * i + 1] = innerLength * 2 + (whole ? 1 : 0);
  log.count++;
  log.innerEnd += innerLength;
}

/** Chunk k holds 16·2^k entries up to 4096, then 4096 each. */
function chunkSize(k: number): number {
  return Math.min(CHUNK_ENTRIES, FIRST_CHUNK_ENTRIES << Math.min(k, 8));
}

/** The index of chunk k's first entry: the doubling chunks' sum, then whole chunks. */
function chunkStart(k: number): number {
  const doubling = Math.min(k, 9);
  return FIRST_CHUNK_ENTRIES * ((1 << doubling) - 1) + Math.max(0, k - 9) * CHUNK_ENTRIES;
}

/**
 * The outer spans that carried the inner bytes [offset, offset + length), in order; null when the log
 * stops before their end (the budget ran out, or the log never reached them). Lost bytes have none.
 */
export function carriersOf(log: CarrierLog, offset: number, length: number): CarriedSpan[] | null {
  const end = offset + length;
  if (end > log.innerEnd) return null;
  const out: CarriedSpan[] = [];
  let inner = 0;
  let seen = 0;
  for (let k = 0; k < log.offsets.length && seen < log.count && inner < end; k++) {
    const offsets = log.offsets[k];
    const lengths = log.lengths[k];
    for (let i = 0; i < offsets.length && seen < log.count && inner < end; i++, seen++) {
      const outerLength = lengths[2 * i];
      const innerLength = lengths[2 * i + 1] >>> 1;
      const a = Math.max(inner, offset);
      const b = Math.min(inner + innerLength, end);
      if (b > a && outerLength > 0) {
        const o = offsets[i];
        const whole = (lengths[2 * i + 1] & 1) === 1;
        // Linear: the inner bytes are the range's last innerLength bytes.
        const payload = o + outerLength - innerLength;
        out.push(whole ? { offset: o, length: outerLength, heldOffset: o, heldLength: outerLength } : { offset: o, length: outerLength, heldOffset: payload + (a - inner), heldLength: b - a });
      }
      inner += innerLength;
    }
  }
  return out;
}

/**
 * The bytes [offset, offset + length) through two logs: `first` says what carried them in a middle
 * stream (a tunnel's bytes: the frame payload bytes of the decrypted stream), `second` what carried
 * those (the records). Per span of `first`, the spans of `second` carrying its bytes; null when either
 * log stops short.
 */
export function carriersThrough(first: CarrierLog, second: CarrierLog, offset: number, length: number): { via: CarriedSpan; spans: CarriedSpan[] }[] | null {
  const pieces = carriersOf(first, offset, length);
  if (!pieces) return null;
  const out: { via: CarriedSpan; spans: CarriedSpan[] }[] = [];
  for (const via of pieces) {
    const spans = carriersOf(second, via.heldOffset, via.heldLength);
    if (!spans) return null;
    out.push({ via, spans });
  }
  return out;
}
