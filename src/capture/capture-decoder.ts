import { DecodeError } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { captureProblem } from './problems.js';
import type { CaptureInfo, InterfaceInfo, Packet } from './packet.js';
import { formatIpv4, formatIpv6 } from './ip-address-text.js';

/**
 * Sans-IO reader of classic pcap and pcapng, told apart by the first four bytes.
 *
 * The input is cut into records (pcap file header, pcap packet records, pcapng blocks). A record that
 * lies inside the pushed chunk is decoded in place, so a Packet's bytes are the caller's chunk;
 * only a record that straddles chunks is assembled in a buffer of its own (`stash`), which is never
 * larger than that record. Decoding stops with a DecodeError at the first corrupt record, after every
 * packet before it was delivered.
 *
 * Timestamps: CaptureInfo.originNs is the first packet's absolute time, exact. Packet.ts is the
 * offset from it, computed in doubles from per-interface integer anchors, so it is exact while the
 * offset stays below 2^53 ns (104 days); resolutions that are not 10^-k with k ≤ 9 go through bigint.
 */

export interface CaptureSink {
  /** Once, just before the first packet (or at end() when there is none). */
  onInfo?(info: CaptureInfo): void;
  /** For each interface: once for classic pcap (id 0), for each pcapng IDB. */
  onInterface?(iface: InterfaceInfo): void;
  onPacket(p: Packet): void;
  /** A pcapng Decryption Secrets Block; `data` is a view valid only during the call. */
  onSecrets?(secretsType: number, data: Uint8Array, fileOffset: number): void;
  /** A pcapng Name Resolution Block's IPv4/IPv6 records. */
  onNameResolution?(entries: { address: string; names: string[] }[]): void;
  /**
   * A pcapng Interface Statistics Block. Keys are the pcapng option names (isb_ifrecv, isb_ifdrop,
   * isb_filteraccept, isb_osdrop, isb_usrdeliv, isb_starttime, isb_endtime) plus `timestamp`, the
   * block's own time; times are absolute nanoseconds since the Unix epoch.
   */
  onInterfaceStats?(interfaceId: number, stats: Record<string, bigint>): void;
  /** Something odd that did not stop decoding (malformed options, a bad statistics block...). */
  onProblem?(p: Problem): void;
}

/** The capture ends inside a record: everything before it was delivered. */
export class TruncatedCaptureError extends DecodeError {
  constructor(message: string, where: string) {
    super(message, where);
    this.name = 'TruncatedCaptureError';
  }
}

/** No record (block, packet) may claim more than this: larger lengths mean a corrupt file. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_NRB = 4;
const BLOCK_ISB = 5;
const BLOCK_EPB = 6;
const BLOCK_DSB = 10;

const PCAP_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;
/** Bytes of a pcapng block needed to know its length (an SHB's length depends on its byte-order magic). */
const PCAPNG_BLOCK_HEADER_BYTES = 12;
/** Assembly buffers for straddling records start at most this big and double as bytes arrive. */
const STASH_START_BYTES = 64 * 1024;

const enum State {
  Magic,
  PcapHeader,
  PcapRecord,
  Pcapng,
}

interface PcapngInterface {
  readonly info: InterfaceInfo;
  readonly fcsBytes: number;
  /** ns per tick when the resolution is 10^-k, k ≤ 9 (double arithmetic is exact); 0 otherwise. */
  readonly nsPerTick: number;
  /** absNs = ticks * nsNum / nsDen + offsetNs (floor), the exact general form. */
  readonly nsNum: bigint;
  readonly nsDen: bigint;
  readonly offsetNs: bigint;
  anchored: boolean;
  anchorHi: number;
  anchorLo: number;
  anchorTs: number;
}

const ISB_COUNTERS: Record<number, string> = {
  4: 'isb_ifrecv',
  5: 'isb_ifdrop',
  6: 'isb_filteraccept',
  7: 'isb_osdrop',
  8: 'isb_usrdeliv',
};

const utf8 = new TextDecoder('utf-8');

