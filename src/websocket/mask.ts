/**
 * RFC 6455 §5.3 masking: byte i of a payload is XORed with key byte (i mod 4). XOR is its own inverse,
 * so the same routine masks (encoder) and unmasks (decoder).
 */

// Builds the 32-bit XOR word through a byte view, so the word matches memory order whatever the
// platform's endianness.
// Int32 (not Uint32) so the word stays a small integer in V8: uint32 values ≥ 2^31 are heap numbers.
const keyBytes = new Uint8Array(4);
const keyWord = new Int32Array(keyBytes.buffer);
const WORD_VIEW_MIN_BYTES = 64;

/**
 * XORs `buf` in place with the masking key `key` (the 4 key bytes as a big-endian uint32), where
 * buf[0] is at payload position `phase` (only phase mod 4 matters). Works a 32-bit word at a time
 * over the aligned middle of the buffer.
 */
export function maskInPlace(buf: Uint8Array, key: number, phase: number): void {
  const k0 = key >>> 24;
  const k1 = (key >>> 16) & 0xff;
  const k2 = (key >>> 8) & 0xff;
  const k3 = key & 0xff;
  const n = buf.length;
  let p = phase & 3;
  let i = 0;
  // Bytes before the first 4-byte-aligned address.
  const head = Math.min(n, (4 - (buf.byteOffset & 3)) & 3);
  for (; i < head; i++, p = (p + 1) & 3) buf[i] ^= p === 0 ? k0 : p === 1 ? k1 : p === 2 ? k2 : k3;
  // A word view is a typed array made per call: worth it only over enough words.
  const words = n - i >= WORD_VIEW_MIN_BYTES ? (n - i) >>> 2 : 0;
  if (words > 0) {
    keyBytes[0] = p === 0 ? k0 : p === 1 ? k1 : p === 2 ? k2 : k3;
    keyBytes[1] = p === 0 ? k1 : p === 1 ? k2 : p === 2 ? k3 : k0;
    keyBytes[2] = p === 0 ? k2 : p === 1 ? k3 : p === 2 ? k0 : k1;
    keyBytes[3] = p === 0 ? k3 : p === 1 ? k0 : p === 2 ? k1 : k2;
    const w = keyWord[0];
    const view = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    let j = 0;
    for (; j + 4 <= words; j += 4) {
      view[j] ^= w;
      view[j + 1] ^= w;
      view[j + 2] ^= w;
      view[j + 3] ^= w;
    }
    for (; j < words; j++) view[j] ^= w;
    i += words << 2;
  }
  // Whole words keep the phase; finish the tail byte by byte.
  for (; i < n; i++, p = (p + 1) & 3) buf[i] ^= p === 0 ? k0 : p === 1 ? k1 : p === 2 ? k2 : k3;
}
