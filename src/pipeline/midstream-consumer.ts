/**
 * A connection whose capture starts after the upgrade: no request, no handshake, often not even a
 * frame boundary. Bytes are held (bounded) until frame starts are found; the transport is whichever
 * framing lines up, and each direction is fed to the session from its first frame on.
 */
import type { Direction, StreamOrigin } from '../core/origin.js';
import type { UpgradedTransport } from '../k8s/upgraded-transport.js';
import { findFrameStart, type FramedTransport } from './frame-alignment.js';
import type { StreamConsumer } from './stream-consumer.js';

const MAX_HELD = 256 * 1024;

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
    if (!this.transport) this.warn('capture starts mid-connection and no SPDY or WebSocket frame boundary was found: bytes not decoded');
    this.transport?.end();
  }

  private fresh(): Held {
    return { bytes: [], length: 0, offset: 0, packet: 0, ts: 0, aligned: false, gaveUp: false };
  }

  private tryAlign(dir: Direction): void {
    const h = this.held[dir];
    const all = Buffer.concat(h.bytes);
    h.bytes = [all];
    let kind = this.kind;
    let at = -1;
    for (const k of kind ? [kind] : (['spdy', 'websocket'] as const)) {
      at = findFrameStart(all, k, dir);
      if (at >= 0) {
        kind = k;
        break;
      }
    }
    if (at < 0 || !kind) {
      if (h.length > MAX_HELD) {
        h.gaveUp = true;
        h.bytes = [];
        this.warn(`capture starts mid-connection: no frame boundary in the first ${h.length} bytes ${dir}, that direction is not decoded`);
      }
      return;
    }
    if (!this.transport) {
      this.kind = kind;
      this.transport = this.start(kind, { c2s: dir === 'c2s' ? at : 0, s2c: dir === 's2c' ? at : 0 });
    }
    h.aligned = true;
    h.bytes = [];
    this.transport.push(dir, all.subarray(at), { offset: h.offset + at, length: all.length - at, packet: h.packet, ts: h.ts });
  }
}
