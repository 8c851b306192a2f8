import { defineProblems } from '../core/problem.js';

/** Problems of gRPC over HTTP/2 (grpc doc/PROTOCOL-HTTP2.md); `where` names the HTTP/2 stream. */
export const grpcProblem = defineProblems('grpc', {
  /** A header gRPC defines (grpc-timeout, grpc-status) with a value it does not allow. */
  'malformed-header': 'warning',
  /** The server ended the call without grpc-status. */
  'no-status': 'warning',
  /** A request or response ended inside a length-prefixed message. */
  truncated: 'warning',
  /** A message over the size execscope keeps for decoding: counted only. */
  'too-large': 'note',
  /** A compressed message that does not inflate, or an encoding execscope does not know. */
  compression: 'warning',
  /** A bound execscope keeps (calls open at once). */
  limit: 'error',
});
