/**
 * The whole decoding pipeline, sans-IO: capture bytes in, a growing CaptureModel out.
 * capture reader → link/IP → TCP reassembly → per-connection analyzers → exec sessions.
 */
import { CaptureDecoder, TruncatedCaptureError } from '../capture/capture-decoder.js';
import { linkHops } from '../model/cross-hop.js';
import { DecodeError } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { appended } from '../core/appended.js';
import type { CaptureModel, ConnectionRecord } from '../model/session.js';
import type { RpcCall } from '../model/rpc-call.js';
import { PacketDecoder } from '../net/packet-decoder.js';
import { isSupportedLinkType, linkTypeName } from '../net/link-layer.js';
import { TcpReassembler, type TcpSink } from '../net/tcp-reassembly.js';
import { LINKTYPE_USER0, SockdumpStreams } from '../net/sockdump.js';
import { ExecSessionBuilder, type SessionRequest } from '../k8s/exec-session.js';
import { TlsKeyLog } from '../tls/key-log.js';
import { DockerSessions } from '../docker/docker-sessions.js';
import { ConnectionAnalyzer } from './connection-analyzer.js';
import type { PipelineContext } from './context.js';
import type { AnalyzeOptions } from './options.js';
import { pipelineProblem } from './problems.js';
import { CAPTURE_TRAFFIC_ENTRIES_KEPT, TrafficListingBudget } from './traffic-budget.js';
import { CAPTURE_CARRIER_ENTRIES, CarrierLogBudget } from '../core/carrier-log.js';
import { captureProblem } from '../capture/problems.js';
import { ConnectionListing } from './connection-listing.js';
import { EndedRecords } from './ended-records.js';

const MAX_WARNINGS = 1000;
/** pcapng DSB secrets type for an NSS key log ("TLSK"). */
const SECRETS_TLS_KEY_LOG = 0x544c534b;

/** Same request (path and query, whatever the method) from the same client host. */
function fallbackKey(conn: ConnectionRecord, target: string): string {
  const host = conn.client.slice(0, conn.client.lastIndexOf(':'));
  return `${host} ${target}`;
}

export class CaptureAnalyzer implements PipelineContext {
  readonly model: CaptureModel;
  private readonly capture: CaptureDecoder;
  private readonly packets: PacketDecoder;
  private readonly tcp: TcpReassembler<ConnectionAnalyzer>;
  private readonly unixStreams: SockdumpStreams<ConnectionAnalyzer>;
  private readonly connections = new Map<number, ConnectionAnalyzer>();
  private readonly listing: ConnectionListing;
  /** Null when every record stays in memory (AnalyzeOptions.endedConnectionsHeld). */
  private readonly ended: EndedRecords | null;
  private sessionsMade = 0;
  private readonly refusedWebSockets = new Map<string, number>();
  private warningsDropped = 0;
  private finished = false;
  readonly keys: TlsKeyLog;
  readonly docker = new DockerSessions(this);
  /** Its one warning bypasses MAX_WARNINGS: it says why later connections list nothing. */
  readonly trafficBudget = new TrafficListingBudget(CAPTURE_TRAFFIC_ENTRIES_KEPT, (p) => this.model.warnings.push(p));
  readonly carrierBudget: CarrierLogBudget;
  /** Key logs found in the capture itself (pcapng DSBs). */
  readonly embeddedKeyLogs: { text: string; source: string }[] = [];
  private tlsLackedKeys = false;
  /** A DSB arrived after a TLS connection had already found no keys: a second pass would decrypt more. */
  keysArrivedLate = false;

