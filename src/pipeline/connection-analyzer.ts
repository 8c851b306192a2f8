/**
 * Everything above TCP for one connection: sniff what it speaks, run TLS when it is TLS, parse
 * HTTP/1.1 (or list HTTP/2 requests), and hand upgraded bytes to the exec session they belong to.
 */
import type { Direction, StreamOrigin } from '../core/origin.js';
import { appended, noEntries } from '../core/appended.js';
import type { ConnectionRecord, ExecSession } from '../model/session.js';
import type { TcpConnection } from '../net/tcp-reassembly.js';
import type { ExecSessionBuilder, SessionRequest } from '../k8s/exec-session.js';
import { SpdyExecTransport } from '../k8s/spdy-exec.js';
import { WebSocketExecTransport } from '../k8s/websocket-exec.js';
import type { ConnectionScope } from './connection-scope.js';
import type { PipelineContext } from './context.js';
import { Http1Consumer } from './http1-consumer.js';
import { http2Consumer } from './http2-consumer.js';
import { clientStart, crossedProtocols, type ClientStart, type CrossedProtocols, type SniffedProtocol } from './sniff.js';
import { ignoreStream, SniffingConsumer, type ConsumerFactory, type HandOff, type StreamConsumer } from './stream-consumer.js';
import { tlsConsumer } from './tls-consumer.js';
import { MidstreamConsumer } from './midstream-consumer.js';
import { pipelineProblem } from './problems.js';
import { tcpProblem } from '../net/problems.js';
import { sharedList, sharedText } from './shared-texts.js';

/** Enough of a status line to quote ("HTTP/1.1 400 Bad Request"). */
const FIRST_BYTES = 64;
/** Zero-window episodes kept per connection: a stall is the first few, a flapping window is not news after that. */
const MAX_ZERO_WINDOWS = 64;

/** A list grown by push holds spare capacity (a list of one request reserved 17 slots): an exact copy, or the one frozen empty list. */
const trimmed = <T>(list: T[]): T[] => (list.length === 0 ? noEntries() : list.slice());

/**
 * An ended connection's record, kept until the report, takes the least memory its content needs: a
 * capture of 200,000 probes keeps 200,000 records. Empty lists share one frozen list (sessionIds
 * too: a docker session that names an ended connection replaces its list rather than pushing to it).
 */
function compact(record: ConnectionRecord): void {
  record.requests = trimmed(record.requests);
  record.gaps = trimmed(record.gaps);
  record.zeroWindows = trimmed(record.zeroWindows);
  record.sessionIds = trimmed(record.sessionIds);
}

/**
 * The same for the sessions the connection carried, which nothing adds to once it has ended (docker
 * sessions, whose calls span connections, are not among them): 200,000 execs that were never
 * answered kept seven empty lists each, and their own copies of `default`, `sh` and the offered
 * subprotocols.
 */
function compactSession(s: ExecSession): void {
  s.streams = trimmed(s.streams);
  s.resizes = trimmed(s.resizes);
  s.control = trimmed(s.control);
  s.warnings = trimmed(s.warnings);
  s.ports = trimmed(s.ports);
  s.command = sharedList(s.command);
  s.offeredProtocols = sharedList(s.offeredProtocols);
  if (s.namespace !== null) s.namespace = sharedText(s.namespace);
  if (s.container !== null) s.container = sharedText(s.container);
}

export class ConnectionAnalyzer implements ConnectionScope, ConsumerFactory, HandOff {
  readonly record: ConnectionRecord;
  readonly where: string;
  private readonly consumer: SniffingConsumer;
  /**
   * Where the TCP payload goes: `consumer`'s push until it has sniffed the protocol, then that of the
   * consumer made for it (or its successor after a hand-off), called directly. With thousands of
   * connections interleaving, each object on a segment's way is mostly a fetch from outside the CPU
   * cache. Bound rather than read from the consumer at each segment: the consumers of one capture's
   * connections are of five or more classes (sniffing, HTTP/1, WebSocket, SPDY, HTTP/2, TLS), and
   * reading `push` from them was a megamorphic load on every segment.
   */
  private pushToTarget: StreamConsumer['push'];
  /** record.bytes, counted without going through the record, for the same reason. */
  private readonly bytes: ConnectionRecord['bytes'];
  private sessions: ExecSessionBuilder[] = [];
  private closed = false;
  /** What the client's first bytes begin and the server's first bytes, to tell TLS and plaintext crossed (sniff.ts crossedProtocols). */
  private clientStart: ClientStart | undefined = undefined;
  /**
   * Whether they crossed, judged at the server's first bytes when the client's came before (nearly
   * always), undefined until then; the copy of those bytes kept (`serverFirstBytes`) only when the
   * server spoke first, as it was ~260 bytes of heap for every open connection.
   */
  private crossed: CrossedProtocols | null | undefined = undefined;
  private serverFirstBytes: Uint8Array | null = null;
  private firstClose: { ts: number; by: 'client' | 'server'; reset: boolean } | undefined;
  private clientClosed = false;
  /** The server reset the connection before the client closed its side (a client's FIN or RST ends it normally). */
  private serverReset = false;
  /** A problem named it or a docker call used it: listed whatever the bound on plain connections. */
  notable = false;
  /** A docker call used it: its docker session may still change its record after it ended. */
  dockerCall = false;

