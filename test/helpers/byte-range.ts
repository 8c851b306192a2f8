/** All of `bytes` as the (bytes, start, end) a decoder's push takes: `d.push(...whole(frame), origin)`. */
export function whole(bytes: Uint8Array): [Uint8Array, number, number] {
  return [bytes, 0, bytes.length];
}
