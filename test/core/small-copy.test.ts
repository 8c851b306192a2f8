import { SMALL_PIECE_BYTES, SmallPieceCopier } from '../../src/core/small-copy.js';

describe('SmallPieceCopier', () => {
  const src = Uint8Array.from({ length: 200 }, (_, i) => (i * 7 + 3) & 0xff);

  it('returns the range as a copy, in one view per length', () => {
    const copier = new SmallPieceCopier();
    for (let start = 0; start < 10; start++) {
      for (let n = 0; n <= SMALL_PIECE_BYTES; n++) {
        const piece = copier.copy(src, start, start + n);
        expect(Array.from(piece)).toEqual(Array.from(src.subarray(start, start + n)));
        expect(piece.buffer).not.toBe(src.buffer);
      }
    }
    expect(copier.copy(src, 5, 9)).toBe(copier.copy(src, 20, 24));
  });

  it('is valid until its next copy, and copiers do not share a buffer', () => {
    const a = new SmallPieceCopier();
    const b = new SmallPieceCopier();
    const first = a.copy(src, 0, 3);
    const other = b.copy(src, 100, 103);
    a.copy(src, 50, 53);
    expect(Array.from(first)).toEqual(Array.from(src.subarray(50, 53)));
    expect(Array.from(other)).toEqual(Array.from(src.subarray(100, 103)));
  });
});
