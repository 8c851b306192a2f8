/**
 * The bytes a frame decoder keeps across chunks while it looks for a plausible frame header after
 * losing its framing, each with the packet and time that carried it. Made on a decoder's first
 * resynchronisation: most connections never need one, and four typed arrays for each direction of
 * every open connection were ~1 KB of heap per direction (10,000 open sessions: ~10 MB).
 */
export class ResyncCarry {
  readonly bytes: Uint8Array;
  /** The kept bytes followed by lookahead from the next chunk, to judge candidates straddling the two. */
  readonly window: Uint8Array;
  readonly packets: Float64Array;
  readonly times: Float64Array;

  /** `size`: the most bytes kept. */
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.window = new Uint8Array(2 * size);
    this.packets = new Float64Array(size);
    this.times = new Float64Array(size);
  }
}
