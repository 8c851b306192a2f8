/** Feeds recorded TLS chunks to a TlsConnectionDecoder and keeps everything it reports (on the kit's recorder). */
import type { Direction, FrameOrigin, StreamOrigin } from '../../src/core/origin.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { TlsConnectionDecoder, type TlsConnectionInfo, type TlsRecordInfo, type TlsSink } from '../../src/tls/record-decoder.js';
import { SinkRecorder } from '../kit/sink-recorder.js';

export interface Chunk {
  dir: Direction;
  data: Uint8Array;
}

/** What a TlsConnectionDecoder reported, read from the kit's SinkRecorder. */
export class TlsRecorder extends SinkRecorder<TlsSink> {
  get infos(): TlsConnectionInfo[] {
    return this.eventsOf('onHandshakeInfo');
  }

  get info(): TlsConnectionInfo | undefined {
    return this.infos.at(-1);
  }

  get records(): Record<Direction, TlsRecordInfo[]> {
    const out: Record<Direction, TlsRecordInfo[]> = { c2s: [], s2c: [] };
    for (const [dir, rec] of this.args('onRecord') as [Direction, TlsRecordInfo][]) out[dir].push(rec);
    return out;
  }

  get pieces(): Record<Direction, { data: Buffer; origin: StreamOrigin; record: { seq: number; origin: FrameOrigin } }[]> {
    const out: TlsRecorder['pieces'] = { c2s: [], s2c: [] };
    for (const [dir, data, origin, record] of this.args('onPlaintext') as [Direction, Uint8Array, StreamOrigin, { seq: number; origin: FrameOrigin }][]) {
      out[dir].push({ data: Buffer.from(data), origin, record });
    }
    return out;
  }

  plaintext(dir: Direction): Buffer {
    return Buffer.concat(this.pieces[dir].map((p) => p.data));
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

export function decode(chunks: Chunk[], keys: TlsKeyLog, pieces: 'whole' | 'bytes' = 'whole'): TlsRecorder {
  const rec = new TlsRecorder();
  feed(new TlsConnectionDecoder(keys, rec.sink, { where: '127.0.0.1:5000→127.0.0.1:6443' }), chunks, pieces);
  return rec;
}
