/** Builders for HTTP/2 frames and a view of the kit's SinkRecorder over what the decoder emits, shared by the http2 tests. */
import type { Direction } from '../../src/core/origin.js';
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
import { SinkRecorder } from '../kit/sink-recorder.js';
import { expectOneTranscript, play, type Step, type StreamLayer } from '../kit/transcript.js';

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

const METHOD_OF: { [K in keyof EventValues]: keyof Http2Sink } = {
  request: 'onRequest',
  response: 'onResponse',
  trailers: 'onTrailers',
  data: 'onData',
  end: 'onStreamEnd',
  control: 'onControl',
  problem: 'onProblem',
};
const KIND_OF = new Map(Object.entries(METHOD_OF).map(([kind, method]) => [method as string, kind as keyof EventValues]));

/** What an HTTP/2 decoder emitted, read from the kit's SinkRecorder by event kind. */
export class Http2Recorder extends SinkRecorder<Http2Sink> {
  get events(): Recorded[] {
    return this.calls.flatMap((c) => {
      const kind = KIND_OF.get(c.on);
      return kind ? [{ kind, value: c.args[0] } as Recorded] : [];
    });
  }
  of<K extends keyof EventValues>(kind: K): EventValues[K][] {
    return this.eventsOf<EventValues[K]>(METHOD_OF[kind]);
  }
  /** Each problem as "where: message". */
  problemLines(): string[] {
    return this.problems.map((p) => `${p.where}: ${p.message}`);
  }
}

/** The HTTP/2 connection decoder as a layer the kit's transcript helpers drive. */
export const http2Layer: StreamLayer<Http2Sink> = {
  open: (sink) => {
    const d = new Http2ConnectionDecoder(sink);
    return { push: (dir, data, origin) => d.push(dir, data, origin), gap: (dir, offset, length) => d.gap(dir, offset, length), end: () => d.end() };
  },
};

/** One chunk of one direction, as a relay or a TCP reassembler would hand it over. */
export interface Chunk {
  dir: Direction;
  bytes: Uint8Array;
}

export const stepsOf = (chunks: readonly Chunk[]): Step[] => chunks.map(({ dir, bytes }) => ({ dir, data: bytes }));

/**
 * Feeds chunks (in order) to a fresh decoder with exact stream offsets; chunk n is "packet" n + 1 at
 * ts 1000·(n + 1), so origins can be checked.
 */
export function decodeChunks(chunks: readonly Chunk[]): Http2Recorder {
  return play(http2Layer, stepsOf(chunks), 'whole', new Http2Recorder());
}

/** Decodes the chunks whole, byte by byte and cut once at every offset: one transcript. Returns the whole run. */
export function expectSplitInvariant(chunks: readonly Chunk[]): Http2Recorder {
  return expectOneTranscript(http2Layer, stepsOf(chunks), () => new Http2Recorder());
}

/** The same chunk sequence as one chunk per byte (one packet each). */
export function byteByByte(chunks: readonly Chunk[]): Chunk[] {
  return chunks.flatMap(({ dir, bytes }) => Array.from(bytes, (_, i) => ({ dir, bytes: bytes.subarray(i, i + 1) })));
}
