/**
 * Mutations of capture files, from blind (bit flips, zeroed runs, cuts) to structure-aware (packet
 * records dropped, duplicated, reordered; TCP sequence numbers moved; SPDY header blocks and WebSocket
 * length fields corrupted; two captures spliced). Every mutation is a pure function of (bytes, rng).
 */
import { randomFromSeed, type Random } from './random.js';

/** The mutations' choices: a run is replayable from its seed (or fast-check's seed and path). */
export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
}

export interface CaptureRecords {
  /** Bytes before the first packet record (file header, pcapng section and interface blocks). */
  header: number;
  /** [start, end) of each packet record. */
  records: [number, number][];
  kind: 'pcap' | 'pcapng';
  le: boolean;
}

/** The fuzzer's choices from `seed`: fast-check's stream for that seed (kit/random.ts), so a run replays. */
export function rng(seed: number): Rng {
  return rngOf(randomFromSeed(seed));
}

/** The mutations' choices from a source of numbers in [0, 1) (a fast-check property's, or a seed's). */
export function rngOf(next: Random): Rng {
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

/**
 * The packet records of a classic pcap or a pcapng file: [start, end) byte ranges, plus the header
 * (everything before the first record, incl. pcapng section/interface blocks), or null when the file
 * is neither.
 */
export function records(b: Buffer): CaptureRecords | null {
  if (b.length < 24) return null;
  const magic = b.readUInt32LE(0);
  const out: [number, number][] = [];
  if ([0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1].includes(magic)) {
    const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
    for (let at = 24; at + 16 <= b.length; ) {
      const incl = le ? b.readUInt32LE(at + 8) : b.readUInt32BE(at + 8);
      const end = at + 16 + incl;
      if (end > b.length) break;
      out.push([at, end]);
      at = end;
    }
    return { header: 24, records: out, kind: 'pcap', le };
  }
  if (magic === 0x0a0d0d0a) {
    const le = b.readUInt32LE(8) === 0x1a2b3c4d;
    let header = -1;
    for (let at = 0; at + 12 <= b.length; ) {
      const type = le ? b.readUInt32LE(at) : b.readUInt32BE(at);
      const len = le ? b.readUInt32LE(at + 4) : b.readUInt32BE(at + 4);
      if (len < 12 || at + len > b.length) break;
      if (type === 6 || type === 3) {
        if (header < 0) header = at;
        out.push([at, at + len]);
      }
      at += len;
    }
    return { header: header < 0 ? b.length : header, records: out, kind: 'pcapng', le };
  }
  return null;
}

/** Where the packet data of a record starts (pcap 16, pcapng EPB 28, SPB 12). */
function dataStart(b: Buffer, kind: CaptureRecords['kind'], le: boolean, [start]: [number, number]): number {
  if (kind === 'pcap') return start + 16;
  const type = le ? b.readUInt32LE(start) : b.readUInt32BE(start);
  return start + (type === 6 ? 28 : 12);
}

function rebuild(b: Buffer, rec: CaptureRecords, order: [number, number][]): Buffer {
  return Buffer.concat([b.subarray(0, rec.header), ...order.map(([s, e]) => b.subarray(s, e))]);
}

/** Offsets of an IPv4 TCP header in a record's packet data (Ethernet, SLL, SLL2, loopback, raw). */
function tcpHeaderAt(b: Buffer, from: number, to: number): number {
  for (const linkHeader of [14, 16, 20, 4, 0, 18]) {
    const ip = from + linkHeader;
    if (ip + 40 > to) continue;
    if (b[ip] >> 4 !== 4 || (b[ip] & 15) < 5 || b[ip + 9] !== 6) continue;
    // The IP header length comes from the (possibly already mutated) capture: the TCP header's sequence
    // and acknowledgement numbers must still lie inside the record and the buffer.
    const tcp = ip + (b[ip] & 15) * 4;
    if (tcp + 12 <= Math.min(to, b.length)) return tcp;
  }
  return -1;
}

function indexesOf(b: Buffer, pattern: Buffer, max = 64): number[] {
  const out: number[] = [];
  for (let at = b.indexOf(pattern); at >= 0 && out.length < max; at = b.indexOf(pattern, at + 1)) out.push(at);
  return out;
}

export type Mutation = (b: Buffer, r: Rng, other: Buffer) => Buffer | null;

export const MUTATIONS: Record<string, Mutation> = {
  flipBits(b, r) {
    const out = Buffer.from(b);
    for (let k = 1 + r.int(8); k > 0; k--) out[r.int(out.length)] ^= 1 << r.int(8);
    return out;
  },
  zeroRun(b, r) {
    const out = Buffer.from(b);
    const at = r.int(out.length);
    out.fill(r.pick([0, 0xff]), at, Math.min(out.length, at + 1 + r.int(64)));
    return out;
  },
  cut(b, r) {
    return b.subarray(0, r.int(b.length));
  },
  dropRecords(b, r) {
    const rec = records(b);
    if (!rec || rec.records.length < 2) return null;
    return rebuild(b, rec, rec.records.filter(() => r.next() > 0.1));
  },
  duplicateRecords(b, r) {
    const rec = records(b);
    if (!rec || !rec.records.length) return null;
    return rebuild(b, rec, rec.records.flatMap((x) => (r.next() < 0.1 ? [x, x] : [x])));
  },
  reorderRecords(b, r) {
    const rec = records(b);
    if (!rec || rec.records.length < 2) return null;
    const order = rec.records.slice();
    for (let k = 1 + r.int(6); k > 0; k--) {
      const i = r.int(order.length);
      const j = Math.min(order.length - 1, i + 1 + r.int(4));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return rebuild(b, rec, order);
  },
  perturbTcpSequence(b, r) {
    const rec = records(b);
    if (!rec || !rec.records.length) return null;
    const out = Buffer.from(b);
    for (let k = 1 + r.int(4); k > 0; k--) {
      const x = r.pick(rec.records);
      const tcp = tcpHeaderAt(out, dataStart(out, rec.kind, rec.le, x), x[1]);
      if (tcp < 0) continue;
      const field = tcp + (r.next() < 0.7 ? 4 : 8);
      const delta = r.pick([1, -1, 1000, -1000, 65536, 2 ** 31, r.int(2 ** 32)]);
      out.writeUInt32BE((out.readUInt32BE(field) + delta) >>> 0, field);
    }
    return out;
  },
  corruptSpdyHeaderBlock(b, r) {
    const starts = [...indexesOf(b, Buffer.from([0x80, 3, 0, 1])), ...indexesOf(b, Buffer.from([0x80, 3, 0, 2]))];
    if (!starts.length) return null;
    const out = Buffer.from(b);
    const at = r.pick(starts);
    const blockStart = at + (out[at + 3] === 1 ? 18 : 12);
    for (let k = 1 + r.int(6); k > 0; k--) out[blockStart + r.int(32)] = r.int(256);
    return out;
  },
  corruptWebSocketLength(b, r) {
    const starts = [0x81, 0x82, 0x88, 0x02, 0x01].flatMap((b0) => indexesOf(b, Buffer.from([b0])).filter((i) => i + 10 < b.length));
    if (!starts.length) return null;
    const out = Buffer.from(b);
    const at = r.pick(starts);
    const masked = out[at + 1] & 0x80;
    const form = r.int(3);
    out[at + 1] = masked | (form === 2 ? 126 : 127);
    if (form === 0) out.writeBigUInt64BE(0x7fffffffffffffffn, at + 2);
    else if (form === 1) out.writeBigUInt64BE(BigInt(r.int(2 ** 32)) * BigInt(1 + r.int(2 ** 20)), at + 2);
    else out.writeUInt16BE(r.int(65536), at + 2);
    return out;
  },
  splice(b, r, other) {
    const x = records(b);
    const y = records(other);
    if (x && y && x.kind === y.kind && x.le === y.le) {
      const cutX = r.int(x.records.length + 1);
      const fromY = r.int(y.records.length + 1);
      return Buffer.concat([b.subarray(0, x.header), ...x.records.slice(0, cutX).map(([s, e]) => b.subarray(s, e)), ...y.records.slice(fromY).map(([s, e]) => other.subarray(s, e))]);
    }
    return Buffer.concat([b.subarray(0, r.int(b.length)), other.subarray(r.int(other.length))]);
  },
};

const NAMES = Object.keys(MUTATIONS);

/** One to three stacked mutations of a corpus entry; returns the bytes and what was done. */
export function mutate(corpus: readonly { bytes: Buffer }[], r: Rng): { bytes: Buffer; done: string[] } {
  let bytes = r.pick(corpus).bytes;
  const done: string[] = [];
  for (let k = 1 + r.int(3); k > 0; k--) {
    const name = r.pick(NAMES);
    const out = MUTATIONS[name](bytes, r, r.pick(corpus).bytes);
    if (!out || !out.length) continue;
    bytes = out;
    done.push(name);
  }
  return { bytes, done };
}
