import type { Direction, StreamOrigin } from '../core/origin.js';
import { sniffProtocol, type SniffedProtocol } from './sniff.js';
import { appended, noEntries } from '../core/appended.js';

/** A decoder of one connection's byte streams (TCP payload, or TLS plaintext). */
export interface StreamConsumer {
  /**
   * The next bytes of `dir`: bytes[start, end), at origin.offset of its stream (origin.length = end -
   * start). `bytes` may be the capture reader's buffer, refilled after the call (core/byte-range.ts):
   * a consumer that keeps bytes copies them.
   */
  push(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void;
  gap(dir: Direction, offset: number, length: number): void;
  end(): void;
  /** A side closed its half of the connection (TCP FIN) or reset it; after its last byte. */
  close?(dir: Direction, how: 'fin' | 'rst', ts: number, packet: number): void;
}

export const ignoreStream: StreamConsumer = { push() {}, gap() {}, end() {} };

/** The layer a consumer was made for: `handOff` puts a successor in the consumer's place. */
export interface HandOff {
  handOff(successor: StreamConsumer): void;
}

/**
 * Makes the consumer for a sniffed protocol. A consumer that ends up only passing bytes on to a
 * successor (HTTP/1.1 once both directions switched protocols) calls `layer.handOff` with it, and
 * from then on the bytes, gaps and end go to the successor directly, skipping the layers in between.
 * Objects with methods, not closures: up to 10,000 connections are open at once.
 */
export interface ConsumerFactory {
  consumerFor(kind: SniffedProtocol, layer: HandOff): StreamConsumer;
}

const SNIFF_BYTES = 8;
const SNIFF_WINDOW = 64;
/** A server that talks this much before its client says anything is not waited for any longer. */
const MAX_HELD = 64 * 1024;

/**
 * Holds the first bytes of a connection until they tell what it speaks, then hands everything to
 * the consumer made for that protocol.
 */
export class SniffingConsumer implements StreamConsumer, HandOff {
  private inner: StreamConsumer | null = null;
  private held: { dir: Direction; data: Uint8Array; origin: StreamOrigin }[] = noEntries();
  private heldBytes: Record<Direction, number> = { c2s: 0, s2c: 0 };

  constructor(private readonly factory: ConsumerFactory) {}

  push(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    if (this.inner) return this.inner.push(dir, bytes, start, end, origin);
    // The first bytes mostly decide at once (a request line): then they are not copied to be held.
    const length = end - start;
    if (this.held.length === 0 && length >= SNIFF_BYTES) {
      const window = bytes.subarray(start, Math.min(end, start + SNIFF_WINDOW));
      const kind = sniffProtocol(dir === 'c2s' ? window : NOTHING, dir === 's2c' ? window : NOTHING, dir === 's2c' && length >= MAX_HELD);
      if (kind !== null) return this.start(kind).push(dir, bytes, start, end, origin);
    }
    this.held = appended(this.held, { dir, data: bytes.slice(start, end), origin });
    this.heldBytes[dir] += length;
    if (this.heldBytes[dir] >= SNIFF_BYTES) this.decide(this.heldBytes.s2c >= MAX_HELD);
  }

  gap(dir: Direction, offset: number, length: number): void {
    this.decide(true)?.gap(dir, offset, length);
  }

  end(): void {
    this.decide(true)?.end();
  }

  close(dir: Direction, how: 'fin' | 'rst', ts: number, packet: number): void {
    this.inner?.close?.(dir, how, ts, packet);
  }

  private decide(final: boolean): StreamConsumer | null {
    if (this.inner) return this.inner;
    const kind = sniffProtocol(this.firstHeld('c2s'), this.firstHeld('s2c'), final);
    if (kind === null) return null;
    this.start(kind);
    const held = this.held;
    this.held = noEntries();
    // Through this.inner each time: a consumer may hand off to its successor on any of them.
    for (const h of held) this.inner!.push(h.dir, h.data, 0, h.data.length, h.origin);
    return this.inner;
  }

  handOff(successor: StreamConsumer): void {
    this.inner = successor;
  }

  private start(kind: SniffedProtocol): StreamConsumer {
    const inner = this.factory.consumerFor(kind, this);
    this.inner = inner;
    return inner;
  }

  /** The first SNIFF_WINDOW bytes held from `dir`. */
  private firstHeld(dir: Direction): Uint8Array {
    const window = new Uint8Array(Math.min(this.heldBytes[dir], SNIFF_WINDOW));
    let filled = 0;
    for (const h of this.held) {
      if (h.dir !== dir || filled === window.length) continue;
      const take = h.data.subarray(0, window.length - filled);
      window.set(take, filled);
      filled += take.length;
    }
    return window;
  }
}

const NOTHING = new Uint8Array(0);
