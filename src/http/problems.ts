import { defineProblems } from '../core/problem.js';

export type HttpProblemCode = Parameters<typeof httpProblem>[0];

/** Problems of HTTP/1.x (offsets are stream offsets of the direction). */
export const httpProblem = defineProblems('http', {
  'not-http': 'error',
  'malformed-head': 'error',
  'truncated-head': 'warning',
  /** A header the parser accepted with a remark (duplicate, obsolete folding, …). */
  header: 'warning',
  framing: 'warning',
  'body-length-unknown': 'error',
  'malformed-body': 'error',
  'truncated-body': 'warning',
  'body-gap': 'warning',
  'unresynchronisable-gap': 'error',
  'upgraded-gap': 'warning',
  'upgrade-unanswered': 'warning',
  'unrequested-upgrade': 'warning',
  'unmatched-response': 'warning',
  'too-many-pending': 'warning',
  'held-overflow': 'warning',
});
