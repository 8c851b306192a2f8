import { defineProblems } from '../core/problem.js';

export type K8sProblemCode = Parameters<typeof k8sProblem>[0];

/** Problems of the exec session on top of SPDY or WebSocket (resize stream, stream names). */
export const k8sProblem = defineProblems('k8s', {
  'malformed-resize': 'warning',
  'oversized-resize': 'warning',
  'truncated-resize': 'note',
  /** SPDY SYN_STREAM headers not seen: stream types inferred from client-go's creation order. */
  'stream-types-inferred': 'note',
});
