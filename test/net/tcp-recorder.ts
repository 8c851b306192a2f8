/**
 * A TcpSink for tests: records every call as text, rebuilds each direction's stream (lost bytes as
 * '?' marks in `text`), and checks the sink contract on the fly (open first, contiguous offsets,
 * nothing after close/end), collecting violations instead of throwing.
 */
import type { Direction, StreamOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import type { TcpConnection, TcpSink } from '../../src/net/tcp-reassembly.js';
import type { TcpSegment } from '../../src/net/tcp.js';
import { isTcpAnalysis } from '../../src/net/problems.js';
import { bytes, flagBits, type Flags } from '../helpers/net-packets.js';

/** Gaps are spelled out byte by byte in `data`; larger ones are contract violations in these tests. */
const MAX_GAP_MARKS = 1 << 20;

export interface StreamRecord {
  data: number[];
  /** [offset, length] of each gap. */
  gaps: [number, number][];
  /** Offset of the next byte expected from the reassembler. */
  next: number;
  /** Bytes delivered by onData. */
  delivered: number;
  closed: 'fin' | 'rst' | null;
  origins: StreamOrigin[];
}

export interface ConnectionRecord {
  conn: TcpConnection;
  c2s: StreamRecord;
  s2c: StreamRecord;
  ended: boolean;
  endTs: number | null;
}

export class TcpRecorder implements TcpSink {
  readonly log: string[] = [];
  readonly connections = new Map<number, ConnectionRecord>();
  /** Reassembly problems; TCP analysis of the segments (tcp.retransmission…) goes to `analysis`. */
  readonly problems: Problem[] = [];
  readonly analysis: Problem[] = [];
  readonly violations: string[] = [];
  /** Every onData view as given, to check the fast path passes packet bytes without copying. */
  dataViews: Uint8Array[] = [];

  onOpen(conn: TcpConnection): void {
    this.log.push(`open ${conn.id} ${conn.client}→${conn.server}${conn.sawHandshake ? '' : ' mid'}`);
    if (this.connections.has(conn.id)) this.violations.push(`open twice ${conn.id}`);
    const stream = (): StreamRecord => ({ data: [], gaps: [], next: 0, delivered: 0, closed: null, origins: [] });
    this.connections.set(conn.id, { conn, c2s: stream(), s2c: stream(), ended: false, endTs: null });
  }

  onData(conn: TcpConnection, dir: Direction, data: Uint8Array, origin: StreamOrigin): void {
    this.log.push(`data ${conn.id} ${dir} ${origin.offset}+${origin.length} #${origin.packet}`);
    const s = this.stream(conn, dir, origin.offset);
    if (!s) return;
    if (data.length !== origin.length || data.length === 0) this.violations.push(`bad data length ${data.length}/${origin.length}`);
    for (const b of data) s.data.push(b);
    s.next += data.length;
    s.delivered += data.length;
    s.origins.push(origin);
    this.dataViews.push(data);
  }

  onGap(conn: TcpConnection, dir: Direction, offset: number, length: number, packet: number): void {
    this.log.push(`gap ${conn.id} ${dir} ${offset}+${length} #${packet}`);
    const s = this.stream(conn, dir, offset);
    if (!s) return;
    if (length <= 0) this.violations.push(`empty gap`);
    s.gaps.push([offset, length]);
    if (length > MAX_GAP_MARKS) {
      this.violations.push(`gap of ${length} bytes`);
      return;
    }
    for (let i = 0; i < length; i++) s.data.push(-1);
    s.next += length;
  }

  onClose(conn: TcpConnection, dir: Direction, how: 'fin' | 'rst', packet: number): void {
    this.log.push(`close ${conn.id} ${dir} ${how} #${packet}`);
    const s = this.stream(conn, dir, null);
    if (!s) return;
    if (s.closed) this.violations.push(`close twice ${conn.id} ${dir}`);
    s.closed = how;
  }

  onEnd(conn: TcpConnection, ts: number): void {
    this.log.push(`end ${conn.id}`);
    const r = this.connections.get(conn.id);
    if (!r || r.ended) return void this.violations.push(`end of unknown or ended connection ${conn.id}`);
    r.ended = true;
    r.endTs = ts;
  }

  onProblem(p: Problem): void {
    (isTcpAnalysis(p.code) ? this.analysis : this.problems).push(p);
  }

  /** The direction's bytes as text, lost bytes as '?'. */
  text(id: number, dir: Direction): string {
    return String.fromCharCode(...this.get(id)[dir].data.map((b) => (b < 0 ? 63 : b)));
  }

  bytesOf(id: number, dir: Direction): Uint8Array {
    return Uint8Array.from(this.get(id)[dir].data.map((b) => (b < 0 ? 0 : b)));
  }

  get(id: number): ConnectionRecord {
    const r = this.connections.get(id);
    if (!r) throw new Error(`no connection ${id}; log:\n${this.log.join('\n')}`);
    return r;
  }

  private stream(conn: TcpConnection, dir: Direction, offset: number | null): StreamRecord | null {
    const r = this.connections.get(conn.id);
    if (!r) {
      this.violations.push(`call before open for ${conn.id}`);
      return null;
    }
    if (r.ended) this.violations.push(`call after end for ${conn.id}`);
    const s = r[dir];
    if (s.closed) this.violations.push(`call after close for ${conn.id} ${dir}`);
    if (offset !== null && offset !== s.next) this.violations.push(`offset ${offset} but expected ${s.next} in ${conn.id} ${dir}`);
    return s;
  }
}

export interface Endpoint {
  addr: string;
  port: number;
}

/** Builds segments of one connection between a client and a server, numbering packets in order. */
export class SegmentMaker {
  private packet = 0;

  constructor(
    readonly client: Endpoint = { addr: '10.0.0.1', port: 51000 },
    readonly server: Endpoint = { addr: '10.0.0.2', port: 6443 },
  ) {}

  /** A segment from 'c' (client) or 's' (server). */
  seg(from: 'c' | 's', seq: number, payload: Uint8Array | string = '', flags: Flags = 'A', ack = 0, extra: Partial<TcpSegment> = {}): TcpSegment {
    const [a, b] = from === 'c' ? [this.client, this.server] : [this.server, this.client];
    this.packet++;
    return {
      src: a.addr,
      dst: b.addr,
      srcPort: a.port,
      dstPort: b.port,
      seq: seq >>> 0,
      ack: ack >>> 0,
      flags: flagBits(flags),
      window: 65535,
      payload: bytes(payload),
      missing: 0,
      packet: this.packet,
      ts: this.packet * 1000,
      ...extra,
    };
  }
}
