/**
 * Test kit for the HTTP layer: writers for HTTP/1.1 messages, chunked bodies, SPDY and WebSocket
 * frames, and a recording sink whose log does not depend on how the bytes were split into pushes.
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

/**
 * Records what the parser reports. The log holds whole units (heads, completed messages with the
 * body as streamed and as kept), so it is the same however the input was split; upgraded bytes are
 * collected per direction and their origins checked for contiguity.
 */
export class RecordingSink implements HttpConnectionSink {
  readonly log: LogEntry[] = [];
  readonly requests: HttpRequestHead[] = [];
  readonly responses: HttpResponseHead[] = [];
  readonly completions: { dir: Direction; head: HttpHead; body: Uint8Array; bodyLength: number; origin: FrameOrigin; trailers: HttpHeaders }[] = [];
  readonly problems: Problem[] = [];
  readonly upgraded: Record<Direction, number[]> = { c2s: [], s2c: [] };
  readonly upgradedPieces: { dir: Direction; data: Uint8Array; origin: StreamOrigin }[] = [];
  readonly originErrors: string[] = [];
  private streamed: Record<Direction, number[]> = { c2s: [], s2c: [] };
  private nextUpgradedOffset: Partial<Record<Direction, number>> = {};

  constructor(private readonly withNotHttp = true) {}

  onRequest(req: HttpRequestHead): void {
    this.requests.push(req);
    this.log.push(['request', req.method, req.target]);
  }

  onResponse(res: HttpResponseHead, req: HttpRequestHead | undefined): void {
    this.responses.push(res);
    this.log.push(['response', res.status, req?.target]);
  }

  onBody(dir: Direction, piece: Uint8Array, origin: StreamOrigin): void {
    if (origin.length !== piece.length) this.originErrors.push(`body piece length ${piece.length} vs origin ${origin.length}`);
    this.streamed[dir].push(...piece);
  }

  onMessageComplete(dir: Direction, head: HttpHead, body: Uint8Array, bodyLength: number, origin: FrameOrigin, trailers: HttpHeaders): void {
    this.completions.push({ dir, head, body, bodyLength, origin, trailers });
    const streamed = text(Uint8Array.from(this.streamed[dir]));
    this.streamed[dir] = [];
    this.log.push(['complete', dir, startLine(head), text(body), bodyLength, streamed, trailers.map(([n, v]) => `${n}=${v}`).join(';')]);
  }

  onUpgrade(req: HttpRequestHead | undefined, res: HttpResponseHead): void {
    this.log.push(['upgrade', req?.target, res.status]);
  }

  onUpgradedData(dir: Direction, data: Uint8Array, origin: StreamOrigin): void {
    if (data.length === 0) return;
    const expected = this.nextUpgradedOffset[dir];
    if (expected !== undefined && origin.offset !== expected) this.originErrors.push(`${dir} upgraded offset ${origin.offset}, expected ${expected}`);
    if (origin.length !== data.length) this.originErrors.push(`${dir} upgraded length ${data.length} vs origin ${origin.length}`);
    this.nextUpgradedOffset[dir] = origin.offset + data.length;
    this.upgraded[dir].push(...data);
    this.upgradedPieces.push({ dir, data: data.slice(), origin });
  }

  onUpgradedGap(dir: Direction, offset: number, length: number): void {
    this.log.push(['upgraded-gap', dir, offset, length]);
    this.nextUpgradedOffset[dir] = offset + length;
  }

  onNotHttp?: (dir: Direction, reason: string) => void = (dir, reason) => {
    this.log.push(['not-http', dir, reason]);
  };

  onProblem(problem: Problem): void {
    this.problems.push(problem);
    this.log.push(['problem', problem.message]);
  }

  static withoutNotHttp(): RecordingSink {
    const sink = new RecordingSink();
    sink.onNotHttp = undefined;
    return sink;
  }
}

/** One step of a conversation: bytes sent in one direction (a push), or missing bytes (a gap). */
export type Step = { dir: Direction; data: Uint8Array } | { dir: Direction; gap: number };

/** A conversation fed with running offsets, packet numbers 1, 2, … and ts = packet × 1000. */
export class Feeder {
  readonly parser: HttpConnectionParser;
  readonly sink: RecordingSink;
  private offsets: Record<Direction, number> = { c2s: 0, s2c: 0 };
  private packet = 0;

  constructor(sink = new RecordingSink(), options?: HttpConnectionOptions) {
    this.sink = sink;
    this.parser = new HttpConnectionParser(sink, options);
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

  run(steps: Step[], split?: { step: number; at: number } | 'bytewise'): this {
    steps.forEach((step, index) => {
      if ('gap' in step) {
        this.gap(step.dir, step.gap);
      } else if (split === 'bytewise') {
        for (let i = 0; i < step.data.length; i++) this.push(step.dir, step.data.subarray(i, i + 1));
      } else if (split !== undefined && split.step === index) {
        this.push(step.dir, step.data.subarray(0, split.at));
        this.push(step.dir, step.data.subarray(split.at));
      } else {
        this.push(step.dir, step.data);
      }
    });
    return this;
  }

  end(dir?: Direction): this {
    this.parser.end(dir);
    return this;
  }
}

export interface RunResult {
  log: LogEntry[];
  upgraded: Record<Direction, string>;
  originErrors: string[];
}

export function runSteps(steps: Step[], split?: { step: number; at: number } | 'bytewise', options?: HttpConnectionOptions): RunResult {
  const feeder = new Feeder(new RecordingSink(), options).run(steps, split).end();
  const { sink } = feeder;
  return {
    log: sink.log,
    upgraded: { c2s: text(Uint8Array.from(sink.upgraded.c2s)), s2c: text(Uint8Array.from(sink.upgraded.s2c)) },
    originErrors: sink.originErrors,
  };
}

/**
 * Runs the conversation whole, byte by byte, and with every step split at every byte boundary;
 * returns the whole run's result after checking that every split gives the same one.
 */
export function expectSplitInvariant(steps: Step[], options?: HttpConnectionOptions): RunResult {
  const whole = runSteps(steps, undefined, options);
  expect(whole.originErrors).toEqual([]);
  expect(runSteps(steps, 'bytewise', options)).toEqual(whole);
  steps.forEach((step, index) => {
    if ('gap' in step) return;
    for (let at = 1; at < step.data.length; at++) {
      const result = runSteps(steps, { step: index, at }, options);
      if (JSON.stringify(result) !== JSON.stringify(whole)) {
        expect({ step: index, at, ...result }).toEqual({ step: index, at, ...whole });
      }
    }
  });
  return whole;
}

export type { HttpRequestHead, HttpResponseHead };
