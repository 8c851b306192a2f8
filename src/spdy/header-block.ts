/**
 * SPDY/3 header blocks: a name/value block compressed with ONE zlib stream per direction per
 * connection, primed with the SPDY/3 dictionary and sync-flushed after every block (spdystream
 * spdy/types.go NewFramer, spdy/read.go uncorkHeaderDecompressor). Every block therefore depends on
 * all earlier blocks of its direction: they must be inflated in order through the same inflater, and
 * once one is missed the rest of the direction cannot be decoded.
 */
import {
  Deflate,
  ZStream,
  Z_BUF_ERROR,
  Z_NEED_DICT,
  Z_OK,
  Z_STREAM_END,
  Z_SYNC_FLUSH,
  zlibInflate,
  zlibInflateInit2,
  zlibInflateSetDictionary,
} from 'pako';
import type { Field } from '../core/field.js';
import { SPDY3_DICTIONARY } from './dictionary.js';

/**
 * Decoded headers: lower-case name → values (a wire value holding NUL-separated values becomes
 * several). A null-prototype object, so a hostile header named `__proto__` or `constructor` is an
 * ordinary key and lookups never hit Object.prototype; it serialises to JSON as is. Read-only: the
 * headers of a block remembered on the tree of decoded sequences (below) are one frozen object that
 * every connection sending that block shares.
 */
export type SpdyHeaders = Readonly<Record<string, readonly string[]>>;

/** What the encoder accepts: names are lower-cased on the wire, multiple values joined with NUL. */
export type SpdyHeaderInput = Readonly<Record<string, string | readonly string[]>>;

export interface HeaderBlockResult {
  /** null: the block could not be inflated or parsed. */
  headers: SpdyHeaders | null;
  /** A problem to report, or null. When a direction's context is lost, only the first block after the
   *  loss carries a problem, so a broken direction is reported once. */
  problem: string | null;
  /** The inflated name/value block, when it could be inflated: a view valid until the next inflate of any inflater (they share the output buffer). */
  inflated?: Uint8Array;
}

export const DEFAULT_MAX_INFLATED_HEADER_BYTES = 256 * 1024;
const INITIAL_OUTPUT_BYTES = 4096;
const WINDOW_BITS = 15;
const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/**
 * The fields of pako's inflate state (pako 3, lib/zlib/inflate.js InflateState) that parking touches:
 * the sliding window (`whave` bytes of history written from its start until it first wraps) and the
 * dynamic Huffman tables, which a block boundary leaves unused (the next block header rebuilds them).
 */
interface PakoInflateState {
  wbits: number;
  wsize: number;
  whave: number;
  window: Uint8Array | null;
  lendyn: Int32Array | null;
  distdyn: Int32Array | null;
  lencode: Int32Array | null;
  distcode: Int32Array | null;
}
/** pako's (zlib's) ENOUGH_LENS and ENOUGH_DISTS: the dynamic tables' sizes, as inflateResetKeep allocates them. */
const DYNAMIC_LENGTH_TABLE = 852;
const DYNAMIC_DISTANCE_TABLE = 592;
/** zlib's strm.data_type bit: the decoder stopped at a block boundary. */
const AT_BLOCK_BOUNDARY = 128;

/**
 * Output of the common small block, shared by every inflater: the block is parsed into strings before
 * inflate returns, so no view of it outlives the call. Larger blocks get a temporary buffer.
 */
let sharedOutput: Uint8Array<ArrayBuffer> | null = null;

/**
 * The window and dynamic tables the last parked inflater gave up, for the next one to unpark with:
 * a block is inflated from start to end before another begins, so one of each serves every
 * connection. Allocating them zeroed for every header block (6,000 windows and table pairs, ~230 MB,
 * for the 1000 SPDY sessions of the bench's typing capture) cost ~280 million instructions and kept
 * ~25 MB of peak RSS in the allocator. What a previous owner left in them is never
 * read: inflate refuses a distance beyond the history it has written (`whave`, zlib's "invalid
 * distance too far back"), and a dynamic block's header rebuilds the tables before they are used.
 */
const spare: { window: Uint8Array | null; lengths: Int32Array | null; distances: Int32Array | null } = { window: null, lengths: null, distances: null };

