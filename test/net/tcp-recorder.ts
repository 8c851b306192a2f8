/**
 * TCP reassembly's calls, recorded by the kit's SinkRecorder, read back as each connection's two
 * streams (lost bytes as '?' marks in `text`) and checked against the sink contract (open first,
 * contiguous offsets, nothing after close/end), violations collected instead of thrown.
 */
import type { Direction, StreamOrigin } from '../../src/core/origin.js';
import type { TcpConnection, TcpSink } from '../../src/net/tcp-reassembly.js';
import type { TcpSegment } from '../../src/net/tcp.js';
import type { Problem } from '../../src/core/problem.js';
import { isTcpAnalysis } from '../../src/net/problems.js';
import { bytes, flagBits, type Flags } from '../helpers/net-packets.js';
import { SinkRecorder } from '../kit/sink-recorder.js';

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

interface TcpReplay {
  log: string[];
  connections: Map<number, ConnectionRecord>;
  violations: string[];
}

/** What a TCP reassembler delivered, read from the kit's generic SinkRecorder and checked against the sink contract. */
export class TcpRecorder extends SinkRecorder<TcpSink> {
  /** Calls already read into `state` (calls are only ever appended). */
  private replayed = 0;
  private state: TcpReplay = { log: [], connections: new Map(), violations: [] };

  /** Reassembly problems; TCP analysis of the segments (tcp.retransmission…) is in `analysis`. */
  override get problems(): Problem[] {
    return super.problems.filter((p) => !isTcpAnalysis(p.code));
  }

  get analysis(): Problem[] {
    return super.problems.filter((p) => isTcpAnalysis(p.code));
  }

  /** One line per call: what was opened, delivered, lost, closed and ended. */
  get log(): string[] {
    return this.replay().log;
  }

  /** Each connection with both directions rebuilt (lost bytes as -1). */
  get connections(): Map<number, ConnectionRecord> {
    return this.replay().connections;
  }

  /** Breaches of the sink contract: open first, contiguous offsets, nothing after close or end. */
  get violations(): string[] {
    return this.replay().violations;
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

  /** The calls not yet read, replayed into the views above. */
  private replay(): TcpReplay {
    const { log, connections, violations } = this.state;
    const stream = (conn: TcpConnection, dir: Direction, offset: number | null): StreamRecord | null => {
      const r = connections.get(conn.id);
      if (!r) {
        violations.push(`call before open for ${conn.id}`);
        return null;
      }
      if (r.ended) violations.push(`call after end for ${conn.id}`);
      const s = r[dir];
      if (s.closed) violations.push(`call after close for ${conn.id} ${dir}`);
      if (offset !== null && offset !== s.next) violations.push(`offset ${offset} but expected ${s.next} in ${conn.id} ${dir}`);
      return s;
    };
    for (; this.replayed < this.calls.length; this.replayed++) {
      const { on, args } = this.calls[this.replayed];
      const conn = args[0] as TcpConnection;
      if (on === 'onOpen') {
        log.push(`open ${conn.id} ${conn.client}→${conn.server}${conn.sawHandshake ? '' : ' mid'}`);
        if (connections.has(conn.id)) violations.push(`open twice ${conn.id}`);
        const fresh = (): StreamRecord => ({ data: [], gaps: [], next: 0, delivered: 0, closed: null, origins: [] });
        connections.set(conn.id, { conn, c2s: fresh(), s2c: fresh(), ended: false, endTs: null });
      } else if (on === 'onData') {
        const [, dir, data, origin] = args as [TcpConnection, Direction, Uint8Array, StreamOrigin];
        log.push(`data ${conn.id} ${dir} ${origin.offset}+${origin.length} #${origin.packet}`);
        const s = stream(conn, dir, origin.offset);
        if (!s) continue;
        if (data.length !== origin.length || data.length === 0) violations.push(`bad data length ${data.length}/${origin.length}`);
        for (const b of data) s.data.push(b);
        s.next += data.length;
        s.delivered += data.length;
        s.origins.push(origin);
      } else if (on === 'onGap') {
        const [, dir, offset, length, packet] = args as [TcpConnection, Direction, number, number, number];
        log.push(`gap ${conn.id} ${dir} ${offset}+${length} #${packet}`);
        const s = stream(conn, dir, offset);
        if (!s) continue;
        if (length <= 0) violations.push(`empty gap`);
        s.gaps.push([offset, length]);
        if (length > MAX_GAP_MARKS) {
          violations.push(`gap of ${length} bytes`);
          continue;
        }
        for (let i = 0; i < length; i++) s.data.push(-1);
        s.next += length;
      } else if (on === 'onClose') {
        const [, dir, how, packet] = args as [TcpConnection, Direction, 'fin' | 'rst', number];
        log.push(`close ${conn.id} ${dir} ${how} #${packet}`);
        const s = stream(conn, dir, null);
        if (!s) continue;
        if (s.closed) violations.push(`close twice ${conn.id} ${dir}`);
        s.closed = how;
      } else if (on === 'onEnd') {
        log.push(`end ${conn.id}`);
        const r = connections.get(conn.id);
        if (!r || r.ended) {
          violations.push(`end of unknown or ended connection ${conn.id}`);
          continue;
        }
        r.ended = true;
        r.endTs = args[1] as number;
      }
    }
    return this.state;
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
    const data = bytes(payload);
    return {
      src: a.addr,
      dst: b.addr,
      srcPort: a.port,
      dstPort: b.port,
      seq: seq >>> 0,
      ack: ack >>> 0,
      flags: flagBits(flags),
      window: 65535,
      bytes: data,
      start: 0,
      end: data.length,
      payloadStart: 54, // after Ethernet, IPv4 and TCP headers without options
      missing: 0,
      packet: this.packet,
      ts: this.packet * 1000,
      ...extra,
    };
  }
}
