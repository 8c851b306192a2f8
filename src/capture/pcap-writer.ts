import { ByteSlab } from './byte-slab.js';

/**
 * Classic pcap writer (pure: returns bytes, the caller writes them). Used by tests, the benchmark
 * generator and the lab. Call header() once, then packet() per packet.
 */

export interface PcapHeaderOptions {
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds (a1b2c3d4). */
  nanos?: boolean;
  bigEndian?: boolean;
  /** Default 262144. */
  snapLen?: number;
  /** Length in bytes (even, ≤ 30) of the FCS every packet ends with, recorded in the link-type field's upper bits. */
  fcsBytes?: number;
}

export class PcapWriter {
  private le = true;
  private nanos = false;
  private readonly slab = new ByteSlab();

  header(linkType: number, options: PcapHeaderOptions = {}): Uint8Array {
    this.le = !options.bigEndian;
    this.nanos = options.nanos ?? false;
    const bytes = new Uint8Array(24);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.nanos ? 0xa1b23c4d : 0xa1b2c3d4, this.le);
    view.setUint16(4, 2, this.le);
    view.setUint16(6, 4, this.le);
    view.setUint32(16, options.snapLen ?? 262144, this.le);
    let linkField = linkType & 0xffff;
    if (options.fcsBytes !== undefined) {
      if (options.fcsBytes % 2 !== 0 || options.fcsBytes > 30) throw new RangeError('fcsBytes must be even and ≤ 30');
      linkField = (linkField | 0x04000000 | ((options.fcsBytes / 2) << 28)) >>> 0;
    }
    view.setUint32(20, linkField, this.le);
    return bytes;
  }

  /** One packet record. `tsNs` is absolute (epoch) nanoseconds; µs files round it down. */
  packet(tsNs: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
    if (tsNs < 0n || tsNs >= 4294967296_000_000_000n) throw new RangeError(`timestamp ${tsNs} ns does not fit pcap`);
    const sec = Number(tsNs / 1_000_000_000n);
    const ns = Number(tsNs % 1_000_000_000n);
    const bytes = this.slab.take(16 + data.length);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(0, sec, this.le);
    view.setUint32(4, this.nanos ? ns : Math.floor(ns / 1000), this.le);
    view.setUint32(8, data.length, this.le);
    view.setUint32(12, origLen, this.le);
    bytes.set(data, 16);
    return bytes;
  }
}
