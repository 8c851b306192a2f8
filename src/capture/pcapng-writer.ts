import { ByteSlab } from './byte-slab.js';
import { parseIpv4, parseIpv6 } from './ip-address-text.js';

/**
 * pcapng writer (pure: returns one block's bytes per call, the caller writes them). Used by tests, the
 * benchmark generator and the lab. Start with sectionHeader(); interface ids are per section, in the
 * order interface() was called, exactly as in the file.
 */

export interface PcapngSectionOptions {
  bigEndian?: boolean;
  /** opt_comment, as capture tools describe the capture (Inspektor Gadget's section comment). */
  comment?: string;
}

export interface PcapngInterfaceOptions {
  name?: string;
  description?: string;
  /** 0 = no limit (the default). */
  snapLen?: number;
  /**
   * The if_tsresol byte: k means 10^-k s, 0x80 | k means 2^-k s. Default 6 (µs), written only when
   * given.
   */
  tsresol?: number;
  /** if_tsoffset, whole seconds added to every timestamp of the interface. */
  tsoffset?: bigint;
  /** if_fcslen: bytes of FCS at the end of each packet. */
  fcsBytes?: number;
}

/** Interface Statistics Block contents; times are absolute (epoch) nanoseconds. */
export interface PcapngStatistics {
  isb_starttime?: bigint;
  isb_endtime?: bigint;
  isb_ifrecv?: bigint;
  isb_ifdrop?: bigint;
  isb_filteraccept?: bigint;
  isb_osdrop?: bigint;
  isb_usrdeliv?: bigint;
}

const ISB_OPTION_CODES: Record<keyof PcapngStatistics, number> = {
  isb_starttime: 2,
  isb_endtime: 3,
  isb_ifrecv: 4,
  isb_ifdrop: 5,
  isb_filteraccept: 6,
  isb_osdrop: 7,
  isb_usrdeliv: 8,
};

interface WriterInterface {
  /** ticks = (ns - offsetNs) * tickNum / tickDen */
  tickNum: bigint;
  tickDen: bigint;
  offsetNs: bigint;
}

type Option = [code: number, value: Uint8Array];

const utf8 = new TextEncoder();
const pad4 = (n: number) => (n + 3) & ~3;

export class PcapngWriter {
  private le = true;
  private interfaces: WriterInterface[] = [];
  private readonly slab = new ByteSlab();

  /** Starts a section: byte order for the following blocks, interface ids restart at 0. */
  sectionHeader(options: PcapngSectionOptions = {}): Uint8Array {
    this.le = !options.bigEndian;
    this.interfaces = [];
    const encoded = this.options(options.comment === undefined ? [] : [[1, utf8.encode(options.comment)]]);
    const { bytes, view } = this.newBlock(0x0a0d0d0a, 16 + encoded.length);
    view.setUint32(8, 0x1a2b3c4d, this.le);
    view.setUint16(12, 1, this.le);
    view.setUint16(14, 0, this.le);
    view.setBigInt64(16, -1n, this.le); // section length not given
    bytes.set(encoded, 24);
    return bytes;
  }

  /** An Interface Description Block; returns its bytes (its id is the count of earlier ones in the section). */
  interface(linkType: number, options: PcapngInterfaceOptions = {}): Uint8Array {
    const list: Option[] = [];
    if (options.name !== undefined) list.push([2, utf8.encode(options.name)]);
    if (options.description !== undefined) list.push([3, utf8.encode(options.description)]);
    if (options.tsresol !== undefined) list.push([9, Uint8Array.of(options.tsresol)]);
    if (options.fcsBytes !== undefined) list.push([13, Uint8Array.of(options.fcsBytes)]);
    if (options.tsoffset !== undefined) list.push([14, this.int64(options.tsoffset)]);
    const encoded = this.options(list);
    const { bytes, view } = this.newBlock(1, 8 + encoded.length);
    view.setUint16(8, linkType, this.le);
    view.setUint32(12, options.snapLen ?? 0, this.le);
    bytes.set(encoded, 16);

    const resolution = options.tsresol ?? 6;
    const exponent = BigInt(resolution & 0x7f);
    let tickNum = 1n;
    let tickDen = 1n;
    if (resolution & 0x80) {
      tickNum = 1n << exponent;
      tickDen = 1_000_000_000n;
    } else if (exponent <= 9n) {
      tickDen = 10n ** (9n - exponent);
    } else {
      tickNum = 10n ** (exponent - 9n);
    }
    this.interfaces.push({ tickNum, tickDen, offsetNs: (options.tsoffset ?? 0n) * 1_000_000_000n });
    return bytes;
  }

  /**
   * An Enhanced Packet Block; `tsNs` is absolute (epoch) ns, rounded down to the interface's
   * resolution. `comment`: an opt_comment, as tools enrich packets (the pod a packet belongs to).
   */
  enhancedPacket(interfaceId: number, tsNs: bigint, data: Uint8Array, origLen = data.length, comment?: string): Uint8Array {
    return this.packetBlock(6, interfaceId, tsNs, data, origLen, comment === undefined ? [] : [[1, utf8.encode(comment)]]);
  }

  /** The obsolete Packet Block (type 2), as old writers produced it. */
  obsoletePacket(interfaceId: number, tsNs: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
    return this.packetBlock(2, interfaceId, tsNs, data, origLen);
  }

  /** A Simple Packet Block (interface 0, no timestamp). */
  simplePacket(data: Uint8Array, origLen = data.length): Uint8Array {
    const { bytes, view } = this.newBlock(3, 4 + data.length);
    view.setUint32(8, origLen, this.le);
    bytes.set(data, 12);
    return bytes;
  }

