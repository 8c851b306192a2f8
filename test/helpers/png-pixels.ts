/**
 * Reads the pixels of a non-interlaced 8-bit RGB or RGBA PNG (what Chromium's screenshots and resvg
 * write), so tests can look at what a browser really drew.
 */
import { inflateSync } from 'node:zlib';

export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
  at(x: number, y: number): [number, number, number];
}

export function pngSize(png: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(png);
  if (b.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('not a PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

export function decodePng(png: Uint8Array): Pixels {
  const b = Buffer.from(png);
  const { width, height } = pngSize(b);
  const depth = b[24];
  const colorType = b[25];
  if (depth !== 8 || (colorType !== 2 && colorType !== 6) || b[28] !== 0) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}, interlace ${b[28]}`);
  const channels = colorType === 6 ? 4 : 3;
  const idat: Buffer[] = [];
  for (let at = 8; at < b.length; ) {
    const len = b.readUInt32BE(at);
    const type = b.subarray(at + 4, at + 8).toString('latin1');
    if (type === 'IDAT') idat.push(b.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const data = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? data[y * stride + i - channels] : 0;
      const up = y > 0 ? data[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= channels ? data[(y - 1) * stride + i - channels] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += up;
      else if (filter === 3) v += (a + up) >> 1;
      else if (filter === 4) {
        const p = a + up - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
      }
      data[y * stride + i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    channels,
    data,
    at: (x, y) => {
      const i = y * stride + x * channels;
      return [data[i], data[i + 1], data[i + 2]];
    },
  };
}
