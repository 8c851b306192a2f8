/**
 * The Content pane's whole-stream view: the model keeps only a stream's head, so longer streams are
 * read back from the capture (as `execscope extract` reads it), up to a cap that keeps the
 * terminal rendering responsive.
 */
import type { ExecSession, StreamRecord } from '../model/session.js';
import type { AnalyzeOptions } from './options.js';
import { captureSource, extractStream, type StreamSource } from './stream-extract.js';

/** The stream's payload from the start, capped by the reader; resolves to what the capture holds. */
export type ContentReader = (session: ExecSession, stream: StreamRecord) => Promise<Uint8Array>;

const MAX_CONTENT_BYTES = 16 << 20;

export function createContentReader(path: string, opts: AnalyzeOptions): ContentReader {
  return contentReaderFrom(captureSource(path, opts));
}

/** createContentReader, reading each session's streams back from where `source` says. */
export function contentReaderFrom(source: StreamSource): ContentReader {
  return async (session, stream) => {
    const from = source(session);
    if (!from) throw new Error('this capture cannot be read again');
    const parts: Uint8Array[] = [];
    let kept = 0;
    const write = (bytes: Uint8Array) => {
      if (kept >= MAX_CONTENT_BYTES) return;
      const take = bytes.subarray(0, MAX_CONTENT_BYTES - kept);
      parts.push(take.slice());
      kept += take.length;
    };
    await extractStream(from.path, from.opts, { session: from.session, stream: stream.name }, write);
    return Buffer.concat(parts, kept);
  };
}
