/**
 * Transcript tests for any byte-stream layer, in the manner of mitmproxy's layer tests: events in
 * (bytes pushed in each direction, gaps, the end), events out (the sink's calls, recorded by
 * SinkRecorder), and the outcome written as a transcript that does not depend on how the input was
 * cut into pushes. A layer is decoded whole, byte by byte and in random chunks (fast-check, with its
 * seed printed on failure and replayable: FC_SEED=… FC_PATH=… jest FILE), and the transcripts must
 * agree; no run may throw, take longer than a bound, or say more than its input can justify.
 */
import fc from 'fast-check';
import type { Direction, StreamOrigin } from '../../src/core/origin.js';
import { latin1, SinkRecorder, type SinkCall } from './sink-recorder.js';

/** One step of a conversation: bytes one side sent (one packet), or bytes the capture lost. */
export type Step = { dir: Direction; data: Uint8Array } | { dir: Direction; gap: number };

/** A decoder under test, opened on a sink: how bytes, gaps and the end are given to it. */
export interface Feed {
  push(dir: Direction, data: Uint8Array, origin: StreamOrigin): void;
  gap?(dir: Direction, offset: number, length: number, packet: number): void;
  end(): void;
}

export interface StreamLayer<S extends object> {
  open(sink: S): Feed;
  /** Sink methods the decoder must see as missing (optional hooks the test leaves out). */
  absent?: readonly string[];
  /** An error the decoder may throw by design (a corrupt capture): recorded as a call, feeding stops. */
  expectedError?: new (...args: never[]) => Error;
  /** Piece flags passed as arguments rather than fields: the argument positions of `first` and `last`, per method. */
  pieces?: Readonly<Record<string, { first: number; last: number }>>;
  /**
   * Decoded bytes whose origin is, by design, the piece they were decoded from (base64, compressed
   * messages): the transcript leaves those origins out, the bytes themselves must still agree.
   */
  approximateOrigins?: boolean;
  /** Problem codes placed, by design, at the piece where the fault showed (a base64 group completed there). */
  approximateProblems?: readonly string[];
}

export type TranscriptOptions = Pick<StreamLayer<object>, 'pieces' | 'approximateOrigins' | 'approximateProblems'>;

/** How each step's bytes are pushed: in one piece, one byte at a time, or cut at these input offsets. */
export type Split = 'whole' | 'bytewise' | readonly number[];

/** Bytes steps, one direction (the default for one-directional decoders). */
export function steps(...chunks: (Uint8Array | string)[]): Step[] {
  return chunks.map((c) => ({ dir: 'c2s' as const, data: typeof c === 'string' ? new TextEncoder().encode(c) : c }));
}

/**
 * Plays the steps into a fresh decoder. Step k is packet k+1 at ts (k+1)·1000, however it is cut:
 * the pieces of one packet are the same packet, so only piece offsets and lengths depend on the split.
 */
export function play<S extends object, R extends SinkRecorder<S> = SinkRecorder<S>>(layer: StreamLayer<S>, input: readonly Step[], split: Split = 'whole', recorder: R = new SinkRecorder<S>({ absent: layer.absent }) as R): R {
  const feed = layer.open(recorder.sink);
  const offsets: Record<Direction, number> = { c2s: 0, s2c: 0 };
  const cuts = typeof split === 'string' ? null : [...split].sort((a, b) => a - b);
  let flat = 0;
  try {
    input.forEach((step, k) => {
      const packet = k + 1;
      if ('gap' in step) {
        feed.gap?.(step.dir, offsets[step.dir], step.gap, packet);
        offsets[step.dir] += step.gap;
        return;
      }
      const points = [0];
      if (split === 'bytewise') for (let i = 1; i < step.data.length; i++) points.push(i);
      else if (cuts) for (const c of cuts) if (c > flat && c < flat + step.data.length && c - flat !== points[points.length - 1]) points.push(c - flat);
      points.push(step.data.length);
      for (let i = 0; i + 1 < points.length; i++) {
        // A fresh copy each push, spoiled after it: a decoder may not keep views of pushed bytes.
        const piece = Uint8Array.from(step.data.subarray(points[i], points[i + 1]));
        feed.push(step.dir, piece, { offset: offsets[step.dir] + points[i], length: piece.length, packet, ts: packet * 1000 });
        piece.fill(0xee);
      }
      offsets[step.dir] += step.data.length;
      flat += step.data.length;
    });
    feed.end();
  } catch (e) {
    if (!layer.expectedError || !(e instanceof layer.expectedError)) throw e;
    recorder.calls.push({ on: 'throw', args: [e.name, e.message] });
  }
  return recorder;
}

