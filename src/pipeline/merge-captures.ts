/**
 * Several captures of one exec, taken on different nodes (the client's, the control plane's, the
 * worker's), as one view. Each file is decoded with its own key logs; its clock is lined up with the
 * first file's: first by the files' own origins, then by the offset the hops of one exec seen in
 * both files imply (model/cross-hop.ts clockOffsetBounds: what one hop relayed to the other bounds it).
 * A first quick pass finds the sessions to estimate from; the second decodes with the offsets
 * applied, so every time in the merged model is on one clock. Ids are renumbered to stay unique; each
 * connection and session remembers its file, whose packet numbers its origins count in. The Event
 * pane re-reads each connection from its own file (createMergedCaptureInspector), Content and S each
 * session's streams (mergedStreamSource).
 */
import { basename } from 'node:path';
import { formatSignedDuration } from '../core/time.js';
import { clockOffsetBounds, linkHops } from '../model/cross-hop.js';
import type { CaptureFile, CaptureModel, ExecSession } from '../model/session.js';
import { TlsKeyLog } from '../tls/key-log.js';
import { analyzeCapture, type ProgressListener } from './analyze-capture.js';
import { createCaptureInspector, type CaptureInspector } from './capture-inspector.js';
import type { AnalyzeOptions } from './options.js';
import type { StreamSource } from './stream-extract.js';

export interface CaptureInput {
  path: string;
  /** Key logs for this file only (its --keylog options). */
  keyLogs: AnalyzeOptions['keyLogs'];
}

/** How far merged clocks may still disagree when the hops are linked (ns): dial delays on one node. */
const LINK_SLACK_NS = 50e6;

/**
 * `keys`: each file's key log (given: filled here, for the Event pane to decrypt what the analysis
 * did; default: one per file, or `opts.keys` shared by all). A file's `--keylog` decrypts that file only.
 */
export async function analyzeCaptures(
  inputs: readonly CaptureInput[],
  opts: AnalyzeOptions,
  onProgress?: ProgressListener,
  keys: readonly TlsKeyLog[] = inputs.map(() => opts.keys ?? new TlsKeyLog()),
): Promise<CaptureModel> {
  const withKeys = (o: AnalyzeOptions, i: number): AnalyzeOptions => ({ ...o, keys: keys[i], keyLogs: [...o.keyLogs, ...inputs[i].keyLogs] });
  if (inputs.length === 1) return analyzeCapture(inputs[0].path, withKeys(opts, 0), onProgress);
  // Merging renumbers and copies every record of every file: each file's are all held.
  opts = { ...opts, endedConnectionsHeld: undefined };
  const quick: AnalyzeOptions = { ...opts, hash: false, keepEvents: false, headBytes: 0, tap: null };
  const first: CaptureModel[] = [];
  for (const [i, input] of inputs.entries()) first.push(await analyzeCapture(input.path, withKeys(quick, i)));
  const origins = first.map((m) => m.capture.originNs);
  const base = origins.reduce<bigint | null>((min, o) => (o !== null && (min === null || o < min) ? o : min), null) ?? 0n;
  const originShift = origins.map((o) => (o === null ? 0 : Number(o - base)));
  const offsets = estimateClockOffsets(
    first.map((m) => m.sessions),
    originShift,
    inputs.map((i) => basename(i.path)),
  );
  const models: CaptureModel[] = [];
  for (const [i, input] of inputs.entries()) {
    models.push(await analyzeCapture(input.path, { ...withKeys(opts, i), clockShiftNs: originShift[i] + offsets[i].ns }));
  }
  const merged = mergeModels(models, inputs, base, offsets);
  onProgress?.(merged, merged.capture.bytesRead, merged.capture.bytesRead);
  return merged;
}

/**
 * What to add to each file's clock (after its origin shift) so that its times line up with file 0's,
 * with the range causality allows it. Per pair of files, the bounds of the most linked pairs of
 * sessions that agree (their common range); within it the files' own clocks are kept (captures taken
 * on one machine share one), else the tightest relay bound (output reaches the near hop within
 * moments of the far one), else the only bound there is (mostAgreed). Then along
 * the pairs from file 0, the ranges adding up. A file with no exec in common with the others keeps its clock.
 */
