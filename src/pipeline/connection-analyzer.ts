/**
 * Everything above TCP for one connection: sniff what it speaks, run TLS when it is TLS, parse
 * HTTP/1.1 (or list HTTP/2 requests), and hand upgraded bytes to the exec session they belong to.
 */
import type { Direction, Problem, StreamOrigin } from '../model/origin.js';
import type { ConnectionRecord } from '../model/session.js';
import type { TcpConnection } from '../net/tcp-reassembly.js';
import { HttpConnectionParser, header, headerValues, type HttpRequestHead, type HttpResponseHead } from '../http/http-connection.js';
import { parseStreamingRequest } from '../k8s/exec-request.js';
import { ExecSessionBuilder } from '../k8s/exec-session.js';
import { SpdyExecTransport } from '../k8s/spdy-exec.js';
import { WebSocketExecTransport } from '../k8s/websocket-exec.js';
import type { UpgradedTransport } from '../k8s/upgraded-transport.js';
import { sniffProtocol, type SniffedProtocol } from './sniff.js';
import type { PipelineContext } from './context.js';

/** A decoder of one connection's (plaintext) byte streams. */
interface StreamConsumer {
  push(dir: Direction, data: Uint8Array, origin: StreamOrigin): void;
  gap(dir: Direction, offset: number, length: number): void;
  end(): void;
}

const SNIFF_BYTES = 8;

export class ConnectionAnalyzer {
  readonly record: ConnectionRecord;
  private consumer: StreamConsumer | null = null;
  /** Bytes held until enough are seen to tell the protocol. */
  private held: { dir: Direction; data: Uint8Array; origin: StreamOrigin }[] = [];
  private heldBytes: Record<Direction, number> = { c2s: 0, s2c: 0 };
  private closed = false;
  private readonly sessions: ExecSessionBuilder[] = [];
  readonly where: string;

