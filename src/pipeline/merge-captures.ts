/**
 * Several captures of one exec, taken on different nodes (the client's, the control plane's, the
 * worker's), as one view. Each file is decoded with its own key logs; its clock is lined up with the
 * first file's: first by the files' own origins, then by the offset the hops of one exec seen in
 * both files imply (model/cross-hop.ts clockOffsetBetween: request and 101 on both sides of a proxy).
 * A first quick pass finds the sessions to estimate from; the second decodes with the offsets
 * applied, so every time in the merged model is on one clock. Ids are renumbered to stay unique; each
 * connection and session remembers its file, whose packet numbers its origins count in. The Event
 * pane re-reads each connection from its own file (createMergedCaptureInspector), Content and S each
 * session's streams (mergedStreamSource).
 */
import { basename } from 'node:path';
import { clockOffsetBetween, linkHops } from '../model/cross-hop.js';
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

/** Estimates from different execs agree to within this (ns): dial delays on one node. */
const AGREEMENT_NS = 50e6;

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
 * What to add to each file's clock (after its origin shift) so that its times line up with file 0's:
 * per pair of files, the estimate most pairs of linked sessions agree on; then along the pairs from
 * file 0. A file with no exec in common with the others keeps its clock.
 */
export function estimateClockOffsets(files: readonly (readonly ExecSession[])[], originShift: readonly number[], names: readonly string[]): { ns: number; from: string }[] {
  // edges[a][b]: δb − δa, and how many linked pairs agree on it.
  const edges = new Map<string, { a: number; b: number; e: number; pairs: number; hops: string }>();
  for (let a = 0; a < files.length; a++) {
    for (let b = 0; b < files.length; b++) {
      if (a === b) continue;
      const found: { e: number; hops: string }[] = [];
      for (const up of files[a]) {
        for (const down of files[b]) {
          // Each file's times count from its own origin: the estimate is a difference of one time from each.
          const e = clockOffsetBetween(up, down);
          if (e !== null) found.push({ e: Math.round(e + originShift[a] - originShift[b]), hops: `${up.hop}→${down.hop}` });
        }
      }
      if (!found.length) continue;
      let best = found[0];
      let support = 0;
      for (const f of found) {
        const n = found.filter((g) => Math.abs(g.e - f.e) <= AGREEMENT_NS).length;
        if (n > support) [best, support] = [f, n];
      }
      edges.set(`${a} ${b}`, { a, b, e: best.e, pairs: support, hops: best.hops });
    }
  }
  const out: ({ ns: number; from: string } | null)[] = files.map((_, i) => (i === 0 ? { ns: 0, from: 'the reference clock' } : null));
  for (let changed = true; changed; ) {
    changed = false;
    for (const { a, b, e, pairs, hops } of edges.values()) {
      const how = (other: number) => `${pairs} exec${pairs > 1 ? 's' : ''} seen on both sides of the ${hops} hop with ${names[other]}`;
      if (out[a] && !out[b]) out[b] = { ns: out[a]!.ns + e, from: how(a) };
      else if (out[b] && !out[a]) out[a] = { ns: out[b]!.ns - e, from: how(b) };
      else continue;
      changed = true;
    }
  }
  return out.map((o) => o ?? { ns: 0, from: 'no exec seen on linked hops in this file and another: its clock is taken as it is' });
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

function mergeModels(models: readonly CaptureModel[], inputs: readonly CaptureInput[], base: bigint, offsets: readonly { ns: number; from: string }[]): CaptureModel {
  const files: CaptureFile[] = models.map((m, i) => ({
    path: inputs[i].path,
    originNs: m.capture.originNs,
    packets: m.capture.packets,
    clockOffsetNs: offsets[i].ns,
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
  linkHops(merged.sessions, merged.rpcs, AGREEMENT_NS);
  return merged;
}