  constructor(private readonly opts: AnalyzeOptions) {
    this.keys = opts.keys ?? new TlsKeyLog();
    this.model = {
      capture: { format: null, packets: 0, linkTypes: [], unsupportedLinkTypes: [], originNs: null, bytesRead: 0 },
      sessions: [],
      connections: [],
      rpcs: [],
      warnings: [],
      fatal: null,
      done: false,
    };
    this.listing = new ConnectionListing(this.model, opts.plainConnectionsListed);
    // Its one warning bypasses MAX_WARNINGS too: past it, the Event pane needs the keys to name records.
    const entries = opts.carrierLogEntries ?? CAPTURE_CARRIER_ENTRIES;
    this.carrierBudget = new CarrierLogBudget(entries, () =>
      this.model.warnings.push(
        pipelineProblem('carrier-budget-spent', `the capture's ${entries} logged TLS records and tunnel pieces are spent: re-read without the keys, later bytes of TLS connections are not traced to their records and packets`, { where: 'capture' }),
      ),
    );
    // Its one warning bypasses MAX_WARNINGS: it says why memory was not bounded.
    this.ended = opts.endedConnectionsHeld !== undefined && !opts.hash ? new EndedRecords(this.model, opts.endedConnectionsHeld, (p) => this.model.warnings.push(p)) : null;
    // After the model: a malformed line is a warning in it.
    for (const log of opts.keyLogs) this.addKeyLog(log.text, log.source);
    // Each connection's analyzer comes back with every call for it (TcpSink's `own`).
    const streams: TcpSink<ConnectionAnalyzer> = {
      onOpen: (conn) => {
        const a = new ConnectionAnalyzer(conn, this);
        this.connections.set(conn.id, a);
        insertInIdOrder(this.model.connections, a.record);
        return a;
      },
      onData: (_conn, dir, bytes, start, end, origin, a) => a.data(dir, bytes, start, end, origin),
      onWindow: (_conn, dir, change, accepted, packet, ts, a) => a.window(dir, change, accepted, packet, ts),
      onGap: (_conn, dir, offset, length, _packet, ts, a) => a.gap(dir, offset, length, ts),
      onClose: (_conn, dir, how, packet, ts, a) => a.close(dir, how, ts, packet),
      onEnd: (conn, ts, a) => {
        a.end(ts);
        const listed = this.listing.ended(a.record, a.notable);
        if (listed && !a.dockerCall) this.ended?.ended(a.record, a.ownSessions);
        this.connections.delete(conn.id);
      },
      onProblem: (p) => this.warn(p),
    };
    let connectionId = 1;
    const nextConnectionId = () => connectionId++;
    this.tcp = new TcpReassembler(streams, { nextConnectionId, reorderHoldNs: opts.reorderHoldNs });
    this.unixStreams = new SockdumpStreams(streams, nextConnectionId);
    const tcp = this.tcp;
    this.packets = new PacketDecoder({
      onSegment: (seg) => tcp.push(seg),
      onProblem: (p) => this.warn(p),
    });
    const clockShift = opts.clockShiftNs;
    this.capture = new CaptureDecoder({
      onInfo: (info) => {
        this.model.capture.format = info.format;
        this.model.capture.originNs = info.originNs;
      },
      onInterface: (iface) => {
        const name = linkTypeName(iface.linkType);
        const c = this.model.capture;
        if (!c.linkTypes.includes(name)) c.linkTypes.push(name);
        if (!isSupportedLinkType(iface.linkType) && iface.linkType !== LINKTYPE_USER0 && !c.unsupportedLinkTypes.includes(name)) c.unsupportedLinkTypes.push(name);
      },
      // The model's packet count is the reader's, taken after each push: not counted a second time here.
      onPacket: (p) => {
        if (clockShift !== 0) p.ts += clockShift;
        // sockdump's unix-socket records carry no IP: their streams go straight to the connection analyzers.
        if (p.linkType === LINKTYPE_USER0) this.unixStreams.push(p);
        else this.packets.push(p);
      },
      onSecrets: (type, data, fileOffset) => {
        if (type !== SECRETS_TLS_KEY_LOG) {
          this.warn(captureProblem('secrets-ignored', `decryption secrets of type 0x${type.toString(16)} ignored`, { where: `byte ${fileOffset}`, offset: fileOffset }));
          return;
        }
        const log = { text: Buffer.from(data).toString('utf8'), source: `pcapng secrets block at byte ${fileOffset}` };
        this.embeddedKeyLogs.push(log);
        this.addKeyLog(log.text, log.source);
        if (this.tlsLackedKeys) this.keysArrivedLate = true;
      },
      onProblem: (p) => this.warn(p),
    });
  }

  tlsWithoutKeys(): void {
    this.tlsLackedKeys = true;
  }

  private addKeyLog(text: string, source: string): void {
    for (const p of this.keys.add(text, source).problems) this.warn(p);
  }

