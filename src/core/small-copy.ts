/**
 * Pieces of a few bytes handed on as copies rather than views. Making a typed-array view
 * (`subarray`) costs V8 ~450 instructions (callgrind: the view object, its zeroed embedder fields,
 * the species lookup); copying a keystroke's one or two bytes costs a few. A decoder whose pieces are
 * valid only during its sink's call copies the small ones into views of its own buffer, made once
 * per length.
 */

/** Longest piece copied; longer ones are worth their view. */
export const SMALL_PIECE_BYTES = 64;

export class SmallPieceCopier {
  private readonly buffer = new Uint8Array(SMALL_PIECE_BYTES);
  /** views[n]: the buffer's first n bytes, all made at once so the list is a packed one with no holes to check. */
  private readonly views: Uint8Array[] = Array.from({ length: SMALL_PIECE_BYTES + 1 }, (_, n) => this.buffer.subarray(0, n));

  /**
   * src[start, end) (at most SMALL_PIECE_BYTES) in this copier's buffer: valid until its next copy,
   * so each decoder whose sink may feed another decoder from inside the call has a copier of its own.
   */
  copy(src: Uint8Array, start: number, end: number): Uint8Array {
    const n = end - start;
    const buffer = this.buffer;
    for (let j = 0; j < n; j++) buffer[j] = src[start + j];
    return this.views[n];
  }
}
