import type { Direction, StreamOrigin } from './origin.js';

/** A decoder of one direction's byte stream. */
export interface DirectionDecoder {
  /** bytes[start, end), at origin.offset of the direction's stream; valid only during the call. */
  push(bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void;
  gap(offset: number, length: number): void;
  end(): void;
}

/**
 * A connection's two directions, each with a decoder of its own, fed by direction: what a WebSocket
 * connection (websocket/connection-decoder.ts) and a SPDY session (k8s/spdy-exec.ts) both are below
 * their protocol. `decoderFor` is asked once per direction, while the subclass is being constructed.
 */
export class DirectionPair<D extends DirectionDecoder> {
  protected readonly c2s: D;
  protected readonly s2c: D;

  constructor(decoderFor: (dir: Direction, pair: DirectionPair<D>) => D) {
    this.c2s = decoderFor('c2s', this);
    this.s2c = decoderFor('s2c', this);
  }

  push(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    // Not a Record indexed by dir: an alternating property name makes that access megamorphic.
    (dir === 'c2s' ? this.c2s : this.s2c).push(bytes, start, end, origin);
  }

  gap(dir: Direction, offset: number, length: number): void {
    (dir === 'c2s' ? this.c2s : this.s2c).gap(offset, length);
  }

  end(): void {
    this.c2s.end();
    this.s2c.end();
  }
}
