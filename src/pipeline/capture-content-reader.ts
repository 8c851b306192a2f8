/**
 * The Content pane's whole-stream view: the model keeps only a stream's head, so longer streams are
 * read back from the capture (as `execscope extract` reads it), up to a cap that keeps the
 * terminal rendering responsive.
 */
import type { ExecSession, StreamRecord } from '../model/session.js';
import type { AnalyzeOptions } from './options.js';
import { extractStream } from './stream-extract.js';

/** The stream's payload from the start, capped by the reader; resolves to what the capture holds. */
export type ContentReader = (session: ExecSession, stream: StreamRecord) => Promise<Uint8Array>;

const MAX_CONTENT_BYTES = 16 << 20;

export function createContentReader(path: string, opts: AnalyzeOptions): ContentReader {
  return async (session, stream) => {
    const parts: Uint8Array[] = [];
    let kept = 0;
    const write = (bytes: Uint8Array) => {
      if (kept >= MAX_CONTENT_BYTES) return;
      const take = bytes.subarray(0, MAX_CONTENT_BYTES - kept);
      parts.push(take.slice());
      kept += take.length;
    };
    await extractStream(path, opts, { session: session.id, stream: stream.name }, write);
    return Buffer.concat(parts, kept);
  };
}