export function estimateClockOffsets(files: readonly (readonly ExecSession[])[], originShift: readonly number[], names: readonly string[]): MergedClock[] {
  // edges: δb − δa, its bounds, and how many linked pairs agree on them.
  const edges: { a: number; b: number; e: number; lo: number; hi: number; pairs: number; hops: string }[] = [];
  for (let a = 0; a < files.length; a++) {
    for (let b = 0; b < files.length; b++) {
      if (a === b) continue;
      const found: { lo: number; hi: number; hops: string }[] = [];
      for (const up of files[a]) {
        for (const down of files[b]) {
          // Each file's times count from its own origin: a bound is a difference of one time from each.
          const bounds = clockOffsetBounds(up, down);
          const shift = originShift[a] - originShift[b];
          if (bounds) found.push({ lo: Math.round(bounds.lo + shift), hi: Math.round(bounds.hi + shift), hops: `${up.hop}→${down.hop}` });
        }
      }
      const agreed = mostAgreed(found);
      if (agreed) edges.push({ a, b, ...agreed });
    }
  }
  const out: (MergedClock | null)[] = files.map((_, i) => (i === 0 ? { ns: 0, minNs: 0, maxNs: 0, from: 'the reference clock' } : null));
  for (let changed = true; changed; ) {
    changed = false;
    for (const { a, b, e, lo, hi, pairs, hops } of edges) {
      const how = (other: number, minNs: number, maxNs: number) =>
        `${pairs} exec${pairs > 1 ? 's' : ''} seen on both sides of the ${hops} hop with ${names[other]}: ${boundsText(minNs, maxNs)}`;
      if (out[a] && !out[b]) {
        const [minNs, maxNs] = [out[a]!.minNs + lo, out[a]!.maxNs + hi];
        out[b] = { ns: out[a]!.ns + e, minNs, maxNs, from: how(a, minNs, maxNs) };
      } else if (out[b] && !out[a]) {
        const [minNs, maxNs] = [out[b]!.minNs - hi, out[b]!.maxNs - lo];
        out[a] = { ns: out[b]!.ns - e, minNs, maxNs, from: how(b, minNs, maxNs) };
      } else continue;
      changed = true;
    }
  }
  return out.map((o) => o ?? { ns: 0, minNs: -Infinity, maxNs: Infinity, from: 'no exec seen on linked hops in this file and another: its clock is taken as it is' });
}

export interface MergedClock {
  /** Added to the file's clock (after its origin shift), ns. */
  ns: number;
  /** What causality allows it to be (±Infinity where nothing bounds it). */
  minNs: number;
  maxNs: number;
  from: string;
}

/**
 * Bounded from below only (no output came back), the files' own clocks are kept unless they would
 * have the far hop dialled later than this after the near hop's request (ns): the lab's translator
 * dials in 44 ms, the kubelet's CRI call and dial take 76 ms; a clock seconds off is no dial.
 */
const PROMPT_DIAL_NS = 1e9;

/**
 * Of the bounds linked pairs of sessions set, those most of them share (pairs of different execs
 * linked by mistake, kubelet → runtime by kind alone, share none), their common range and the offset
 * taken in it: 0 where the range allows it (a lower bound alone, within a prompt dial), else its
 * relay bound, else its one bound (the dial taken as instant).
 */
function mostAgreed(found: readonly { lo: number; hi: number; hops: string }[]): { e: number; lo: number; hi: number; pairs: number; hops: string } | null {
  let best: { e: number; lo: number; hi: number; pairs: number; hops: string } | null = null;
  // The point most ranges hold is some range's lower bound.
  for (const p of found) {
    const holding = found.filter((f) => f.lo <= p.lo && p.lo <= f.hi);
    const lo = holding.reduce((top, f) => Math.max(top, f.lo), -Infinity);
    const hi = holding.reduce((low, f) => Math.min(low, f.hi), Infinity);
    const e = lo <= 0 && 0 <= hi && (hi !== Infinity || -lo <= PROMPT_DIAL_NS) ? 0 : hi !== Infinity ? hi : lo;
    if (!best || holding.length > best.pairs || (holding.length === best.pairs && Math.abs(e) < Math.abs(best.e))) best = { e: Math.round(e), lo, hi, pairs: holding.length, hops: p.hops };
  }
  return best;
}

/** "−43.7 ms … +3.08 ms", "≥ −43.7 ms". */
function boundsText(minNs: number, maxNs: number): string {
  if (maxNs === Infinity) return `causality allows ≥ ${formatSignedDuration(minNs)}`;
  return `causality allows ${formatSignedDuration(minNs)} … ${formatSignedDuration(maxNs)}`;
}

/**
 * The Event pane's re-reading over merged captures: each query goes to the file its connection was
 * read from, with the file's own connection id and key log (those `analyzeCaptures` filled).
 */
export function createMergedCaptureInspector(model: CaptureModel, keys: readonly TlsKeyLog[]): CaptureInspector {
  const files = model.capture.files ?? [];
  const inspectors = files.map((f, i) => createCaptureInspector(f.path, keys[i] ?? null));
  return (query) => {
    const file = model.connections.find((c) => c.id === query.connectionId)?.file;
    if (file === undefined || !inspectors[file]) return Promise.reject(new Error(`connection ${query.connectionId} is in none of the captures`));
    return inspectors[file]({ ...query, connectionId: query.connectionId - files[file].connectionIdShift });
  };
}

