/**
 * TCP sequence analysis as Wireshark's tcp.analysis flags define it: each segment, in capture order,
 * is judged against what its sender and the peer sent before (retransmission, out-of-order,
 * previous segment not captured, ACKed unseen segment, duplicate ACK, zero window, window full).
 * The judgement is about the capture, in sequence-number space; reassembly (tcp-reassembly.ts)
 * decides what the bytes are; each side of each connection it tracks is a TcpSenderAnalysis (a
 * subclass that also holds the side's reassembly state).
 */
import { ZERO_TS } from '../core/origin.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from './tcp.js';

export type TcpAnalysisFlag =
  | 'retransmission'
  | 'fast-retransmission'
  | 'spurious-retransmission'
  | 'out-of-order'
  | 'previous-segment-not-captured'
  | 'acked-unseen-segment'
  | 'duplicate-ack'
  | 'zero-window'
  | 'window-full';

/** One finding about a segment, with the text the problem shows. */
export interface TcpAnalysisFinding {
  flag: TcpAnalysisFlag;
  message: string;
}

/**
 * A data segment that fills a hole no later than this after the segment that advanced the
 * sequence is out of order, not a retransmission (Wireshark falls back to 3 ms without an RTT).
 */
const OUT_OF_ORDER_NS = 3e6;
/** A retransmission this soon after two duplicate ACKs asking for it is a fast retransmission. */
const FAST_RETRANSMISSION_NS = 20e6;

/** What the analysis knows of one side of a connection: Wireshark-style sequence analysis of what this side sends. */
export class TcpSenderAnalysis {
  /**
   * Sequence number after the highest byte (SYN and FIN count one) sent so far; -1 until this side
   * sent a segment. Sentinels rather than flags: V8 tests a boolean field for truth as it would any
   * object (~10 instructions each), a number against -1 in one.
   */
  nextSeq = -1;
  /** Time of the segment that last advanced nextSeq. */
  advancedTs = ZERO_TS;
  /** Last acknowledgment number and window this side sent (-1: no ACK yet), and the packet that first sent that ACK. */
  lastAck = -1;
  window = 0;
  ackPacket = 0;
  dupAcks = 0;
  lastDupAckTs = 0;
  /** Window scale shift from this side's SYN, -1 unknown (no SYN seen), 0 none. */
  windowScale = -1;
  /** This side's last segment was a keep-alive (its peer's answer is no duplicate ACK). */
  keptAlive = false;
  /** nextSeq when the peer last acknowledged bytes of this side not captured: reported once until this side moves on. */
  unseenAckedAt = -1;
}

/** seq-space a > b, across the 32-bit wrap. */
const after = (a: number, b: number) => ((a - b) | 0) > 0;

const NOTHING: readonly TcpAnalysisFinding[] = [];

/**
 * `found` with one more finding, made at the first. A function of the module, not a closure over
 * `found`: that closure and the context it shares were made for every segment.
 */
function add(found: TcpAnalysisFinding[] | null, flag: TcpAnalysisFlag, message: string): TcpAnalysisFinding[] {
  const list = found === null ? [] : found;
  list.push({ flag, message });
  return list;
}

/** Judges one segment of `me`, in capture order, and learns from it; `peer` is the other side. */
export function analyzeSegment(me: TcpSenderAnalysis, peer: TcpSenderAnalysis, seg: TcpSegment): readonly TcpAnalysisFinding[] {
  const length = seg.end - seg.start + (seg.missing ?? 0);
  const end = (seg.seq + length) >>> 0;
  // Most segments are the sender's next bytes with an ACK, no SYN, FIN or RST, both windows open:
  // none is a probe, keep-alive, duplicate ACK or retransmission of any kind, and unless the peer
  // acknowledged bytes not seen, the segment fills the window or resends acknowledged bytes, nothing
  // is found. Those tests alone: ~90 instructions a segment fewer than all of them (analyzeAnySegment).
  if (
    seg.seq === me.nextSeq &&
    length > 0 &&
    (seg.flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) === TCP_ACK &&
    seg.window !== 0 &&
    peer.window !== 0 &&
    !after(seg.ack, peer.nextSeq) &&
    !(peer.lastAck >= 0 && (end === windowEnd(me, peer) || !after(end, peer.lastAck)))
  ) {
    me.keptAlive = false;
    me.nextSeq = end;
    me.advancedTs = seg.ts;
    learnAck(me, seg);
    return NOTHING;
  }
  return analyzeAnySegment(me, peer, seg, length);
}

