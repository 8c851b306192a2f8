/**
 * HPACK header compression (RFC 7541): the decoder that reads HTTP/2 header blocks, and a minimal
 * encoder for tests and the lab.
 *
 * A decoder holds one direction's dynamic table, so it must see every header block of that direction
 * in order: once a block is lost or rejected, later blocks can no longer be trusted.
 */
import { Buffer } from 'node:buffer';
import {
  HUFFMAN_EOS_IN_STRING,
  huffmanDecode,
  huffmanDecodedLengthBound,
  huffmanEncode,
  huffmanEncodedLength,
} from './huffman.js';

/**
 * A header field as [name, value]. Strings carry the octets as Latin-1 (one char per byte), which is
 * lossless and makes string length equal the octet count that HPACK's size accounting uses.
 */
export type HeaderField = [name: string, value: string];

/** A header block that cannot be decoded (RFC 9113 COMPRESSION_ERROR): the dynamic table is lost. */
export class HpackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HpackError';
  }
}

/** RFC 7541 Appendix A; index 1 is the first entry. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** SETTINGS_HEADER_TABLE_SIZE until a peer says otherwise (RFC 9113 §6.5.2). */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;
/** Default cap on one decoded header list, counted as SETTINGS_MAX_HEADER_LIST_SIZE counts (octets + 32 per field). */
export const DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024;
/** Largest dynamic table a decoder keeps whatever a peer advertises: bounds memory per connection. */
export const MAX_HEADER_TABLE_SIZE = 256 * 1024;
/** RFC 7541 §4.1: an entry costs its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** Integers above 2^31 - 1 are refused: no index, length or table size in a sane block comes close. */
const MAX_INTEGER = 0x7fffffff;
/** Huffman output buffers up to this size are kept between strings; larger ones are one-off. */
const KEPT_SCRATCH_BYTES = 4096;
const EMPTY: Uint8Array = new Uint8Array(0);

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * The name and value a decoder that joined a connection midway gives a field whose dynamic-table
 * entry was inserted before the capture began: NUL cannot occur in a decoded field.
 */
export const HPACK_UNKNOWN = '\u0000unknown';

export interface HpackDecoderOptions {
  /**
   * The capture began mid-connection: entries inserted before it are unknown. Entries inserted since
   * are exact (HPACK indexes count from the newest), references past them decode as HPACK_UNKNOWN.
   */
  joinedMidConnection?: boolean;
  /** SETTINGS_HEADER_TABLE_SIZE that the encoder of this direction must respect (default 4096). */
  tableSizeLimit?: number;
  /** Cap on one decoded header list (default 64 KiB); a larger list is an HpackError, never an allocation. */
  maxHeaderListSize?: number;
}

export class HpackDecoder {
  private limit: number;
  private maxSize: number;
  private size = 0;
  /** Set when the limit drops below the table's size: the next block must open with a size update. */
  private updateRequired = false;
  private readonly maxHeaderListSize: number;
  private readonly joinedMidConnection: boolean;
  // The dynamic table is a ring: entry i (0 = newest, HPACK index 62 + i) is at (newest - i) & mask.
  private names: string[] = new Array<string>(16);
  private values: string[] = new Array<string>(16);
  private mask = 15;
  private newest = -1;
  private count = 0;
  private scratch = EMPTY;
  private src = EMPTY;
  private pos = 0;

  constructor(options: HpackDecoderOptions = {}) {
    this.limit = Math.min(options.tableSizeLimit ?? DEFAULT_HEADER_TABLE_SIZE, MAX_HEADER_TABLE_SIZE);
    this.maxSize = this.limit;
    this.maxHeaderListSize = options.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE;
    this.joinedMidConnection = options.joinedMidConnection ?? false;
  }

  /**
   * A new SETTINGS_HEADER_TABLE_SIZE for this direction's encoder (clamped to MAX_HEADER_TABLE_SIZE).
   * If the table's maximum size is now above it, the encoder must shrink it at the start of its next
   * block (RFC 7541 §4.2) and the decoder insists on that.
   */
  setTableSizeLimit(limit: number): void {
    this.limit = Math.min(limit, MAX_HEADER_TABLE_SIZE);
    this.updateRequired = this.maxSize > this.limit;
  }

  /** Current size of the dynamic table in HPACK octets (entries' octets + 32 each). */
  get tableSize(): number {
    return this.size;
  }