/**
 * A header block some direction sent as its n-th, after the n-1 blocks on the way here, and what it
 * decoded to. A direction's blocks from a fresh context decode the same wherever they are sent, and
 * the client and server of every exec connection send the same few (kubectl's SYN_STREAMs name only
 * the stream type, the replies are empty): a direction whose blocks so far lie on this tree is
 * answered from it and makes no zlib context at all. Inflating, parking and parsing the 8 blocks of
 * a SPDY exec connection cost ~490,000 instructions, and 1000 sessions made pako's inflate hot
 * enough to be optimised.
 */
interface DecodedBlock extends DecodedSequence {
  readonly block: Uint8Array;
  readonly headers: SpdyHeaders;
  readonly inflated: Uint8Array;
  readonly before: DecodedSequence;
}
interface DecodedSequence {
  readonly next: DecodedBlock[];
}
/** The tree's root: no block yet. */
const FRESH_CONTEXT: DecodedSequence = { next: [] };
/**
 * Bounds of the tree (blocks of other sizes, or beyond the counts, are inflated, not remembered). The
 * tree lives as long as the process, so what it holds is bounded in bytes too: a hostile capture's
 * small blocks can each inflate to the 256 KiB cap, and kubectl's inflate to a few hundred bytes.
 */
const MAX_REMEMBERED_BLOCKS = 1024;
const MAX_REMEMBERED_BLOCK_BYTES = 512;
const MAX_BLOCKS_AFTER_ONE = 16;
const MAX_REMEMBERED_BYTES = 1 << 20;
let rememberedBlocks = 0;
/** Compressed and inflated bytes of the remembered blocks. */
let rememberedBytes = 0;

function decodedNext(seq: DecodedSequence, block: Uint8Array): DecodedBlock | undefined {
  next: for (const d of seq.next) {
    if (d.block.length !== block.length) continue;
    for (let i = 0; i < block.length; i++) if (d.block[i] !== block[i]) continue next;
    return d;
  }
  return undefined;
}

/** The node for `block` after `seq`, added when it decoded whole with nothing to report and the tree has room; null otherwise. */
function remember(seq: DecodedSequence, block: Uint8Array, result: HeaderBlockResult): DecodedBlock | null {
  const known = decodedNext(seq, block);
  if (known) return known;
  if (result.headers === null || result.problem !== null || !result.inflated) return null;
  const bytes = block.length + result.inflated.length;
  if (rememberedBlocks >= MAX_REMEMBERED_BLOCKS || block.length > MAX_REMEMBERED_BLOCK_BYTES || seq.next.length >= MAX_BLOCKS_AFTER_ONE) return null;
  if (rememberedBytes + bytes > MAX_REMEMBERED_BYTES) return null;
  rememberedBlocks++;
  rememberedBytes += bytes;
  const d: DecodedBlock = { block: block.slice(), headers: frozen(result.headers), inflated: result.inflated.slice(), before: seq, next: [] };
  seq.next.push(d);
  return d;
}

/**
 * The headers, frozen (their lists too), to be shared rather than copied for each connection that
 * sends the block: a copy was ~400 bytes of heap for each stream of every open SPDY session.
 */
function frozen(headers: SpdyHeaders): SpdyHeaders {
  for (const name in headers) Object.freeze(headers[name]);
  return Object.freeze(headers);
}

export class SpdyHeaderInflater {
  /** The zlib context, made when a block is not on the tree of decoded sequences. */
  private strm: ZStream | null = null;
  /** Where this direction's blocks so far lie on that tree; null once they left it. */
  private decoded: DecodedSequence | null = FRESH_CONTEXT;
  private readonly maxInflatedBytes: number;
  /** Why the zlib context is unusable, or null while it is intact. */
  private lostReason: string | null = null;
  private lossReported = false;
  /**
   * Between blocks the inflater is parked: a SPDY connection sends a handful of header blocks at its
   * start and then only data, yet a live zlib context holds a 32 KiB window and 6 KiB of Huffman
   * tables (1000 open SPDY sessions kept 86 MB). Parked, it keeps only the history written so far.
   */
  private parkedWindow: Uint8Array | null = null;
  private tablesParked = false;

  constructor(opts: { maxInflatedBytes?: number } = {}) {
    this.maxInflatedBytes = opts.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_HEADER_BYTES;
  }

