/**
 * RFC 6455 §5.2 frame decoder for one direction of a WebSocket connection.
 *
 * A small explicit state machine over whatever chunks the TCP layer delivers (the shape of the `ws`
 * library's receiver: GET_INFO → GET_LENGTH → GET_MASK → GET_PAYLOAD), except that payloads are never
 * collected: they are streamed to the sink piece by piece, unmasked into one reusable scratch buffer.
 * Header bytes (at most 14) are the only bytes buffered across chunks, plus at most 15 bytes while
 * resynchronising.
 *
 * Sink protocol, in order, for each frame:
 *   onFrameStart(header) → onPayload(bytes, start, end, origin) / onPayloadLost(offset, length) … → onFrameEnd(header, frame)
 * onSyncLost(offset) abandons the frame in progress (no onFrameEnd follows); decoding resumes with
 * onFrameStart at the next plausible header. onStreamEnd() comes once, from end(). onProblem(p) at any time.
 *
 * The header is the decoder's own object, refilled for every frame; the pieces' origins and the
 * frame's origin are shared by every decoder and refilled for every piece or frame (a keystroke's
 * frame would otherwise cost four objects, and an origin of each decoder's own is one more cache
 * line fetched per frame when thousands of connections interleave): a sink that keeps one past the
 * frame (past the call, for origins) keeps a copy.
 */