/** Keys of a piece of a larger unit: they say where the piece sits, which depends on the split. */
const PIECE_KEYS = new Set(['origin', 'first', 'last', 'messageFirst', 'messageLast', 'tunnelOffset', 'message']);
/** Of these, the last piece's value holds for the merged unit: the end flags, the unit's range so far. */
const FROM_LAST_PIECE = new Set(['last', 'messageLast', 'message']);

function isOrigin(v: unknown): v is StreamOrigin {
  return typeof v === 'object' && v !== null && 'offset' in v && 'length' in v && 'packet' in v && 'ts' in v && Object.keys(v).length === 4;
}

function hasBytes(v: unknown, depth = 0): boolean {
  if (v instanceof Uint8Array) return true;
  if (depth > 3 || v === null || typeof v !== 'object') return false;
  return Object.values(v).some((x) => hasBytes(x, depth + 1));
}

/** The call with its bytes and its piece position left out: two pieces of one unit have one shape. */
function shape(call: SinkCall, opts: TranscriptOptions): string {
  const positional = opts.pieces?.[call.on];
  const strip = (v: unknown, depth: number): unknown => {
    if (v instanceof Uint8Array) return '<bytes>';
    if (isOrigin(v)) return '<origin>';
    if (depth > 3 || v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).filter(([k]) => !PIECE_KEYS.has(k)).map(([k, x]) => [k, strip(x, depth + 1)]));
  };
  return `${call.on} ${stringify(call.args.map((a, i) => (positional && (i === positional.first || i === positional.last) ? '<flag>' : strip(a, 0))))}`;
}

const flag = (call: SinkCall, key: string) => call.args.some((a) => typeof a === 'object' && a !== null && (a as Record<string, unknown>)[key] === true);

/** A piece that starts a unit (never merged into the one before) or ends one (never merged with the next). */
const starts = (c: SinkCall, opts: TranscriptOptions) => flag(c, 'first') || flag(c, 'messageFirst') || (opts.pieces?.[c.on] !== undefined && c.args[opts.pieces[c.on].first] === true);
const ends = (c: SinkCall, opts: TranscriptOptions) => flag(c, 'last') || flag(c, 'messageLast') || (opts.pieces?.[c.on] !== undefined && c.args[opts.pieces[c.on].last] === true);

/** Merges B into A: bytes concatenated, origins joined, A's start flags and B's end flags kept. */
function merged(a: SinkCall, b: SinkCall, opts: TranscriptOptions): SinkCall {
  const join = (x: unknown, y: unknown, depth: number): unknown => {
    if (x instanceof Uint8Array && y instanceof Uint8Array) return Uint8Array.from(Buffer.concat([x, y]));
    if (isOrigin(x) && isOrigin(y)) return { ...x, length: x.length + y.length };
    if (depth > 3 || x === null || typeof x !== 'object' || Array.isArray(x)) return x;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = FROM_LAST_PIECE.has(k) ? (y as Record<string, unknown>)[k] : join(v, (y as Record<string, unknown>)[k], depth + 1);
    return out;
  };
  const lastFlag = opts.pieces?.[a.on]?.last;
  return { on: a.on, args: a.args.map((x, i) => (i === lastFlag ? b.args[i] : join(x, b.args[i], 0))) };
}

/** Origins of decoded bytes (the piece's, the message's so far) left out where they are approximate by design. */
function withoutPieceOrigins(call: SinkCall): SinkCall {
  const drop = (v: unknown): unknown => {
    if (isOrigin(v)) return '<origin>';
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'origin' || k === 'message' ? '<origin>' : x]));
  };
  return hasBytes(call.args) ? { on: call.on, args: call.args.map(drop) } : call;
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? latin1(v) : v));
}

/**
 * The recorded calls as lines that do not depend on the split: adjacent pieces of one unit (the same
 * call but for bytes and position) are merged, each origin shown as the range it covers. Problems
 * come last, in order of offset and code: a decoder reports a fault when it sees it, which may be
 * before or after the data around it was delivered, depending on the split; the offset says where.
 */
