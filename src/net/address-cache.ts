/**
 * Text of the IP addresses in packets, memoized: a capture holds few distinct addresses, and reusing
 * one string per address keeps per-packet allocation down and makes string comparisons cheap.
 * Each text is V8's one internalized copy of it (see `internalized`).
 */
import { formatIpv4, formatIpv6 } from '../capture/ip-address-text.js';

/** Beyond this many IPv4 addresses (a scan, a spoofing flood) the cache starts over. */
const MAX_IPV4_ENTRIES = 4096;
/** IPv6 addresses are matched against the most recent few by comparing bytes. */
const IPV6_ENTRIES = 8;

export class AddressCache {
  private readonly v4 = new Map<number, string>();
  private readonly v6Bytes: Uint8Array[] = [];
  private readonly v6Text: string[] = [];
  private v6Next = 0;
  /** The last two IPv4 lookups: a packet's source and destination, which the next packet mostly repeats. */
  private recent1 = -1;
  private recentText1 = '';
  private recent2 = -1;
  private recentText2 = '';

  /**
   * The text of the IPv4 address at data[off], whose value (read big-endian) is `n`. Only the two
   * recent addresses here: the packet decoder takes this into its own code for each address, and
   * the smaller it is, the more else the optimizer's budget for that leaves room for (PacketDecoder.push).
   */
  ipv4(n: number, data: Uint8Array, off: number): string {
    if (n === this.recent1) return this.recentText1;
    if (n === this.recent2) return this.recentText2;
    return this.rememberIpv4(n, data, off);
  }

  /** The text of an address not among the two recent ones, which it becomes the latest of. */
  private rememberIpv4(n: number, data: Uint8Array, off: number): string {
    const text = this.lookupIpv4(n, data, off);
    this.recent2 = this.recent1;
    this.recentText2 = this.recentText1;
    this.recent1 = n;
    this.recentText1 = text;
    return text;
  }

  private lookupIpv4(n: number, data: Uint8Array, off: number): string {
    let text = this.v4.get(n);
    if (text === undefined) {
      if (this.v4.size >= MAX_IPV4_ENTRIES) this.v4.clear();
      text = internalized(formatIpv4(data, off));
      this.v4.set(n, text);
    }
    return text;
  }

  ipv6(data: Uint8Array, off: number): string {
    for (let i = 0; i < this.v6Bytes.length; i++) {
      if (sameAddress(this.v6Bytes[i], data, off)) return this.v6Text[i];
    }
    const text = internalized(formatIpv6(data, off));
    this.v6Bytes[this.v6Next] = data.slice(off, off + 16);
    this.v6Text[this.v6Next] = text;
    this.v6Next = (this.v6Next + 1) % IPV6_ENTRIES;
    return text;
  }
}

function sameAddress(a: Uint8Array, data: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== data[off + i]) return false;
  return true;
}

/**
 * `text` as V8's one internalized copy of it, the form of every property name. The reassembler
 * matches each segment's addresses against its connection's with `===`: optimized code compares two
 * internalized strings by pointer, any other two by a call (~20 instructions a packet).
 */
function internalized(text: string): string {
  return Object.keys({ [text]: 0 })[0];
}