  /** Maximum size of the dynamic table set by the encoder's last size update (or the limit). */
  get maxTableSize(): number {
    return this.maxSize;
  }

  /** The dynamic table, newest entry (HPACK index 62) first. */
  tableEntries(): HeaderField[] {
    const entries: HeaderField[] = [];
    for (let i = 0; i < this.count; i++) {
      const slot = (this.newest - i) & this.mask;
      entries.push([this.names[slot]!, this.values[slot]!]);
    }
    return entries;
  }

  /** Decodes one complete header block. Throws HpackError on malformed or oversized input. */
  decode(block: Uint8Array): HeaderField[] {
    this.src = block;
    this.pos = 0;
    try {
      return this.readFields();
    } finally {
      this.src = EMPTY;
    }
  }

  private readFields(): HeaderField[] {
    const src = this.src;
    if (this.updateRequired && (src.length === 0 || (src[0]! & 0xe0) !== 0x20)) {
      throw new HpackError(
        `header block does not start with the dynamic table size update required by SETTINGS_HEADER_TABLE_SIZE ${this.limit}`,
      );
    }
    const fields: HeaderField[] = [];
    let listSize = 0;
    while (this.pos < src.length) {
      const first = src[this.pos]!;
      let name: string;
      let value: string;
      if (first & 0x80) {
        const index = this.readInteger(7);
        name = this.entryName(index);
        value = this.entryValue(index);
      } else if ((first & 0xe0) === 0x20) {
        if (fields.length > 0) throw new HpackError('dynamic table size update after a header field');
        this.resize(this.readInteger(5));
        continue;
      } else {
        // 01xxxxxx literal with incremental indexing; 0000xxxx without indexing; 0001xxxx never indexed.
        const indexing = (first & 0x40) !== 0;
        const nameIndex = this.readInteger(indexing ? 6 : 4);
        name = nameIndex === 0 ? this.readString() : this.entryName(nameIndex);
        value = this.readString();
        if (indexing) this.insert(name, value);
      }
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxHeaderListSize) {
        throw new HpackError(`header list larger than ${this.maxHeaderListSize} bytes`);
      }
      fields.push([name, value]);
    }
    return fields;
  }

  /** RFC 7541 §5.1 integer with an N-bit prefix, starting at the current byte. */
  private readInteger(prefixBits: number): number {
    const src = this.src;
    const prefixMax = (1 << prefixBits) - 1;
    let value = src[this.pos++]! & prefixMax;
    if (value < prefixMax) return value;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= src.length) throw new HpackError('header block ends inside an integer');
      const byte = src[this.pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError('integer larger than 2^31 - 1');
      if ((byte & 0x80) === 0) return value;
      if (shift === 28) throw new HpackError('integer longer than 5 continuation bytes');
    }
  }

  private readString(): string {
    const src = this.src;
    if (this.pos >= src.length) throw new HpackError('header block ends before a string');
    const huffman = (src[this.pos]! & 0x80) !== 0;
    const length = this.readInteger(7);
    if (length > src.length - this.pos) throw new HpackError(`string of ${length} bytes runs past the end of the block`);
    if (length > this.maxHeaderListSize) throw new HpackError(`string of ${length} bytes exceeds the header list cap`);
    const start = this.pos;
    this.pos += length;
    if (!huffman) return latin1(src, start, this.pos);
    const bound = huffmanDecodedLengthBound(length);
    let out = this.scratch;
    if (out.length < bound) {
      out = new Uint8Array(bound <= KEPT_SCRATCH_BYTES ? KEPT_SCRATCH_BYTES : bound);
      if (bound <= KEPT_SCRATCH_BYTES) this.scratch = out;
    }
    const n = huffmanDecode(src, start, this.pos, out);
    if (n < 0) {
      throw new HpackError(
        n === HUFFMAN_EOS_IN_STRING ? 'Huffman string contains EOS' : 'Huffman padding longer than 7 bits or not all ones',
      );
    }
    return latin1(out, 0, n);
  }

  private slot(index: number): number {
    if (index === 0) throw new HpackError('index 0');
    const i = index - STATIC_TABLE.length - 1;
    if (i >= this.count) {
      throw new HpackError(`index ${index} beyond the tables (${STATIC_TABLE.length} static + ${this.count} dynamic)`);
    }
    return (this.newest - i) & this.mask;
  }

  private entryName(index: number): string {
    if (index <= STATIC_TABLE.length && index > 0) return STATIC_TABLE[index - 1]![0];
    return this.unknownEntry(index) ? HPACK_UNKNOWN : this.names[this.slot(index)]!;
  }

  private entryValue(index: number): string {
    if (index <= STATIC_TABLE.length && index > 0) return STATIC_TABLE[index - 1]![1];
    return this.unknownEntry(index) ? HPACK_UNKNOWN : this.values[this.slot(index)]!;
  }

  /** An entry from before a mid-connection capture began. */
  private unknownEntry(index: number): boolean {
    return this.joinedMidConnection && index - STATIC_TABLE.length - 1 >= this.count;
  }

  private resize(maxSize: number): void {
    if (maxSize > this.limit) {
      throw new HpackError(`dynamic table size update to ${maxSize} exceeds SETTINGS_HEADER_TABLE_SIZE ${this.limit}`);
    }
    this.maxSize = maxSize;
    this.updateRequired = false;
    this.evictTo(maxSize);
  }

  private insert(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    // RFC 7541 §4.4: an entry larger than the table empties it and is not added.
    this.evictTo(Math.max(this.maxSize - entrySize, 0));
    if (entrySize > this.maxSize) return;
    if (this.count > this.mask) this.grow();
    this.newest = (this.newest + 1) & this.mask;
    this.names[this.newest] = name;
    this.values[this.newest] = value;
    this.count++;
    this.size += entrySize;
  }

  private evictTo(targetSize: number): void {
    while (this.size > targetSize) {
      const oldest = (this.newest - this.count + 1) & this.mask;
      this.size -= this.names[oldest]!.length + this.values[oldest]!.length + ENTRY_OVERHEAD;
      this.names[oldest] = '';
      this.values[oldest] = '';
      this.count--;
    }
  }

  private grow(): void {
    const capacity = 2 * (this.mask + 1);
    const names = new Array<string>(capacity);
    const values = new Array<string>(capacity);
    for (let i = 0; i < this.count; i++) {
      const slot = (this.newest - this.count + 1 + i) & this.mask;
      names[i] = this.names[slot]!;
      values[i] = this.values[slot]!;
    }
    this.names = names;
    this.values = values;
    this.mask = capacity - 1;
    this.newest = this.count - 1;
  }
}

