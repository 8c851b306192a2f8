/**
 * A connection whose capture starts after the upgrade: no request, no handshake, often not even a
 * frame boundary. Bytes are held (bounded) until frame starts are found; the transport is whichever
 * framing lines up, and each direction is fed to the session from its first frame on.
 */
import type { Direction, StreamOrigin } from '../core/origin.js';
import type { UpgradedTransport } from '../k8s/upgraded-transport.js';
import { findFrameStart, frameChainLength, type FramedTransport } from './frame-alignment.js';
import type { StreamConsumer } from './stream-consumer.js';

const MAX_HELD = 256 * 1024;
/** Frames in a row that settle which framing an unknown connection uses. */
const MIN_FRAMES_TO_DECIDE = 3;
/** Bytes a direction must hold before its framing counts towards the decision. */
const MIN_BYTES_TO_DECIDE = 64;

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
}

export class MidstreamConsumer implements StreamConsumer {
  private transport: UpgradedTransport | null = null;
  private kind: FramedTransport | null = null;
  private readonly held: Record<Direction, Held> = { c2s: this.fresh(), s2c: this.fresh() };

  constructor(
    private readonly start: (kind: FramedTransport, skipped: Record<Direction, number>) => UpgradedTransport,
    private readonly warn: (message: string) => void,
  ) {}

  push(dir: Direction, data: Uint8Array, origin: StreamOrigin): void {
    const h = this.held[dir];
    if (h.aligned) return this.transport?.push(dir, data, origin);
    if (h.gaveUp) return;
    if (h.length === 0) Object.assign(h, { offset: origin.offset, packet: origin.packet, ts: origin.ts });
    h.bytes.push(data.slice());
    h.length += data.length;
    this.tryAlign(dir);
  }

  gap(dir: Direction, offset: number, length: number): void {
    const h = this.held[dir];
    if (h.aligned) this.transport?.gap(dir, offset, length);
    else Object.assign(h, { bytes: [], length: 0 });
  }

  end(): void {
    // Bytes too few to be sure of the framing are decoded as whatever fits best, now that no more come.
    for (const dir of ['c2s', 's2c'] as const) if (!this.held[dir].aligned && !this.held[dir].gaveUp && this.held[dir].length) this.tryAlign(dir, true);
    if (!this.transport) this.warn('capture starts mid-connection and no SPDY, WebSocket or HTTP/2 frame boundary was found: bytes not decoded');
    this.transport?.end();
  }

  private fresh(): Held {
    return { bytes: [], length: 0, offset: 0, packet: 0, ts: 0, aligned: false, gaveUp: false };
  }

  private tryAlign(dir: Direction, final = false): void {
    const h = this.held[dir];
    h.bytes = [Buffer.concat(h.bytes)];
    if (!this.kind) {
      this.kind = this.pickFraming(final || h.length > MAX_HELD);
      if (!this.kind) return;
      // The other direction's held bytes can be aligned now too.
      const other = dir === 'c2s' ? 's2c' : 'c2s';
      if (this.held[other].length && !this.held[other].aligned) this.alignDirection(other);
    }
    this.alignDirection(dir);
  }

  /**
   * The framing whose frames line up for the longest runs in both directions' held bytes (SPDY first
   * on a tie); null while that is too little to tell and more bytes may come.
   */
  private pickFraming(final: boolean): FramedTransport | null {
    let best = 0;
    let kind: FramedTransport | null = null;
    for (const k of ['spdy', 'websocket', 'http2'] as const) {
      let run = 0;
      for (const d of ['c2s', 's2c'] as const) {
        const bytes = this.held[d].bytes[0];
        if (!bytes || this.held[d].gaveUp) continue;
        const start = findFrameStart(bytes, k, d);
        if (start >= 0) run += frameChainLength(bytes, k, d, start);
      }
      if (run > best) [best, kind] = [run, k];
    }
    if (final) return kind;
    // A few bytes fit several framings by chance: both directions with some bytes, or one with many.
    const enough = (d: Direction) => this.held[d].length >= MIN_BYTES_TO_DECIDE;
    const sure = (enough('c2s') && enough('s2c')) || ((enough('c2s') || enough('s2c')) && best >= 2 * MIN_FRAMES_TO_DECIDE);
    return best >= MIN_FRAMES_TO_DECIDE && sure ? kind : null;
  }

  private alignDirection(dir: Direction): void {
    const h = this.held[dir];
    const all = h.bytes.length === 1 ? h.bytes[0] : Buffer.concat(h.bytes);
    const kind = this.kind!;
    const at = findFrameStart(all, kind, dir);
    if (at < 0) {
      if (h.length > MAX_HELD) {
        h.gaveUp = true;
        h.bytes = [];
        this.warn(`capture starts mid-connection: no frame boundary in the first ${h.length} bytes ${dir}, that direction is not decoded`);
      }
      return;
    }
    if (!this.transport) this.transport = this.start(kind, { c2s: dir === 'c2s' ? at : 0, s2c: dir === 's2c' ? at : 0 });
    h.aligned = true;
    h.bytes = [];
    this.transport.push(dir, all.subarray(at), { offset: h.offset + at, length: all.length - at, packet: h.packet, ts: h.ts });
  }
}