export function transcript(rec: SinkRecorder<object> | readonly SinkCall[], opts: TranscriptOptions = {}): string[] {
  const calls = Array.isArray(rec) ? (rec as readonly SinkCall[]) : (rec as SinkRecorder<object>).calls;
  const out: SinkCall[] = [];
  const problems: SinkCall[] = [];
  for (const call of calls) {
    if (call.on === 'onProblem') {
      problems.push(call);
      continue;
    }
    const last = out[out.length - 1];
    if (last && hasBytes(call.args) && !ends(last, opts) && !starts(call, opts) && shape(last, opts) === shape(call, opts)) out[out.length - 1] = merged(last, call, opts);
    else out.push(call);
  }
  const key = (c: SinkCall) => {
    const p = c.args[0] as { offset?: number; code?: string };
    return `${String(p.offset ?? -1).padStart(16, '0')} ${p.code}`;
  };
  const approximate = new Set(opts.approximateProblems ?? []);
  for (const [i, p] of problems.entries()) {
    const problem = p.args[0] as { code: string };
    if (approximate.has(problem.code)) problems[i] = { on: p.on, args: [{ ...problem, offset: undefined, where: undefined }] };
  }
  problems.sort((x, y) => key(x).localeCompare(key(y)));
  return [...out, ...problems].map((c) => (opts.approximateOrigins ? withoutPieceOrigins(c) : c)).map((c) => `${c.on} ${stringify(c.args.map((a) => (isOrigin(a) ? `@${a.offset}+${a.length} #${a.packet}` : a)))}`);
}

/** fast-check parameters: `numRuns`, or the seed and path of a failure to replay (FC_SEED, FC_PATH). */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED;
  return seed ? { seed: Number(seed), path: process.env.FC_PATH, endOnFailure: true } : { numRuns };
}

/**
 * The exhaustive form of checkSplitInvariance for one conversation: decoded whole, byte by byte and
 * cut once at every input offset, it gives one transcript. Returns the whole run's recorder.
 */
export function expectOneTranscript<S extends object, R extends SinkRecorder<S>>(layer: StreamLayer<S>, input: readonly Step[], recorder: () => R): R {
  const whole = play(layer, input, 'whole', recorder());
  const expected = transcript(whole, layer);
  expect(transcript(play(layer, input, 'bytewise', recorder()), layer)).toEqual(expected);
  for (let cut = 1; cut < total(input); cut++) {
    const lines = transcript(play(layer, input, [cut], recorder()), layer);
    // Compared as text first: thousands of cuts, and expect() only for the one that differs.
    if (JSON.stringify(lines) !== JSON.stringify(expected)) expect({ cut, lines }).toEqual({ cut, lines: expected });
  }
  return whole;
}

export interface InvarianceOptions {
  numRuns?: number;
  /** Longest a run (whole, bytewise or cut) may take. Default 10 s: loose, it catches hangs. */
  maxMs?: number;
}

const total = (input: readonly Step[]) => input.reduce((n, s) => n + ('data' in s ? s.data.length : 0), 0);

/**
 * The property every byte-stream decoder keeps: for any input from `inputs`, decoding it whole, byte
 * by byte, or cut anywhere gives the same transcript; no run throws (beyond the layer's expected
 * error) or exceeds `maxMs`; the transcript has at most a line per input byte (plus a few), so what a
 * decoder holds stays proportional to what it was given.
 */
export function checkSplitInvariance<S extends object>(layer: StreamLayer<S>, inputs: fc.Arbitrary<Step[]>, opts: InvarianceOptions = {}): void {
  const maxMs = opts.maxMs ?? 10_000;
  const timed = (input: Step[], split: Split) => {
    const start = performance.now();
    const lines = transcript(play(layer, input, split), layer);
    const ms = performance.now() - start;
    if (ms > maxMs) throw new Error(`a ${split === 'whole' || split === 'bytewise' ? split : 'cut'} run took ${ms.toFixed(0)} ms (> ${maxMs})`);
    return lines;
  };
  fc.assert(
    fc.property(
      inputs.chain((input) => fc.tuple(fc.constant(input), fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, total(input) - 1) }), { maxLength: 12 }))),
      ([input, cuts]) => {
        const whole = timed(input, 'whole');
        expect(whole.length).toBeLessThanOrEqual(total(input) + 2 * input.length + 8);
        expect(timed(input, cuts)).toEqual(whole);
        expect(timed(input, 'bytewise')).toEqual(whole);
      },
    ),
    fcParams(opts.numRuns ?? 40),
  );
}