export class CaptureDecoder {
  private state = State.Magic;
  /**
   * Byte order of the pcap file or of the current pcapng section. The per-record paths read it as
   * `this.le === true`: V8 tests a boolean field for truth as it would any value (~10 instructions,
   * three times a packet), a comparison with true in one.
   */
  private le = true;
  private format: CaptureInfo['format'] = 'pcap';
  private infoSent = false;
  private originNs: bigint | null = null;
  private failure: DecodeError | null = null;

  /** File offset of the next chunk's first byte. */
  private pushed = 0;
  /** File offset just after the last fully decoded record. */
  private decoded = 0;
  private packets = 0;
  private lastTs = 0;

  // Classic pcap
  private pcapLinkType = 0;
  private pcapFcsBytes = 0;
  private pcapFracNs = 1000;
  /**
   * The first record's seconds. A double from the start (-0, never one of V8's small integers) so that
   * `(sec - pcapOriginSec) * 1e9` is double arithmetic: as small-integer arithmetic it overflowed 2.1 s
   * into a capture and deoptimised the packet loop around it.
   */
  private pcapOriginSec = -0;
  private pcapOriginFracNs = 0;

  // pcapng
  private sectionInterfaces: PcapngInterface[] = [];
  private interfaceCount = 0;

  /** The record cut by the end of the last chunk: its first `stashFill` bytes, at file offset `stashAt`. */
  private stash: Uint8Array | null = null;
  private stashFill = 0;
  private stashAt = 0;
  /** The record's total length once its header is in, else 0. */
  private stashNeed = 0;
  /** The length of the record walk() stopped at, 0 while its header is cut. */
  private walkNeed = 0;
  /** Refilled for every packet (see Packet): no allocation per packet. */
  private readonly packet: Packet = { index: 0, ts: 0, linkType: 0, interfaceId: 0, bytes: new Uint8Array(0), start: 0, end: 0, origLen: 0, fileOffset: 0 };

  constructor(private readonly sink: CaptureSink) {}

  /** Bytes of complete records decoded so far (input held back for an unfinished record excluded). */
  get bytesConsumed(): number {
    return this.decoded;
  }

