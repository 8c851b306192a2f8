/**
 * The capture-wide bound on listed plain connections. A capture of health probes or API calls holds
 * any number of short HTTP connections, and each listed one costs a record until the report (200,000
 * of them held 80 MB): the first PLAIN_CONNECTIONS_LISTED that end as plain HTTP with nothing to look
 * at are listed, later ones are counted (connections, requests, bytes) in the model's
 * unlistedConnections, and the capture says so once, with the counts, at its end. A connection with
 * an exec session, a problem, an unanswered or error (≥ 400) request, TLS, WebSocket, HTTP/2 or a
 * docker call is always listed.
 */
import { removeFrom } from '../core/remove-from.js';
import type { Problem } from '../core/problem.js';
import type { CaptureModel, ConnectionRecord } from '../model/session.js';
import { pipelineProblem } from './problems.js';

export const PLAIN_CONNECTIONS_LISTED = 10_000;

/** Records taken out of the model's list together, once this many (or a quarter of the list) wait: removal stays O(1) a connection. */
const REMOVE_IN_BATCHES_OF = 1024;

/** Plain HTTP whose every request was answered below 400 and that nothing else singles out. */
export function isPlainHttp(r: ConnectionRecord): boolean {
  if (r.protocol !== 'http' || r.requests.length === 0) return false;
  if (r.sessionIds.length || r.gaps.length || r.zeroWindows.length || r.tls || r.crossed || r.websocket || r.http2) return false;
  return r.requests.every((q) => q.status !== null && q.status < 400);
}

export class ConnectionListing {
  private listedPlain = 0;
  private readonly leaving = new Set<ConnectionRecord>();

  constructor(
    private readonly model: CaptureModel,
    readonly limit: number = PLAIN_CONNECTIONS_LISTED,
  ) {}

  /** A connection ended; `notable`: something (a problem, a docker call) singled it out. Returns whether it stays listed. */
  ended(record: ConnectionRecord, notable: boolean): boolean {
    if (notable || !isPlainHttp(record)) return true;
    if (this.listedPlain < this.limit) {
      this.listedPlain++;
      return true;
    }
    const u = (this.model.unlistedConnections ??= { listed: this.limit, connections: 0, requests: 0, bytes: { c2s: 0, s2c: 0 }, lastId: 0 });
    u.connections++;
    u.requests += record.requests.length;
    u.bytes.c2s += record.bytes.c2s;
    u.bytes.s2c += record.bytes.s2c;
    u.lastId = Math.max(u.lastId, record.id);
    this.leaving.add(record);
    if (this.leaving.size >= Math.max(REMOVE_IN_BATCHES_OF, this.model.connections.length >> 2)) this.removeLeaving();
    return false;
  }

  /** At the capture's end: the last records leave the list, and the warning with the counts, if any were counted. */
  finish(): Problem | null {
    this.removeLeaving();
    const u = this.model.unlistedConnections;
    if (!u) return null;
    return pipelineProblem(
      'connections-unlisted',
      `${u.connections} ended plain-HTTP connections (${u.requests} requests answered below 400, ${u.bytes.c2s} bytes sent, ${u.bytes.s2c} received) are counted, not listed: only the first ${u.listed} such connections are; every connection with an exec session, a problem, an error status, TLS, WebSocket, HTTP/2 or a docker call is listed`,
      { where: 'capture' },
    );
  }

  private removeLeaving(): void {
    removeFrom(this.model.connections, this.leaving);
  }
}
