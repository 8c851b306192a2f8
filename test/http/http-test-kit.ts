/**
 * Test kit for the HTTP layer: writers for HTTP/1.1 messages, chunked bodies, SPDY and WebSocket
 * frames, and a view of the kit's SinkRecorder whose log does not depend on how the bytes were split.
 */
import type { Direction, FrameOrigin, StreamOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import {
  HttpConnectionParser,
  type HttpConnectionOptions,
  type HttpConnectionSink,
  type HttpHead,
  type HttpHeaders,
  type HttpRequestHead,
  type HttpResponseHead,
} from '../../src/http/http-connection.js';
import { SinkRecorder } from '../kit/sink-recorder.js';
import { expectOneTranscript, type Step, type StreamLayer } from '../kit/transcript.js';

export const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

export function httpRequest(method: string, target: string, headers: HttpHeaders, body: Uint8Array | string = ''): Uint8Array {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers.map(([n, v]) => `${n}: ${v}`), '', ''];
  return concat(enc(lines.join('\r\n')), typeof body === 'string' ? enc(body) : body);
}

export function httpResponse(status: number, reason: string, headers: HttpHeaders, body: Uint8Array | string = '', version = 'HTTP/1.1'): Uint8Array {
  const lines = [`${version} ${status} ${reason}`, ...headers.map(([n, v]) => `${n}: ${v}`), '', ''];
  return concat(enc(lines.join('\r\n')), typeof body === 'string' ? enc(body) : body);
}

/** A chunked body: each piece one chunk (with an optional extension), then the last-chunk and trailers. */
export function chunkedBody(pieces: string[], options: { extension?: string; trailers?: HttpHeaders; upperHex?: boolean } = {}): Uint8Array {
  let out = '';
  for (const piece of pieces) {
    const size = Buffer.byteLength(piece).toString(16);
    out += `${options.upperHex ? size.toUpperCase() : size}${options.extension ?? ''}\r\n${piece}\r\n`;
  }
  out += `0${options.extension ?? ''}\r\n`;
  for (const [n, v] of options.trailers ?? []) out += `${n}: ${v}\r\n`;
  return enc(`${out}\r\n`);
}

/** SPDY/3 control frame: version 3, type, flags, 24-bit length. */
export function spdyControlFrame(type: number, flags: number, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  head[0] = 0x80;
  head[1] = 0x03;
  head[2] = type >> 8;
  head[3] = type & 0xff;
  head[4] = flags;
  head[5] = payload.length >> 16;
  head[6] = (payload.length >> 8) & 0xff;
  head[7] = payload.length & 0xff;
  return concat(head, payload);
}

export function spdyDataFrame(streamId: number, flags: number, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, streamId & 0x7fffffff);
  head[4] = flags;
  head[5] = payload.length >> 16;
  head[6] = (payload.length >> 8) & 0xff;
  head[7] = payload.length & 0xff;
  return concat(head, payload);
}

export function spdyPing(id: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, id);
  return spdyControlFrame(6, 0, payload);
}

/** A final WebSocket frame (payload < 64 KiB), masked when a key is given. */
export function wsFrame(opcode: number, payload: Uint8Array, maskKey?: Uint8Array): Uint8Array {
  const parts: number[] = [0x80 | opcode];
  const maskBit = maskKey ? 0x80 : 0;
  if (payload.length < 126) parts.push(maskBit | payload.length);
  else parts.push(maskBit | 126, payload.length >> 8, payload.length & 0xff);
  const body = Uint8Array.from(payload);
  if (maskKey) {
    parts.push(...maskKey);
    for (let i = 0; i < body.length; i++) body[i] ^= maskKey[i % 4];
  }
  return concat(Uint8Array.from(parts), body);
}

export type LogEntry = (string | number | undefined)[];

function startLine(head: HttpHead): string {
  return 'method' in head ? `${head.method} ${head.target}` : `${head.status}`;
}

interface Completion {
  dir: Direction;
  head: HttpHead;
  body: Uint8Array;
  bodyLength: number;
  origin: FrameOrigin;
  trailers: HttpHeaders;
}

/**
 * What the parser reported, read from the kit's SinkRecorder. The log holds whole units (heads,
 * completed messages with the body as streamed and as kept), so it is the same however the input
 * was split; upgraded bytes are collected per direction and their origins checked for contiguity.
 */
export class HttpRecorder extends SinkRecorder<HttpConnectionSink> {
  /** `notHttp: false`: the parser sees no onNotHttp and reports not-HTTP as a problem. */
  constructor(opts: { notHttp?: boolean; observe?: Partial<HttpConnectionSink> } = {}) {
    super({ absent: opts.notHttp === false ? ['onNotHttp'] : [], observe: opts.observe });
  }

  get requests(): HttpRequestHead[] {
    return this.eventsOf('onRequest');
  }

  get responses(): HttpResponseHead[] {
    return this.eventsOf('onResponse');
  }

  get completions(): Completion[] {
    return this.args('onMessageComplete').map(([dir, head, body, bodyLength, origin, trailers]) => ({ dir, head, body, bodyLength, origin, trailers }) as Completion);
  }

  get upgradedPieces(): { dir: Direction; data: Uint8Array; origin: StreamOrigin }[] {
    return this.args('onUpgradedData')
      .map(([dir, data, origin]) => ({ dir, data, origin }) as { dir: Direction; data: Uint8Array; origin: StreamOrigin })
      .filter((p) => p.data.length > 0);
  }

