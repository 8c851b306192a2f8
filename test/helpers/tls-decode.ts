/** Feeds recorded TLS chunks to a TlsConnectionDecoder and keeps everything it reports. */
import type { Direction, FrameOrigin, StreamOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { TlsConnectionDecoder, type TlsConnectionInfo, type TlsRecordInfo, type TlsSink } from '../../src/tls/record-decoder.js';

export interface Chunk {
  dir: Direction;
  data: Uint8Array;
}

export class CollectingTlsSink implements TlsSink {
  readonly infos: TlsConnectionInfo[] = [];
  readonly records: Record<Direction, TlsRecordInfo[]> = { c2s: [], s2c: [] };
  readonly pieces: Record<Direction, { data: Buffer; origin: StreamOrigin; record: { seq: number; origin: FrameOrigin } }[]> = { c2s: [], s2c: [] };
  readonly problems: Problem[] = [];

  get info(): TlsConnectionInfo | undefined {
    return this.infos[this.infos.length - 1];
  }

  plaintext(dir: Direction): Buffer {
    return Buffer.concat(this.pieces[dir].map((p) => p.data));
  }

  onHandshakeInfo(info: TlsConnectionInfo): void {
    this.infos.push(info);
  }

  onRecord(dir: Direction, rec: TlsRecordInfo): void {
    this.records[dir].push(rec);
  }

  onPlaintext(dir: Direction, data: Uint8Array, origin: StreamOrigin, record: { seq: number; origin: FrameOrigin }): void {
    this.pieces[dir].push({ data: Buffer.from(data), origin, record });
  }

  onProblem(p: Problem): void {
    this.problems.push(p);
  }
}

/**
 * Pushes chunks in order as packets 1, 2, … (ts = 1000 × packet), keeping each direction's stream
 * offset across calls. `pieces` cuts every chunk: 'whole' as recorded, 'bytes' one byte per push.
 */
export class ChunkFeeder {
  private readonly offset: Record<Direction, number> = { c2s: 0, s2c: 0 };
  private packet = 0;

  constructor(
    private readonly decoder: TlsConnectionDecoder,
    private readonly pieces: 'whole' | 'bytes' = 'whole',
  ) {}

  feed(chunks: Chunk[]): void {
    for (const { dir, data } of chunks) {
      const packet = ++this.packet;
      const step = this.pieces === 'bytes' ? 1 : data.length;
      for (let at = 0; at < data.length; at += step) {
        const piece = data.subarray(at, at + step);
        this.decoder.push(dir, piece, { offset: this.offset[dir], length: piece.length, packet, ts: packet * 1000 });
        this.offset[dir] += piece.length;
      }
    }
  }

  /** Leaves a chunk out (as lost from the capture) and tells the decoder; returns the gap's offset. */
  lose(chunk: Chunk): number {
    const at = this.offset[chunk.dir];
    this.offset[chunk.dir] += chunk.data.length;
    this.packet++;
    this.decoder.gap(chunk.dir, at, chunk.data.length);
    return at;
  }
}

export function feed(decoder: TlsConnectionDecoder, chunks: Chunk[], pieces: 'whole' | 'bytes' = 'whole'): void {
  new ChunkFeeder(decoder, pieces).feed(chunks);
  decoder.end();
}

export function keyLogOf(...texts: string[]): TlsKeyLog {
  const keys = new TlsKeyLog();
  texts.forEach((t, i) => keys.add(t, `keylog ${i + 1}`));
  return keys;
}

export function decode(chunks: Chunk[], keys: TlsKeyLog, pieces: 'whole' | 'bytes' = 'whole'): CollectingTlsSink {
  const sink = new CollectingTlsSink();
  feed(new TlsConnectionDecoder(keys, sink, { where: '127.0.0.1:5000→127.0.0.1:6443' }), chunks, pieces);
  return sink;
}
