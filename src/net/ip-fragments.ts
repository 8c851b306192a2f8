/**
 * Reassembly of fragmented IP datagrams, for IPv4 and IPv6 alike: the caller names each datagram
 * with a key (IPv4: source, destination, id, protocol; IPv6: source, destination, id) that doubles
 * as its description in problems. Overlapping fragments: the bytes seen first win.
 * Memory is bounded by a cap on datagrams in progress and on bytes held; a datagram not completed
 * within the timeout (in packet time) is dropped.
 */
import type { Problem } from '../core/problem.js';
import { ipProblem } from './problems.js';
import { RangeBuffer } from './range-buffer.js';

/** Fragments may not reach past the largest datagram an IP length field can describe. */
const MAX_DATAGRAM_BYTES = 65535;

export interface IpFragmentReassemblerOptions {
  /** Datagrams in progress at once; beyond it the oldest is dropped. Default 256. */
  maxDatagrams?: number;
  /** Bytes held across all datagrams (with a per-fragment overhead). Default 4 MiB. */
  maxBytes?: number;
  /** Nanoseconds of packet time after its first fragment within which a datagram must complete. Default 30 s, as Linux. */
  timeoutNs?: number;
}

export interface ReassembledDatagram {
  /** The datagram's payload (what follows the IP header, or IPv6's fragment header), a fresh copy. */
  data: Uint8Array;
  /** Upper-layer protocol as given by the fragment at offset 0. */
  protocol: number;
}

class PendingDatagram {
  readonly held = new RangeBuffer();
  /** Payload length, known once the last fragment arrived. */
  total = -1;
  protocol = -1;
  constructor(
    readonly key: string,
    readonly firstPacket: number,
    readonly firstTs: number,
  ) {}
}

export class IpFragmentReassembler {
  private readonly pending = new Map<string, PendingDatagram>();
  private readonly maxDatagrams: number;
  private readonly maxBytes: number;
  private readonly timeoutNs: number;
  private bytes = 0;
  private now = -Infinity;

  constructor(
    private readonly onProblem: (p: Problem) => void,
    opts: IpFragmentReassemblerOptions = {},
  ) {
    this.maxDatagrams = opts.maxDatagrams ?? 256;
    this.maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
    this.timeoutNs = opts.timeoutNs ?? 30e9;
  }

  /**
   * Adds one fragment: `data` (a transient view) sits at byte `offset` of the datagram's payload;
   * `more` is the More Fragments flag. Returns the datagram when this fragment completed it.
   */
  push(key: string, offset: number, more: boolean, protocol: number, data: Uint8Array, packet: number, ts: number): ReassembledDatagram | null {
    if (ts > this.now) this.now = ts;
    this.expire();
    const end = offset + data.length;
    if (end > MAX_DATAGRAM_BYTES) {
      this.problem('fragment-out-of-range', packet, `fragment of ${key} ends at byte ${end}, beyond the largest IP datagram: dropped`);
      return null;
    }
    let d = this.pending.get(key);
    if (!d) {
      if (this.pending.size >= this.maxDatagrams) {
        this.drop(this.pending.values().next().value!, `more than ${this.maxDatagrams} datagrams in reassembly`);
      }
      d = new PendingDatagram(key, packet, ts);
      this.pending.set(key, d);
    }
    if (!more) {
      if (d.total >= 0 && d.total !== end) {
        this.problem('fragment-out-of-range', packet, `last fragment of ${key} ends at byte ${end}, an earlier one at ${d.total}: dropped`);
        return null;
      }
      if (d.held.lastEnd() > end) {
        this.problem('fragment-out-of-range', packet, `last fragment of ${key} ends at byte ${end}, before fragments already seen: dropped`);
        return null;
      }
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      this.problem('fragment-out-of-range', packet, `fragment of ${key} reaches byte ${end}, past the datagram's end at ${d.total}: dropped`);
      return null;
    }
    if (offset === 0) d.protocol = protocol;
    const costBefore = d.held.cost;
    if (d.held.insert(offset, data, 0, data.length, packet, ts)) {
      this.problem('fragment-overlap-differs', packet, `overlapping fragments of ${key} carry different bytes; keeping the first ones`);
    }
    this.bytes += d.held.cost - costBefore;
    if (this.bytes > this.maxBytes) this.makeRoom(d);
    if (d.total < 0 || d.held.covered !== d.total || !this.pending.has(key)) return null;
    return this.assemble(d);
  }

  /** The capture ended: datagrams still incomplete are reported and dropped. */
  end(): void {
    for (const d of this.pending.values()) this.drop(d, 'the capture ended before all fragments arrived');
  }

  private assemble(d: PendingDatagram): ReassembledDatagram {
    const data = new Uint8Array(d.total);
    for (let r = d.held.shift(); r; r = d.held.shift()) data.set(r.data!, r.start);
    this.bytes -= d.held.cost;
    this.pending.delete(d.key);
    return { data, protocol: d.protocol };
  }

  /** Drops the oldest other datagrams until the byte cap holds again, then `current` itself if need be. */
  private makeRoom(current: PendingDatagram): void {
    for (const d of this.pending.values()) {
      if (this.bytes <= this.maxBytes) return;
      if (d !== current) this.drop(d, `fragments held exceed ${this.maxBytes} bytes`);
    }
    if (this.bytes > this.maxBytes) this.drop(current, `fragments held exceed ${this.maxBytes} bytes`);
  }

  /** Datagrams are kept in order of their first fragment, so expiry stops at the first one still young. */
  private expire(): void {
    for (const d of this.pending.values()) {
      if (this.now - d.firstTs <= this.timeoutNs) return;
      this.drop(d, `incomplete after ${this.timeoutNs / 1e9} s`);
    }
  }

  private drop(d: PendingDatagram, why: string): void {
    const total = d.total >= 0 ? d.total : 'an unknown number of';
    this.problem('fragments-dropped', d.firstPacket, `fragmented ${d.key} dropped (${why}): ${d.held.covered} of ${total} bytes received`);
    this.bytes -= d.held.cost;
    this.pending.delete(d.key);
  }

  private problem(code: Parameters<typeof ipProblem>[0], packet: number, message: string): void {
    this.onProblem(ipProblem(code, message, { where: `packet ${packet}`, packet }));
  }
}