  /** False once the direction's zlib context is lost: every later block decodes to null. */
  get available(): boolean {
    return this.lostReason === null;
  }

  /**
   * Declare the context lost without inflating (a header block was skipped or fell into a capture
   * gap). The reason is reported with the next header block, if any comes.
   */
  loseContext(reason: string): void {
    this.lostReason ??= reason;
  }

  /** Inflate the next compressed header block of this direction and parse it. */
  inflate(block: Uint8Array): HeaderBlockResult {
    if (this.lostReason !== null) return this.unavailable();
    const decoded = this.decoded;
    if (decoded !== null && this.strm === null) {
      const known = decodedNext(decoded, block);
      // A smaller cap than the one it was decoded under would refuse it: inflated, it fails as it should.
      if (known !== undefined && known.inflated.length <= this.maxInflatedBytes) {
        this.decoded = known;
        return { headers: known.headers, problem: null, inflated: known.inflated };
      }
    }
    const result = this.inflateWith(this.strm ?? this.contextAfter(decoded), block);
    this.decoded = decoded !== null && this.lostReason === null ? remember(decoded, block, result) : null;
    return result;
  }

  /** A zlib context in the state the blocks on the tree up to `decoded` leave it in: they are inflated again. */
  private contextAfter(decoded: DecodedSequence | null): ZStream {
    const strm = (this.strm = new ZStream());
    zlibInflateInit2(strm, WINDOW_BITS);
    const blocks: Uint8Array[] = [];
    for (let d = decoded; d !== null && d !== FRESH_CONTEXT; d = (d as DecodedBlock).before) blocks.push((d as DecodedBlock).block);
    for (let i = blocks.length - 1; i >= 0; i--) this.inflateWith(strm, blocks[i]!);
    return strm;
  }

  private inflateWith(strm: ZStream, block: Uint8Array): HeaderBlockResult {
    this.unpark(strm);
    strm.input = block;
    strm.next_in = 0;
    strm.avail_in = block.length;
    // One byte beyond the cap, so that a full buffer proves the block is over the cap.
    let out = this.maxInflatedBytes + 1 >= INITIAL_OUTPUT_BYTES ? (sharedOutput ??= new Uint8Array(INITIAL_OUTPUT_BYTES)) : new Uint8Array(this.maxInflatedBytes + 1);
    let produced = 0;
    for (;;) {
      strm.output = out;
      strm.next_out = produced;
      strm.avail_out = out.length - produced;
      let status = zlibInflate(strm, Z_SYNC_FLUSH);
      produced = strm.next_out;
      if (status === Z_NEED_DICT) {
        status = zlibInflateSetDictionary(strm, SPDY3_DICTIONARY);
        if (status !== Z_OK) return this.fail(strm, 'the zlib stream asks for a dictionary other than the SPDY/3 one');
        continue;
      }
      if (status === Z_STREAM_END) {
        // spdystream never finishes the stream; a peer that does leaves nothing to inflate later blocks with.
        this.loseContext('the sender ended its header zlib stream');
        break;
      }
      if (status !== Z_OK && status !== Z_BUF_ERROR) {
        const cause = strm.total_in === strm.next_in ? "the direction's first header block was probably not captured" : 'corrupt header block';
        return this.fail(strm, `zlib error (${strm.msg || status}); ${cause}`);
      }
      if (strm.avail_out > 0) break; // all input consumed, all output flushed
      if (out.length > this.maxInflatedBytes) {
        return this.fail(strm, `header block inflates to more than ${this.maxInflatedBytes} bytes (zlib bomb?); decompression stopped`);
      }
      const bigger = new Uint8Array(Math.min(out.length * 2, this.maxInflatedBytes + 1));
      bigger.set(out.subarray(0, produced));
      out = bigger;
    }
    strm.input = EMPTY; // do not keep the caller's buffer alive
    strm.output = EMPTY;
    this.park(strm);
    return { ...parseNameValueBlock(out, produced), inflated: out.subarray(0, produced) };
  }

