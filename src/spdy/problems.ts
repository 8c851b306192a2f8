import { defineProblems } from '../core/problem.js';

export type SpdyProblemCode = Parameters<typeof spdyProblem>[0];

/** Problems of SPDY/3.1 framing and sessions (offsets are offsets in the direction's SPDY bytes). */
export const spdyProblem = defineProblems('spdy', {
  'malformed-frame': 'warning',
  'bad-version': 'warning',
  /** A header block that does not inflate or parse (zlib, name/value layout). */
  'header-block': 'warning',
  /** A bound execscope keeps (frame size, header block size, streams, settings). */
  limit: 'warning',
  truncated: 'warning',
  gap: 'warning',
  /** Bytes skipped to find the next frame header after a framing error or a gap. */
  resync: 'warning',
  /** A frame valid on its own that breaks the session's rules (stream ids, FIN, replies, pings). */
  protocol: 'warning',
  /** A frame for a stream whose SYN_STREAM the capture does not hold. */
  'unknown-stream': 'note',
});
