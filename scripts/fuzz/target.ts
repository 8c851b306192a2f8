/**
 * What one fuzz input goes through: the whole pipeline and every report that reads the model. Runs
 * in a worker (bundled by scripts/fuzz.mjs) so a hang or a memory blow-up ends the worker, not the run.
 * Oracles besides "no throw": the same reports whether the capture arrives whole with every record
 * in memory, or in random chunks with every ended record spilled to the temporary file (as the
 * command line spills past its first 1000), and a fatal error only of the kinds the README names.
 */
import { parentPort } from 'node:worker_threads';
import { CaptureAnalyzer } from '../../src/pipeline/capture-analyzer.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { jsonReport } from '../../src/report/json-report.js';
import { textReport } from '../../src/report/text-report.js';
import { randomFromSeed } from '../../test/kit/random.js';

export interface FuzzJob {
  id: number;
  bytes: Uint8Array;
  /** 0: whole; otherwise also compare with delivery in chunks drawn from this seed. */
  chunkSeed: number;
}

export type FuzzVerdict = { id: number; ok: true } | { id: number; ok: false; kind: 'crash' | 'mismatch'; message: string };

/** The JSON and both text reports, joined. */
function analyze(bytes: Uint8Array, chunkSeed: number): string {
  const a = new CaptureAnalyzer(analyzeOptions({ hash: false, hasher: null, endedConnectionsHeld: chunkSeed === 0 ? undefined : 0 }));
  if (chunkSeed === 0) {
    a.push(bytes);
  } else {
    const random = randomFromSeed(chunkSeed);
    for (let at = 0; at < bytes.length; ) {
      // Half the chunks tiny (cuts inside every header), half up to 4 KiB.
      const n = 1 + Math.floor(random() * (random() < 0.5 ? 7 : 4096));
      a.push(bytes.slice(at, at + n));
      at += n;
    }
  }
  a.end();
  const model = a.model;
  try {
    const reports = [
      JSON.stringify(jsonReport(model, { hash: false })),
      textReport(model, { connections: true, name: 'fuzz' }),
      textReport(model, { connections: false, name: 'fuzz', explain: true }),
    ].join('\n');
    if (model.fatal && !/^(capture truncated|corrupt capture|not a pcap)/.test(model.fatal.message)) {
      throw new Error(`unexpected fatal error: ${model.fatal.message}`);
    }
    return reports;
  } finally {
    model.spilled?.close();
  }
}

export function runJob(job: FuzzJob): FuzzVerdict {
  let whole: string;
  try {
    whole = analyze(job.bytes, 0);
  } catch (e) {
    return { id: job.id, ok: false, kind: 'crash', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  if (job.chunkSeed !== 0) {
    let chunked: string;
    try {
      chunked = analyze(job.bytes, job.chunkSeed);
    } catch (e) {
      return { id: job.id, ok: false, kind: 'crash', message: `in chunks: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` };
    }
    if (chunked !== whole) return { id: job.id, ok: false, kind: 'mismatch', message: firstDifference(whole, chunked) };
  }
  return { id: job.id, ok: true };
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `whole (in memory) and chunked (spilled) reports differ at character ${i}: …${a.slice(Math.max(0, i - 80), i + 80)}… vs …${b.slice(Math.max(0, i - 80), i + 80)}…`;
}

parentPort?.on('message', (job: FuzzJob) => parentPort!.postMessage(runJob(job)));
