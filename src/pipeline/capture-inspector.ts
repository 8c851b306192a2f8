/**
 * Reads back, from the capture file, the bytes under one decoded unit: the unit's exact bytes in its
 * TCP stream and each packet that carried them with its TCP header. The model keeps only origins
 * (offsets, packet numbers), so the capture is decoded again up to the unit's last packet. The
 * Event pane turns this into layers; the pipeline is the only place that re-reads a capture.
 * Over TLS the unit's offsets count decrypted bytes: given the key log the analysis used (its
 * secrets and the TLS 1.2 sessions it learnt), the connection is decrypted again by tls/'s decoder,
 * which says which records held the unit's plaintext; the carriers are exactly the packets that
 * carried those records' TCP bytes (a record's first packets may come before the unit's first
 * packet, which names the packet that completed its first record). Re-reading that cannot decrypt
 * takes the same answer from the analysis's record log (which record held each plaintext byte). A
 * SPDY connection tunnelled in WebSocket binary messages is followed down the same way: websocket/'s
 * channel decoder says which pieces of which frames carried the unit's tunnelled bytes (without the
 * keys, the analysis's tunnel log says which frame payload bytes did), and only the packets, or the
 * records, holding those pieces are the unit's.
 */
import { readCaptureBytes } from '../capture/capture-source.js';
import { CaptureDecoder } from '../capture/capture-decoder.js';
import { copyPacket, packetBytes, type Packet, type PacketCopy } from '../capture/packet.js';
import type { Direction, FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { carriersOf, carriersThrough, type CarrierLog } from '../core/carrier-log.js';
import { rangeView } from '../core/byte-range.js';
import { packetHeaderLayers, type HeaderLayer } from '../net/packet-fields.js';
import { isRetransmission, isTcpAnalysis } from '../net/problems.js';
import { PacketDecoder } from '../net/packet-decoder.js';
import { TcpReassembler } from '../net/tcp-reassembly.js';
import { TCP_FIN, TCP_RST, type TcpSegment } from '../net/tcp.js';
import { SpdyFrameDecoder } from '../spdy/frame-decoder.js';
import type { TlsKeyLog } from '../tls/key-log.js';
import { TlsConnectionDecoder } from '../tls/record-decoder.js';
import { MAX_TLS12_CIPHERTEXT, RECORD_HEADER, recordContentType, TlsRecordFramer } from '../tls/record-framer.js';
import { ContentType } from '../tls/tls-names.js';
import { K8sChannelDecoder } from '../websocket/channel-protocol.js';

const MAX_PACKETS = 16;
const MAX_UNIT_BYTES = 1 << 20;
/** Packets of the unit's range kept while reading, until reassembly says which carried its bytes (it may deliver them later). */
const MAX_KEPT_PACKETS = 256;
/**
 * Packets read past the unit's last packet: until its bytes are all delivered (a segment stored out of
 * order comes later in the file), then for a while, for retransmissions of them (Linux's first
 * retransmission timeout is 1 s; a receiver-side capture shows the ACK before a spurious one).
 */
const MAX_PACKETS_PAST_UNIT = 4096;
const MAX_PACKETS_FOR_RETRANSMISSIONS = 256;
const RETRANSMISSION_WAIT_NS = 3e9;
/** Retransmitted segments of the direction remembered while reading, to say which also carried the unit's bytes. */
const MAX_RESENT = 256;
/** TLS records listed for one unit; WebSocket frames of a tunnel too. */
const MAX_TLS_RECORDS = 16;
const MAX_TUNNEL_FRAMES = 16;
/** How far behind the first byte of the piece completing it a record can have begun. */
const LONGEST_RECORD = RECORD_HEADER + MAX_TLS12_CIPHERTEXT;

/** One packet carrying bytes of the unit. */
export interface CarrierPacket {
  /** A copy: the packet's bytes outlive the read. */
  packet: PacketCopy;
  /** Where the TCP payload sits in the packet, and which stream bytes it held. */
  payloadStart: number;
  payloadLength: number;
  streamOffset: number;
  /** The TCP header fields of the segment (its payload view is dropped). */
  tcp: SegmentFields;
  /** The frame's link, IP and TCP headers with their fields. */
  headers: HeaderLayer[];
  /** TCP analysis of the segment (retransmission, out-of-order, zero window…), as Wireshark's tcp.analysis flags. */
  analysis: Problem[];
  /** The unit carries no byte: it is this packet's FIN or RST (a raw stream's end, as a docker exec's stdin EOF). */
  flag?: 'FIN' | 'RST';
}

/** A byte range of a stream. */
export interface Span {
  offset: number;
  length: number;
}

/** A WebSocket frame whose payload carried some of a tunnelled unit's bytes. */
export interface TunnelFrame {
  /** The whole frame in the direction's TCP or decrypted stream; null when it was not decoded again (TLS re-read without the keys). */
  frame: Span | null;
  /** The payload bytes that held the unit's bytes there (for a compressed message, the compressed piece they were inflated from). */
  held: Span;
  /** Over TLS: the records (their TCP ranges) that held those bytes. */
  records: Span[];
  /** Exactly the packets that carried them, in capture order. */
  packets: number[];
}

/** A TLS record of the unit's direction, as it crossed TCP. */
export interface CarriedTlsRecord {
  /** The whole record, header included (a copy). */
  bytes: Uint8Array;
  /** Its TCP offsets and the packets of its first and last byte. */
  origin: FrameOrigin;
  /** A ChangeCipherSpec came before it in its direction: its handshake messages, if any, are encrypted. */
  afterChangeCipherSpec: boolean;
}

export interface CapturedUnit {
  /**
   * The unit's bytes (up to 1 MiB): from the TCP stream, over TLS from the decrypted stream, in a
   * tunnel from its WebSocket messages; empty over TLS when the connection was not decrypted (see `decrypted`).
   */
  bytes: Uint8Array;
  /** Over TLS: whether re-reading decrypted the unit's direction up to the unit's end. */
  decrypted: boolean;
  /**
   * With `tunnel`: the WebSocket frames whose payload carried the unit's bytes (at most 16), each with
   * the records and packets that carried its part; how many there were in all.
   */
  tunnelFrames: TunnelFrame[];
  tunnelFrameCount: number;
  /**
   * At most 16 packets, in stream order: those whose payload held the unit's bytes, over TLS those
   * that carried the records holding them; for a unit of no bytes, the packet of its FIN or RST.
   */
  carriers: CarrierPacket[];
  /** Packets that carried more of the unit's bytes (or records) beyond the 16 listed: how many, the first and the last. */
  unlisted: { count: number; first: number; last: number } | null;
  /** With `spdyFrom`: the unit's SPDY header block inflated, null when it could not be (no block, context lost). */
  inflatedHeaderBlock: Uint8Array | null;
  /**
   * With `tls`: the records that held the unit's plaintext (at most 16). Not decrypted, they are named
   * by the analysis's logs; `traced` is false when those stop before the unit's bytes (the capture's
   * carrier-log budget ran out): then no record or packet is named rather than a guess.
   */
  tlsRecords: CarriedTlsRecord[];
  traced: boolean;
  /** With `alsoPacket`: that packet, when it is not one of the carriers (its streamOffset is -1). */
  alsoPacket: CarrierPacket | null;
  /**
   * Retransmissions (as TCP analysis flags them) that sent some of the unit's TCP bytes again while
   * reassembly used the carriers' copy: the packet, its flag, and the unit's bytes it held.
   */
  resent: { packet: number; code: string; offset: number; length: number }[];
}

/** What to read back: a unit of a connection's direction. */
export interface UnitQuery {
  connectionId: number;
  dir: Direction;
  origin: FrameOrigin;
  /**
   * The origin's offsets count the bytes of a connection tunnelled in the direction's WebSocket
   * binary messages (`SPDY/3.1+portforward.k8s.io`), whose frames start at stream offset `from` (TCP,
   * or decrypted TLS; after the upgrade's HTTP head).
   */
  tunnel?: { from: number; subprotocol: string; extensions: string; portForward: boolean; carriers?: CarrierLog };
  /**
   * The unit is a SPDY frame with a header block, and the direction's SPDY bytes start at this offset
   * of the unit's own byte space (TCP, decrypted TLS, or the tunnel; after the upgrade's HTTP head):
   * every earlier block of the direction is inflated through the same zlib stream, then the unit's own.
   */
  spdyFrom?: number;
  /**
   * The connection is TLS and the offsets below the tunnel (if any) count its decrypted bytes: decrypt
   * with the inspector's key log for the bytes and the records that held them, whose packets are the carriers.
   */
  tls?: boolean;
  /**
   * Over TLS: the analysis's record log of the direction, which names the records that held the
   * plaintext when re-reading cannot decrypt; in a tunnel, `tunnel.carriers` (the analysis's tunnel
   * log of the direction) first says which plaintext bytes held the unit's.
   */
  tlsRecordLog?: CarrierLog;
  /** Also read this packet (a warning's, which may carry none of the unit's bytes) with its headers and TCP analysis. */
  alsoPacket?: number;
}

export type CaptureInspector = (query: UnitQuery) => Promise<CapturedUnit>;

interface KeptPacket {
  packet: PacketCopy;
  payloadStart: number;
  payloadLength: number;
  tcp: SegmentFields;
}

/** A segment's fields without its payload. */
type SegmentFields = Omit<TcpSegment, 'bytes' | 'start' | 'end' | 'payloadStart'>;

/** The segment's header fields (named one by one: an object rest `{ bytes, start, end, ...tcp }` costs V8 a runtime call per packet). */
function segmentFields(seg: TcpSegment): SegmentFields {
  const { src, dst, srcPort, dstPort, seq, ack, flags, window, missing, windowScale, packet, ts } = seg;
  return { src, dst, srcPort, dstPort, seq, ack, flags, window, missing, windowScale, packet, ts };
}

function keptPacket(current: Packet, seg: TcpSegment): KeptPacket {
  return { packet: copyPacket(current), payloadStart: seg.payloadStart, payloadLength: seg.end - seg.start, tcp: segmentFields(seg) };
}

/** A piece of the direction's TCP stream and the packet that delivered it. */
interface Piece {
  packet: number;
  offset: number;
  length: number;
}

/** Bytes of the ring RecentPackets copies packets into: many times the packets a record can span, even of 64 KiB. */
const RECENT_RING_BYTES = 4 << 20;
const NO_BYTES = new Uint8Array(0);

/** A packet copied into the ring (its bytes at `at`, counted in bytes ever written), or kept whole when too large for it. */
interface RingPacket {
  /** The packet as read, without its bytes: they are in the ring (`length` of them at `at`), or in `whole`. */
  read: PacketCopy;
  length: number;
  at: number;
  whole: Uint8Array | null;
  payloadStart: number;
  payloadLength: number;
  tcp: SegmentFields;
}

/**
 * The last LONGEST_RECORD bytes of one direction's TCP stream, by packet, with a copy of each data
 * packet: when a TLS record completes, the packets of all its bytes are still here. The copies go
 * into one ring rather than an allocation per packet; a packet that becomes a carrier is copied out.
 */
class RecentPackets {
  private readonly packets = new Map<number, RingPacket>();
  private ring: Uint8Array | null = null;
  private written = 0;
  /** Delivered pieces, in stream order; those before `first` have left the window. */
  private pieces: Piece[] = [];
  private first = 0;
  /** Pieces in the window per packet. */
  private readonly refs = new Map<number, number>();

  store(current: Packet, seg: TcpSegment): void {
    const tcp = segmentFields(seg);
    const bytes = packetBytes(current);
    const n = bytes.length;
    let whole: Uint8Array | null = null;
    if (n > RECENT_RING_BYTES / 4) whole = bytes.slice();
    else {
      this.ring ??= new Uint8Array(RECENT_RING_BYTES);
      // A packet never wraps: the ring's tail it does not fit in is skipped.
      const pos = this.written % RECENT_RING_BYTES;
      if (pos + n > RECENT_RING_BYTES) this.written += RECENT_RING_BYTES - pos;
      this.ring.set(bytes, this.written % RECENT_RING_BYTES);
    }
    this.packets.set(current.index, { read: copyPacket(current, NO_BYTES), length: n, at: this.written, whole, payloadStart: seg.payloadStart, payloadLength: seg.end - seg.start, tcp });
    if (!whole) this.written += n;
  }

  has(index: number): boolean {
    return this.packets.has(index);
  }

  /** A copy of the packet, unless it is gone (left the window, or written over in the ring). */
  get(index: number): KeptPacket | undefined {
    const r = this.packets.get(index);
    const n = r?.length ?? 0;
    if (!r || (!r.whole && this.written - r.at > RECENT_RING_BYTES)) return undefined;
    const start = r.at % RECENT_RING_BYTES;
    const data = r.whole ?? this.ring!.slice(start, start + n);
    return { packet: { ...r.read, data }, payloadStart: r.payloadStart, payloadLength: r.payloadLength, tcp: r.tcp };
  }

  add(piece: Piece): void {
    this.pieces.push(piece);
    this.refs.set(piece.packet, (this.refs.get(piece.packet) ?? 0) + 1);
    // A record completing in this piece began at most LONGEST_RECORD before the piece's first byte
    // (not its last: one segment of 64 KiB completes several records, the first begun a packet earlier).
    const behind = piece.offset - LONGEST_RECORD;
    for (let p = this.pieces[this.first]; p.offset + p.length <= behind; p = this.pieces[this.first]) {
      const left = this.refs.get(p.packet)! - 1;
      if (left) this.refs.set(p.packet, left);
      else this.refs.delete(p.packet);
      this.first++;
    }
    if (this.first > 1024 && this.first * 2 > this.pieces.length) {
      this.pieces = this.pieces.slice(this.first);
      this.first = 0;
    }
  }

  /**
   * Forgets the copies no record can still need: packets older than the window's oldest piece that
   * hold none of its pieces. Called between packets, when every piece a packet released (a segment
   * stored out of order included) has been added.
   */
  forget(): void {
    const oldest = this.pieces[this.first]?.packet;
    if (oldest === undefined) return;
    for (const index of this.packets.keys()) {
      if (index >= oldest) break;
      if (!this.refs.has(index)) this.packets.delete(index);
    }
  }

  /** The window's pieces within [offset, offset + length). */
  *within(offset: number, length: number): Iterable<Piece> {
    for (let i = this.first; i < this.pieces.length; i++) {
      const p = this.pieces[i];
      if (p.offset < offset + length && offset < p.offset + p.length) yield p;
    }
  }
}

/** Carrier packets by number, the first MAX_PACKETS of them; the numbers of the others. */
class Carriers extends Map<number, CarrierPacket> {
  readonly unlisted = new Set<number>();

  summary(): CapturedUnit['unlisted'] {
    if (!this.unlisted.size) return null;
    let first = Infinity;
    let last = -Infinity;
    // Folded, not spread: a hostile capture's unit may cross more packets than a call takes arguments.
    for (const n of this.unlisted) {
      first = Math.min(first, n);
      last = Math.max(last, n);
    }
    return { count: this.unlisted.size, first, last };
  }
}

/** TLS records picked by one source (decryption, the analysis's logs), the packets that carried them, and all of their TCP ranges. */
class PickedRecords {
  readonly records: CarriedTlsRecord[] = [];
  readonly carriers = new Carriers();
  readonly ranges: [number, number][] = [];
}

/** The endpoints of one direction as its segments name them. */
interface Sender {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

const sentBy = (seg: TcpSegment, s: Sender) => seg.srcPort === s.srcPort && seg.dstPort === s.dstPort && seg.src === s.src && seg.dst === s.dst;

/** A tunnel frame found holding unit bytes, as it is read: its records' offsets and its packets gathered. */
interface FrameFound {
  frame: Span | null;
  held: [number, number];
  records: Set<number>;
  packets: Set<number>;
}

/**
 * What the analysis's logs say carried the plaintext bytes [offset, offset + length): in a tunnel, the
 * frame payload bytes holding them (the tunnel log), then the records holding those (the record log),
 * by their TCP offsets. Null when a log stops before the bytes' end (the carrier-log budget ran out).
 */
function loggedCarriers(recordLog: CarrierLog, tunnelLog: CarrierLog | undefined, tunnel: boolean, offset: number, length: number): { frames: FrameFound[]; records: Set<number> } | null {
  if (!tunnel) {
    const spans = carriersOf(recordLog, offset, length);
    return spans && { frames: [], records: new Set(spans.map((r) => r.offset)) };
  }
  const pieces = tunnelLog ? carriersThrough(tunnelLog, recordLog, offset, length) : null;
  if (!pieces) return null;
  const frames: FrameFound[] = [];
  const records = new Set<number>();
  for (const { via, spans } of pieces) {
    const f: FrameFound = { frame: null, held: [via.heldOffset, via.heldOffset + via.heldLength], records: new Set(), packets: new Set() };
    for (const r of spans) {
      records.add(r.offset);
      f.records.add(r.offset);
    }
    frames.push(f);
  }
  return { frames, records };
}

/** `keys`: the key log the analysis used (the same object: it holds the TLS 1.2 sessions resumed connections need). */
export function createCaptureInspector(path: string, keys: TlsKeyLog | null = null): CaptureInspector {
  return async ({ connectionId, dir, origin: o, tunnel, spdyFrom, tls = false, tlsRecordLog, alsoPacket }) => {
    // Stored out of order, the packet of the unit's first byte may come after that of its last.
    const lastPacket = Math.max(o.packet, o.lastPacket, alsoPacket ?? 0);
    let also: CarrierPacket | null = null;
    const decrypting = tls && keys !== null;
    /** The unit's own byte space is read: the TCP stream, the decrypted one, or the tunnel inside either. */
    const readable = !tls || decrypting;
    const bytes = new Uint8Array(readable ? Math.min(o.length, MAX_UNIT_BYTES) : 0);
    /** Where the unit's byte space has reached. */
    let reached = 0;
    /** Where the unit direction's TCP stream has reached; when its packet was read, for a FIN or RST. */
    let tcpEnd = 0;
    let tcpEndAtUnitPacket = 0;
    /** The unit's packets [o.packet, o.lastPacket], kept until reassembly says which carried its bytes (it may deliver them later). */
    const kept = new Map<number, KeptPacket>();
    /** The packets that carried the unit's bytes, over plain TCP, and the unit's TCP ranges there. */
    const carriers = new Carriers();
    const tcpRanges: [number, number][] = tunnel ? [] : [[o.offset, o.offset + o.length]];
    /** The direction's retransmitted segments: packet, flag, TCP range. */
    const resentSegments: { packet: number; code: string; offset: number; length: number }[] = [];
    /** Packets of the direction whose bytes reassembly held back (stored out of order): it delivers them later. */
    const heldBack = new Map<number, KeptPacket>();
    /** The packet being read had bytes of the direction delivered; TCP analysis of it, until it is known to be kept. */
    let delivered = false;
    let pendingAnalysis: Problem[] = [];
    /** Over TLS: the direction's recent data packets, for records begun before the unit's first packet. */
    const recent = tls ? new RecentPackets() : null;
    let sender: Sender | null = null;
    const analysis = new Map<number, Problem[]>();
    let current: Packet | null = null;
    let segment: TcpSegment | null = null;
    let done = false;
    let inflatedHeaderBlock: Uint8Array | null = null;
    const spdy =
      spdyFrom === undefined || !readable
        ? null
        : new SpdyFrameDecoder({
            onControl() {},
            onData() {},
            onProblem() {},
            onHeaderBlock(frameOffset, inflated) {
              if (frameOffset === o.offset) inflatedHeaderBlock = inflated.slice();
            },
          });
    /** A copy of a packet of the unit's direction: kept, recent, or the one being read. */
    const packetOf = (index: number): KeptPacket | undefined =>
      kept.get(index) ?? heldBack.get(index) ?? recent?.get(index) ?? (current?.index === index && segment ? keptPacket(current, segment) : undefined);
    // Reassembly names the packet that carried each piece (origin.packet): it may deliver a piece
    // after later packets when they were stored out of order.
    const keep = (into: Carriers, packet: number, length: number, streamOffset: number) => {
      const c = into.get(packet);
      if (c) c.payloadLength = Math.max(c.payloadLength, streamOffset + length - c.streamOffset);
      else if (into.size >= MAX_PACKETS) into.unlisted.add(packet);
      else {
        const k = packetOf(packet);
        if (k) into.set(packet, { ...k, payloadLength: length, streamOffset, headers: packetHeaderLayers(k.packet.linkType, k.packet.data), analysis: [] });
      }
    };
    /** The packets that carried a record's TCP bytes. */
    const carryRecord = (into: Carriers, record: FrameOrigin) => {
      for (const piece of recent!.within(record.offset, record.length)) keep(into, piece.packet, piece.length, piece.offset);
    };
    /**
     * Over TLS, the records holding the unit's plaintext as the decrypter says (before the framer below
     * sees each record), and as the analysis's logs say, for when re-reading does not decrypt.
     */
    const byDecryption = new PickedRecords();
    const decryptedHolding = new Set<number>();
    const logged = tls && tlsRecordLog ? loggedCarriers(tlsRecordLog, tunnel?.carriers, !!tunnel, o.offset, o.length) : null;
    const byLog = new PickedRecords();
    /** The tunnel frames that held unit bytes, decoded again (over TCP, or decrypted); the one being read. */
    const framesFound: FrameFound[] = [];
    let frameFound: FrameFound | null = null;
    let framesFoundCount = 0;
    /** The records the listed frames name (TCP offsets), with their lengths and packets as each is framed. */
    const listedRecords = new Set<number>(logged?.frames.slice(0, MAX_TUNNEL_FRAMES).flatMap((f) => [...f.records]));
    const recordCarriers = new Map<number, { length: number; packets: number[] }>();
    let changeCipherSpecSeen = false;
    const records = tls
      ? new TlsRecordFramer(
          (record, origin) => {
            let carried: CarriedTlsRecord | null = null;
            const pick = (into: PickedRecords) => {
              if (into.records.length < MAX_TLS_RECORDS) into.records.push((carried ??= { bytes: record.slice(), origin, afterChangeCipherSpec: changeCipherSpecSeen }));
              carryRecord(into.carriers, origin);
              into.ranges.push([origin.offset, origin.offset + origin.length]);
            };
            if (decryptedHolding.has(origin.offset)) pick(byDecryption);
            if (logged?.records.has(origin.offset)) {
              pick(byLog);
              loggedFramed++;
            }
            if (listedRecords.has(origin.offset)) recordCarriers.set(origin.offset, { length: origin.length, packets: Array.from(recent!.within(origin.offset, origin.length), (p) => p.packet) });
            if (recordContentType(record) === ContentType.changeCipherSpec) changeCipherSpecSeen = true;
          },
          () => {},
        )
      : null;
    /** A piece of the unit's byte space: the unit's part copied, SPDY blocks inflated. Says whether it held unit bytes. */
    const unitStream = (data: Uint8Array, origin: StreamOrigin): boolean => {
      reached = origin.offset + data.length;
      if (spdy && spdyFrom !== undefined && origin.offset + data.length > spdyFrom) {
        const skip = Math.max(0, spdyFrom - origin.offset);
        spdy.push(data, skip, data.length, { ...origin, offset: origin.offset + skip, length: data.length - skip });
      }
      const a = Math.max(origin.offset, o.offset);
      const b = Math.min(origin.offset + data.length, o.offset + o.length);
      if (b <= a) return false;
      if (a - o.offset < bytes.length) bytes.set(data.subarray(a - origin.offset, Math.min(b, o.offset + bytes.length) - origin.offset), a - o.offset);
      return true;
    };
    /** The piece being pushed through the tunnel held unit bytes. */
    let heldInPiece = false;
    /** Over TLS, the record whose plaintext is being pushed through the tunnel (its TCP offset). */
    let plaintextRecord = -1;
    const channels = tunnel
      ? new K8sChannelDecoder(
          tunnel.subprotocol,
          {
            onChannelData() {},
            onChannelClose() {},
            onControl() {},
            onProblem() {},
            // The tunnelled bytes come out during the push of the piece that carried them.
            onTunnelData(_d, bytes, start, end, origin, tunnelOffset, compressed) {
              const data = rangeView(bytes, start, end);
              if (!unitStream(data, { offset: tunnelOffset, length: data.length, packet: origin.packet, ts: origin.ts })) return;
              heldInPiece = true;
              // The unit's part of the piece (all of it when inflated from a compressed message).
              const a = compressed ? origin.offset : origin.offset + Math.max(0, o.offset - tunnelOffset);
              const b = compressed ? origin.offset + origin.length : origin.offset + Math.min(data.length, o.offset + o.length - tunnelOffset);
              const f = (frameFound ??= { frame: null, held: [a, b], records: new Set(), packets: new Set() });
              f.held[0] = Math.min(f.held[0], a);
              f.held[1] = Math.max(f.held[1], b);
              // Over TLS the record being decrypted held them; over TCP, the piece's packet, and those TCP bytes are the unit's.
              if (tls) {
                f.records.add(plaintextRecord);
                if (framesFound.length < MAX_TUNNEL_FRAMES) listedRecords.add(plaintextRecord);
              } else {
                f.packets.add(origin.packet);
                tcpRanges.push([a, b]);
              }
            },
            onTunnelGap(_d, tunnelOffset, length) {
              reached = tunnelOffset + length;
              if (spdy && spdyFrom !== undefined && tunnelOffset >= spdyFrom) spdy.gap(tunnelOffset, length);
            },
            onFrame(ev) {
              const f = frameFound;
              if (!f) return;
              frameFound = null;
              f.frame = { offset: ev.origin.offset, length: ev.origin.length };
              if (framesFound.length < MAX_TUNNEL_FRAMES) {
                framesFound.push(f);
                for (const r of f.records) listedRecords.add(r);
              }
              framesFoundCount++;
            },
          },
          { portForward: tunnel.portForward, extensions: tunnel.extensions },
        )
      : null;
    /** A piece of the direction's stream (TCP, or decrypted) through the unit's layers: whether it held unit bytes. */
    const carriesUnit = (data: Uint8Array, origin: StreamOrigin): boolean => {
      if (!channels || !tunnel) return unitStream(data, origin);
      const skip = Math.max(0, tunnel.from - origin.offset);
      if (skip >= data.length) return false;
      heldInPiece = false;
      channels.push(dir, data, skip, data.length, { offset: origin.offset + skip, length: data.length - skip, packet: origin.packet, ts: origin.ts });
      return heldInPiece;
    };
    const decrypter = decrypting
      ? new TlsConnectionDecoder(keys!, {
          onHandshakeInfo() {},
          onRecord() {},
          onPlaintext(d, data, origin, record) {
            if (d !== dir) return;
            plaintextRecord = record.origin.offset;
            if (carriesUnit(data, origin)) decryptedHolding.add(plaintextRecord);
          },
          // What the analysis said of this connection is in its warnings already.
          onProblem() {},
        })
      : null;
    const tcp = new TcpReassembler(
      {
        onOpen() {},
        onData(conn, d, bytes, start, end, origin) {
          if (conn.id !== connectionId) return;
          const data = rangeView(bytes, start, end);
          if (d === dir) {
            tcpEnd = origin.offset + data.length;
            // The direction's first piece names its endpoints: from then on its packets are copied as they are read.
            if (!sender && segment && current?.index === origin.packet) {
              sender = { src: segment.src, srcPort: segment.srcPort, dst: segment.dst, dstPort: segment.dstPort };
              recent?.store(current, segment);
            }
            recent?.add({ packet: origin.packet, offset: origin.offset, length: data.length });
            if (current?.index === origin.packet) delivered = true;
          }
          // The handshake of both directions gives the keys.
          decrypter?.push(d, data, origin);
          if (d !== dir) return;
          records?.push(data, origin);
          if (!tls && carriesUnit(data, origin)) keep(carriers, origin.packet, data.length, origin.offset);
        },
        onGap(conn, d, offset, length) {
          if (conn.id !== connectionId) return;
          decrypter?.gap(d, offset, length);
          if (d !== dir) return;
          tcpEnd = offset + length;
          // A record cut by lost bytes cannot be found again; SPDY says what the loss cost its header context.
          records?.stop();
          if (tls) return;
          if (channels && tunnel && offset + length > tunnel.from) channels.gap(dir, Math.max(offset, tunnel.from), offset + length - Math.max(offset, tunnel.from));
          else if (!channels && spdy && spdyFrom !== undefined && offset >= spdyFrom) spdy.gap(offset, length);
        },
        onClose() {},
        onEnd() {},
        onProblem(p) {
          if (p.connection !== connectionId || p.packet === undefined || !isTcpAnalysis(p.code)) return;
          const i = p.packet;
          // Judged as it is pushed: the segment is the one being read.
          if (p.direction === dir && isRetransmission(p.code) && p.offset !== undefined && p.offset >= 0 && segment && current?.index === i && resentSegments.length < MAX_RESENT) {
            resentSegments.push({ packet: i, code: p.code, offset: p.offset, length: segment.end - segment.start });
          }
          // Kept once the segment is known to be one the unit may list (see onSegment).
          if (current?.index === i) pendingAnalysis.push(p);
        },
      },
      { analysisProblemsPerConnection: Infinity },
    );
    const packets = new PacketDecoder({
      onSegment(seg) {
        if (!current) return;
        const index = current.index;
        if (index === alsoPacket) {
          const k = keptPacket(current, seg);
          also = { ...k, streamOffset: -1, headers: packetHeaderLayers(k.packet.linkType, k.packet.data), analysis: [] };
        }
        if (index >= o.packet && index <= o.lastPacket && kept.size < MAX_KEPT_PACKETS) kept.set(index, keptPacket(current, seg));
        if (recent) {
          recent.forget();
          if (sender && seg.end > seg.start && sentBy(seg, sender)) recent.store(current, seg);
        }
        segment = seg;
        delivered = false;
        tcp.push(seg);
        segment = null;
        if (!delivered && seg.end > seg.start && (!sender || sentBy(seg, sender)) && heldBack.size < MAX_KEPT_PACKETS) heldBack.set(index, keptPacket(current, seg));
        if (pendingAnalysis.length) {
          if ((index >= o.packet && index <= o.lastPacket) || index === alsoPacket || kept.has(index) || heldBack.has(index) || recent?.has(index) || index > o.lastPacket) analysis.set(index, pendingAnalysis);
          pendingAnalysis = [];
        }
        if (index === o.packet) tcpEndAtUnitPacket = tcpEnd;
      },
    });
    /** Records the analysis's log names, framed so far. */
    let loggedFramed = 0;
    /** The unit's bytes are all delivered (TCP), decrypted, or their records framed. */
    const complete = (): boolean => {
      if (!tls) return tunnel ? reached >= o.offset + o.length : tcpEnd >= o.offset + o.length;
      if (reached >= o.offset + o.length) return true;
      if (logged) return loggedFramed >= logged.records.size;
      return !decrypting;
    };
    const decrypted = () => decrypting && reached >= o.offset + o.length;
    /** The packet, and its time, by which the unit was complete. */
    let completeAt: { index: number; ts: number } | null = null;
    const reader = new CaptureDecoder({
      onPacket(p) {
        if (done) return;
        current = p;
        packets.push(p);
        current = null;
        if (p.index < lastPacket) return;
        if (completeAt === null && complete()) completeAt = { index: p.index, ts: p.ts };
        const waited = completeAt !== null && (p.index >= completeAt.index + MAX_PACKETS_FOR_RETRANSMISSIONS || p.ts - completeAt.ts >= RETRANSMISSION_WAIT_NS);
        // A unit of no bytes is a flag: nothing is retransmitted after it that it could list.
        done = waited || (completeAt !== null && o.length === 0) || p.index >= lastPacket + MAX_PACKETS_PAST_UNIT;
      },
    });
    for await (const chunk of readCaptureBytes(path)) {
      reader.push(chunk);
      if (done) break;
    }
    // Pieces still held back for segments stored out of order are delivered now.
    tcp.end();
    // A frame the capture ends in.
    if (frameFound) {
      if (framesFound.length < MAX_TUNNEL_FRAMES) framesFound.push(frameFound);
      framesFoundCount++;
    }
    // Over TLS, bytes the keys did not reach are not the unit's: none are given.
    const picked = !tls ? null : decrypted() ? byDecryption : logged ? byLog : null;
    const chosen = picked?.carriers ?? (tls ? new Carriers() : carriers);
    // Decoded again (over TCP, or decrypted), the frames are those read; else the analysis's logs name them.
    const frames = !tls || decrypted() ? framesFound : (logged?.frames ?? []);
    const tunnelFrames = frames.slice(0, MAX_TUNNEL_FRAMES).map((f): TunnelFrame => {
      const held = { offset: f.held[0], length: f.held[1] - f.held[0] };
      if (!tls) return { frame: f.frame, held, records: [], packets: [...f.packets].sort((x, y) => x - y) };
      const framed = [...f.records].sort((x, y) => x - y).flatMap((offset) => {
        const r = recordCarriers.get(offset);
        return r ? [{ offset, ...r }] : [];
      });
      const packets = new Set(framed.flatMap((r) => r.packets));
      return { frame: f.frame, held, records: framed.map(({ offset, length }) => ({ offset, length })), packets: [...packets].sort((x, y) => x - y) };
    });
    const resent: CapturedUnit['resent'] = [];
    for (const r of resentSegments) {
      if (chosen.has(r.packet)) continue;
      for (const [a, b] of picked?.ranges ?? tcpRanges) {
        const x = Math.max(a, r.offset);
        const y = Math.min(b, r.offset + r.length);
        if (y <= x) continue;
        resent.push({ packet: r.packet, code: r.code, offset: x, length: y - x });
        break;
      }
    }
    if (o.length === 0 && !tunnel) flagCarrier(chosen, kept.get(o.packet), tcpEndAtUnitPacket);
    const found = [...chosen.values()].sort((x, y) => x.streamOffset - y.streamOffset);
    for (const c of found) c.analysis = analysis.get(c.packet.index) ?? [];
    const extra = also as CarrierPacket | null;
    if (extra) extra.analysis = analysis.get(extra.packet.index) ?? [];
    return {
      bytes: tls && !decrypted() ? new Uint8Array(0) : bytes,
      decrypted: decrypted(),
      tunnelFrames,
      tunnelFrameCount: !tls || decrypted() ? framesFoundCount : frames.length,
      carriers: found,
      unlisted: chosen.summary(),
      inflatedHeaderBlock,
      tlsRecords: picked?.records ?? [],
      traced: !tls || picked !== null,
      alsoPacket: extra && !chosen.has(extra.packet.index) ? extra : null,
      resent,
    };
  };
}

/**
 * A unit of no bytes is a raw stream's end: its packet carried it as a FIN or RST flag (its payload,
 * if any, before it in the stream). `tcpEnd`: where the direction's stream stood after that packet.
 */
function flagCarrier(carriers: Carriers, k: KeptPacket | undefined, tcpEnd: number): void {
  const flag = !k ? undefined : k.tcp.flags & TCP_RST ? 'RST' : k.tcp.flags & TCP_FIN ? 'FIN' : undefined;
  if (!k || !flag || carriers.size > 0) return;
  const headers = packetHeaderLayers(k.packet.linkType, k.packet.data);
  carriers.set(k.packet.index, { ...k, streamOffset: tcpEnd - k.payloadLength, headers, analysis: [], flag });
}
