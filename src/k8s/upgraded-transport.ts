import type { Direction, StreamOrigin } from '../core/origin.js';

/** The decoder stack behind a 101: fed both directions of the upgraded byte stream. */
export interface UpgradedTransport {
  /** bytes[start, end) of `dir`, valid only during the call (pipeline/stream-consumer.ts StreamConsumer.push). */
  push(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void;
  gap(dir: Direction, offset: number, length: number): void;
  end(): void;
  /** A side closed its half of the connection (TCP FIN) or reset it. */
  close?(dir: Direction, how: 'fin' | 'rst', ts: number, packet: number): void;
}