  /** Keeps only what the next block needs: the history in the window, and no tables at a block boundary. */
  private park(strm: ZStream): void {
    const state = strm.state as PakoInflateState;
    // Not wrapped yet: the history is window[0, whave). A window unpark gave a stream that has not
    // written to it yet (wsize 0: an empty or cut first block) holds none.
    if (state.window !== null && (state.whave < state.wsize || state.wsize === 0)) {
      this.parkedWindow = state.window.slice(0, state.whave);
      spare.window = state.window;
      state.window = null;
    }
    if (strm.data_type & AT_BLOCK_BOUNDARY) {
      spare.lengths = state.lendyn;
      spare.distances = state.distdyn;
      state.lencode = state.lendyn = null;
      state.distcode = state.distdyn = null;
      this.tablesParked = true;
    }
  }

  private unpark(strm: ZStream): void {
    const state = strm.state as PakoInflateState;
    // A parked window, or none yet: zlib makes one on its first output (pako's updatewindow, a new
    // zeroed 32 KiB array for every direction's first block, ~23,000 instructions), the spare serves.
    if (state.window === null) {
      const size = 1 << state.wbits;
      const window = spare.window?.length === size ? spare.window : new Uint8Array(size);
      spare.window = null;
      if (this.parkedWindow !== null) window.set(this.parkedWindow);
      state.window = window;
      this.parkedWindow = null;
    }
    if (this.tablesParked) {
      state.lencode = state.lendyn = spare.lengths ?? new Int32Array(DYNAMIC_LENGTH_TABLE);
      state.distcode = state.distdyn = spare.distances ?? new Int32Array(DYNAMIC_DISTANCE_TABLE);
      spare.lengths = spare.distances = null;
      this.tablesParked = false;
    }
  }

  private fail(strm: ZStream, reason: string): HeaderBlockResult {
    strm.input = EMPTY;
    strm.output = EMPTY;
    this.loseContext(reason);
    // Nothing inflates here again: the window and tables go to the next inflater, not stay with a
    // dead one (32 KiB each, however many connections a hostile capture opens).
    const state = strm.state as PakoInflateState;
    spare.window = state.window ?? spare.window;
    spare.lengths = state.lendyn ?? spare.lengths;
    spare.distances = state.distdyn ?? spare.distances;
    state.window = state.lendyn = state.lencode = state.distdyn = state.distcode = null;
    return this.unavailable();
  }

  private unavailable(): HeaderBlockResult {
    if (this.lossReported) return { headers: null, problem: null };
    this.lossReported = true;
    return {
      headers: null,
      problem: `header block not decoded: ${this.lostReason}; headers of this direction are unavailable from here on`,
    };
  }
}

const EMPTY = new Uint8Array(0);

function readUint32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * Parse `uint32 count, { uint32 len, name, uint32 len, value }*` (spdy/read.go parseHeaderValueBlock)
 * with every length checked against what is left. Oddities spdystream chokes on (upper-case or duplicate
 * names, trailing bytes) still yield headers, with a problem saying what the peer would have done.
 */
export function parseNameValueBlock(b: Uint8Array, end: number): HeaderBlockResult {
  if (end < 4) return { headers: null, problem: `header block has ${end} bytes, too short for a header count` };
  const count = readUint32(b, 0);
  if (count > (end - 4) / 8) {
    return { headers: null, problem: `header block claims ${count} headers but its ${end} bytes hold at most ${Math.floor((end - 4) / 8)}` };
  }
  const headers = Object.create(null) as Record<string, string[]>;
  const oddities: string[] = [];
  let oddityCount = 0;
  const note = (oddity: string): void => {
    if (oddityCount++ < MAX_ODDITIES_LISTED) oddities.push(oddity);
  };
  let at = 4;
  const field = (index: number, what: string): string | HeaderBlockResult => {
    if (at + 4 > end) return { headers: null, problem: `header block ends inside header ${index} (no room for its ${what} length)` };
    const len = readUint32(b, at);
    at += 4;
    if (len > end - at) {
      return { headers: null, problem: `header ${index}: ${what} length ${len} exceeds the ${end - at} bytes left in the block` };
    }
    at += len;
    return utf8.decode(b.subarray(at - len, at));
  };
  for (let i = 0; i < count; i++) {
    const name = field(i, 'name');
    if (typeof name !== 'string') return name;
    const value = field(i, 'value');
    if (typeof value !== 'string') return value;
    const lower = name.toLowerCase();
    if (lower !== name) note(`header name "${name}" is not lower-case (spdystream fails the frame)`);
    const values = value.split('\0');
    const existing = headers[lower];
    if (existing) {
      note(`header "${lower}" appears twice (spdystream fails the frame)`);
      for (const v of values) existing.push(v);
    } else {
      headers[lower] = values;
    }
  }
  if (at < end) note(`${end - at} bytes follow the last header (spdystream would misread them as the next block)`);
  return { headers, problem: describeOddities(oddities, oddityCount) };
}