  constructor(
    private readonly conn: TcpConnection,
    readonly ctx: PipelineContext,
  ) {
    this.where = `${conn.client}→${conn.server}`;
    this.record = {
      id: conn.id,
      client: conn.client,
      server: conn.server,
      startTs: conn.startTs,
      endTs: null,
      firstPacket: conn.firstPacket,
      protocol: 'empty',
      bytes: { c2s: 0, s2c: 0 },
      // Shared frozen lists until their first entry (`appended`): most stay empty.
      requests: noEntries(),
      tls: null,
      sessionIds: noEntries(),
      gaps: noEntries(),
      zeroWindows: noEntries(),
    };
    this.bytes = this.record.bytes;
    // The analyzer makes the consumers of the TCP payload itself; layers inside it have their own factories.
    this.consumer = new SniffingConsumer(this);
    this.pushToTarget = this.consumer.push.bind(this.consumer);
  }

  /** TCP payload of `dir`: bytes[start, end) (StreamConsumer.push). */
  data(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    const counts = this.bytes;
    // Not counts[dir]: a property name that alternates makes the access megamorphic, on every segment.
    if (dir === 'c2s') {
      if (counts.c2s === 0) this.clientStart = clientStart(bytes.subarray(start, end));
      counts.c2s += end - start;
    } else {
      if (counts.s2c === 0) {
        const first = bytes.subarray(start, Math.min(end, start + FIRST_BYTES));
        if (counts.c2s > 0) this.crossed = crossedProtocols(this.clientStart, first);
        else this.serverFirstBytes = first.slice();
      }
      counts.s2c += end - start;
    }
    this.pushToTarget(dir, bytes, start, end, origin);
  }

  /** TCP flow control: the receiver of `dir` closed its window, the sender probed it, or it opened again. */
  window(dir: Direction, change: 'closed' | 'probe' | 'open', accepted: number, packet: number, ts: number): void {
    const windows = this.record.zeroWindows;
    let last = null;
    for (let i = windows.length - 1; i >= 0 && !last; i--) if (windows[i].dir === dir) last = windows[i];
    if (change === 'closed') {
      if (windows.length < MAX_ZERO_WINDOWS) this.record.zeroWindows = appended(windows, { dir, ts, packet, accepted, probes: 0, reopenedAt: null });
    } else if (last && last.reopenedAt === null) {
      if (change === 'probe') last.probes++;
      else last.reopenedAt = ts;
    }
  }

  gap(dir: Direction, offset: number, length: number, ts: number): void {
    this.record.gaps = appended(this.record.gaps, { dir, offset, length, ts });
    this.ctx.warn(
      tcpProblem('gap', `${length} bytes missing from the capture (TCP gap)`, { where: `${this.where} ${dir} offset ${offset}`, connection: this.record.id, direction: dir, offset }),
    );
    this.consumer.gap(dir, offset, length);
  }

  /** A direction closed; a reset closes both, the side that sent it first. */
  close(dir: Direction, how: 'fin' | 'rst', ts: number, packet: number): void {
    this.closed = true;
    this.consumer.close(dir, how, ts, packet);
    this.firstClose ??= { ts, by: dir === 'c2s' ? 'client' : 'server', reset: how === 'rst' };
    if (this.clientClosed) return;
    if (dir === 'c2s') this.clientClosed = true;
    else if (how === 'rst') this.serverReset = true;
  }

  end(ts: number): void {
    this.record.endTs = ts;
    const crossed = this.crossed ?? crossedProtocols(this.clientStart, this.serverFirstBytes);
    if (crossed) this.record.crossed = crossed;
    this.consumer.end();
    for (const s of this.sessions) {
      s.finish({ ts, connectionClosed: this.closed, serverReset: this.serverReset, firstClose: this.firstClose });
      compactSession(s.session);
    }
    compact(this.record);
  }

  markNotable(): void {
    this.notable = true;
  }

  markDockerCall(): void {
    this.notable = true;
    this.dockerCall = true;
  }

