import { defineProblems } from '../core/problem.js';

/** Problems the pipeline itself finds, between the layers. */
export const pipelineProblem = defineProblems('pipeline', {
  /** A capture that starts after the upgrade: the transport was inferred from the framing. */
  'started-midstream': 'note',
  /** A capture that starts mid-connection where no transport explains the bytes. */
  'midstream-undecoded': 'warning',
  /** An upgrade that is not exec/attach/port-forward: the upgraded bytes are not decoded. */
  'other-upgrade': 'note',
  'warnings-dropped': 'note',
  /** The capture-wide budget of listed WebSocket and HTTP/2 entries ran out (traffic-budget.ts). */
  'listing-budget-spent': 'note',
  /** The capture-wide budget of TLS record and tunnel log entries ran out (core/carrier-log.ts). */
  'carrier-budget-spent': 'note',
  /** Ended plain-HTTP connections beyond the listed bound are counted, not listed (connection-listing.ts). */
  'connections-unlisted': 'note',
  /** No temporary file for ended records (a read-only or missing TMPDIR): every record stays in memory (ended-records.ts). */
  'spill-unavailable': 'warning',
});
