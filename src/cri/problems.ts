import { defineProblems } from '../core/problem.js';

/** Problems of the CRI messages carried by gRPC. */
export const criProblem = defineProblems('cri', {
  /** A request or response of a decoded RPC that is not valid protobuf for its type. */
  'malformed-message': 'warning',
  /** An Exec/Attach/PortForward URL without a /exec|/attach|/portforward token. */
  'no-token': 'warning',
});
