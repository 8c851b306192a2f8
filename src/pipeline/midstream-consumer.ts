/**
 * A connection whose capture starts after its beginning: no request, no handshake, often not even a
 * frame boundary. Bytes are held (bounded) until one framing — SPDY, WebSocket, HTTP/2 or TLS —
 * explains clearly more of them than the others (frame-alignment.ts); each direction is then fed
 * to the session from its first frame on. Nothing plausible stays undecoded: never a guessed session.
 */
import type { Direction, StreamOrigin } from '../core/origin.js';
import type { UpgradedTransport } from '../k8s/upgraded-transport.js';
import { alignFrames, FRAMED_TRANSPORTS, type Alignment, type FramedTransport } from './frame-alignment.js';
import type { StreamConsumer } from './stream-consumer.js';

const MAX_HELD = 256 * 1024;
/** Complete frames (both directions together) that settle the framing before the capture ends. */
const CONFIDENT_FRAMES = 4;
/** A framing whose start was not found in the held bytes is looked for again only this far back. */
const RESCAN_BYTES = 16 * 1024;

interface Held {
  bytes: Uint8Array[];
  length: number;
  /** Stream offset of the first held byte. */
  offset: number;
  packet: number;
  ts: number;
  /** Frames found: everything goes straight to the transport. */
  aligned: boolean;
  gaveUp: boolean;
  /** Per framing, where the search for its first frame resumes. */
  searchFrom: Record<FramedTransport, number>;
}

export class MidstreamConsumer implements StreamConsumer {
  private transport: UpgradedTransport | null = null;
  private kind: FramedTransport | null = null;
  private readonly held: Record<Direction, Held> = { c2s: this.fresh(), s2c: this.fresh() };

  /**
   * `start` is called once the framing is known, with the bytes skipped before the first frame in
   * each direction; it returns the transport to feed, or null for a framing that is listed only.
   */
  constructor(
    private readonly start: (kind: FramedTransport, skipped: Record<Direction, number>) => UpgradedTransport | null,
    private readonly warn: (message: string) => void,
  ) {}

  push(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    const h = this.held[dir];
    if (h.aligned) return this.transport?.push(dir, bytes, start, end, origin);
    if (h.gaveUp) return;
    if (h.length === 0) Object.assign(h, { offset: origin.offset, packet: origin.packet, ts: origin.ts });
    h.bytes.push(bytes.slice(start, end));
    h.length += end - start;
    if (this.kind) this.align(dir);
    else this.decide(false);
  }

  gap(dir: Direction, offset: number, length: number): void {
    const h = this.held[dir];
    if (h.aligned) this.transport?.gap(dir, offset, length);
    else Object.assign(h, { bytes: [], length: 0, searchFrom: this.searchStart() });
  }

  end(): void {
    if (!this.kind) this.decide(true);
    if (!this.kind) this.warn('capture starts mid-connection and no SPDY, WebSocket, HTTP/2 or TLS framing explains its bytes: not decoded');
    this.transport?.end();
  }

  private fresh(): Held {
    return { bytes: [], length: 0, offset: 0, packet: 0, ts: 0, aligned: false, gaveUp: false, searchFrom: this.searchStart() };
  }

  private searchStart(): Record<FramedTransport, number> {
    return { spdy: 0, websocket: 0, http2: 0, tls: 0 };
  }

  private joined(dir: Direction): Uint8Array {
    const h = this.held[dir];
    if (h.bytes.length > 1) h.bytes = [Buffer.concat(h.bytes)];
    return h.bytes[0] ?? new Uint8Array(0);
  }

  private alignment(dir: Direction, kind: FramedTransport): Alignment | null {
    const h = this.held[dir];
    const all = this.joined(dir);
    const found = alignFrames(all, kind, dir, h.searchFrom[kind]);
    if (!found) h.searchFrom[kind] = Math.max(h.searchFrom[kind], all.length - RESCAN_BYTES);
    return found;
  }

  /** Settles the framing once one explains the most bytes with enough frames (or at the end, or when the hold is full). */
  private decide(final: boolean): void {
    let best: { kind: FramedTransport; explained: number; frames: number } | null = null;
    for (const kind of FRAMED_TRANSPORTS) {
      let explained = 0;
      let frames = 0;
      for (const dir of ['c2s', 's2c'] as const) {
        const a = this.held[dir].gaveUp ? null : this.alignment(dir, kind);
        if (a) {
          explained += a.explained;
          frames += a.frames;
        }
      }
      if (explained > 0 && (!best || explained > best.explained || (explained === best.explained && frames > best.frames))) best = { kind, explained, frames };
    }
    const full = this.held.c2s.length > MAX_HELD || this.held.s2c.length > MAX_HELD;
    // A short chain near the end of noise is no evidence: enough whole frames are, or one framing covering most bytes held.
    const evident = best && (best.frames >= CONFIDENT_FRAMES || 2 * best.explained >= this.held.c2s.length + this.held.s2c.length);
    if (best && evident && (final || full || best.frames >= CONFIDENT_FRAMES)) {
      this.kind = best.kind;
      for (const dir of ['c2s', 's2c'] as const) this.align(dir);
      return;
    }
    for (const dir of ['c2s', 's2c'] as const) {
      const h = this.held[dir];
      if (h.length <= MAX_HELD || h.gaveUp) continue;
      h.gaveUp = true;
      h.bytes = [];
      this.warn(`capture starts mid-connection: no frame boundary in the first ${h.length} bytes ${dir}, that direction is not decoded`);
    }
  }

  /** Feeds `dir` from its first frame of the settled framing, once that is found. */
  private align(dir: Direction): void {
    const h = this.held[dir];
    const kind = this.kind!;
    if (h.aligned || h.gaveUp || h.length === 0) return;
    const a = this.alignment(dir, kind);
    if (!a) {
      if (h.length > MAX_HELD) {
        h.gaveUp = true;
        h.bytes = [];
        this.warn(`capture starts mid-connection: no ${kind} frame boundary in the first ${h.length} bytes ${dir}, that direction is not decoded`);
      }
      return;
    }
    const all = this.joined(dir);
    if (!this.transport && !this.held.c2s.aligned && !this.held.s2c.aligned) {
      this.transport = this.start(kind, { c2s: dir === 'c2s' ? a.start : 0, s2c: dir === 's2c' ? a.start : 0 });
    }
    h.aligned = true;
    h.bytes = [];
    this.transport?.push(dir, all, a.start, all.length, { offset: h.offset + a.start, length: all.length - a.start, packet: h.packet, ts: h.ts });
  }
}