  /** Feed capture bytes. Returns false once decoding has stopped (corrupt or finished capture). */
  push(chunk: Uint8Array): boolean {
    if (this.finished) return false;
    this.model.capture.bytesRead += chunk.length;
    const ok = this.guard(() => this.capture.push(chunk));
    this.model.capture.packets = this.capture.packetCount;
    return ok;
  }

  /**
   * Feed capture bytes that start at a record: the complete records are decoded in place (see
   * CaptureDecoder.pushRecords). Returns the bytes they took, or null once decoding has stopped.
   */
  pushRecords(bytes: Uint8Array): number | null {
    if (this.finished) return null;
    let used = 0;
    const ok = this.guard(() => (used = this.capture.pushRecords(bytes)));
    this.model.capture.bytesRead = this.capture.bytesConsumed;
    this.model.capture.packets = this.capture.packetCount;
    return ok ? used : null;
  }

  /** At least this many bytes, from where pushRecords stopped, hold the next record. */
  get recordBytesNeeded(): number {
    return this.capture.recordBytesNeeded;
  }

  end(): void {
    if (this.finished) return;
    this.guard(() => this.capture.end());
    this.finish();
  }

  newSession(conn: ConnectionRecord, req: SessionRequest): ExecSessionBuilder {
    const id = ++this.sessionsMade;
    const b = new ExecSessionBuilder({ id, connectionId: conn.id, client: conn.client, server: conn.server }, req, this.opts, this.opts.tap);
    if (req.transport === 'spdy') {
      const from = this.refusedWebSockets.get(fallbackKey(conn, req.target));
      if (from !== undefined) b.session.fallbackFrom = from;
    }
    conn.sessionIds = appended(conn.sessionIds, id);
    this.model.sessions.push(b.session);
    return b;
  }

  newRpc(call: Omit<RpcCall, 'id'>): RpcCall {
    const rpc = { id: this.model.rpcs.length + 1, ...call };
    this.model.rpcs.push(rpc);
    return rpc;
  }

  sessionRefused(s: ExecSessionBuilder): void {
    if (s.session.transport !== 'websocket') return;
    const conn = this.model.connections.find((c) => c.id === s.session.connectionId);
    if (conn) this.refusedWebSockets.set(fallbackKey(conn, s.session.target), s.session.id);
  }

  warn(p: Problem): void {
    if (p.connection !== undefined) this.connections.get(p.connection)?.markNotable();
    if (this.model.warnings.length < MAX_WARNINGS) this.model.warnings.push(p);
    else this.warningsDropped++;
  }

  /** Decoding stopped at `e` (a corrupt record, or compressed bytes cut short): the model is what came before it. */
  fail(e: DecodeError): void {
    if (this.finished) return;
    this.model.fatal = { message: e.message, where: e.where, truncated: e instanceof TruncatedCaptureError };
    this.finish();
  }

  private guard(step: () => void): boolean {
    try {
      step();
      return true;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.fail(e);
      return false;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.model.capture.packets = this.capture.packetCount;
    this.packets.end();
    this.tcp.end();
    this.unixStreams.end();
    this.docker.finish(Math.max(0, this.tcp.latestTs));
    if (this.ended) this.ended.finish(this.model.rpcs);
    else linkHops(this.model.sessions, this.model.rpcs);
    // Its one warning bypasses MAX_WARNINGS: it says why the list lacks connections.
    const unlisted = this.listing.finish();
    if (unlisted) this.model.warnings.push(unlisted);
    if (this.warningsDropped) this.model.warnings.push(pipelineProblem('warnings-dropped', `${this.warningsDropped} more warnings not shown`, { where: 'capture' }));
    this.model.done = true;
  }
}

/**
 * The model lists connections in id order (the order of their first packets), which is also the order
 * the reports read spilled ones back in. A connection opens (client and server decided) later than
 * its first packet when it began mid-stream or with a lone SYN, so a later id may open first.
 */
function insertInIdOrder(list: ConnectionRecord[], record: ConnectionRecord): void {
  if (list.length === 0 || list[list.length - 1].id < record.id) {
    list.push(record);
    return;
  }
  let [lo, hi] = [0, list.length - 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].id < record.id) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, record);
}
