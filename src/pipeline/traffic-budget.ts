/**
 * The capture-wide bound on listed WebSocket and HTTP/2 entries. Each connection's lists keep their
 * first TRAFFIC_ENTRIES_KEPT entries, but a capture holds any number of connections (2,000 typing
 * sessions kept 804,000 frames; 200,000 connections could keep 200 million): every connection's
 * recorder draws from this one budget, and once it is spent entries are only counted, each connection
 * saying how many it did not keep, the capture saying once that the budget ran out.
 */
import type { Problem } from '../core/problem.js';
import { pipelineProblem } from './problems.js';

/** Frames, messages, streams and GOAWAYs listed over all the connections of a capture. */
export const CAPTURE_TRAFFIC_ENTRIES_KEPT = 20_000;

export class TrafficListingBudget {
  private left: number;

  /** `spent`: called once, with the warning, when the first entry is refused. */
  constructor(
    readonly entries: number,
    private readonly spent: (warning: Problem) => void,
  ) {
    this.left = entries;
  }

  /** The budget ran out and the capture was told: every later take() refuses. */
  get exhausted(): boolean {
    return this.left < 0;
  }

  /** Whether one more entry may be kept: `connection` and `packet` say where the budget ran out. */
  take(connection: number, packet: number | undefined): boolean {
    if (this.left > 0) {
      this.left--;
      return true;
    }
    if (this.left === 0) {
      this.left = -1;
      this.spent(
        pipelineProblem(
          'listing-budget-spent',
          `the capture's ${this.entries} listed WebSocket and HTTP/2 entries are spent: later frames, messages, streams and GOAWAYs are counted, not listed (each connection's framesDropped, messagesDropped, streamsDropped, goawaysDropped)`,
          { where: 'capture', connection, packet },
        ),
      );
    }
    return false;
  }
}
