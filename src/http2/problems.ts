import { defineProblems } from '../core/problem.js';

export type Http2ProblemCode = Parameters<typeof http2Problem>[0];

/** Problems of HTTP/2 (RFC 9113) and HPACK (offsets are stream offsets of the direction). */
export const http2Problem = defineProblems('http2', {
  'not-http2': 'error',
  /** A frame whose fields contradict its type (length, stream 0, padding); skipped. */
  'malformed-frame': 'warning',
  'frame-too-large': 'error',
  /** A frame valid on its own but not where it came (RFC 9113 §5, §6). */
  protocol: 'warning',
  hpack: 'error',
  /** A bound execscope keeps (open streams, header block size, problems per direction). */
  limit: 'error',
  truncated: 'warning',
  gap: 'error',
});