import { ZERO_TS, type FrameOrigin, type StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { webSocketProblem, type WebSocketProblemCode } from './problems.js';
import { maskInPlace } from './mask.js';
import { SMALL_PIECE_BYTES, SmallPieceCopier } from '../core/small-copy.js';
import { ResyncCarry } from '../core/resync-carry.js';
import { isControlOpcode, isKnownOpcode, Opcode, opcodeName, plausibleWebSocketFrame, webSocketHeaderLength, type WebSocketPlausibility } from './frame-header.js';

export interface WebSocketFrameHeader {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** The 4 masking-key bytes as a big-endian uint32 (0 when unmasked). */
  maskKey: number;
  payloadLength: number;
  /** 2 to 14 bytes. */
  headerLength: number;
  /** The header bytes: offset = the frame's first byte, length = headerLength, packet/ts of its first byte. */
  origin: StreamOrigin;
}

export interface WebSocketFrameSink {
  /** `header` is the decoder's own object, refilled for the next frame: valid until this frame's onFrameEnd or onSyncLost. */
  onFrameStart(header: WebSocketFrameHeader): void;
  /**
   * Unmasked payload bytes, bytes[start, end): the caller's buffer where they lie, or (masked) the
   * decoder's scratch buffer (core/byte-range.ts). `bytes` and `origin` (the decoder's, or the
   * caller's) are valid only during the call.
   */
  onPayload(bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void;
  /** Payload bytes [offset, offset+length) of the current frame were lost; the frame goes on in sync. */
  onPayloadLost(offset: number, length: number): void;
  /**
   * `frame` spans header and payload; lastPacket/lastTs is the packet that carried (or last preceded)
   * its end. It is the decoder's own object, valid only during the call.
   */
  onFrameEnd(header: WebSocketFrameHeader, frame: FrameOrigin): void;
  /**
   * A whole frame in one piece (see WebSocketFrameDecoder.readSmallFrame): what onFrameStart,
   * onPayload and onFrameEnd would say of it, in one call. A sink without it gets those three.
   */
  onWholeFrame?(header: WebSocketFrameHeader, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin, frame: FrameOrigin): void;
  /** Framing lost at stream offset `offset`: the frame (and message) in progress is abandoned. */
  onSyncLost(offset: number): void;
  onStreamEnd(): void;
  onProblem(p: Problem): void;
}

export interface WebSocketFrameDecoderOptions {
  /** Client→server frames must be masked (RFC 6455 §5.1), server→client frames must not. */
  expectMasked: boolean;
  /** RFC 6455 §5.5: 125. */
  maxControlPayload?: number;
  /** An extension (permessage-deflate) was negotiated: RSV1 is legal on the first frame of a data message. */
  rsv1Allowed?: boolean;
  /**
   * Extra resynchronisation evidence: is this (unmasked) first payload byte plausible for a data frame
   * with this opcode? E.g. a known k8s channel id. Without it only the header is judged.
   */
  plausibleFirstPayloadByte?: (opcode: number, byte: number) => boolean;
  /** Prefix of Problem.where, e.g. "c2s". */
  label?: string;
}

const GET_INFO = 0;
const GET_LENGTH = 1;
const GET_MASK = 2;
const GET_PAYLOAD = 3;
const RESYNC = 4;
const ENDED = 5;

/** Masked payload is unmasked through this many bytes at a time. */
const SCRATCH_SIZE = 64 * 1024;
/**
 * Shared by every decoder: a piece handed to a sink is valid only during the call, and no sink feeds
 * another WebSocket decoder from inside it, so one buffer serves them all (a capture with thousands
 * of open connections would otherwise hold 64 KiB per client direction).
 */
let sharedScratch: Uint8Array | null = null;
/** Pieces of a few bytes (a keystroke's frame), masked or not, are copies, shared as the scratch is. */
const smallPieces = new SmallPieceCopier();
/** The origin handed with a payload piece that is not all of the caller's chunk; shared as the scratch is. */
const sharedPieceOrigin: StreamOrigin = { offset: 0, length: 0, packet: 0, ts: 0 };
/** The origin handed to onFrameEnd; shared as the scratch is. */
const sharedFrameOrigin: FrameOrigin = { offset: 0, length: 0, packet: 0, ts: 0, lastPacket: 0, lastTs: 0 };
/** Longest header: 2 + 8 (64-bit length) + 4 (mask key). */
const MAX_HEADER_BYTES = 14;
/** Longest header plus the first payload byte that resynchronisation inspects. */
const RESYNC_WINDOW = MAX_HEADER_BYTES + 1;
const TWO_32 = 2 ** 32;

export class WebSocketFrameDecoder {
  private state = GET_INFO;
  /** Stream offset of the next byte expected; -1 until the first push or gap. */
  private pos = -1;
  private lastPacket = 0;
  private lastTs = ZERO_TS;

  /** A header that straddles chunks, gathered; made at the first such header (most connections have none). */
  private hdr: Uint8Array | null = null;
  private hdrLen = 0;
  private need = 2;
  private frameOffset = 0;
  private framePacket = 0;
  private frameTs = ZERO_TS;
  private payloadLength = 0;

  /** The frame in progress (state GET_PAYLOAD), refilled for each frame. */
  private readonly header: WebSocketFrameHeader = {
    fin: false,
    rsv1: false,
    rsv2: false,
    rsv3: false,
    opcode: 0,
    masked: false,
    maskKey: 0,
    payloadLength: 0,
    headerLength: 0,
    origin: { offset: 0, length: 0, packet: 0, ts: 0 },
  };
  private payloadPos = 0;
  private remaining = 0;

  /** Made on the first resynchronisation: most connections never need one. */
  private carried: ResyncCarry | null = null;
  private carryLen = 0;
  private carryOffset = 0;
  private skipped = 0;

  private maskProblemReported = false;
  private readonly expectMasked: boolean;
  private readonly maxControlPayload: number;
  private readonly rsv1Allowed: boolean;
  private readonly plausibility: WebSocketPlausibility;
  private readonly label: string;

  constructor(
    private readonly sink: WebSocketFrameSink,
    opts: WebSocketFrameDecoderOptions,
  ) {
    this.expectMasked = opts.expectMasked;
    this.maxControlPayload = opts.maxControlPayload ?? 125;
    this.rsv1Allowed = opts.rsv1Allowed ?? false;
    this.plausibility = { expectMasked: opts.expectMasked, rsv1Allowed: this.rsv1Allowed, maxControlPayload: this.maxControlPayload, firstPayloadByte: opts.plausibleFirstPayloadByte };
    this.label = opts.label ?? (opts.expectMasked ? 'c2s' : 's2c');
  }

  /** bytes[start, end), at origin.offset of the stream (valid only during the call). */
  push(bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    if (this.state === ENDED) {
      this.problem('after-end', origin.offset, 'data after end of stream ignored');
      return;
    }
    let offset = origin.offset;
    if (this.pos < 0) this.pos = offset;
    if (offset > this.pos) {
      this.lose(this.pos, offset - this.pos);
    } else if (offset < this.pos) {
      // Bytes already seen (a retransmission the TCP layer let through).
      const seen = this.pos - offset;
      if (seen >= end - start) return;
      start += seen;
      offset = this.pos;
    }
    this.pos = offset + end - start;
    this.lastPacket = origin.packet;
    this.lastTs = origin.ts;
    this.consume(bytes, start, end, offset - start, origin.packet, origin.ts, offset === origin.offset && origin.length === end - start ? origin : null);
  }

  gap(offset: number, length: number): void {
    if (this.state === ENDED || length <= 0) return;
    if (this.pos < 0) this.pos = offset;
    if (offset > this.pos) {
      length += offset - this.pos;
      offset = this.pos;
    } else if (offset < this.pos) {
      const seen = this.pos - offset;
      if (seen >= length) return;
      offset += seen;
      length -= seen;
    }
    this.lose(offset, length);
  }

  end(): void {
    if (this.state === ENDED) return;
    const at = Math.max(this.pos, 0);
    if (this.state === GET_PAYLOAD) {
      this.problem('truncated', at, `stream ended ${this.remaining} bytes before the end of a ${this.header.payloadLength}-byte ${opcodeName(this.header.opcode)} frame`);
    } else if (this.state === RESYNC) {
      const skipped = this.skipped + this.carryLen;
      if (skipped > 0) this.problem('truncated', at, `stream ended while resynchronising: ${skipped} bytes skipped`);
    } else if (this.hdrLen > 0) {
      this.problem('truncated', at, `stream ended inside a frame header (${this.hdrLen} bytes)`);
    }
    this.state = ENDED;
    this.sink.onStreamEnd();
  }

  /**
   * Decodes data[start, end); `offset` is the stream offset of data[0] (data[i] is at offset + i), as
   * for every step below. `whole`: the origin of all of data[start, end), when the caller has one,
   * for payload pieces that are all of it.
   */
  private consume(data: Uint8Array, start: number, end: number, offset: number, packet: number, ts: number, whole: StreamOrigin | null): void {
    let i = start;
    while (i < end) {
      if (this.state === GET_PAYLOAD) i = this.readPayload(data, i, end, offset, packet, ts, whole);
      else if (this.state === RESYNC) i = this.scan(data, i, end, offset, packet, ts);
      else i = this.readHeader(data, i, end, offset, packet, ts);
    }
  }

  private readHeader(data: Uint8Array, i: number, end: number, offset: number, packet: number, ts: number): number {
    if (this.hdrLen === 0) {
      this.frameOffset = offset + i;
      this.framePacket = packet;
      this.frameTs = ts;
      if (end - i >= 2 && end - i >= webSocketHeaderLength(data[i + 1])) {
        const frameEnd = this.readSmallFrame(data, i, end, offset, packet, ts);
        return frameEnd >= 0 ? frameEnd : this.readWholeHeader(data, i, packet, ts);
      }
    }
    const stop = Math.min(end, i + this.need - this.hdrLen);
    const hdr = (this.hdr ??= new Uint8Array(MAX_HEADER_BYTES));
    while (i < stop) hdr[this.hdrLen++] = data[i++];
    if (this.hdrLen === this.need) {
      if (this.state === GET_INFO) this.getInfo(hdr, 0, packet, ts);
      else if (this.state === GET_LENGTH) this.getLength(hdr, 0, packet, ts);
      else this.getMask(hdr, 0, packet, ts);
    }
    return i;
  }

  /**
   * A header that lies whole in the chunk (nearly every one) goes through the same steps where it lies,
   * one after the other, rather than copied byte by byte and taken one state per pass (~100
   * instructions of a keystroke's masked frame). Returns where the steps stopped, as readHeader would.
   */
  private readWholeHeader(data: Uint8Array, i: number, packet: number, ts: number): number {
    this.hdrLen = 2;
    this.getInfo(data, i, packet, ts);
    let used = 2;
    while (this.state === GET_LENGTH || this.state === GET_MASK) {
      used = this.hdrLen = this.need;
      if (this.state === GET_LENGTH) this.getLength(data, i, packet, ts);
      else this.getMask(data, i, packet, ts);
    }
    return i + used;
  }

  /**
   * The frames of terminal typing (a keystroke, its echo): FIN set, no RSV bit, text or binary, masked
   * as the direction must be, 1 to SMALL_PIECE_BYTES of payload, all in the chunk. Nothing about such a
   * header can be a problem, so the frame is decoded in one pass: the header filled as startFrame fills
   * it, the payload (copied and unmasked when masked), and the sink told of the whole frame in one call (through the
   * header steps and the three calls, with the message and channel layers' own, a keystroke cost ~840
   * instructions more). Returns where the frame ends, or -1 for any other frame (the steps take it).
   */
  private readSmallFrame(data: Uint8Array, i: number, end: number, offset: number, packet: number, ts: number): number {
    const b0 = data[i];
    const b1 = data[i + 1];
    const length = b1 & 0x7f;
    const masked = b1 >= 0x80;
    const headerLength = masked ? 6 : 2;
    const start = i + headerLength;
    if ((b0 !== 0x82 && b0 !== 0x81) || masked !== this.expectMasked || length === 0 || length > SMALL_PIECE_BYTES || start + length > end) return -1;
    const sink = this.sink;
    if (sink.onWholeFrame === undefined) return -1;
    // An int32 for the unmasking: the header's uint32 may be a heap number.
    const key = masked ? (data[i + 2] << 24) | (data[i + 3] << 16) | (data[i + 4] << 8) | data[i + 5] : 0;
    const header = this.header;
    header.fin = true;
    header.rsv1 = false;
    header.rsv2 = false;
    header.rsv3 = false;
    header.opcode = b0 & 0x0f;
    header.masked = masked;
    header.maskKey = key >>> 0;
    header.payloadLength = length;
    header.headerLength = headerLength;
    const o = header.origin;
    o.offset = offset + i;
    o.length = headerLength;
    o.packet = packet;
    o.ts = ts;
    const f = sharedFrameOrigin;
    f.offset = offset + i;
    f.length = headerLength + length;
    f.packet = packet;
    f.ts = ts;
    f.lastPacket = packet;
    f.lastTs = ts;
    const origin = this.pieceOrigin(offset + start, length, packet, ts);
    if (masked) {
      const piece = smallPieces.copy(data, start, start + length);
      for (let j = 0; j < length; j++) piece[j] ^= key >> (24 - 8 * (j & 3));
      sink.onWholeFrame(header, piece, 0, length, origin, f);
    } else sink.onWholeFrame(header, data, start, start + length, origin, f);
    return start + length;
  }

  /** The header steps read its bytes at h[from…] (the decoder's copy, or the chunk that holds it whole). */
  private getInfo(h: Uint8Array, from: number, packet: number, ts: number): void {
    const b0 = h[from];
    const b1 = h[from + 1];
    const opcode = b0 & 0x0f;
    const at = this.frameOffset;
    if (!isKnownOpcode(opcode)) this.problem('reserved-opcode', at, opcodeName(opcode));
    if (b0 & 0x30) this.problem('rsv-unnegotiated', at, `RSV2/RSV3 set (0x${(b0 & 0x70).toString(16)}) without a negotiated extension`);
    if (b0 & 0x40 && (!this.rsv1Allowed || isControlOpcode(opcode) || opcode === Opcode.Continuation)) {
      this.problem('rsv-unnegotiated', at, `RSV1 set on a ${opcodeName(opcode)} frame${this.rsv1Allowed ? '' : ' without a negotiated extension'}`);
    }
    if (isControlOpcode(opcode) && !(b0 & 0x80)) this.problem('fragmented-control', at, `fragmented ${opcodeName(opcode)} frame (FIN clear)`);
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.expectMasked && !this.maskProblemReported) {
      this.maskProblemReported = true;
      this.problem('masking', at, `${this.expectMasked ? 'client frame not masked' : 'server frame masked'} (RFC 6455 §5.1; reported once)`);
    }
    const len7 = b1 & 0x7f;
    if (len7 === 126) {
      this.state = GET_LENGTH;
      this.need = 4;
    } else if (len7 === 127) {
      this.state = GET_LENGTH;
      this.need = 10;
    } else {
      this.haveLength(len7, h, from, packet, ts);
    }
  }

  private getLength(h: Uint8Array, from: number, packet: number, ts: number): void {
    let length: number;
    if (this.need === 4) {
      length = (h[from + 2] << 8) | h[from + 3];
      if (length < 126) this.problem('non-minimal-length', this.frameOffset, `payload length ${length} not minimally encoded (16-bit form)`);
    } else {
      const hi = ((h[from + 2] << 24) | (h[from + 3] << 16) | (h[from + 4] << 8) | h[from + 5]) >>> 0;
      const lo = ((h[from + 6] << 24) | (h[from + 7] << 16) | (h[from + 8] << 8) | h[from + 9]) >>> 0;
      if (hi >= 0x80000000) {
        this.enterResync(this.frameOffset, 'invalid 64-bit payload length: most significant bit set (RFC 6455 §5.2)');
        return;
      }
      length = hi * TWO_32 + lo;
      if (length > Number.MAX_SAFE_INTEGER) {
        this.enterResync(this.frameOffset, `implausible 64-bit payload length ${BigInt(hi) * 2n ** 32n + BigInt(lo)} (> 2^53-1)`);
        return;
      }
      if (length < 65536) this.problem('non-minimal-length', this.frameOffset, `payload length ${length} not minimally encoded (64-bit form)`);
    }
    this.haveLength(length, h, from, packet, ts);
  }

  private haveLength(length: number, h: Uint8Array, from: number, packet: number, ts: number): void {
    this.payloadLength = length;
    const opcode = h[from] & 0x0f;
    if (isControlOpcode(opcode) && length > this.maxControlPayload) {
      this.problem('control-too-long', this.frameOffset, `${opcodeName(opcode)} frame payload ${length} bytes exceeds ${this.maxControlPayload}`);
    }
    if (h[from + 1] & 0x80) {
      this.state = GET_MASK;
      this.need = this.hdrLen + 4;
    } else {
      this.startFrame(0, h, from, packet, ts);
    }
  }

  private getMask(h: Uint8Array, from: number, packet: number, ts: number): void {
    const k = from + this.hdrLen - 4;
    this.startFrame(((h[k] << 24) | (h[k + 1] << 16) | (h[k + 2] << 8) | h[k + 3]) >>> 0, h, from, packet, ts);
  }

  private startFrame(maskKey: number, h: Uint8Array, from: number, packet: number, ts: number): void {
    const b0 = h[from];
    const header = this.header;
    header.fin = (b0 & 0x80) !== 0;
    header.rsv1 = (b0 & 0x40) !== 0;
    header.rsv2 = (b0 & 0x20) !== 0;
    header.rsv3 = (b0 & 0x10) !== 0;
    header.opcode = b0 & 0x0f;
    header.masked = (h[from + 1] & 0x80) !== 0;
    header.maskKey = maskKey;
    header.payloadLength = this.payloadLength;
    header.headerLength = this.hdrLen;
    const o = header.origin;
    o.offset = this.frameOffset;
    o.length = this.hdrLen;
    o.packet = this.framePacket;
    o.ts = this.frameTs;
    this.payloadPos = 0;
    this.remaining = this.payloadLength;
    this.hdrLen = 0;
    this.need = 2;
    this.state = GET_PAYLOAD;
    this.sink.onFrameStart(header);
    if (this.remaining === 0) this.finishFrame(packet, ts);
  }

  private readPayload(data: Uint8Array, i: number, end: number, offset: number, packet: number, ts: number, whole: StreamOrigin | null): number {
    const h = this.header;
    const n = Math.min(this.remaining, end - i);
    const start = offset + i;
    if (!h.masked) {
      // Mid-payload segments are all payload: handed on with the caller's origin, not a new one.
      this.sink.onPayload(data, i, i + n, whole !== null && n === whole.length ? whole : this.pieceOrigin(start, n, packet, ts));
    } else {
      const scratch = (sharedScratch ??= new Uint8Array(SCRATCH_SIZE));
      for (let done = 0; done < n; ) {
        const k = Math.min(n - done, SCRATCH_SIZE);
        let piece: Uint8Array;
        if (k <= SMALL_PIECE_BYTES) piece = smallPieces.copy(data, i + done, i + done + k);
        else {
          piece = scratch.subarray(0, k);
          piece.set(data.subarray(i + done, i + done + k));
        }
        maskInPlace(piece, h.maskKey, this.payloadPos + done);
        this.sink.onPayload(piece, 0, k, this.pieceOrigin(start + done, k, packet, ts));
        done += k;
      }
    }
    this.payloadPos += n;
    this.remaining -= n;
    if (this.remaining === 0) this.finishFrame(packet, ts);
    return i + n;
  }

  private pieceOrigin(offset: number, length: number, packet: number, ts: number): StreamOrigin {
    const o = sharedPieceOrigin;
    o.offset = offset;
    o.length = length;
    o.packet = packet;
    o.ts = ts;
    return o;
  }

  private finishFrame(lastPacket: number, lastTs: number): void {
    const h = this.header;
    this.state = GET_INFO;
    const f = sharedFrameOrigin;
    f.offset = h.origin.offset;
    f.length = h.headerLength + h.payloadLength;
    f.packet = h.origin.packet;
    f.ts = h.origin.ts;
    f.lastPacket = lastPacket;
    f.lastTs = lastTs;
    this.sink.onFrameEnd(h, f);
  }

  /** Bytes [offset, offset+length) will never arrive. */
  private lose(offset: number, length: number): void {
    this.pos = offset + length;
    if (this.state === RESYNC) {
      // Candidates straddling the hole cannot be completed.
      this.skipped += this.carryLen;
      this.carryLen = 0;
      return;
    }
    if (this.state === GET_PAYLOAD) {
      const n = Math.min(length, this.remaining);
      this.problem('gap', offset, `${n} bytes of ${opcodeName(this.header.opcode)} frame payload lost; framing kept`);
      this.payloadPos += n;
      this.remaining -= n;
      this.sink.onPayloadLost(offset, n);
      if (this.remaining === 0) this.finishFrame(this.lastPacket, this.lastTs);
      if (n === length) return;
      this.enterResync(offset + n, `${length - n} bytes lost across a frame header`);
      return;
    }
    this.enterResync(offset, `${length} bytes lost ${this.hdrLen > 0 ? 'inside' : 'at'} a frame header`);
  }

  private enterResync(offset: number, reason: string): void {
    this.problem('resync', offset, `${reason}; resynchronising`);
    this.state = RESYNC;
    this.hdrLen = 0;
    this.need = 2;
    this.carryLen = 0;
    this.skipped = 0;
    this.carried ??= new ResyncCarry(RESYNC_WINDOW);
    this.sink.onSyncLost(offset);
  }

  private resynced(offset: number): void {
    this.problem('resync', offset, `resynchronised on a plausible frame header after skipping ${this.skipped} bytes`);
    this.state = GET_INFO;
    this.skipped = 0;
  }

  /** RESYNC state: look for a plausible header; returns where normal decoding continues. */
  private scan(data: Uint8Array, i: number, n: number, offset: number, packet: number, ts: number): number {
    if (this.carryLen > 0) {
      // Candidates starting in bytes kept from earlier chunks, judged with lookahead from this one.
      const kept = this.carryLen;
      const lookahead = Math.min(RESYNC_WINDOW, n - i);
      const win = this.carried!.window;
      win.set(this.carried!.bytes.subarray(0, kept));
      win.set(data.subarray(i, i + lookahead), kept);
      for (let p = 0; p < kept; p++) {
        const verdict = this.plausibleAt(win, p, kept + lookahead);
        if (verdict === -1) continue;
        this.dropCarry(p);
        if (verdict > 0) {
          this.replayCarry();
          return i;
        }
        // Undecided: the window was short, so the lookahead was all of this chunk.
        this.keep(data, i, n, packet, ts);
        return n;
      }
      this.dropCarry(kept);
    }
    for (; i < n; i++) {
      const verdict = this.plausibleAt(data, i, n);
      if (verdict > 0) {
        this.resynced(offset + i);
        return i;
      }
      if (verdict === 0) {
        this.carryOffset = offset + i;
        this.keep(data, i, n, packet, ts);
        return n;
      }
      this.skipped++;
    }
    return n;
  }

  /** Skips the first `count` kept bytes. */
  private dropCarry(count: number): void {
    const c = this.carried!;
    c.bytes.copyWithin(0, count, this.carryLen);
    c.packets.copyWithin(0, count, this.carryLen);
    c.times.copyWithin(0, count, this.carryLen);
    this.carryLen -= count;
    this.carryOffset += count;
    this.skipped += count;
  }

  /** Keeps data[from, to) (fewer than RESYNC_WINDOW bytes with what is kept) for the next chunk. */
  private keep(data: Uint8Array, from: number, to: number, packet: number, ts: number): void {
    const c = this.carried!;
    c.bytes.set(data.subarray(from, to), this.carryLen);
    c.packets.fill(packet, this.carryLen, this.carryLen + to - from);
    c.times.fill(ts, this.carryLen, this.carryLen + to - from);
    this.carryLen += to - from;
  }

  /** A header was found at carry[0]: decode the kept bytes normally, each run with the packet that carried it. */
  private replayCarry(): void {
    const len = this.carryLen;
    const c = this.carried!;
    const bytes = c.bytes.slice(0, len);
    const packets = c.packets.slice(0, len);
    const times = c.times.slice(0, len);
    const offset = this.carryOffset;
    this.carryLen = 0;
    this.resynced(offset);
    let start = 0;
    for (let k = 1; k <= len; k++) {
      if (k === len || packets[k] !== packets[start]) {
        this.consume(bytes, start, k, offset, packets[start], times[start], null);
        start = k;
      }
    }
  }

  /** Is there a plausible frame header at buf[i]? 1 yes, -1 no, 0 cannot tell before `end`. */
  private plausibleAt(buf: Uint8Array, i: number, end: number): number {
    return plausibleWebSocketFrame(buf, i, end, this.plausibility);
  }

  private problem(code: WebSocketProblemCode, offset: number, message: string): void {
    const p = webSocketProblem(code, message, { where: `${this.label} offset ${offset}`, offset });
    // Header problems are at the frame's first byte, whose packet is known.
    if (offset === this.frameOffset && this.framePacket > 0) p.packet = this.framePacket;
    this.sink.onProblem(p);
  }
}