  /** The sessions this connection carried alone (docker's, whose calls span connections, are not among them). */
  get ownSessions(): ExecSession[] {
    return this.sessions.map((b) => b.session);
  }

  newSession(req: SessionRequest): ExecSessionBuilder {
    const s = this.ctx.newSession(this.record, req);
    this.sessions = appended(this.sessions, s);
    return s;
  }

  /** The consumer of the TCP payload itself, once sniffed (asked by `consumer`, which is `_layer`). */
  consumerFor(kind: SniffedProtocol, _layer: HandOff): StreamConsumer {
    // The consumer hands off through the analyzer, which follows to the successor.
    const consumer = this.consumerOf(kind, true, true, this);
    this.pushToTarget = consumer.push.bind(consumer);
    return consumer;
  }

  handOff(successor: StreamConsumer): void {
    this.consumer.handOff(successor);
    this.pushToTarget = successor.push.bind(successor);
  }

  tunnel(insideTls: boolean): StreamConsumer {
    return new SniffingConsumer(new InnerLayer(this, !insideTls));
  }

  /**
   * `outer`: on the TCP payload itself, where a capture that missed the connection's start may need
   * mid-stream inference. `tlsAllowed`: not already inside TLS (TLS is not looked for inside TLS).
   */
  consumerOf(kind: SniffedProtocol, outer: boolean, tlsAllowed: boolean, layer: HandOff): StreamConsumer {
    // An empty tunnel or TLS plaintext leaves the connection named by what carried it.
    if (outer || kind !== 'empty') this.record.protocol = kind === 'http1' ? 'http' : kind;
    switch (kind) {
      case 'http1':
        // A CONNECT tunnel carries a connection of its own: its bytes are sniffed afresh.
        return new Http1Consumer(this, layer, !tlsAllowed);
      case 'http2':
        return http2Consumer(this);
      case 'tls':
        return tlsAllowed ? tlsConsumer(this, this.ctx.keys, () => new SniffingConsumer(new InnerLayer(this, false))) : ignoreStream;
      case 'unknown':
        // Framing without an HTTP upgrade only makes sense when the capture missed the start.
        return outer && !this.conn.sawHandshake ? this.midstream() : ignoreStream;
      default:
        return ignoreStream;
    }
  }

  /** A capture that starts after the upgrade: no request, only the framing tells what this is. */
  private midstream(): StreamConsumer {
    return new MidstreamConsumer(
      (transport, skipped) => {
        const r = this.record;
        r.protocol = transport;
        if (transport === 'tls') {
          this.ctx.warn(pipelineProblem('started-midstream', 'capture starts mid-connection: TLS records without their handshake; listed, not decoded', { where: this.where, connection: r.id }));
          return null;
        }
        if (transport === 'http2') {
          // A long-lived HTTP/2 connection (the kubelet's to its runtime) joined after its preface.
          const lost = skipped.c2s + skipped.s2c ? `, ${skipped.c2s + skipped.s2c} bytes before the first frame boundary skipped` : '';
          this.ctx.warn(pipelineProblem('started-midstream', `capture starts mid-connection: HTTP/2 inferred from the framing${lost}; header fields indexed before the capture began are unknown`, { where: this.where, connection: r.id }));
          return http2Consumer(this, { joinedMidConnection: true });
        }
        const origin = { offset: 0, length: 0, packet: r.firstPacket, ts: r.startTs, lastPacket: r.firstPacket, lastTs: r.startTs };
        const s = this.newSession({ method: '', target: '', origin, transport, offeredProtocols: [], userAgent: null, parsed: null });
        const lost = skipped.c2s + skipped.s2c ? `; ${skipped.c2s + skipped.s2c} bytes before the first frame boundary skipped` : '';
        s.warn(
          pipelineProblem('started-midstream', `capture starts after the upgrade: request and negotiated protocol unknown, ${transport} inferred from the framing${lost}`, {
            where: this.where,
          }),
        );
        return transport === 'websocket' ? new WebSocketExecTransport(s, 'v5.channel.k8s.io', this.where) : new SpdyExecTransport(s, this.where);
      },
      (message) => this.ctx.warn(pipelineProblem('midstream-undecoded', message, { where: this.where, connection: this.record.id })),
    );
  }
}

/** A layer inside the connection (a CONNECT tunnel's bytes, TLS plaintext): sniffed afresh, never mid-stream. */
class InnerLayer implements ConsumerFactory {
  constructor(
    private readonly analyzer: ConnectionAnalyzer,
    private readonly tlsAllowed: boolean,
  ) {}

  consumerFor(kind: SniffedProtocol, layer: HandOff): StreamConsumer {
    return this.analyzer.consumerOf(kind, false, this.tlsAllowed, layer);
  }
}