  get upgraded(): Record<Direction, number[]> {
    const out: Record<Direction, number[]> = { c2s: [], s2c: [] };
    for (const p of this.upgradedPieces) out[p.dir].push(...p.data);
    return out;
  }

  /** The upgraded bytes of each direction as latin1 text. */
  get upgradedText(): Record<Direction, string> {
    const { c2s, s2c } = this.upgraded;
    return { c2s: text(Uint8Array.from(c2s)), s2c: text(Uint8Array.from(s2c)) };
  }

  get log(): LogEntry[] {
    return this.replay().log;
  }

  /** Body pieces whose origin does not match them, upgraded bytes that do not follow on. */
  get originErrors(): string[] {
    return this.replay().originErrors;
  }

  private replay(): { log: LogEntry[]; originErrors: string[] } {
    const log: LogEntry[] = [];
    const originErrors: string[] = [];
    const streamed: Record<Direction, number[]> = { c2s: [], s2c: [] };
    const nextUpgraded: Partial<Record<Direction, number>> = {};
    for (const { on, args } of this.calls) {
      if (on === 'onRequest') {
        const req = args[0] as HttpRequestHead;
        log.push(['request', req.method, req.target]);
      } else if (on === 'onResponse') {
        const [res, req] = args as [HttpResponseHead, HttpRequestHead | undefined];
        log.push(['response', res.status, req?.target]);
      } else if (on === 'onBody') {
        const [dir, piece, origin] = args as [Direction, Uint8Array, StreamOrigin];
        if (origin.length !== piece.length) originErrors.push(`body piece length ${piece.length} vs origin ${origin.length}`);
        streamed[dir].push(...piece);
      } else if (on === 'onMessageComplete') {
        const [dir, head, body, bodyLength, , trailers] = args as [Direction, HttpHead, Uint8Array, number, FrameOrigin, HttpHeaders];
        log.push(['complete', dir, startLine(head), text(body), bodyLength, text(Uint8Array.from(streamed[dir])), trailers.map(([n, v]) => `${n}=${v}`).join(';')]);
        streamed[dir] = [];
      } else if (on === 'onUpgrade') {
        const [req, res] = args as [HttpRequestHead | undefined, HttpResponseHead];
        log.push(['upgrade', req?.target, res.status]);
      } else if (on === 'onUpgradedData') {
        const [dir, data, origin] = args as [Direction, Uint8Array, StreamOrigin];
        if (data.length === 0) continue;
        const expected = nextUpgraded[dir];
        if (expected !== undefined && origin.offset !== expected) originErrors.push(`${dir} upgraded offset ${origin.offset}, expected ${expected}`);
        if (origin.length !== data.length) originErrors.push(`${dir} upgraded length ${data.length} vs origin ${origin.length}`);
        nextUpgraded[dir] = origin.offset + data.length;
      } else if (on === 'onUpgradedGap') {
        const [dir, offset, length] = args as [Direction, number, number];
        log.push(['upgraded-gap', dir, offset, length]);
        nextUpgraded[dir] = offset + length;
      } else if (on === 'onNotHttp') {
        log.push(['not-http', args[0] as Direction, args[1] as string]);
      } else if (on === 'onProblem') {
        log.push(['problem', (args[0] as Problem).message]);
      }
    }
    return { log, originErrors };
  }
}

/** The HTTP/1.x connection parser as a layer the kit's transcript helpers drive. */
export function httpLayer(options?: HttpConnectionOptions): StreamLayer<HttpConnectionSink> {
  return {
    open: (sink) => {
      const p = new HttpConnectionParser(sink, options);
      return { push: (dir, data, origin) => p.push(dir, data, origin), gap: (dir, offset, length) => p.gap(dir, offset, length), end: () => p.end() };
    },
  };
}

/** A conversation fed push by push with running offsets, packet numbers 1, 2, … and ts = packet × 1000. */
export class Feeder {
  readonly parser: HttpConnectionParser;
  private offsets: Record<Direction, number> = { c2s: 0, s2c: 0 };
  private packet = 0;

  constructor(
    readonly recorder = new HttpRecorder(),
    options?: HttpConnectionOptions,
  ) {
    this.parser = new HttpConnectionParser(recorder.sink, options);
  }

  push(dir: Direction, data: Uint8Array): this {
    this.packet++;
    // A fresh copy each time: the parser must not keep views of pushed buffers past the call.
    const copy = Uint8Array.from(data);
    this.parser.push(dir, copy, { offset: this.offsets[dir], length: data.length, packet: this.packet, ts: this.packet * 1000 });
    copy.fill(0xee);
    this.offsets[dir] += data.length;
    return this;
  }

  gap(dir: Direction, length: number): this {
    this.parser.gap(dir, this.offsets[dir], length);
    this.offsets[dir] += length;
    return this;
  }

  run(steps: readonly Step[]): this {
    for (const step of steps) {
      if ('gap' in step) this.gap(step.dir, step.gap);
      else this.push(step.dir, step.data);
    }
    return this;
  }

  end(dir?: Direction): this {
    this.parser.end(dir);
    return this;
  }
}

/**
 * Runs the conversation whole, byte by byte and cut once at every offset (the kit's transcripts must
 * agree); returns the whole run's recorder, whose origins must be consistent.
 */
export function expectSplitInvariant(steps: readonly Step[], options?: HttpConnectionOptions): HttpRecorder {
  const whole = expectOneTranscript(httpLayer(options), steps, () => new HttpRecorder());
  expect(whole.originErrors).toEqual([]);
  return whole;
}

export type { Step };
export type { HttpRequestHead, HttpResponseHead };
