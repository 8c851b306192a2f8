/**
 * The bound on ended records held in memory while a capture is analysed for a report: the first
 * `held` connections that end stay in the model's lists with their sessions; later ones move to the
 * model's SpillFile as they end (model/records.ts reads both back in id order). Only what nothing
 * changes after its connection's end moves: a connection a docker call used (a docker session names
 * it, and its calls span connections) stays, as do docker sessions. The hop links, made at the
 * capture's end, reach spilled sessions through what linking reads of them.
 */
import { removeFrom } from '../core/remove-from.js';
import { linkableHops, linkHops, type HopLinked } from '../model/cross-hop.js';
import type { RpcCall } from '../model/rpc-call.js';
import type { Problem } from '../core/problem.js';
import type { CaptureModel, ConnectionRecord, ExecSession, Hop } from '../model/session.js';
import { inIdOrder } from '../model/records.js';
import { pipelineProblem } from './problems.js';
import { SpillFile } from './spill-file.js';

/** Spilled records leave the model's lists together, once this many (or a quarter of the list) wait: removal stays O(1) a record. */
const REMOVE_IN_BATCHES_OF = 1024;

export class EndedRecords {
  private heldCount = 0;
  private file: SpillFile | null = null;
  private readonly leavingSessions = new Set<ExecSession>();
  private readonly leavingConnections = new Set<ConnectionRecord>();

  constructor(
    private readonly model: CaptureModel,
    private held: number,
    private readonly warn: (p: Problem) => void,
  ) {}

  /** A listed connection ended: `sessions`, the ones it alone carried, end with it. */
  ended(record: ConnectionRecord, sessions: readonly ExecSession[]): void {
    if (this.heldCount < this.held) {
      this.heldCount++;
      return;
    }
    if (!this.file) {
      try {
        this.model.spilled = this.file = new SpillFile();
      } catch (e) {
        // The report still comes out, as it did before records were spilled: with every record held.
        this.held = Infinity;
        this.warn(pipelineProblem('spill-unavailable', `no temporary file for ended sessions (${(e as Error).message}): every session stays in memory; set TMPDIR to a writable directory to bound it`, { where: 'capture' }));
        return;
      }
    }
    this.file.spill(record, sessions);
    this.leavingConnections.add(record);
    for (const s of sessions) this.leavingSessions.add(s);
    if (this.leavingConnections.size + this.leavingSessions.size >= Math.max(REMOVE_IN_BATCHES_OF, (this.model.connections.length + this.model.sessions.length) >> 2)) this.removeLeaving();
  }

  /** At the capture's end: the last spilled records leave the lists, and every session is linked to its hops. */
  finish(rpcs: readonly RpcCall[]): void {
    this.removeLeaving();
    const file = this.file;
    if (!file) {
      linkHops(this.model.sessions, rpcs);
      return;
    }
    const present = new Set<Hop>([...this.model.sessions.map((s) => s.hop), ...file.spilledHops()]);
    const linkable = linkableHops(present, rpcs);
    const spilled = [...linkable].some((hop) => file.sessionsOnHop(hop)) ? [...file.linkKeys(linkable)] : [];
    const before = spilled.map((k) => ({ previousHop: k.previousHop, nextHop: k.nextHop, criCall: k.criCall }));
    linkHops([...inIdOrder<HopLinked>(this.model.sessions, spilled)], rpcs);
    spilled.forEach((k, i) => {
      const was = before[i];
      if (k.previousHop !== was.previousHop || k.nextHop !== was.nextHop || k.criCall !== was.criCall) file.relink(k.id, { previousHop: k.previousHop, nextHop: k.nextHop, criCall: k.criCall });
    });
  }

  private removeLeaving(): void {
    removeFrom(this.model.connections, this.leavingConnections);
    removeFrom(this.model.sessions, this.leavingSessions);
  }
}
