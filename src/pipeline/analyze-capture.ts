/** Feeds a capture file (or stdin) through the pipeline: the IO edge of the sans-IO analyzer. */
import { stat } from 'node:fs/promises';
import { readCaptureBytes } from '../capture/capture-source.js';
import type { CaptureModel } from '../model/session.js';
import { CaptureAnalyzer } from './capture-analyzer.js';
import type { AnalyzeOptions } from './options.js';

export type ProgressListener = (model: CaptureModel, bytesRead: number, totalBytes: number | null) => void;

const PROGRESS_EVERY = 4 << 20;

export async function analyzeCapture(path: string, opts: AnalyzeOptions, onProgress?: ProgressListener): Promise<CaptureModel> {
  const first = await analyzeOnce(path, opts, onProgress);
  if (!first.keysArrivedLate || path === '-') return first.model;
  // Secrets stored after the connections they decrypt: decode again with them known from the start.
  return (await analyzeOnce(path, { ...opts, keyLogs: [...opts.keyLogs, ...first.embeddedKeyLogs] }, onProgress)).model;
}

async function analyzeOnce(path: string, opts: AnalyzeOptions, onProgress?: ProgressListener): Promise<CaptureAnalyzer> {
  // Unreadable files are reported by readCaptureBytes, with the friendlier message.
  const total = path === '-' ? null : await stat(path).then((st) => st.size, () => null);
  // Loaded only when hashing: worker threads are not needed otherwise, and startup shows in short runs.
  const ownHasher = opts.hash && !opts.hasher ? new (await import('./worker-hasher.js')).WorkerStreamHasher() : null;
  const hasher = opts.hasher ?? ownHasher;
  const analyzer = new CaptureAnalyzer({ ...opts, hasher });
  let nextReport = PROGRESS_EVERY;
  let read = 0;
  for await (const chunk of readCaptureBytes(path)) {
    read += chunk.length;
    if (!analyzer.push(chunk)) break;
    const behind = hasher?.backlog();
    if (behind) await behind;
    if (onProgress && read >= nextReport) {
      nextReport = read + PROGRESS_EVERY;
      onProgress(analyzer.model, read, total);
    }
  }
  analyzer.end();
  try {
    await hasher?.flush();
  } finally {
    ownHasher?.close();
  }
  onProgress?.(analyzer.model, read, total);
  return analyzer;
}