/** Where Content and S read a merged session's streams back: its file, with that file's key log and its own session id. */
export function mergedStreamSource(model: CaptureModel, keys: readonly TlsKeyLog[], opts: AnalyzeOptions): StreamSource {
  const files = model.capture.files ?? [];
  return (session) => {
    const file = session.file === undefined ? undefined : files[session.file];
    if (!file) return null;
    return { path: file.path, opts: { ...opts, keys: keys[session.file!], keyLogs: [] }, session: session.id - file.sessionIdShift };
  };
}

function mergeModels(models: readonly CaptureModel[], inputs: readonly CaptureInput[], base: bigint, offsets: readonly MergedClock[]): CaptureModel {
  const files: CaptureFile[] = models.map((m, i) => ({
    path: inputs[i].path,
    originNs: m.capture.originNs,
    packets: m.capture.packets,
    clockOffsetNs: offsets[i].ns,
    clockOffsetMinNs: offsets[i].minNs,
    clockOffsetMaxNs: offsets[i].maxNs,
    clockOffsetFrom: offsets[i].from,
    connectionIdShift: 0,
    sessionIdShift: 0,
  }));
  const union = (pick: (m: CaptureModel) => string[]) => [...new Set(models.flatMap(pick))];
  const merged: CaptureModel = {
    capture: {
      format: models.every((m) => m.capture.format === models[0].capture.format) ? models[0].capture.format : null,
      packets: models.reduce((n, m) => n + m.capture.packets, 0),
      linkTypes: union((m) => m.capture.linkTypes),
      unsupportedLinkTypes: union((m) => m.capture.unsupportedLinkTypes),
      originNs: base,
      bytesRead: models.reduce((n, m) => n + m.capture.bytesRead, 0),
      files,
    },
    sessions: [],
    connections: [],
    rpcs: [],
    warnings: [],
    fatal: null,
    done: true,
  };
  let c0 = 0;
  let s0 = 0;
  let r0 = 0;
  for (const [file, m] of models.entries()) {
    const name = basename(inputs[file].path);
    files[file].connectionIdShift = c0;
    files[file].sessionIdShift = s0;
    for (const c of m.connections) merged.connections.push({ ...c, id: c.id + c0, sessionIds: c.sessionIds.map((id) => id + s0), file });
    for (const s of m.sessions) {
      merged.sessions.push({
        ...s,
        id: s.id + s0,
        connectionId: s.connectionId + c0,
        fallbackFrom: s.fallbackFrom === null ? null : s.fallbackFrom + s0,
        criCall: s.criCall === null ? null : s.criCall + r0,
        // A docker exec's calls each have their own connection.
        control: s.control.map((e) => (e.connectionId === undefined ? e : { ...e, connectionId: e.connectionId + c0 })),
        docker: s.docker && { ...s.docker, connectionIds: s.docker.connectionIds.map((id) => id + c0) },
        file,
      });
    }
    for (const r of m.rpcs) merged.rpcs.push({ ...r, id: r.id + r0, connectionId: r.connectionId + c0, sessionId: r.sessionId === null ? null : r.sessionId + s0 });
    for (const w of m.warnings) merged.warnings.push({ ...w, where: `${name}: ${w.where}`, ...(w.connection !== undefined ? { connection: w.connection + c0 } : {}) });
    if (m.fatal && !merged.fatal) merged.fatal = { ...m.fatal, message: `${name}: ${m.fatal.message}`, where: `${name}: ${m.fatal.where}` };
    const u = m.unlistedConnections;
    if (u) {
      const all = (merged.unlistedConnections ??= { listed: u.listed, connections: 0, requests: 0, bytes: { c2s: 0, s2c: 0 }, lastId: 0 });
      all.connections += u.connections;
      all.requests += u.requests;
      all.bytes.c2s += u.bytes.c2s;
      all.bytes.s2c += u.bytes.s2c;
      all.lastId = u.lastId + c0;
    }
    // Folded, not spread: a capture's 200,000 ids are more arguments than a call takes.
    c0 += m.connections.reduce((top, c) => Math.max(top, c.id), u?.lastId ?? 0);
    s0 += m.sessions.reduce((top, s) => Math.max(top, s.id), 0);
    r0 += m.rpcs.reduce((top, r) => Math.max(top, r.id), 0);
  }
  linkHops(merged.sessions, merged.rpcs, LINK_SLACK_NS);
  return merged;
}
