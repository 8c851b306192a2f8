/**
 * One recorder for every layer's sink (TcpSink, HttpConnectionSink, SpdyFrameSink, the WebSocket and
 * channel sinks, Http2Sink, TlsSink, CaptureSink…): whatever method a decoder calls is recorded with
 * its arguments, in order. Byte views are transient (valid only during the call), so each is copied;
 * bytes handed as a range (arguments bytes, start, end, or an event's fields of those names:
 * core/byte-range.ts) are recorded as a copy of the range alone, as a view would have been.
 *
 *   const rec = new SinkRecorder<SpdyFrameSink>();
 *   const d = new SpdyFrameDecoder(rec.sink);
 *   …
 *   rec.args('onControl')            // the arguments of every onControl call
 *   rec.problems                     // every onProblem's Problem
 *   transcript(rec)                  // the calls as text, the same however the input was split
 */
import type { Problem } from '../../src/core/problem.js';

export interface SinkCall {
  /** The method called, e.g. 'onData'. */
  on: string;
  args: unknown[];
}

/** A deep copy with every byte view (Uint8Array, Buffer) copied out of the decoder's buffers. */
function copied(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => copied(v, depth + 1));
  if (value instanceof Map || value instanceof Set) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = copied(v, depth + 1);
  // An event's piece as bytes[start, end) of the decoder's buffer: its range copied.
  const { bytes, start, end } = value as { bytes?: unknown; start?: unknown; end?: unknown };
  if (bytes instanceof Uint8Array && isRange(bytes, start, end)) {
    out.bytes = bytes.slice(start, end as number);
    delete out.start;
    delete out.end;
  }
  return out;
}

function isRange(bytes: Uint8Array, start: unknown, end: unknown): start is number {
  return Number.isInteger(start) && Number.isInteger(end) && (start as number) >= 0 && (start as number) <= (end as number) && (end as number) <= bytes.length;
}

/** The arguments copied; a byte array followed by two numbers within it is a range (bytes, start, end), recorded as the range's copy alone. */
function copiedArgs(args: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < args.length; i++) {
    const [bytes, start, end] = [args[i], args[i + 1], args[i + 2]] as [unknown, number, number];
    if (bytes instanceof Uint8Array && i + 2 < args.length && isRange(bytes, start, end)) {
      out.push(bytes.slice(start, end));
      i += 2;
    } else out.push(copied(args[i]));
  }
  return out;
}

export class SinkRecorder<S extends object> {
  readonly calls: SinkCall[] = [];
  /** Implements every method of S (except the `absent` ones, which a decoder then sees as missing). */
  readonly sink: S;

  /**
   * `absent`: methods the decoder must see as missing (optional hooks left out). `handle`: methods the
   * test implements itself instead of recording them (to count 2^40 bytes of payload without keeping them).
   * `observe`: methods also shown the arguments as given, before they are copied (to check a decoder
   * passes packet bytes through without copying them).
   */
  constructor(opts: { absent?: readonly string[]; handle?: Partial<S>; observe?: Partial<S> } = {}) {
    const absent = new Set(opts.absent ?? []);
    const handled = (opts.handle ?? {}) as Record<string, ((...args: unknown[]) => void) | undefined>;
    const observed = (opts.observe ?? {}) as Record<string, ((...args: unknown[]) => void) | undefined>;
    const methods = new Map<string, (...args: unknown[]) => void>();
    const present = (key: string | symbol): key is string => typeof key === 'string' && key !== 'then' && !absent.has(key);
    this.sink = new Proxy({} as S, {
      get: (_target, key) => {
        if (!present(key)) return undefined;
        if (handled[key]) return handled[key];
        let method = methods.get(key);
        if (!method) {
          method = (...args: unknown[]) => {
            observed[key]?.(...args);
            this.calls.push({ on: key, args: copiedArgs(args) });
          };
          methods.set(key, method);
        }
        return method;
      },
      has: (_target, key) => present(key),
    });
  }

  /** The arguments of every call to `method`, in order. */
  args(method: string): unknown[][] {
    return this.calls.filter((c) => c.on === method).map((c) => c.args);
  }

  /** The first argument of every call to `method`: the event, for sinks that take one. */
  eventsOf<T = unknown>(method: string): T[] {
    return this.calls.filter((c) => c.on === method).map((c) => c.args[0] as T);
  }

  get problems(): Problem[] {
    return this.eventsOf<Problem>('onProblem');
  }

  /** Problem codes, in order: what most assertions about problems need. */
  get problemCodes(): string[] {
    return this.problems.map((p) => p.code);
  }
}

/** Bytes as a latin1 string: cheap to compare, readable for ASCII. */
export function latin1(data: Uint8Array | readonly number[]): string {
  return Buffer.from(data instanceof Uint8Array ? data : Uint8Array.from(data)).toString('latin1');
}