  /** Packets delivered so far. */
  get packetCount(): number {
    return this.packets;
  }

  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    try {
      let off = 0;
      if (this.stash !== null) off = this.fillStash(chunk);
      if (this.stash === null) this.stashRest(chunk, this.walk(chunk, off));
    } catch (e) {
      if (e instanceof DecodeError) this.failure = e;
      throw e;
    } finally {
      this.pushed += chunk.length;
    }
  }

  /**
   * For a reader that keeps the unfinished record itself (e.g. moves it to the front of its buffer
   * and reads on behind it): decodes the complete records at the start of `chunk` and returns how
   * many bytes they took; the rest must come again at the start of the next call, longer. Nothing is
   * copied, and recordBytesNeeded says how big the buffer must be for the next record to fit.
   * Cannot follow push() with an unfinished record pending.
   */
  pushRecords(chunk: Uint8Array): number {
    if (this.failure) throw this.failure;
    if (this.stash !== null) throw new Error('pushRecords after push() left a record unfinished');
    let used = 0;
    try {
      used = this.walk(chunk, 0);
    } catch (e) {
      if (e instanceof DecodeError) this.failure = e;
      throw e;
    } finally {
      this.pushed = this.decoded;
    }
    return used;
  }

  /** The length of the record pushRecords stopped at, or of its header while that is cut: at least this many bytes must come. */
  get recordBytesNeeded(): number {
    return this.walkNeed === 0 ? this.headerBytesNeeded() : this.walkNeed;
  }

  end(): void {
    if (this.failure) throw this.failure;
    if (this.state === State.Magic) {
      this.failure = new DecodeError('not a pcap or pcapng capture', 'byte 0');
      throw this.failure;
    }
    if (!this.infoSent) this.sendInfo();
    if (this.stash !== null) {
      this.failure = this.truncation();
      throw this.failure;
    }
  }

  /**
   * Decodes the complete records of `chunk` from `off`; returns the offset of the first one cut by
   * the chunk's end (or the end), and leaves that record's length, 0 if unknown yet, in walkNeed.
   */
  private walk(chunk: Uint8Array, off: number): number {
    // A plain Uint8Array over the same memory: Buffer (what streams yield) makes subarray() much slower.
    const buf = chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const end = buf.length;
    const base = this.pushed;
    let need = 0;
    while (off < end) {
      if (this.state === State.PcapRecord) return this.walkPcapRecords(buf, view, off);
      need = this.recordLength(view, off, end - off, base + off);
      if (need === 0 || need > end - off) break;
      this.decodeRecord(buf, view, off, need, base + off);
      off += need;
      this.decoded = base + off;
    }
    this.walkNeed = off < end ? need : 0;
    return off;
  }

  /**
   * walk() over classic pcap's packet records, nearly all of a pcap file: the state is not asked
   * again for each record (twice, in recordLength and decodeRecord), nor the byte order.
   */
  private walkPcapRecords(buf: Uint8Array, view: DataView, off: number): number {
    const end = buf.length;
    const base = this.pushed;
    let need = 0;
    while (off + PCAP_RECORD_HEADER_BYTES <= end) {
      need = this.pcapRecordLength(view, off, base + off);
      if (need > end - off) break;
      this.decodePcapRecord(buf, view, off, need, base + off);
      off += need;
      this.decoded = base + off;
      need = 0;
    }
    this.walkNeed = off < end ? need : 0;
    return off;
  }

  /** Stashes the record cut by the end of `chunk`, which starts at `off`, if any. */
  private stashRest(chunk: Uint8Array, off: number): void {
    const have = chunk.length - off;
    if (have === 0) return;
    const need = this.walkNeed;
    const capacity = need === 0 ? this.headerBytesNeeded() : Math.min(need, Math.max(have, STASH_START_BYTES));
    this.stash = new Uint8Array(capacity);
    this.stash.set(chunk.subarray(off));
    this.stashFill = have;
    this.stashAt = this.pushed + off;
    this.stashNeed = need;
  }

  /** Adds the chunk's head to the stashed record; decodes it when complete. Returns bytes used. */
  private fillStash(chunk: Uint8Array): number {
    let off = 0;
    for (;;) {
      let stash = this.stash!;
      const take = Math.min(stash.length - this.stashFill, chunk.length - off);
      stash.set(chunk.subarray(off, off + take), this.stashFill);
      this.stashFill += take;
      off += take;
      if (this.stashFill < stash.length) return off;
      const view = new DataView(stash.buffer, 0, this.stashFill);
      const need = this.recordLength(view, 0, this.stashFill, this.stashAt);
      if (need === this.stashFill) {
        this.stash = null;
        this.decodeRecord(stash, view, 0, need, this.stashAt);
        this.decoded = this.stashAt + need;
        return off;
      }
      this.stashNeed = need;
      const capacity =
        need === 0
          ? this.headerBytesNeeded()
          : Math.min(need, Math.max(2 * stash.length, this.stashFill + chunk.length - off));
      stash = new Uint8Array(capacity);
      stash.set(this.stash!.subarray(0, this.stashFill));
      this.stash = stash;
    }
  }

  /** Bytes needed at a record start before recordLength() can answer. */
  private headerBytesNeeded(): number {
    switch (this.state) {
      case State.Magic:
        return 4;
      case State.PcapHeader:
        return PCAP_HEADER_BYTES;
      case State.PcapRecord:
        return PCAP_RECORD_HEADER_BYTES;
      case State.Pcapng:
        return PCAPNG_BLOCK_HEADER_BYTES;
    }
  }

  /** Total length of the record starting at `off`, or 0 when `avail` bytes do not tell it yet. */
  private recordLength(view: DataView, off: number, avail: number, at: number): number {
    switch (this.state) {
      case State.Magic:
        if (avail < 4) return 0;
        this.detectFormat(view.getUint32(off, false));
        return this.recordLength(view, off, avail, at);
      case State.PcapHeader:
        return PCAP_HEADER_BYTES;
      case State.PcapRecord:
        return avail < PCAP_RECORD_HEADER_BYTES ? 0 : this.pcapRecordLength(view, off, at);
      case State.Pcapng: {
        if (avail < PCAPNG_BLOCK_HEADER_BYTES) return 0;
        let le = this.le === true;
        if (view.getUint32(off, true) === PCAPNG_SHB) le = this.sectionByteOrder(view, off, at);
        const length = view.getUint32(off + 4, le);
        if (length < 12 || length % 4 !== 0 || length > MAX_RECORD_BYTES) {
          const rule = `must be a multiple of 4 from 12 to ${MAX_RECORD_BYTES}`;
          throw this.blockCorrupt(`total length ${length} is invalid (${rule})`, at);
        }
        return length;
      }
    }
  }

  /** Total length of the pcap packet record whose header is at `off`. */
  private pcapRecordLength(view: DataView, off: number, at: number): number {
    const capLen = view.getUint32(off + 8, this.le === true);
    if (capLen > MAX_RECORD_BYTES) throw this.packetCorrupt(`captured length ${capLen} exceeds ${MAX_RECORD_BYTES}`, at);
    return PCAP_RECORD_HEADER_BYTES + capLen;
  }

  private detectFormat(magic: number): void {
    switch (magic) {
      case 0xd4c3b2a1:
      case 0x4d3cb2a1:
        this.le = true;
        break;
      case 0xa1b2c3d4:
      case 0xa1b23c4d:
        this.le = false;
        break;
      case PCAPNG_SHB:
        this.format = 'pcapng';
        this.state = State.Pcapng;
        return;
      default:
        throw new DecodeError('not a pcap or pcapng capture', 'byte 0');
    }
    this.pcapFracNs = magic === 0x4d3cb2a1 || magic === 0xa1b23c4d ? 1 : 1000;
    this.state = State.PcapHeader;
  }

  private sectionByteOrder(view: DataView, off: number, at: number): boolean {
    const magic = view.getUint32(off + 8, true);
    if (magic === PCAPNG_BYTE_ORDER_MAGIC) return true;
    if (magic === 0x4d3c2b1a) return false;
    throw this.blockCorrupt(`section header has byte-order magic 0x${magic.toString(16)}`, at);
  }

  private decodeRecord(buf: Uint8Array, view: DataView, off: number, length: number, at: number): void {
    switch (this.state) {
      case State.PcapRecord:
        this.decodePcapRecord(buf, view, off, length, at);
        return;
      case State.Pcapng:
        this.decodeBlock(buf, view, off, length, at);
        return;
      case State.PcapHeader:
        this.decodePcapHeader(view, off);
        return;
    }
  }

  private decodePcapHeader(view: DataView, off: number): void {
    const snapLen = view.getUint32(off + 16, this.le);
    const linkField = view.getUint32(off + 20, this.le);
    // Upper bits (libpcap LT_FCS_LENGTH_PRESENT / LT_FCS_LENGTH): FCS length in 16-bit words.
    this.pcapLinkType = linkField & 0xffff;
    this.pcapFcsBytes = linkField & 0x04000000 ? (linkField >>> 28) * 2 : 0;
    this.state = State.PcapRecord;
    this.sink.onInterface?.({ id: 0, linkType: this.pcapLinkType, snapLen });
  }

  private decodePcapRecord(buf: Uint8Array, view: DataView, off: number, length: number, at: number): void {
    const le = this.le === true;
    const sec = view.getUint32(off, le);
    const fracNs = view.getUint32(off + 4, le) * this.pcapFracNs;
    if (this.originNs === null) {
      this.originNs = BigInt(sec) * 1_000_000_000n + BigInt(fracNs);
      this.pcapOriginSec = sec;
      this.pcapOriginFracNs = fracNs;
    }
    const ts = (sec - this.pcapOriginSec) * 1e9 + (fracNs - this.pcapOriginFracNs);
    const origLen = view.getUint32(off + 12, le);
    this.deliver(ts, this.pcapLinkType, 0, this.pcapFcsBytes, buf, off + 16, length - 16, origLen, at + 16);
  }

  private decodeBlock(buf: Uint8Array, view: DataView, off: number, length: number, at: number): void {
    const type = view.getUint32(off, this.le);
    if (type === PCAPNG_SHB) {
      this.le = this.sectionByteOrder(view, off, at);
    }
    const le = this.le === true;
    if (view.getUint32(off + length - 4, le) !== length) {
      throw this.blockCorrupt(
        `trailing length ${view.getUint32(off + length - 4, le)} differs from leading length ${length}`,
        at,
      );
    }
    switch (type) {
      case BLOCK_EPB:
      case BLOCK_PB: {
        if (length < 32) throw this.blockCorrupt(`packet block of ${length} bytes is too short`, at);
        const localId = type === BLOCK_EPB ? view.getUint32(off + 8, le) : view.getUint16(off + 8, le);
        const iface = this.sectionInterfaces[localId];
        if (iface === undefined) throw this.packetCorrupt(`references undefined interface ${localId}`, at);
        const capLen = view.getUint32(off + 20, le);
        if (capLen > length - 32) {
          throw this.packetCorrupt(`captured length ${capLen} overruns its ${length}-byte block`, at);
        }
        const ts = this.pcapngTs(iface, view.getUint32(off + 12, le), view.getUint32(off + 16, le));
        const origLen = view.getUint32(off + 24, le);
        this.deliver(ts, iface.info.linkType, iface.info.id, iface.fcsBytes, buf, off + 28, capLen, origLen, at + 28);
        return;
      }
      case BLOCK_SPB: {
        if (length < 16) throw this.blockCorrupt(`simple packet block of ${length} bytes is too short`, at);
        const iface = this.sectionInterfaces[0];
        if (iface === undefined) throw this.packetCorrupt('references undefined interface 0', at);
        const origLen = view.getUint32(off + 8, le);
        let capLen = Math.min(origLen, length - 16);
        if (iface.info.snapLen > 0) capLen = Math.min(capLen, iface.info.snapLen);
        const { linkType, id } = iface.info;
        this.deliver(this.lastTs, linkType, id, iface.fcsBytes, buf, off + 12, capLen, origLen, at + 12);
        return;
      }
      case PCAPNG_SHB:
        this.decodeSectionHeader(view, off, length, at);
        return;
      case BLOCK_IDB:
        this.decodeInterface(buf, view, off, length, at);
        return;
      case BLOCK_ISB:
        this.decodeStatistics(view, off, length, at);
        return;
      case BLOCK_NRB:
        this.decodeNameResolution(buf, view, off, length, at);
        return;
      case BLOCK_DSB:
        this.decodeSecrets(buf, view, off, length, at);
        return;
      default:
        return; // custom and unknown blocks carry nothing we read
    }
  }

  private decodeSectionHeader(view: DataView, off: number, length: number, at: number): void {
    if (length < 28) throw this.blockCorrupt(`section header of ${length} bytes is too short`, at);
    const major = view.getUint16(off + 12, this.le);
    if (major !== 1) {
      const minor = view.getUint16(off + 14, this.le);
      throw this.blockCorrupt(`section header has unsupported version ${major}.${minor}`, at);
    }
    this.sectionInterfaces = [];
  }

  private decodeInterface(buf: Uint8Array, view: DataView, off: number, length: number, at: number): void {
    if (length < 20) throw this.blockCorrupt(`interface description of ${length} bytes is too short`, at);
    const le = this.le;
    const info: InterfaceInfo = {
      id: this.interfaceCount,
      linkType: view.getUint16(off + 8, le),
      snapLen: view.getUint32(off + 12, le),
    };
    let resolution = 6;
    let fcsBytes = 0;
    let offsetNs = 0n;
    this.forEachOption(view, off + 16, off + length - 4, at, (code, valueOff, valueLen) => {
      switch (code) {
        case 2:
          info.name = this.optionText(buf, valueOff, valueLen);
          break;
        case 3:
          info.description = this.optionText(buf, valueOff, valueLen);
          break;
        case 9:
          if (valueLen >= 1) resolution = buf[valueOff];
          break;
        case 13:
          if (valueLen >= 1) fcsBytes = buf[valueOff];
          break;
        case 14:
          if (valueLen >= 8) offsetNs = view.getBigInt64(valueOff, le) * 1_000_000_000n;
          break;
      }
    });
    const exponent = BigInt(resolution & 0x7f);
    const powerOfTwo = (resolution & 0x80) !== 0;
    let nsNum = 1n;
    let nsDen = 1n;
    if (powerOfTwo) {
      nsNum = 1_000_000_000n;
      nsDen = 1n << exponent;
    } else if (exponent <= 9n) {
      nsNum = 10n ** (9n - exponent);
    } else {
      nsDen = 10n ** (exponent - 9n);
    }
    this.sectionInterfaces.push({
      info,
      fcsBytes,
      nsPerTick: nsDen === 1n ? Number(nsNum) : 0,
      nsNum,
      nsDen,
      offsetNs,
      anchored: false,
      anchorHi: 0,
      anchorLo: 0,
      anchorTs: 0,
    });
    this.interfaceCount++;
    this.sink.onInterface?.(info);
  }

  private decodeStatistics(view: DataView, off: number, length: number, at: number): void {
    if (length < 24) {
      this.problem('block-too-short', at, `interface statistics block of ${length} bytes is too short`);
      return;
    }
    const le = this.le;
    const localId = view.getUint32(off + 8, le);
    const iface = this.sectionInterfaces[localId];
    if (iface === undefined) {
      this.problem('undefined-interface', at, `interface statistics for undefined interface ${localId}`);
      return;
    }
    const stats: Record<string, bigint> = {
      timestamp: absoluteNs(iface, view.getUint32(off + 12, le), view.getUint32(off + 16, le)),
    };
    this.forEachOption(view, off + 20, off + length - 4, at, (code, valueOff, valueLen) => {
      if (valueLen !== 8) return;
      if (code === 2 || code === 3) {
        stats[code === 2 ? 'isb_starttime' : 'isb_endtime'] = absoluteNs(
          iface,
          view.getUint32(valueOff, le),
          view.getUint32(valueOff + 4, le),
        );
      } else if (ISB_COUNTERS[code] !== undefined) {
        stats[ISB_COUNTERS[code]] = view.getBigUint64(valueOff, le);
      }
    });
    this.sink.onInterfaceStats?.(iface.info.id, stats);
  }

  private decodeNameResolution(buf: Uint8Array, view: DataView, off: number, length: number, at: number): void {
    const entries: { address: string; names: string[] }[] = [];
    const end = off + length - 4;
    let p = off + 8;
    while (p + 4 <= end) {
      const type = view.getUint16(p, this.le);
      const valueLen = view.getUint16(p + 2, this.le);
      if (type === 0) break;
      const value = p + 4;
      if (value + valueLen > end) {
        this.problem('block-overrun', at, `name resolution record overruns its block`);
        break;
      }
      const addrLen = type === 1 ? 4 : type === 2 ? 16 : 0;
      if (addrLen !== 0 && valueLen > addrLen) {
        const address = addrLen === 4 ? formatIpv4(buf, value) : formatIpv6(buf, value);
        const names = utf8
          .decode(buf.subarray(value + addrLen, value + valueLen))
          .split('\0')
          .filter((name) => name !== '');
        entries.push({ address, names });
      } else if (addrLen !== 0) {
        this.problem('block-too-short', at, `name resolution record of ${valueLen} bytes is too short`);
      }
      p = value + ((valueLen + 3) & ~3);
    }
    if (entries.length > 0) this.sink.onNameResolution?.(entries);
  }

  private decodeSecrets(buf: Uint8Array, view: DataView, off: number, length: number, at: number): void {
    if (length < 20) {
      this.problem('block-too-short', at, `decryption secrets block of ${length} bytes is too short`);
      return;
    }
    const secretsType = view.getUint32(off + 8, this.le);
    const secretsLen = view.getUint32(off + 12, this.le);
    if (secretsLen > length - 20) {
      this.problem('block-overrun', at, `decryption secrets length ${secretsLen} overruns its ${length}-byte block`);
      return;
    }
    this.sink.onSecrets?.(secretsType, buf.subarray(off + 16, off + 16 + secretsLen), at + 16);
  }

  /** Calls `fn` for each pcapng option in [from, to) until opt_endofopt; reports an overrun. */
  private forEachOption(
    view: DataView,
    from: number,
    to: number,
    at: number,
    fn: (code: number, valueOff: number, valueLen: number) => void,
  ): void {
    let p = from;
    while (p + 4 <= to) {
      const code = view.getUint16(p, this.le);
      const valueLen = view.getUint16(p + 2, this.le);
      if (code === 0) return;
      if (p + 4 + valueLen > to) {
        this.problem('block-overrun', at, `option ${code} overruns its block`);
        return;
      }
      fn(code, p + 4, valueLen);
      p += 4 + ((valueLen + 3) & ~3);
    }
  }

  private optionText(buf: Uint8Array, off: number, len: number): string {
    let end = off + len;
    while (end > off && buf[end - 1] === 0) end--; // some writers count a terminating NUL
    return utf8.decode(buf.subarray(off, end));
  }

  private pcapngTs(iface: PcapngInterface, hi: number, lo: number): number {
    if (iface.anchored) {
      // The low word is added to a double (the high words' difference times 2^32) before anything
      // is subtracted from it: as `lo - anchorLo` it was small-integer arithmetic until the low
      // word first passed 2^31 (within 4.3 s of nanosecond ticks), which threw away the optimised
      // code of the whole packet loop around it (decodeBlock) for a recompile. Exact below 2^53.
      return iface.anchorTs + ((hi - iface.anchorHi) * 4294967296 + lo - iface.anchorLo) * iface.nsPerTick;
    }
    const abs = absoluteNs(iface, hi, lo);
    if (this.originNs === null) this.originNs = abs;
    const ts = Number(abs - this.originNs);
    if (iface.nsPerTick !== 0) {
      iface.anchored = true;
      iface.anchorHi = hi;
      iface.anchorLo = lo;
      iface.anchorTs = ts;
    }
    return ts;
  }

  private deliver(
    ts: number,
    linkType: number,
    interfaceId: number,
    fcsBytes: number,
    buf: Uint8Array,
    dataOff: number,
    capLen: number,
    origLen: number,
    fileOffset: number,
  ): void {
    if (fcsBytes !== 0) {
      // Link layers expect frames without the trailing FCS; drop it from the frame and its length.
      origLen = Math.max(0, origLen - fcsBytes);
      capLen = Math.min(capLen, origLen);
    }
    if (!this.infoSent) this.sendInfo();
    this.lastTs = ts;
    const packet = this.packet;
    packet.index = ++this.packets;
    packet.ts = ts;
    packet.linkType = linkType;
    packet.interfaceId = interfaceId;
    // Most packets lie in the buffer of the packet before: storing a young view into this old object
    // again would cost a write barrier's slow path for every packet.
    if (packet.bytes !== buf) packet.bytes = buf;
    packet.start = dataOff;
    packet.end = dataOff + capLen;
    packet.origLen = origLen;
    packet.fileOffset = fileOffset;
    this.sink.onPacket(packet);
  }

  private sendInfo(): void {
    this.infoSent = true;
    this.sink.onInfo?.({ format: this.format, originNs: this.originNs });
  }

  private problem(code: Parameters<typeof captureProblem>[0], at: number, message: string): void {
    this.sink.onProblem?.(captureProblem(code, message, { where: `byte ${at}`, offset: at }));
  }

  private packetCorrupt(detail: string, at: number): DecodeError {
    return new DecodeError(`corrupt capture: packet ${this.packets + 1} ${detail}`, `byte ${at}`);
  }

  private blockCorrupt(detail: string, at: number): DecodeError {
    return new DecodeError(`corrupt capture after packet ${this.packets}: block ${detail}`, `byte ${at}`);
  }

  private truncation(): TruncatedCaptureError {
    const have = this.stashFill;
    const need = this.stashNeed;
    const where = `byte ${this.stashAt}`;
    const n = this.packets + 1;
    let what: string;
    if (this.state === State.PcapHeader) {
      what = 'file header';
    } else if (this.state === State.PcapRecord) {
      what = `packet ${n}`;
    } else {
      const type = have >= 4 ? new DataView(this.stash!.buffer, 0, 4).getUint32(0, this.le) : -1;
      what = type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_PB ? `packet ${n}` : 'block';
    }
    const of = need === 0 ? `its ${this.headerBytesNeeded()}-byte header` : `${need} bytes`;
    return new TruncatedCaptureError(`capture truncated: ${what} cut after ${have} of ${of}`, where);
  }
}

function absoluteNs(iface: PcapngInterface, hi: number, lo: number): bigint {
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  return (ticks * iface.nsNum) / iface.nsDen + iface.offsetNs;
}