const MAX_ODDITIES_LISTED = 3;

/** Headers the Event pane lists of one block; a hostile block may claim millions. */
const MAX_HEADER_FIELDS = 256;

/**
 * The Event pane's fields of an inflated name/value block: the header count, then one field per
 * header (labelled with its name, its NUL-separated values shown as `a, b`), each at its byte range
 * in the inflated block (`decoded`) and carried by the compressed block at `block` in the frame.
 * The list stops where the block stops making sense (parseNameValueBlock says why).
 */
export function nameValueBlockFields(inflated: Uint8Array, block: { offset: number; length: number }): Field[] {
  const at = (offset: number, length: number) => ({ offset: block.offset, length: block.length, decoded: { space: 'inflated header block', offset, length } });
  if (inflated.length < 4) return [];
  const count = readUint32(inflated, 0);
  const fields: Field[] = [{ id: 'spdy.numheaders', label: 'headers', value: String(count), ...at(0, 4) }];
  let pos = 4;
  const lengthPrefixed = (): string | null => {
    if (pos + 4 > inflated.length) return null;
    const len = readUint32(inflated, pos);
    if (len > inflated.length - pos - 4) return null;
    pos += 4 + len;
    return utf8.decode(inflated.subarray(pos - len, pos));
  };
  for (let i = 0; i < Math.min(count, MAX_HEADER_FIELDS); i++) {
    const start = pos;
    const name = lengthPrefixed();
    const value = name === null ? null : lengthPrefixed();
    if (name === null || value === null) break;
    fields.push({ id: 'spdy.header', label: name, value: value.split('\0').join(', '), ...at(start, pos - start) });
  }
  return fields;
}

function describeOddities(listed: string[], count: number): string | null {
  if (count === 0) return null;
  const more = count > listed.length ? ` (and ${count - listed.length} more)` : '';
  return `${listed.join('; ')}${more}`;
}

/** Serialise a name/value block (spdy/write.go writeHeaderValueBlock), in the input's order. */
export function encodeNameValueBlock(headers: SpdyHeaderInput): Uint8Array {
  const pairs: [Uint8Array, Uint8Array][] = [];
  let size = 4;
  for (const [name, values] of Object.entries(headers)) {
    const n = utf8Encoder.encode(name.toLowerCase());
    const v = utf8Encoder.encode(typeof values === 'string' ? values : values.join('\0'));
    pairs.push([n, v]);
    size += 8 + n.length + v.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, pairs.length);
  let at = 4;
  for (const [n, v] of pairs) {
    view.setUint32(at, n.length);
    out.set(n, at + 4);
    at += 4 + n.length;
    view.setUint32(at, v.length);
    out.set(v, at + 4);
    at += 4 + v.length;
  }
  return out;
}

/**
 * The sending side: one persistent zlib stream at BestCompression with the SPDY/3 dictionary, one
 * sync flush per block, as spdystream's Framer does. The compressed bytes are a valid equivalent of
 * Go's, not byte-identical (Go's compress/flate and zlib choose matches differently).
 */
export class SpdyHeaderDeflater {
  private readonly deflater = new Deflate({ level: 9, dictionary: SPDY3_DICTIONARY, legacyHash: true });
  private chunks: Uint8Array[] = [];

  constructor() {
    this.deflater.onData = (chunk) => {
      this.chunks.push(chunk);
    };
  }

  /** Compress one header block; the result continues this direction's zlib stream. */
  deflate(headers: SpdyHeaderInput): Uint8Array {
    if (!this.deflater.push(encodeNameValueBlock(headers), Z_SYNC_FLUSH)) {
      throw new Error(`header compression failed: ${this.deflater.msg}`);
    }
    const chunks = this.chunks;
    this.chunks = [];
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
