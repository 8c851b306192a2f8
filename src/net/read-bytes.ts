/** Big-endian (network order) field readers. Callers check bounds first. */

export function readU16(data: Uint8Array, off: number): number {
  return (data[off] << 8) | data[off + 1];
}

export function readU32(data: Uint8Array, off: number): number {
  return ((data[off] << 24) | (data[off + 1] << 16) | (data[off + 2] << 8) | data[off + 3]) >>> 0;
}
