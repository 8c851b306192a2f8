/**
 * Incremental standard-alphabet base64 decoding (RFC 4648 §4, padded, as Go's base64.StdEncoding
 * writes it) for one message at a time, over pieces split anywhere: whole 4-char groups are decoded
 * straight from the input, a group split across pieces waits in a 4-byte carry.
 */

const INVALID = -1;
const PAD = -2;
const SEXTET = new Int8Array(256).fill(INVALID);
{
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) SEXTET[alphabet.charCodeAt(i)] = i;
  SEXTET['='.charCodeAt(0)] = PAD;
}

/** Decoded bytes per decode() call at most (whole groups). */
const OUTPUT_SIZE = 48 * 1024;

export class Base64StreamDecoder {
  /** Decoded bytes of the last decode() call: output.subarray(0, produced). Reused. */
  readonly output = new Uint8Array(OUTPUT_SIZE);
  produced = 0;
  /** Set when the input is not base64; the rest of the message is ignored. */
  error: string | undefined;

  private readonly group = new Uint8Array(4);
  private groupLength = 0;
  /** Characters still to drop to get back to a group boundary after a loss. */
  private skip = 0;
  private padded = false;

  /** Characters of an incomplete group are waiting for the next piece. */
  get pending(): boolean {
    return this.groupLength > 0;
  }

  /** Starts a new message. */
  reset(): void {
    this.groupLength = 0;
    this.skip = 0;
    this.padded = false;
    this.error = undefined;
    this.produced = 0;
  }

  /**
   * Decodes chars[start…] until the input or the output buffer runs out; returns where it stopped.
   * Call again from there while it returns less than chars.length.
   */
  decode(chars: Uint8Array, start: number): number {
    this.produced = 0;
    const n = chars.length;
    if (this.error !== undefined) return n;
    let i = start;
    while (this.skip > 0 && i < n) {
      this.skip--;
      i++;
    }
    const out = this.output;
    let o = 0;
    while (this.groupLength > 0 && i < n) {
      this.group[this.groupLength++] = chars[i++];
      if (this.groupLength === 4) {
        this.groupLength = 0;
        o = this.decodeGroup(this.group, 0, o);
      }
    }
    const limit = out.length - 3;
    while (n - i >= 4 && o <= limit && this.error === undefined) {
      const a = SEXTET[chars[i]];
      const b = SEXTET[chars[i + 1]];
      const c = SEXTET[chars[i + 2]];
      const d = SEXTET[chars[i + 3]];
      if (this.padded || (a | b | c | d) < 0) {
        o = this.decodeGroup(chars, i, o);
      } else {
        const v = (a << 18) | (b << 12) | (c << 6) | d;
        out[o] = v >>> 16;
        out[o + 1] = (v >>> 8) & 0xff;
        out[o + 2] = v & 0xff;
        o += 3;
      }
      i += 4;
    }
    if (this.error === undefined && n - i < 4 && o <= limit) {
      while (i < n) this.group[this.groupLength++] = chars[i++];
    }
    this.produced = o;
    return this.error === undefined ? i : n;
  }

  /**
   * End of message. Returns a problem for a partial final group; 2 or 3 leftover characters (missing
   * padding) are still decoded into output/produced.
   */
  finish(): string | undefined {
    this.produced = 0;
    if (this.error !== undefined || this.groupLength === 0) return undefined;
    const k = this.groupLength;
    this.groupLength = 0;
    if (k === 1) return 'base64 message ends with a lone character';
    const a = SEXTET[this.group[0]];
    const b = SEXTET[this.group[1]];
    const c = k === 3 ? SEXTET[this.group[2]] : 0;
    if (this.padded || (a | b | c) < 0) return 'invalid base64 at end of message';
    this.output[0] = (a << 2) | (b >>> 4);
    if (k === 3) this.output[1] = ((b & 0x0f) << 4) | (c >>> 2);
    this.produced = k - 1;
    return 'base64 message not padded';
  }

  /**
   * `n` characters of the message were lost: the partial group goes too, and decoding resumes at the
   * next group boundary. Returns the number of decoded bytes lost (whole groups touched × 3).
   */
  lose(n: number): number {
    const phase = this.skip > 0 ? 4 - this.skip : this.groupLength;
    this.groupLength = 0;
    this.skip = (4 - ((phase + n) % 4)) % 4;
    return Math.ceil((phase + n) / 4) * 3;
  }

  /** Slow path: a group containing padding or an invalid character, or a group after padding. */
  private decodeGroup(src: Uint8Array, i: number, o: number): number {
    if (this.padded) {
      this.error = 'base64 data after padding';
      return o;
    }
    const a = SEXTET[src[i]];
    const b = SEXTET[src[i + 1]];
    const c = SEXTET[src[i + 2]];
    const d = SEXTET[src[i + 3]];
    if (a < 0 || b < 0 || c === INVALID || d === INVALID || (c === PAD && d !== PAD)) {
      this.error = 'invalid base64 character';
      return o;
    }
    const out = this.output;
    out[o++] = (a << 2) | (b >>> 4);
    if (c !== PAD) out[o++] = ((b & 0x0f) << 4) | (c >>> 2);
    if (d !== PAD) out[o++] = ((c & 0x03) << 6) | d;
    else this.padded = true;
    return o;
  }
}
