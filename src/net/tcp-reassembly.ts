/**
 * TCP reassembly: segments in, per-connection in-order byte streams out (both directions), with gaps
 * where the capture lost bytes.
 *
 * Stream offsets are JS numbers counted from the byte after the SYN (or from the first byte seen
 * when the capture starts mid-connection); a sequence number becomes the offset nearest to the next
 * expected one, which survives the 32-bit wrap. Data at the expected offset goes straight to the
 * sink as the packet's buffer and where in it the bytes lie; only data ahead of a hole is copied,
 * into a capped buffer.
 * Bytes are declared lost (onGap) when the peer acknowledges them without the capture having seen
 * them (after a short hold-back: see `reorderHoldNs`), when the buffer cap is hit, or when the
 * connection ends with holes.
 */
import { ZERO_TS, type Direction, type StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { appended } from '../core/appended.js';
import { tcpAnalysisProblem, tcpProblem } from './problems.js';
import { RangeBuffer } from './range-buffer.js';
import { senderRole } from './stream-role.js';
import { analyzeSegment, TcpSenderAnalysis, type TcpAnalysisFinding } from './tcp-analysis.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from './tcp.js';

export interface TcpConnection {
  /** 1-based, in order of first appearance. */
  id: number;
  /** "ip:port", IPv6 "[addr]:port". */
  client: string;
  server: string;
  firstPacket: number;
  startTs: number;
  /** The SYN or SYN-ACK was captured: stream offsets count from the true start. */
  sawHandshake: boolean;
}

/**
 * `R`: what the sink keeps per connection. onOpen returns it, and every later call for the connection
 * hands it back (`own`): with thousands of connections interleaving, a lookup by connection in a
 * table of the sink's was two or three more cache lines fetched per segment.
 */
export interface TcpSink<R = void> {
  /** Before any other call for the connection. */
  onOpen(conn: TcpConnection): R;
  /**
   * In-order, de-duplicated payload: bytes[start, end), where `bytes` may be the packet's buffer (the
   * capture reader's, refilled for later packets): valid only during the call. origin.offset =
   * position in that direction's stream, origin.length = end - start. One call per contiguous piece
   * of a segment.
   */
  onData(conn: TcpConnection, dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, own: R): void;
  /** Bytes lost: [offset, offset+length) of the direction's stream will never be delivered; delivery resumes at offset+length. */
  onGap(conn: TcpConnection, dir: Direction, offset: number, length: number, packet: number, ts: number, own: R): void;
  /**
   * The receiver of `dir` advertised a zero window ('closed'), the sender probed it ('probe'), or the
   * receiver opened it again ('open'). `accepted`: bytes of `dir` the receiver had acknowledged.
   * Only transitions and probes are reported: nothing per segment while the window is open.
   */
  onWindow?(conn: TcpConnection, dir: Direction, change: 'closed' | 'probe' | 'open', accepted: number, packet: number, ts: number, own: R): void;
  /** After all data of the direction up to the FIN (or as far as it got, for a reset) was delivered. */
  onClose(conn: TcpConnection, dir: Direction, how: 'fin' | 'rst', packet: number, ts: number, own: R): void;
  /** The connection is finished (both sides closed/reset, or the capture ended): no further calls for it. */
  onEnd(conn: TcpConnection, ts: number, own: R): void;
  onProblem?(p: Problem): void;
}

export interface TcpReassemblerOptions {
  /** Out-of-order bytes held per direction before the hole in front of them is declared lost. Default 8 MiB. */
  maxBufferedBytesPerDirection?: number;
  /** The same, over all connections. Default 256 MiB. */
  maxBufferedBytes?: number;
  /** Connections tracked at once; beyond it the least recently active one is ended. Default 10000. */
  maxConnections?: number;
  /**
   * Nanoseconds of packet time during which a finished connection's 4-tuple still absorbs stray
   * segments (retransmitted FINs, last ACKs) rather than starting a new connection; a new SYN always
   * starts one. Default 10 s.
   */
  lingerNs?: number;
  /** Numbers new connections (default 1, 2, 3…): a pipeline with other stream sources shares one counter. */
  nextConnectionId?: () => number;
  /**
   * Packet time reassembly waits for segments stored out of order before it acts on what a later
   * record says: bytes the peer acknowledged become a gap, a segment acknowledging peer bytes not
   * delivered yet is delivered after them, a reset ends the connection. Captures written from
   * per-CPU buffers (eBPF tools such as ptcpdump) store data segments after the segment that
   * acknowledges them and responses before their requests. 0: act at once. Default 1 s.
   */
  reorderHoldNs?: number;
  /** Bytes held ahead of an acknowledged hole (per direction) after which it is declared lost at once. Default 1 MiB. */
  reorderHoldBytes?: number;
  /** Problems of each TCP analysis flag (retransmission, duplicate ACK…) reported per connection; the rest are counted only. Default 10. */
  analysisProblemsPerConnection?: number;
}

/** The largest TCP window (RFC 7323): a segment or ACK further ahead than this cannot belong to the stream. */
const MAX_WINDOW = 2 ** 30;
/** Endpoint texts remembered for reuse (TcpReassembler.endpointText). */
const ENDPOINT_TEXTS = 4096;
/** How often (packet time) finished connections past their linger are forgotten. */
const PRUNE_INTERVAL_NS = 1e9;

/** An acknowledgment reaching past the captured bytes, held back until `deadline` (packet time). */
interface AckedHole {
  ackSeq: number;
  /** The ACK's packet and time: where the gap is reported if the bytes never come. */
  packet: number;
  ts: number;
  deadline: number;
}

/** Acknowledgments on hold per direction; later ones replace the last (its deadline stays). */
const MAX_ACKED_HOLES = 64;

/**
 * A segment that acknowledged peer bytes the capture has not delivered yet was sent after them (a
 * response after its request): this side's bytes from `from` on wait until the peer's stream
 * reaches `upTo`, or until `deadline` (packet time).
 */
interface PeerWait {
  from: number;
  upTo: number;
  deadline: number;
}

/** Waits per direction; later ones merge into the last. */
const MAX_PEER_WAITS = 64;

/**
 * What a direction holds before it holds anything: one shared, never-changed buffer and frozen
 * lists (the lists grow by `appended`). Up to 10,000 connections are open at once, and their
 * directions mostly never hold a byte out of order nor wait for anything (~0.3 KB a connection).
 */
const NOTHING_HELD = new RangeBuffer();
const NO_HOLES: AckedHole[] = Object.freeze([]) as unknown as AckedHole[];
const NO_WAITS: PeerWait[] = Object.freeze([]) as unknown as PeerWait[];

/**
 * One direction of a connection, named after the endpoint that sends it. It is its own sender
 * analysis (the fields TcpSenderAnalysis declares): a separate object per side was two more
 * objects to fetch per segment, mostly from outside the CPU cache when thousands of connections
 * interleave.
 */
class HalfStream extends TcpSenderAnalysis {
  dir: Direction = 'c2s';
  /** Sequence number of stream offset 0, or -1 until the first SYN, payload or FIN of this side. */
  base = -1;
  /** Sequence number of this side's SYN, or -1. */
  synSeq = -1;
  /** Offset of the next byte to deliver. */
  next = 0;
  private heldRanges: RangeBuffer | null = null;
  /** Highest sequence number the peer acknowledged, or -1. */
  ackedSeq = -1;
  /** Acknowledgments of bytes the capture has not shown yet, on hold, oldest first. */
  ackedHoles: AckedHole[] = NO_HOLES;
  /** Segments of this side that wait for their peer's stream (see PeerWait), in arrival order. */
  waits: PeerWait[] = NO_WAITS;
  /** This side's last advertised window was zero: its peer may not send. */
  windowClosed = false;
  finOffset = -1;
  finPacket = 0;
  finTs = ZERO_TS;
  closed = false;

  constructor(
    readonly addr: string,
    readonly port: number,
  ) {
    super();
  }

  /** Data ahead of `next`, waiting for the hole before it (read-only: `holding` to add to it). */
  get held(): RangeBuffer {
    return this.heldRanges ?? NOTHING_HELD;
  }

  /** `held`, made at the first range it holds. */
  get holding(): RangeBuffer {
    return (this.heldRanges ??= new RangeBuffer());
  }

  /** The stream offset of a sequence number: the one nearest to `next`, as sequence numbers wrap at 2^32. */
  offsetOf(seq: number): number {
    return this.next + ((seq - this.base - this.next) | 0);
  }
}

class ConnectionState<R> {
  /** Set when the sink was told (client and server decided). */
  info: TcpConnection | null = null;
  /** What the sink's onOpen returned, set with `info`. */
  own!: R;
  sawHandshake = false;
  ended = false;
  /**
   * A reset seen but not applied yet: bytes it cut off may still be stored after it (per-CPU
   * buffers), so it takes effect at `deadline` (packet time), at the capture's end or on a new SYN.
   */
  pendingReset: { sender: HalfStream; packet: number; ts: number; deadline: number } | null = null;
  /** TCP analysis problems reported so far, per flag; made at the first (most connections have none). */
  analysisReported: Map<string, number> | null = null;
  /** The first sender seen, and its peer. */
  readonly a: HalfStream;
  readonly b: HalfStream;
  readonly firstPacket: number;
  readonly startTs: number;
  /** When it was last active: the reassembler's count of connection changes then (see TcpReassembler.ordered). */
  active = 0;
  /** Neighbours in the reassembler's list of live connections, least recently active first. */
  older: ConnectionState<R> | null = null;
  newer: ConnectionState<R> | null = null;

  constructor(
    readonly key: string,
    readonly id: number,
    seg: TcpSegment,
  ) {
    this.a = new HalfStream(seg.src, seg.srcPort);
    this.b = new HalfStream(seg.dst, seg.dstPort);
    this.firstPacket = seg.packet;
    this.startTs = seg.ts;
  }

  /** The segment belongs to this connection (either direction). */
  carries(seg: TcpSegment): boolean {
    const a = this.a;
    const b = this.b;
    return (
      (seg.srcPort === a.port && seg.dstPort === b.port && seg.src === a.addr && seg.dst === b.addr) ||
      (seg.srcPort === b.port && seg.dstPort === a.port && seg.src === b.addr && seg.dst === a.addr)
    );
  }

  senderOf(seg: TcpSegment): HalfStream {
    return seg.srcPort === this.a.port && seg.src === this.a.addr ? this.a : this.b;
  }

  peerOf(h: HalfStream): HalfStream {
    return h === this.a ? this.b : this.a;
  }
}

/** A finished connection's 4-tuple during its linger. */
interface ClosedTuple {
  clientSyn: number;
  until: number;
}

export class TcpReassembler<R = void> {
  private readonly connections = new Map<string, ConnectionState<R>>();
  private readonly closedTuples = new Map<string, ClosedTuple>();
  private readonly maxPerDirection: number;
  private readonly maxBuffered: number;
  private readonly maxConnections: number;
  private readonly lingerNs: number;
  private readonly reorderHoldNs: number;
  private readonly reorderHoldBytes: number;
  private readonly analysisProblemsPerConnection: number;
  /** Directions with acknowledgments on hold, or waiting for their peer, and their connections; the earliest deadline among them. */
  private readonly ackedHoles = new Map<HalfStream, ConnectionState<R>>();
  private readonly waiting = new Map<HalfStream, ConnectionState<R>>();
  private readonly resetting = new Set<ConnectionState<R>>();
  private nextHoldDeadline = Infinity;
  /** The connection of the previous segment: consecutive segments mostly share one. */
  private last: ConnectionState<R> | null = null;
  /**
   * Connections by a number made of their two ports, checked against the whole tuple: finds the
   * connection of a segment without building its tuple text when many connections interleave.
   * Port pairs shared by live connections (different addresses) fall back to the text key.
   */
  private readonly byPorts = new Map<number, ConnectionState<R>>();
  private readonly nextId: () => number;
  private readonly endpointTexts = new Map<string, string>();
  /** Ends of the recency list (ConnectionState.older/newer): a move to its end costs no hashing. */
  private leastRecent: ConnectionState<R> | null = null;
  private mostRecent: ConnectionState<R> | null = null;
  /**
   * Whether the recency list is kept. It serves only to end the least recently active connection when
   * maxConnections are open: until then each segment whose connection is not the last one's only
   * stamps it (`active`, from `activity`), one number stored where moving it in the list was six
   * pointers (~60 instructions and the write barrier's slow path while the garbage collector marks).
   * The table first full, the list is made from the stamps, and kept from then on.
   */
  private ordered = false;
  private activity = 0;
  private buffered = 0;
  private now = -Infinity;
  private lastPacket = 0;
  private nextPrune = -Infinity;

  constructor(
    private readonly sink: TcpSink<R>,
    opts: TcpReassemblerOptions = {},
  ) {
    this.maxPerDirection = opts.maxBufferedBytesPerDirection ?? 8 * 1024 * 1024;
    this.maxBuffered = opts.maxBufferedBytes ?? 256 * 1024 * 1024;
    this.maxConnections = opts.maxConnections ?? 10000;
    this.lingerNs = opts.lingerNs ?? 10e9;
    this.reorderHoldNs = opts.reorderHoldNs ?? 1e9;
    this.reorderHoldBytes = opts.reorderHoldBytes ?? 1024 * 1024;
    this.analysisProblemsPerConnection = opts.analysisProblemsPerConnection ?? 10;
    let id = 1;
    this.nextId = opts.nextConnectionId ?? (() => id++);
  }

  push(seg: TcpSegment): void {
    if (seg.ts > this.now) this.now = seg.ts;
    this.lastPacket = seg.packet;
    if (this.now >= this.nextPrune) this.pruneClosedTuples();
    if (this.now >= this.nextHoldDeadline) this.expireHolds();
    const newSyn = (seg.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    let c = this.lookup(seg);
    if (c !== undefined && newSyn && c.senderOf(seg).synSeq !== seg.seq && !isLateSyn(c.senderOf(seg), seg)) {
      // A SYN that is not a retransmission: the tuple was reused by a connection whose end we missed.
      this.endConnection(c, seg.packet, seg.ts);
      c = undefined;
    }
    if (c === undefined) {
      const key = tupleKey(seg);
      const closed = this.closedTuples.get(key);
      if (closed) {
        if (!newSyn || seg.seq === closed.clientSyn) return;
        this.closedTuples.delete(key);
      }
      c = this.create(key, seg);
    }
    this.process(c, seg);
  }

  /** The latest segment time seen (packet time), -Infinity before the first segment. */
  get latestTs(): number {
    return this.now;
  }

  /** The capture ended: holes become gaps, held data is delivered, and every connection ends. */
  end(): void {
    const open = [...this.connections.values()].sort((x, y) => x.id - y.id);
    for (const c of open) this.endConnection(c, this.lastPacket, this.now);
    this.closedTuples.clear();
  }

  private lookup(seg: TcpSegment): ConnectionState<R> | undefined {
    // Compared with null and undefined rather than tested for truth, which V8 does as for any value: ~10
    // instructions each, every segment (so are the other per-segment tests of an object or null below).
    const l = this.last;
    if (l !== null && l.carries(seg)) return l;
    let c = this.byPorts.get(portsKey(seg.srcPort, seg.dstPort));
    if (c === undefined || !c.carries(seg)) c = this.connections.get(tupleKey(seg));
    if (c !== undefined) {
      c.active = ++this.activity;
      if (this.ordered) {
        this.unlink(c);
        this.append(c);
      }
      this.last = c;
    }
    return c;
  }

  /** Makes the recency list from the connections' stamps, to keep it from now on. */
  private order(): void {
    for (const c of [...this.connections.values()].sort((x, y) => x.active - y.active)) this.append(c);
    this.ordered = true;
  }

  /** Puts `c` at the most recent end of the recency list. */
  private append(c: ConnectionState<R>): void {
    c.older = this.mostRecent;
    c.newer = null;
    if (this.mostRecent !== null) this.mostRecent.newer = c;
    else this.leastRecent = c;
    this.mostRecent = c;
  }

  private unlink(c: ConnectionState<R>): void {
    if (c.older !== null) c.older.newer = c.newer;
    else if (this.leastRecent === c) this.leastRecent = c.newer;
    if (c.newer !== null) c.newer.older = c.older;
    else if (this.mostRecent === c) this.mostRecent = c.older;
    c.older = c.newer = null;
  }

  private create(key: string, seg: TcpSegment): ConnectionState<R> {
    if (this.connections.size >= this.maxConnections) {
      if (!this.ordered) this.order();
      const oldest = this.leastRecent!;
      this.sink.onProblem?.(
        tcpProblem(
          'too-many-connections',
          `more than ${this.maxConnections} TCP connections at once: connection ${oldest.id} (${endpoint(oldest.a)}, ${endpoint(oldest.b)}) ended early`,
          { where: `packet ${seg.packet}`, connection: oldest.id, packet: seg.packet },
        ),
      );
      this.endConnection(oldest, seg.packet, seg.ts);
    }
    // Flattened in place (see endpointText): the 4-tuple text is a chain of nine parts (~0.2 KB) otherwise, kept while the connection is.
    key.charCodeAt(0);
    const c = new ConnectionState<R>(key, this.nextId(), seg);
    this.connections.set(key, c);
    c.active = ++this.activity;
    if (this.ordered) this.append(c);
    this.byPorts.set(portsKey(seg.srcPort, seg.dstPort), c);
    this.last = c;
    return c;
  }

  private process(c: ConnectionState<R>, seg: TcpSegment): void {
    const h = c.senderOf(seg);
    const peer = c.peerOf(h);
    const findings = analyzeSegment(h, peer, seg);
    if (!this.deliverNext(c, h, peer, seg)) this.processSegment(c, h, peer, seg);
    if (findings.length !== 0 && c.info !== null) this.reportAnalysis(c, h, seg, findings);
  }

  /**
   * Most segments are the sender's next bytes with an ACK and no SYN, FIN or RST, both windows open,
   * from a side that holds nothing, waits for nothing and saw no FIN, acknowledging only peer bytes
   * already delivered, before the peer's FIN: processSegment would only note the acknowledgment and
   * deliver them. Done here with just the tests that tell such a segment (~180 instructions a segment
   * fewer); false, with nothing done, for any other.
   */
  private deliverNext(c: ConnectionState<R>, h: HalfStream, peer: HalfStream, seg: TcpSegment): boolean {
    const length = seg.end - seg.start;
    if (
      (seg.flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) !== TCP_ACK ||
      length === 0 ||
      seg.missing !== 0 ||
      seg.window === 0 ||
      h.windowClosed === true ||
      peer.windowClosed === true ||
      c.info === null ||
      h.base < 0 ||
      h.finOffset >= 0 ||
      h.waits.length !== 0 ||
      !h.held.isEmpty ||
      peer.base < 0 ||
      peer.finOffset >= 0 ||
      h.offsetOf(seg.seq) !== h.next ||
      peer.offsetOf(seg.ack) > peer.next
    ) {
      return false;
    }
    if (peer.ackedSeq < 0 || ((seg.ack - peer.ackedSeq) | 0) > 0) peer.ackedSeq = seg.ack;
    this.deliver(c, h, h.next, seg.bytes, seg.start, length, seg.packet, seg.ts);
    return true;
  }

  /** Analysis findings as problems, up to the per-connection number for each flag. */
  private reportAnalysis(c: ConnectionState<R>, h: HalfStream, seg: TcpSegment, findings: readonly TcpAnalysisFinding[]): void {
    const info = c.info!;
    for (const f of findings) {
      const counts = (c.analysisReported ??= new Map());
      const reported = counts.get(f.flag) ?? 0;
      if (reported >= this.analysisProblemsPerConnection) continue;
      counts.set(f.flag, reported + 1);
      const more = reported + 1 === this.analysisProblemsPerConnection ? ` (further ${f.flag} on connection ${info.id} not listed)` : '';
      const place = { where: `${info.client}→${info.server} ${h.dir} packet ${seg.packet}`, connection: info.id, direction: h.dir, packet: seg.packet };
      const offset = h.base >= 0 ? h.offsetOf(seg.seq) : -1;
      this.sink.onProblem?.(tcpAnalysisProblem(f.flag, `${f.message}${more}`, offset >= 0 ? { ...place, offset } : place));
    }
  }

  private processSegment(c: ConnectionState<R>, h: HalfStream, peer: HalfStream, seg: TcpSegment): void {
    const flags = seg.flags;
    if (flags & TCP_SYN && !this.handshake(c, h, peer, seg)) return;
    if (flags & TCP_ACK) this.acknowledge(c, peer, seg);
    // A zero window is rare: one compare per segment otherwise.
    if ((seg.window === 0 && flags & TCP_ACK && !(flags & (TCP_SYN | TCP_RST))) || h.windowClosed === true || peer.windowClosed === true) this.window(c, h, peer, seg);
    const length = seg.end - seg.start;
    const missing = seg.missing ?? 0;
    if (length + missing > 0 || flags & TCP_FIN) this.receive(c, h, seg, length, missing);
    if (flags & TCP_RST && !c.ended && !c.pendingReset) {
      if (this.reorderHoldNs <= 0) return this.reset(c, h, seg.packet, seg.ts);
      c.pendingReset = { sender: h, packet: seg.packet, ts: seg.ts, deadline: this.now + this.reorderHoldNs };
      this.resetting.add(c);
      this.nextHoldDeadline = Math.min(this.nextHoldDeadline, c.pendingReset.deadline);
    }
  }

  /** Returns false for a SYN to ignore (retransmitted, or contradicting a stream already under way). */
  private handshake(c: ConnectionState<R>, h: HalfStream, peer: HalfStream, seg: TcpSegment): boolean {
    if (seg.seq === h.synSeq) return false;
    if (isLateSyn(h, seg)) {
      h.synSeq = seg.seq;
      return true;
    }
    if (h.base >= 0) {
      this.problem('syn-isn-changed', c, h, h.next, seg.packet, `SYN with another initial sequence number (${seg.seq}) on a stream under way, packet ${seg.packet}: ignored`);
      return false;
    }
    h.synSeq = seg.seq;
    h.base = (seg.seq + 1) >>> 0;
    const synAck = (seg.flags & TCP_ACK) !== 0;
    // A SYN-ACK acknowledges the client's ISN + 1: where the client's stream starts.
    if (synAck && peer.base < 0) peer.base = seg.ack;
    if (!c.info) {
      c.sawHandshake = true;
      this.open(c, synAck ? peer : h);
    }
    return true;
  }

  /**
   * The sender's ACK tells how far the peer's stream got: bytes acknowledged but not captured are
   * lost, unless they turn up within the hold-back (records stored out of order).
   */
  private acknowledge(c: ConnectionState<R>, peer: HalfStream, seg: TcpSegment): void {
    if (peer.ackedSeq >= 0 && ((seg.ack - peer.ackedSeq) | 0) <= 0) return;
    peer.ackedSeq = seg.ack;
    if (peer.base < 0 || peer.closed) return;
    if (peer.offsetOf(seg.ack) <= peer.next) return this.settle(c, peer);
    if (this.reorderHoldNs <= 0) return this.fillAcknowledgedHoles(c, peer, seg.ack, seg.packet, seg.ts);
    const holes = peer.ackedHoles;
    const hole: AckedHole = { ackSeq: seg.ack, packet: seg.packet, ts: seg.ts, deadline: this.now + this.reorderHoldNs };
    if (holes.length < MAX_ACKED_HOLES) peer.ackedHoles = appended(holes, hole);
    else holes[holes.length - 1] = { ...hole, deadline: holes[holes.length - 1].deadline };
    if (peer.ackedHoles.length === 1) {
      this.ackedHoles.set(peer, c);
      this.nextHoldDeadline = Math.min(this.nextHoldDeadline, hole.deadline);
    }
    if (peer.held.cost > this.reorderHoldBytes) this.declareAckedHoles(c, peer, Infinity);
  }

  /** The hold-back of the acknowledgments due by `until` is over: what the capture still lacks of it is lost. */
  private declareAckedHoles(c: ConnectionState<R>, h: HalfStream, until: number): void {
    const holes = h.ackedHoles;
    while (holes.length && holes[0].deadline <= until) {
      const hole = holes.shift()!;
      if (!c.ended && !h.closed) this.fillAcknowledgedHoles(c, h, hole.ackSeq, hole.packet, hole.ts);
    }
    if (!holes.length) this.ackedHoles.delete(h);
  }

  private expireHolds(): void {
    let next = Infinity;
    for (const [h, c] of [...this.ackedHoles]) {
      this.declareAckedHoles(c, h, this.now);
      if (h.ackedHoles.length) next = Math.min(next, h.ackedHoles[0].deadline);
    }
    for (const [h, c] of [...this.waiting]) {
      this.releaseWaiting(c, h);
      if (h.waits.length) next = Math.min(next, ...h.waits.map((w) => w.deadline));
    }
    for (const c of [...this.resetting]) {
      const r = c.pendingReset!;
      if (r.deadline <= this.now) this.reset(c, r.sender, r.packet, r.ts);
      else next = Math.min(next, r.deadline);
    }
    this.nextHoldDeadline = next;
  }

  /** The segment of `h` at `from` acknowledges peer bytes not delivered yet: `h`'s bytes from there wait for them. */
  private waitForPeer(c: ConnectionState<R>, h: HalfStream, from: number, ackSeq: number): void {
    const peer = c.peerOf(h);
    if (peer.base < 0 || peer.closed || from < h.next) return;
    let upTo = peer.offsetOf(ackSeq);
    // The FIN takes a sequence number of its own.
    if (peer.finOffset >= 0 && upTo > peer.finOffset) upTo = peer.finOffset;
    if (upTo <= peer.next || upTo - peer.next > MAX_WINDOW) return;
    const waits = h.waits;
    const last = waits[waits.length - 1];
    if (waits.length >= MAX_PEER_WAITS) {
      last.from = Math.min(last.from, from);
      last.upTo = Math.max(last.upTo, upTo);
      return;
    }
    h.waits = appended(waits, { from, upTo, deadline: this.now + this.reorderHoldNs });
    this.waiting.set(h, c);
    this.nextHoldDeadline = Math.min(this.nextHoldDeadline, this.now + this.reorderHoldNs);
  }

  /** Where `h`'s delivery must stop for now: the first byte still waiting for the peer (Infinity: none). */
  private gateOf(c: ConnectionState<R>, h: HalfStream): number {
    if (!h.waits.length) return Infinity;
    const peer = c.peerOf(h);
    const peerDone = peer.closed || (peer.finOffset >= 0 && peer.next >= peer.finOffset);
    h.waits = h.waits.filter((w) => !peerDone && peer.next < w.upTo && w.deadline > this.now);
    if (!h.waits.length) {
      this.waiting.delete(h);
      return Infinity;
    }
    return Math.min(...h.waits.map((w) => w.from));
  }

  /** `h` may have stopped waiting: what it held in order is delivered. */
  private releaseWaiting(c: ConnectionState<R>, h: HalfStream): void {
    if (c.ended || h.closed) return;
    this.drain(c, h);
    this.settle(c, h);
  }

  private dropWaits(h: HalfStream): void {
    h.waits = NO_WAITS;
    this.waiting.delete(h);
  }

  /** Window transitions of the segment's sender (it receives the peer's stream), and probes into a closed window. */
  private window(c: ConnectionState<R>, h: HalfStream, peer: HalfStream, seg: TcpSegment): void {
    if (!c.info || peer.base < 0) return;
    if (peer.windowClosed) {
      // A zero-window probe repeats the byte before what the peer acknowledged (or carries none at that sequence).
      if (h.ackedSeq >= 0 && h.base >= 0 && seg.end - seg.start <= 1 && ((seg.seq + 1) >>> 0) === h.ackedSeq) this.sink.onWindow?.(c.info, h.dir, 'probe', h.offsetOf(h.ackedSeq), seg.packet, seg.ts, c.own);
      if (!h.windowClosed) return;
    }
    if (!(seg.flags & TCP_ACK) || seg.flags & (TCP_SYN | TCP_RST)) return;
    const closed = seg.window === 0;
    if (closed === h.windowClosed) return;
    h.windowClosed = closed;
    this.sink.onWindow?.(c.info, peer.dir, closed ? 'closed' : 'open', peer.offsetOf(seg.ack), seg.packet, seg.ts, c.own);
  }

  private receive(c: ConnectionState<R>, h: HalfStream, seg: TcpSegment, length: number, missing: number): void {
    // Payload follows the SYN's own sequence number.
    const seq = seg.flags & TCP_SYN ? (seg.seq + 1) >>> 0 : seg.seq;
    if (h.base < 0) {
      // A keepalive probe repeats the byte before what the peer acknowledged: neither where the
      // stream starts nor a hint of who is the client.
      if (length === 1 && !(seg.flags & TCP_FIN) && h.ackedSeq >= 0 && ((seq + 1) >>> 0) === h.ackedSeq) return;
      h.base = seq;
    }
    if (c.info === null) this.open(c, this.guessClient(c, h, seg.bytes.subarray(seg.start, seg.end)));
    const offset = h.offsetOf(seq);
    if (offset - h.next > MAX_WINDOW) {
      this.problem('beyond-window', c, h, offset, seg.packet, `segment ${offset - h.next} bytes ahead of the stream, beyond any TCP window, packet ${seg.packet}: ignored`);
      return;
    }
    if (length > 0 && seg.flags & TCP_ACK && this.reorderHoldNs > 0) this.waitForPeer(c, h, offset, seg.ack);
    // Most segments are the next bytes of a direction that holds nothing, waits for nothing and saw no
    // FIN: what accept would decide after all its checks, without the two calls (~150 instructions a keystroke).
    if (offset === h.next && length > 0 && missing === 0 && h.finOffset < 0 && !h.waits.length && h.held.isEmpty) this.deliver(c, h, offset, seg.bytes, seg.start, length, seg.packet, seg.ts);
    else if (length + missing > 0) this.accept(c, h, offset, seg.bytes, seg.start, length, missing, seg.packet, seg.ts);
    if (seg.flags & TCP_FIN) this.fin(c, h, offset + length + missing, seg.packet, seg.ts);
  }

  /** Stream bytes [offset, offset + length) are data[at, at + length), followed by `missing` bytes not captured. */
  private accept(c: ConnectionState<R>, h: HalfStream, offset: number, data: Uint8Array, at: number, length: number, missing: number, packet: number, ts: number): void {
    const end = offset + length + missing;
    if (h.finOffset >= 0 && end > h.finOffset) {
      this.problem('after-fin', c, h, h.finOffset, packet, `${end - Math.max(offset, h.finOffset)} bytes after the FIN, packet ${packet}: ignored`);
      const keep = h.finOffset - offset;
      if (keep <= 0) return;
      if (keep < length) length = keep;
      missing = keep - length;
    }
    if (length > 0) this.acceptPiece(c, h, offset, data, at, length, packet, ts);
    if (missing > 0) this.acceptPiece(c, h, offset + length, null, 0, missing, packet, ts);
    this.settle(c, h);
  }

  /** Bytes [start, start + length) of the stream, data[at, at + length); `data` null for bytes known lost. */
  private acceptPiece(c: ConnectionState<R>, h: HalfStream, start: number, data: Uint8Array | null, at: number, length: number, packet: number, ts: number): void {
    const end = start + length;
    // Already delivered: a retransmission or a keepalive probe.
    if (end <= h.next) return;
    if (start < h.next) {
      at += h.next - start;
      start = h.next;
      length = end - start;
    }
    if (start > h.next) return this.hold(c, h, start, data, at, length, packet, ts);
    const gate = this.gateOf(c, h);
    if (start >= gate) return this.hold(c, h, start, data, at, length, packet, ts);
    const head = h.held.first();
    const stop = Math.min(head ? head.start : Infinity, gate);
    if (end <= stop) {
      this.deliver(c, h, start, data, at, length, packet, ts);
      if (head && head.start === h.next) this.drain(c, h);
      return;
    }
    // Overlaps data held ahead, or reaches bytes waiting for the peer: deliver the part before, hold the rest.
    const direct = stop - start;
    if (direct > 0) this.deliver(c, h, start, data, at, direct, packet, ts);
    this.hold(c, h, stop, data, at + direct, length - direct, packet, ts);
    this.drain(c, h);
  }

  private hold(c: ConnectionState<R>, h: HalfStream, start: number, data: Uint8Array | null, at: number, length: number, packet: number, ts: number): void {
    // What was delivered is never held again: a range behind the stream would never be drained
    // (a fuzzed capture looped for ever flushing one that started 20 bytes behind it).
    if (start < h.next) {
      if (start + length <= h.next) return;
      at += h.next - start;
      length -= h.next - start;
      start = h.next;
    }
    const costBefore = h.held.cost;
    if (h.holding.insert(start, data, at, length, packet, ts)) {
      this.problem('retransmission-differs', c, h, start, packet, `retransmitted bytes differ from the first copy, packet ${packet}: keeping the first`);
    }
    this.buffered += h.held.cost - costBefore;
    if (h.ackedHoles.length && h.held.cost > this.reorderHoldBytes) this.declareAckedHoles(c, h, Infinity);
    if (h.held.cost <= this.maxPerDirection && this.buffered <= this.maxBuffered) return;
    this.problem('reassembly-buffer-full', c, h, h.next, packet, `out-of-order data exceeds the reassembly buffer, packet ${packet}: the hole before it is taken as lost`);
    while ((h.held.cost > this.maxPerDirection || this.buffered > this.maxBuffered) && !h.held.isEmpty && !h.closed) {
      this.skipToHeld(c, h, packet, ts);
    }
  }

  /** Declares the hole before the first held range lost and delivers what follows it. */
  private skipToHeld(c: ConnectionState<R>, h: HalfStream, packet: number, ts: number): void {
    this.dropWaits(h);
    const head = h.held.first()!;
    if (head.start > h.next) this.deliver(c, h, h.next, null, 0, head.start - h.next, packet, ts);
    this.drain(c, h);
  }

  /** Delivers held ranges that have become contiguous with the stream. */
  private drain(c: ConnectionState<R>, h: HalfStream): void {
    const gate = this.gateOf(c, h);
    for (let r = h.held.first(); r && r.start === h.next && r.start < gate && !h.closed; r = h.held.first()) {
      const costBefore = h.held.cost;
      h.held.shift();
      this.buffered += h.held.cost - costBefore;
      this.deliver(c, h, r.start, r.data, 0, r.end - r.start, r.packet, r.ts);
    }
  }

  /** Stream bytes [offset, offset + length), data[at, at + length); `data` null for bytes lost. */
  private deliver(c: ConnectionState<R>, h: HalfStream, offset: number, data: Uint8Array | null, at: number, length: number, packet: number, ts: number): void {
    h.next = offset + length;
    const conn = c.info!;
    if (data !== null) this.sink.onData(conn, h.dir, data, at, at + length, { offset, length, packet, ts }, c.own);
    else this.sink.onGap(conn, h.dir, offset, length, packet, ts, c.own);
    const peer = c.peerOf(h);
    if (peer.waits.length) this.releaseWaiting(c, peer);
  }

  /** Declares the holes before `ackSeq` lost, delivering what the capture holds between them. */
  private fillAcknowledgedHoles(c: ConnectionState<R>, h: HalfStream, ackSeq: number, packet: number, ts: number): void {
    // The peer received these bytes: whatever the peer's own data waits for, these are settled.
    this.dropWaits(h);
    let acked = h.offsetOf(ackSeq);
    // The FIN takes a sequence number of its own.
    if (h.finOffset >= 0 && acked > h.finOffset) acked = h.finOffset;
    if (acked - h.next > MAX_WINDOW) return;
    while (acked > h.next && !h.closed) {
      const head = h.held.first();
      // Acknowledging one byte more than was sent is also how a FIN is acknowledged: wait for more evidence.
      if (!head && h.finOffset < 0 && acked === h.next + 1) break;
      const holeEnd = head ? Math.min(head.start, acked) : acked;
      if (holeEnd > h.next) this.deliver(c, h, h.next, null, 0, holeEnd - h.next, packet, ts);
      this.drain(c, h);
    }
    this.settle(c, h);
  }

  private fin(c: ConnectionState<R>, h: HalfStream, offset: number, packet: number, ts: number): void {
    if (h.finOffset >= 0) {
      if (offset !== h.finOffset) this.problem('fin-moved', c, h, offset, packet, `FIN at another offset than the first FIN (${h.finOffset}), packet ${packet}: ignored`);
      return;
    }
    h.finOffset = offset;
    h.finPacket = packet;
    h.finTs = ts;
    this.settle(c, h);
    const peer = c.peerOf(h);
    if (peer.waits.length) this.releaseWaiting(c, peer);
  }

  /** Closes the direction once everything up to its FIN was delivered, and ends the connection when both are closed. */
  private settle(c: ConnectionState<R>, h: HalfStream): void {
    if (h.closed || h.finOffset < 0 || h.next < h.finOffset) return;
    h.closed = true;
    this.sink.onClose(c.info!, h.dir, 'fin', h.finPacket, h.finTs, c.own);
    if (c.peerOf(h).closed) this.finish(c, h.finTs, true);
  }

  /** A reset ends both directions at once: what was held is delivered (with gaps), then both close. */
  private reset(c: ConnectionState<R>, h: HalfStream, packet: number, ts: number): void {
    c.pendingReset = null;
    this.resetting.delete(c);
    if (!c.info) this.open(c, this.guessClient(c, h, null));
    for (const half of [h, c.peerOf(h)]) {
      this.flush(c, half, packet, ts);
      if (c.ended) return;
      if (!half.closed) {
        half.closed = true;
        this.sink.onClose(c.info!, half.dir, 'rst', packet, ts, c.own);
      }
    }
    this.finish(c, ts, true);
  }

  /** Ends a connection that did not finish by itself (capture end, eviction, tuple reuse). */
  private endConnection(c: ConnectionState<R>, packet: number, ts: number): void {
    if (c.pendingReset) return this.reset(c, c.pendingReset.sender, c.pendingReset.packet, c.pendingReset.ts);
    if (!c.info) this.open(c, this.guessClient(c, c.a, null));
    this.flush(c, c.a, packet, ts);
    if (!c.ended) this.flush(c, c.b, packet, ts);
    if (!c.ended) this.finish(c, ts, false);
  }

  /** Delivers everything known of a direction: acknowledged holes and holes between held data become gaps, up to the FIN. */
  private flush(c: ConnectionState<R>, h: HalfStream, packet: number, ts: number): void {
    if (h.base < 0 || h.closed) return;
    this.declareAckedHoles(c, h, Infinity);
    this.dropWaits(h);
    if (h.closed) return;
    if (h.ackedSeq >= 0) this.fillAcknowledgedHoles(c, h, h.ackedSeq, packet, ts);
    while (!h.held.isEmpty && !h.closed) this.skipToHeld(c, h, packet, ts);
    if (h.finOffset > h.next) this.deliver(c, h, h.next, null, 0, h.finOffset - h.next, packet, ts);
    this.settle(c, h);
  }

  private finish(c: ConnectionState<R>, ts: number, closed: boolean): void {
    c.ended = true;
    for (const h of [c.a, c.b]) {
      this.ackedHoles.delete(h);
      this.waiting.delete(h);
    }
    this.resetting.delete(c);
    // Held bytes beyond a FIN are never delivered.
    this.buffered -= c.a.held.cost + c.b.held.cost;
    this.sink.onEnd(c.info!, ts, c.own);
    this.connections.delete(c.key);
    if (this.ordered) this.unlink(c);
    const ports = portsKey(c.a.port, c.b.port);
    if (this.byPorts.get(ports) === c) this.byPorts.delete(ports);
    if (this.last === c) this.last = null;
    if (!closed) return;
    if (this.closedTuples.size >= this.maxConnections) this.forgetOldestClosedTuples();
    const client = c.a.dir === 'c2s' ? c.a : c.b;
    this.closedTuples.set(c.key, { clientSyn: client.synSeq, until: ts + this.lingerNs });
  }

  /** Decides client and server (when the handshake did not) and tells the sink. */
  private open(c: ConnectionState<R>, client: HalfStream): void {
    const server = c.peerOf(client);
    client.dir = 'c2s';
    server.dir = 's2c';
    c.info = {
      id: c.id,
      client: this.endpointText(client),
      server: this.endpointText(server),
      firstPacket: c.firstPacket,
      startTs: c.startTs,
      sawHandshake: c.sawHandshake,
    };
    c.own = this.sink.onOpen(c.info);
  }

  /**
   * The endpoint's text, one string per endpoint while it recurs (a server's text is shared by all
   * its connections) and flat: every connection's record keeps two, and a string built from parts
   * is a chain of them (~90 bytes for "10.1.2.3:40000") until read by character, which flattens
   * it in place (40 bytes once the garbage collector drops the chain). The table is cleared when
   * full, so it stays bounded.
   */
  private endpointText(h: HalfStream): string {
    const text = endpoint(h);
    const known = this.endpointTexts.get(text);
    if (known !== undefined) return known;
    text.charCodeAt(0);
    if (this.endpointTexts.size >= ENDPOINT_TEXTS) this.endpointTexts.clear();
    this.endpointTexts.set(text, text);
    return text;
  }

  /** Without a SYN: the side whose first bytes only a client (or a server) sends, else the higher port is the client. */
  private guessClient(c: ConnectionState<R>, sender: HalfStream, payload: Uint8Array | null): HalfStream {
    const role = payload && payload.length > 0 ? senderRole(payload) : null;
    if (role) return role === 'client' ? sender : c.peerOf(sender);
    if (c.a.port !== c.b.port) return c.a.port > c.b.port ? c.a : c.b;
    return c.a;
  }

  /**
   * Forgets the oldest quarter of the lingering tuples at once. One at a time would restart the Map's
   * iteration for each, and its walk over the entries deleted before grows until the table is
   * rehashed: 200,000 short connections spent 6 s there.
   */
  private forgetOldestClosedTuples(): void {
    let drop = this.closedTuples.size >> 2 || 1;
    for (const key of this.closedTuples.keys()) {
      this.closedTuples.delete(key);
      if (--drop === 0) break;
    }
  }

  private pruneClosedTuples(): void {
    this.nextPrune = this.now + PRUNE_INTERVAL_NS;
    for (const [key, t] of this.closedTuples) {
      if (t.until > this.now) break;
      this.closedTuples.delete(key);
    }
  }

  private problem(code: Parameters<typeof tcpProblem>[0], c: ConnectionState<R>, h: HalfStream, offset: number, packet: number, message: string): void {
    const where = `${c.info!.client}→${c.info!.server} ${h.dir} offset ${offset}`;
    this.sink.onProblem?.(tcpProblem(code, message, { where, connection: c.id, direction: h.dir, offset, packet }));
  }
}

/**
 * The client's SYN stored after the SYN-ACK that answers it (records written out of order): the
 * SYN-ACK already placed the client's stream where this SYN says it starts.
 */
function isLateSyn(h: HalfStream, seg: TcpSegment): boolean {
  return h.synSeq < 0 && h.base === (seg.seq + 1) >>> 0 && (seg.flags & TCP_ACK) === 0;
}

/** The same for both directions, and a small integer (a Map key without boxing); collisions are checked by the caller. */
function portsKey(p: number, q: number): number {
  return p < q ? (p << 14) ^ q : (q << 14) ^ p;
}

function tupleKey(seg: TcpSegment): string {
  return seg.src < seg.dst || (seg.src === seg.dst && seg.srcPort < seg.dstPort)
    ? `${seg.src} ${seg.srcPort} ${seg.dst} ${seg.dstPort}`
    : `${seg.dst} ${seg.dstPort} ${seg.src} ${seg.srcPort}`;
}

function endpoint(h: HalfStream): string {
  return h.addr.includes(':') ? `[${h.addr}]:${h.port}` : `${h.addr}:${h.port}`;
}
