/**
 * Streaming UTF-8 validation (RFC 3629) for WebSocket text messages, which RFC 6455 §8.1 requires
 * to be valid UTF-8 as a whole: a message arrives in pieces that may split a sequence anywhere, so
 * the validator carries the state of an unfinished sequence between pieces. No allocation, no
 * decoding: base64 channel text is ASCII and costs one comparison per byte.
 */
export class Utf8Validator {
  /** Continuation bytes still expected by the sequence in progress. */
  private need = 0;
  /** Allowed range of the next continuation byte (narrower after E0, ED, F0, F4). */
  private lo = 0x80;
  private hi = 0xbf;
  /** Bytes seen since reset(). */
  private seen = 0;

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
    this.seen = 0;
  }

  /** Checks the next bytes, bytes[start, end); returns the message offset of the first invalid byte, or -1. */
  push(bytes: Uint8Array, start = 0, end = bytes.length): number {
    let need = this.need;
    let lo = this.lo;
    let hi = this.hi;
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      if (need > 0) {
        if (b < lo || b > hi) return this.fail(i - start);
        need--;
        lo = 0x80;
        hi = 0xbf;
      } else if (b >= 0x80) {
        if (b >= 0xc2 && b <= 0xdf) need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          need = 2;
          // No overlong forms (E0 80–9F) and no UTF-16 surrogates (ED A0–BF).
          if (b === 0xe0) lo = 0xa0;
          else if (b === 0xed) hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3;
          // No overlong forms (F0 80–8F) and nothing above U+10FFFF (F4 90–BF).
          if (b === 0xf0) lo = 0x90;
          else if (b === 0xf4) hi = 0x8f;
        } else {
          return this.fail(i - start);
        }
      }
    }
    this.need = need;
    this.lo = lo;
    this.hi = hi;
    this.seen += end - start;
    return -1;
  }

  /** The bytes so far stop inside a sequence. */
  get incomplete(): boolean {
    return this.need > 0;
  }

  private fail(i: number): number {
    const at = this.seen + i;
    this.reset();
    return at;
  }
}
