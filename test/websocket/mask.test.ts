import { maskInPlace } from '../../src/websocket/mask.js';

function naive(src: Uint8Array, key: number, phase: number): Uint8Array {
  const k = [key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff];
  return src.map((b, i) => b ^ k[(phase + i) & 3]);
}

describe('maskInPlace', () => {
  const key = 0x37fa213d;
  const backing = new Uint8Array(128).map((_, i) => (i * 37 + 11) & 0xff);

  // Lengths on both sides of where the word-at-a-time path starts (64 bytes).
  it('matches the byte-by-byte definition for every alignment, length and phase', () => {
    for (let start = 0; start < 8; start++) {
      for (let len = 0; len <= 100; len++) {
        for (let phase = 0; phase < 8; phase++) {
          const buf = backing.slice(0, 112).subarray(start, start + len);
          const expected = naive(buf, key, phase);
          maskInPlace(buf, key, phase);
          expect(Array.from(buf)).toEqual(Array.from(expected));
        }
      }
    }
  });

  it('is its own inverse and only touches the view', () => {
    const copy = backing.slice();
    const view = copy.subarray(3, 50);
    maskInPlace(view, key, 5);
    expect(Array.from(copy.subarray(0, 3))).toEqual(Array.from(backing.subarray(0, 3)));
    expect(Array.from(copy.subarray(50))).toEqual(Array.from(backing.subarray(50)));
    maskInPlace(view, key, 5);
    expect(Array.from(copy)).toEqual(Array.from(backing));
  });

  it('uses phase modulo 4 for positions beyond 2^32', () => {
    const buf = backing.slice(0, 9);
    const expected = naive(buf, key, 3);
    maskInPlace(buf, key, 2 ** 40 + 3);
    expect(Array.from(buf)).toEqual(Array.from(expected));
  });

  it('RFC 6455 §5.7 example: masked "Hello"', () => {
    const masked = new Uint8Array([0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    maskInPlace(masked, 0x37fa213d, 0);
    expect(new TextDecoder().decode(masked)).toBe('Hello');
  });
});
