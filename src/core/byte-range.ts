/**
 * Bytes are handed between decoders as where they lie — bytes[start, end) of a buffer the caller may
 * refill after the call (the capture reader's) — rather than as a typed-array view of their own:
 * making a view costs V8 ~400 instructions, and one per TCP segment was the largest single cost of a
 * bulk capture. A decoder that needs the bytes as an array of their own (to keep them, or to hand
 * them to an API that takes an array) makes it here, once.
 */
export function rangeView(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
}