const STATIC_FIELD_INDEX = new Map<string, number>();
const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  STATIC_FIELD_INDEX.set(`${name}\0${value}`, i + 1);
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});

function writeInteger(out: number[], flags: number, prefixBits: number, value: number): void {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) {
    out.push(flags | value);
    return;
  }
  out.push(flags | prefixMax);
  let rest = value - prefixMax;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

export interface HpackEncoderOptions {
  /** Huffman-code strings where that is shorter (default false). */
  huffman?: boolean;
}

/**
 * A minimal HPACK encoder that never touches the dynamic table: fields found whole in the static table
 * are indexed, all others are literals without indexing (with a static name index when there is one).
 */
export class HpackEncoder {
  constructor(private readonly options: HpackEncoderOptions = {}) {}

  /** Encodes one header block; `tableSizeUpdate`, when given, opens it with a dynamic table size update. */
  encode(fields: readonly (readonly [string, string])[], tableSizeUpdate?: number): Uint8Array {
    const out: number[] = [];
    if (tableSizeUpdate !== undefined) writeInteger(out, 0x20, 5, tableSizeUpdate);
    for (const [name, value] of fields) {
      const index = STATIC_FIELD_INDEX.get(`${name}\0${value}`);
      if (index !== undefined) {
        writeInteger(out, 0x80, 7, index);
        continue;
      }
      const nameIndex = STATIC_NAME_INDEX.get(name) ?? 0;
      writeInteger(out, 0x00, 4, nameIndex);
      if (nameIndex === 0) this.writeString(out, name);
      this.writeString(out, value);
    }
    return Uint8Array.from(out);
  }

  private writeString(out: number[], text: string): void {
    const raw = Buffer.from(text, 'latin1');
    if (this.options.huffman && huffmanEncodedLength(raw) < raw.length) {
      const coded = huffmanEncode(raw);
      writeInteger(out, 0x80, 7, coded.length);
      for (const b of coded) out.push(b);
    } else {
      writeInteger(out, 0x00, 7, raw.length);
      for (const b of raw) out.push(b);
    }
  }
}