/** The sequence number after the peer's advertised window, which `me` may fill. */
function windowEnd(me: TcpSenderAnalysis, peer: TcpSenderAnalysis): number {
  const peerScale = peer.windowScale > 0 && me.windowScale >= 0 ? peer.windowScale : 0;
  // The shift is at most 14 (tcp.ts): `1 <<` keeps this integer arithmetic, where `2 **` was a call to pow for every data segment.
  return (peer.lastAck + peer.window * (1 << peerScale)) >>> 0;
}

/** The acknowledgment and window of a segment with ACK set, as `me` sent them. */
function learnAck(me: TcpSenderAnalysis, seg: TcpSegment): void {
  if (seg.ack !== me.lastAck) {
    me.dupAcks = 0;
    me.ackPacket = seg.packet;
  }
  me.lastAck = seg.ack;
  me.window = seg.window;
}

/** analyzeSegment for any segment; `length` counts its payload, captured or not. */
function analyzeAnySegment(me: TcpSenderAnalysis, peer: TcpSenderAnalysis, seg: TcpSegment, length: number): readonly TcpAnalysisFinding[] {
  let found: TcpAnalysisFinding[] | null = null;
  const flags = seg.flags;
  const control = (flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0;
  const seqLength = length + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
  const end = (seg.seq + seqLength) >>> 0;
  if (flags & TCP_SYN) me.windowScale = seg.windowScale ?? 0;

  if (seg.window === 0 && flags & TCP_ACK && !control) found = add(found, 'zero-window', 'zero window: the receiver has no room, the sender must wait');
  // A probe into the peer's zero window repeats no data and is not a retransmission.
  const zeroWindowProbe = length === 1 && seg.seq === me.nextSeq && peer.lastAck >= 0 && peer.window === 0;
  const keepAlive = length <= 1 && !control && ((seg.seq + 1) >>> 0) === me.nextSeq;
  if (me.nextSeq >= 0 && after(seg.seq, me.nextSeq) && !(flags & TCP_RST)) {
    found = add(found, 'previous-segment-not-captured', `previous segment not captured: ${((seg.seq - me.nextSeq) >>> 0)} bytes before this one are not in the capture (yet)`);
  }
  if (flags & TCP_ACK && !(flags & TCP_RST) && peer.nextSeq >= 0 && after(seg.ack, peer.nextSeq) && peer.unseenAckedAt !== peer.nextSeq) {
    found = add(found, 'acked-unseen-segment', `ACKed segment that wasn't captured: acknowledges ${((seg.ack - peer.nextSeq) >>> 0)} bytes the capture has not shown`);
    peer.unseenAckedAt = peer.nextSeq;
  }
  if (length > 0 && !control && peer.lastAck >= 0 && peer.window > 0 && end === windowEnd(me, peer)) {
    found = add(found, 'window-full', "window full: this segment fills the receiver's advertised window");
  }
  const duplicateAck =
    length === 0 &&
    !control &&
    flags & TCP_ACK &&
    peer.keptAlive === false &&
    me.lastAck >= 0 &&
    seg.seq === me.nextSeq &&
    seg.ack === me.lastAck &&
    seg.window === me.window &&
    seg.window !== 0;
  if (duplicateAck) {
    me.dupAcks++;
    me.lastDupAckTs = seg.ts;
    found = add(found, 'duplicate-ack', `duplicate ACK #${me.dupAcks} of packet ${me.ackPacket}`);
  }
  if (!keepAlive && !zeroWindowProbe) {
    // Bytes the receiver had acknowledged are sent again, whether or not the sequence moved on here.
    if (length > 0 && peer.lastAck >= 0 && !after(end, peer.lastAck)) {
      found = add(found, 'spurious-retransmission', 'spurious retransmission: the receiver had already acknowledged these bytes');
    } else if (seqLength > 0 && me.nextSeq >= 0 && after(me.nextSeq, seg.seq)) {
      if (peer.dupAcks >= 2 && peer.lastAck === seg.seq && seg.ts - peer.lastDupAckTs < FAST_RETRANSMISSION_NS) {
        found = add(found, 'fast-retransmission', `fast retransmission after ${peer.dupAcks} duplicate ACKs`);
      } else if (seg.ts - me.advancedTs < OUT_OF_ORDER_NS && me.nextSeq !== end) {
        found = add(found, 'out-of-order', 'out of order: sent before segments captured earlier');
      } else {
        found = add(found, 'retransmission', `retransmission of ${seqLength} ${seqLength === 1 ? 'sequence number' : 'bytes'}`);
      }
    }
  }
  me.keptAlive = keepAlive;

  if (me.nextSeq < 0 || after(end, me.nextSeq)) {
    me.nextSeq = end;
    me.advancedTs = seg.ts;
  }
  if (flags & TCP_ACK) learnAck(me, seg);
  return found === null ? NOTHING : found;
}