  constructor(
    conn: TcpConnection,
    private readonly ctx: PipelineContext,
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
      requests: [],
      tls: null,
      sessionIds: [],
      gaps: [],
    };
  }

  data(dir: Direction, data: Uint8Array, origin: StreamOrigin): void {
    this.record.bytes[dir] += data.length;
    if (this.consumer) return this.consumer.push(dir, data, origin);
    this.held.push({ dir, data: data.slice(), origin });
    this.heldBytes[dir] += data.length;
    if (this.heldBytes[dir] >= SNIFF_BYTES) this.decide();
  }

  gap(dir: Direction, offset: number, length: number, ts: number): void {
    this.record.gaps.push({ dir, offset, length, ts });
    this.ctx.warn({ where: `${this.where} ${dir} offset ${offset}`, message: `${length} bytes missing from the capture (TCP gap)` });
    if (!this.consumer) this.decide();
    this.consumer?.gap(dir, offset, length);
  }

  close(): void {
    this.closed = true;
  }

  end(ts: number): void {
    if (!this.consumer && this.held.length) this.decide();
    this.consumer?.end();
    this.record.endTs = ts;
    for (const s of this.sessions) s.finish({ ts, connectionClosed: this.closed });
  }

  /** Finish sessions still open when the capture ends (the connection never closed in it). */
  private decide(): void {
    const first = (dir: Direction) => {
      const parts = this.held.filter((h) => h.dir === dir).map((h) => h.data);
      return Buffer.concat(parts).subarray(0, 64);
    };
    const kind = sniffProtocol(first('c2s'), first('s2c'));
    this.consumer = this.consumerFor(kind);
    const held = this.held;
    this.held = [];
    for (const h of held) this.consumer.push(h.dir, h.data, h.origin);
  }

  private consumerFor(kind: SniffedProtocol): StreamConsumer {
    this.record.protocol = kind === 'http1' ? 'http' : kind === 'http2' ? 'http2' : kind;
    switch (kind) {
      case 'http1':
        return this.http1();
      case 'spdy':
        return this.midstream('spdy');
      case 'websocket':
        return this.midstream('websocket');
      default:
        return { push() {}, gap() {}, end() {} };
    }
  }

  private http1(): StreamConsumer {
    const ctx = this.ctx;
    const rec = this.record;
    let pending: { req: HttpRequestHead; session: ExecSessionBuilder | null; requestIndex: number }[] = [];
    let transport: UpgradedTransport | null = null;
    let upgradedSession: ExecSessionBuilder | null = null;
    const parser: HttpConnectionParser = new HttpConnectionParser({
      onRequest: (req) => {
        rec.requests.push({ method: req.method, target: req.target, status: null, ts: req.origin.ts });
        const upgrade = (header(req, 'upgrade') ?? '').toLowerCase();
        const parsed = parseStreamingRequest(req.method, req.target);
        let session: ExecSessionBuilder | null = null;
        if (parsed && upgrade) {
          const transport = upgrade.startsWith('websocket') ? 'websocket' : 'spdy';
          const offered =
            transport === 'websocket' ? headerValues(req, 'sec-websocket-protocol') : headerValues(req, 'x-stream-protocol-version');
          session = ctx.newSession(rec, {
            method: req.method,
            target: req.target,
            origin: req.origin,
            transport,
            offeredProtocols: offered,
            parsed,
          });
          this.sessions.push(session);
        }
        pending.push({ req, session, requestIndex: rec.requests.length - 1 });
      },
      onResponse: (res: HttpResponseHead, req) => {
        if (res.status >= 100 && res.status < 200 && res.status !== 101) return;
        const i = pending.findIndex((p) => p.req === req);
        const entry = i >= 0 ? pending[i] : undefined;
        if (entry) rec.requests[entry.requestIndex].status = res.status;
        if (entry?.session && res.status === 101) {
          const s = entry.session;
          const protocol =
            s.session.transport === 'websocket' ? (header(res, 'sec-websocket-protocol') ?? '') : (header(res, 'x-stream-protocol-version') ?? '');
          s.upgraded(101, protocol.trim(), res.origin.lastTs);
          s.control('upgrade', 's2c', `101 Switching Protocols ${protocol}`.trim(), res.origin);
          upgradedSession = s;
        }
      },
      onMessageComplete: (dir, head, body) => {
        if (dir !== 's2c') return;
        const res = head as HttpResponseHead;
        const entry = pending[0];
        if (!entry) return;
        pending = pending.slice(1);
        if (entry.session && res.status !== 101) {
          entry.session.refused(res.status, body, res.origin.lastTs);
          ctx.sessionRefused(entry.session);
        }
      },
      onUpgrade: () => {
        const s = upgradedSession;
        if (!s) {
          ctx.warn({ where: this.where, message: 'connection upgraded by a request that is not exec/attach/portforward: upgraded bytes not decoded' });
          return;
        }
        rec.protocol = s.session.transport;
        transport =
          s.session.transport === 'websocket'
            ? new WebSocketExecTransport(s, s.session.protocol, this.where)
            : new SpdyExecTransport(s, this.where);
      },
      onUpgradedData: (dir, data, origin) => transport?.push(dir, data, origin),
      onUpgradedGap: (dir, offset, length) => transport?.gap(dir, offset, length),
      onProblem: (p: Problem) => ctx.warn({ where: `${this.where} ${p.where}`, message: p.message }),
    });
    return {
      push: (dir, data, origin) => parser.push(dir, data, origin),
      gap: (dir, offset, length) => parser.gap(dir, offset, length),
      end: () => {
        parser.end();
        transport?.end();
      },
    };
  }

  /** A capture that starts after the upgrade: no request, only the framing tells what this is. */
  private midstream(transport: 'spdy' | 'websocket'): StreamConsumer {
    const s = this.ctx.newSession(this.record, {
      method: '',
      target: '',
      origin: { offset: 0, length: 0, packet: this.record.firstPacket, ts: this.record.startTs, lastPacket: this.record.firstPacket, lastTs: this.record.startTs },
      transport,
      offeredProtocols: [],
      parsed: null,
    });
    this.sessions.push(s);
    s.warn({ where: this.where, message: `capture starts after the upgrade: request and negotiated protocol unknown, ${transport} inferred from the framing` });
    return transport === 'websocket' ? new WebSocketExecTransport(s, 'v5.channel.k8s.io', this.where) : new SpdyExecTransport(s, this.where);
  }
}
