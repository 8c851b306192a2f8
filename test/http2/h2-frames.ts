/** Builders for HTTP/2 frames and a sink that records what the decoder emits, shared by the http2 tests. */
import type { Direction, FrameOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import {
  Http2ConnectionDecoder,
  type Http2Control,
  type Http2Data,
  type Http2Request,
  type Http2Response,
  type Http2Sink,
  type Http2StreamEnd,
  type Http2Trailers,
} from '../../src/http2/connection.js';
import { HTTP2_CLIENT_PREFACE } from '../../src/http2/frame.js';

/** A frame header claiming `length` bytes (the payload is not included). */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = (length >>> 16) & 0xff;
  out[1] = (length >>> 8) & 0xff;
  out[2] = length & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, streamId);
  return out;
}

export function frame(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = []): Uint8Array {
  const body = Uint8Array.from(payload);
  return concat(frameHeader(body.length, type, flags, streamId), body);
}

export function settingsPayload(settings: [number, number][]): Uint8Array {
  const out = new Uint8Array(6 * settings.length);
  const view = new DataView(out.buffer);
  settings.forEach(([id, value], i) => {
    view.setUint16(6 * i, id);
    view.setUint32(6 * i + 2, value);
  });
  return out;
}

export function u32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const PREFACE = HTTP2_CLIENT_PREFACE;
export const EMPTY_SETTINGS = frame(4, 0, 0);
export const SETTINGS_ACK = frame(4, 1, 0);

interface EventValues {
  request: Http2Request;
  response: Http2Response;
  trailers: Http2Trailers;
  data: Http2Data;
  end: Http2StreamEnd;
  control: Http2Control;
  problem: Problem;
}

export type Recorded = { [K in keyof EventValues]: { kind: K; value: EventValues[K] } }[keyof EventValues];

export class RecordingSink implements Http2Sink {
  readonly events: Recorded[] = [];
  onRequest(value: Http2Request): void {
    this.events.push({ kind: 'request', value });
  }
  onResponse(value: Http2Response): void {
    this.events.push({ kind: 'response', value });
  }
  onTrailers(value: Http2Trailers): void {
    this.events.push({ kind: 'trailers', value });
  }
  onData(value: Http2Data): void {
    this.events.push({ kind: 'data', value });
  }
  onStreamEnd(value: Http2StreamEnd): void {
    this.events.push({ kind: 'end', value });
  }
  onControl(value: Http2Control): void {
    this.events.push({ kind: 'control', value });
  }
  onProblem(value: Problem): void {
    this.events.push({ kind: 'problem', value });
  }
  of<K extends keyof EventValues>(kind: K): EventValues[K][] {
    const values: EventValues[K][] = [];
    for (const e of this.events) if (e.kind === kind) values.push(e.value as EventValues[K]);
    return values;
  }
  problems(): string[] {
    return this.of('problem').map((p) => `${p.where}: ${p.message}`);
  }
}

/** One chunk of one direction, as a relay or a TCP reassembler would hand it over. */
export interface Chunk {
  dir: Direction;
  bytes: Uint8Array;
}

/**
 * Feeds chunks (in order) to a fresh decoder with exact stream offsets; chunk n is "packet" n + 1 at
 * ts 1000·(n + 1), so origins can be checked.
 */
export function decodeChunks(chunks: readonly Chunk[], end = true): RecordingSink {
  const sink = new RecordingSink();
  const decoder = new Http2ConnectionDecoder(sink);
  const offsets: Record<Direction, number> = { c2s: 0, s2c: 0 };
  chunks.forEach(({ dir, bytes }, n) => {
    decoder.push(dir, bytes, { offset: offsets[dir], length: bytes.length, packet: n + 1, ts: 1000 * (n + 1) });
    offsets[dir] += bytes.length;
  });
  if (end) decoder.end();
  return sink;
}

/**
 * Events with origins cut to their stream offset and length, which do not depend on how the bytes were
 * chunked, for comparing decodes of the same bytes split differently.
 */
export function chunkingInvariant(events: Recorded[]): unknown[] {
  return events.map((e) => {
    if (e.kind === 'problem') return e;
    const { origin, ...rest } = e.value as { origin: FrameOrigin };
    return { kind: e.kind, value: { ...rest, offset: origin.offset, length: origin.length } };
  });
}

/** Every way to cut the chunk sequence once more: at each byte boundary inside a chunk. */
export function* splitsAtEveryOffset(chunks: readonly Chunk[]): Generator<Chunk[]> {
  for (let c = 0; c < chunks.length; c++) {
    const { dir, bytes } = chunks[c]!;
    for (let k = 1; k < bytes.length; k++) {
      yield [...chunks.slice(0, c), { dir, bytes: bytes.subarray(0, k) }, { dir, bytes: bytes.subarray(k) }, ...chunks.slice(c + 1)];
    }
  }
}

/** The same chunk sequence fed one byte at a time. */
export function byteByByte(chunks: readonly Chunk[]): Chunk[] {
  return chunks.flatMap(({ dir, bytes }) => Array.from(bytes, (_, i) => ({ dir, bytes: bytes.subarray(i, i + 1) })));
}