  interfaceStatistics(interfaceId: number, tsNs: bigint, stats: PcapngStatistics): Uint8Array {
    const list: Option[] = [];
    for (const [key, code] of Object.entries(ISB_OPTION_CODES) as [keyof PcapngStatistics, number][]) {
      const value = stats[key];
      if (value === undefined) continue;
      const isTime = code === 2 || code === 3;
      list.push([code, isTime ? this.timestamp(interfaceId, value) : this.uint64(value)]);
    }
    const encoded = this.options(list);
    const { bytes, view } = this.newBlock(5, 12 + encoded.length);
    view.setUint32(8, interfaceId, this.le);
    bytes.set(this.timestamp(interfaceId, tsNs), 12);
    bytes.set(encoded, 20);
    return bytes;
  }

  /** A Name Resolution Block with one IPv4 or IPv6 record per entry. */
  nameResolution(entries: { address: string; names: string[] }[]): Uint8Array {
    const records: Option[] = entries.map(({ address, names }) => {
      const v4 = parseIpv4(address);
      const addr = v4 ?? parseIpv6(address);
      if (addr === null) throw new RangeError(`not an IP address: ${address}`);
      const text = utf8.encode(names.map((name) => `${name}\0`).join(''));
      const value = new Uint8Array(addr.length + text.length);
      value.set(addr);
      value.set(text, addr.length);
      return [v4 ? 1 : 2, value];
    });
    const encoded = this.options(records);
    const { bytes } = this.newBlock(4, encoded.length);
    bytes.set(encoded, 8);
    return bytes;
  }

  /** A Decryption Secrets Block, e.g. secretsType 0x544c534b (TLSK) with NSS key-log text. */
  decryptionSecrets(secretsType: number, data: Uint8Array): Uint8Array {
    const { bytes, view } = this.newBlock(10, 8 + data.length);
    view.setUint32(8, secretsType, this.le);
    view.setUint32(12, data.length, this.le);
    bytes.set(data, 16);
    return bytes;
  }

  /** Any block, e.g. a custom (0x00000bad) or unknown one: `body` padded to 4 between length and trailer. */
  block(type: number, body: Uint8Array): Uint8Array {
    const { bytes } = this.newBlock(type, body.length);
    bytes.set(body, 8);
    return bytes;
  }

  private packetBlock(type: 2 | 6, interfaceId: number, tsNs: bigint, data: Uint8Array, origLen: number, options: Option[] = []): Uint8Array {
    const ticks = this.ticks(interfaceId, tsNs);
    const encoded = this.options(options);
    const { bytes, view } = this.newBlock(type, 20 + pad4(data.length) + encoded.length);
    if (type === 6) view.setUint32(8, interfaceId, this.le);
    else view.setUint16(8, interfaceId, this.le);
    view.setUint32(12, Number(ticks >> 32n), this.le);
    view.setUint32(16, Number(ticks & 0xffffffffn), this.le);
    view.setUint32(20, data.length, this.le);
    view.setUint32(24, origLen, this.le);
    bytes.set(data, 28);
    bytes.set(encoded, 28 + pad4(data.length));
    return bytes;
  }

  /** A zeroed block of `bodyLength` bytes (padded to 4) between its header and trailer. */
  private newBlock(type: number, bodyLength: number): { bytes: Uint8Array; view: DataView } {
    const total = 12 + pad4(bodyLength);
    const bytes = this.slab.take(total);
    const view = new DataView(bytes.buffer, bytes.byteOffset, total);
    view.setUint32(0, type, this.le);
    view.setUint32(4, total, this.le);
    view.setUint32(total - 4, total, this.le);
    return { bytes, view };
  }

  /** Options (or NRB records, which share the layout) padded to 4, ended by a zero code. */
  private options(list: Option[]): Uint8Array {
    if (list.length === 0) return new Uint8Array(0);
    const total = list.reduce((sum, [, value]) => sum + 4 + pad4(value.length), 4);
    const bytes = new Uint8Array(total);
    const view = new DataView(bytes.buffer);
    let p = 0;
    for (const [code, value] of list) {
      if (value.length > 0xffff) throw new RangeError(`option ${code} longer than 65535 bytes`);
      view.setUint16(p, code, this.le);
      view.setUint16(p + 2, value.length, this.le);
      bytes.set(value, p + 4);
      p += 4 + pad4(value.length);
    }
    return bytes;
  }

  private ticks(interfaceId: number, tsNs: bigint): bigint {
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) throw new RangeError(`interface ${interfaceId} not described in this section`);
    const ticks = ((tsNs - iface.offsetNs) * iface.tickNum) / iface.tickDen;
    if (ticks < 0n || ticks > 0xffffffffffffffffn) {
      throw new RangeError(`timestamp ${tsNs} ns does not fit interface ${interfaceId}`);
    }
    return ticks;
  }

  /** A timestamp as pcapng stores it: high 32 bits, then low 32 bits. */
  private timestamp(interfaceId: number, tsNs: bigint): Uint8Array {
    const ticks = this.ticks(interfaceId, tsNs);
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, Number(ticks >> 32n), this.le);
    view.setUint32(4, Number(ticks & 0xffffffffn), this.le);
    return bytes;
  }

  private uint64(value: bigint): Uint8Array {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, value, this.le);
    return bytes;
  }

  private int64(value: bigint): Uint8Array {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, value, this.le);
    return bytes;
  }
}
