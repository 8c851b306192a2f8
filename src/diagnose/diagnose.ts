/**
 * The hang doctor: every rule of PROTOCOL.md's "Hang-diagnosis rules" and "More rules that real
 * reports call for" that a capture can check (R5, dockershim's false success, needs the process's
 * state, which no capture holds), run over the sessions of the model, then one primary cause per
 * exec: across the hops of one exec (the cross-hop links) the finding that explains the others is
 * the cause, on every hop; the rest are its consequences. A session that looks fine while a hop
 * behind it failed (a green exit 0 over a lost kubelet connection) gets that hop's cause.
 */
import { hopChain } from '../model/cross-hop.js';
import { CaptureRecords } from '../model/records.js';
import type { ConnectionRecord, ExecSession } from '../model/session.js';
import { backpressure } from './backpressure-rules.js';
import { versionCaveats } from './caveats.js';
import { carriedOver } from './carry-over.js';
import type { DiagnosisScope, Finding, RuleId } from './finding.js';
import { clientAbandoned, inputTruncated, missingStatus, portForwardTeardown, statusButStillOpen } from './outcome-rules.js';
import { outputNeverEnds, setupStall, stdinNeverClosed } from './stream-rules.js';
import { idleExpiry, keepaliveGaps, keepalivesDefeatIdleTimeout } from './timer-rules.js';
import { authorization, failureAfterUpgrade, refusedUpgrade, transportFallback } from './upgrade-rules.js';

export type { DiagnosisScope, Finding, RuleId } from './finding.js';
export { diagnoseConnections, type ConnectionFinding } from './connection-rules.js';

export interface Diagnosis {
  /** The finding that explains the others, or null when nothing is wrong (notes may remain). */
  cause: Finding | null;
  /** What followed from the cause, on this hop. */
  consequences: Finding[];
  /** Worth knowing, not a fault (a SPDY retry that worked, keepalives holding a timer off). */
  notes: Finding[];
  /** Sessions inferred without their upgrade: how sure the inference is; null for a seen upgrade. */
  inferred: string | null;
}

/**
 * Which finding explains the others, most fundamental first: a refused or crossed setup, then the
 * reader that stopped, the timer that fired, the connection that went, then what users see (stdin
 * without EOF, output without end), then the client leaving (after either of those, a user giving
 * up on the hang), then what only makes a hang likelier (no keepalives).
 */
const CAUSE_ORDER: RuleId[] = ['R10', 'R11', 'R13', 'R12', 'R8', 'R6', 'R14', 'R15', 'R3', 'R1', 'R2', 'R16', 'R4', 'R7', 'R9', 'R17'];
const SEVERITY_ORDER = { error: 0, warn: 1, info: 2 };
const HOP_DEPTH = { apiserver: 0, kubelet: 1, cri: 2, docker: 3 };

/** Every rule on one session, on its own: no cause chosen, no links followed (except what a rule itself reads). */
export function sessionFindings(s: ExecSession, scope: DiagnosisScope): Finding[] {
  const records = recordsOf(scope);
  // A docker stream has no error stream, no keepalives and no k8s upgrade: only the stream rules and timers apply.
  if (s.hop === 'docker') return [stdinNeverClosed(s), outputNeverEnds(s, records), idleExpiry(s, records, records)].filter((f): f is Finding => f !== null);
  return [
    authorization(s),
    refusedUpgrade(s, records),
    failureAfterUpgrade(s),
    ...backpressure(s, records),
    setupStall(s),
    idleExpiry(s, records, records),
    portForwardTeardown(s),
    inputTruncated(s),
    clientAbandoned(s, records),
    missingStatus(s),
    stdinNeverClosed(s),
    outputNeverEnds(s, records),
    statusButStillOpen(s),
    keepaliveGaps(s, records),
    transportFallback(s, records),
    keepalivesDefeatIdleTimeout(s),
  ].filter((f): f is Finding => f !== null);
}

const recordsOf = (scope: DiagnosisScope): CaptureRecords => (scope instanceof CaptureRecords ? scope : new CaptureRecords(scope));

const rank = (f: Finding) => CAUSE_ORDER.indexOf(f.rule);

/** The cause among candidate findings of one exec (any hops); `depth` is how far along the exec's hops the session that showed a finding is. */
function primary(candidates: readonly Finding[], depth: (f: Finding) => number): Finding | null {
  let best: Finding | null = null;
  for (const f of candidates) {
    if (f.severity === 'info') continue;
    if (!best || rank(f) < rank(best) || (rank(f) === rank(best) && earlierOrFurther(f, best, depth))) best = f;
  }
  return best;
}

function earlierOrFurther(f: Finding, than: Finding, depth: (f: Finding) => number): boolean {
  if (f.locate === 'far-end') {
    if (f.hop !== than.hop) return HOP_DEPTH[f.hop] > HOP_DEPTH[than.hop];
    // Placed on one hop by several (R15 on the runtime hop, whichever hops saw stdin outlive the
    // Status): the furthest that showed it, by the hop links — never by which capture time came
    // first, which across captures from several nodes is only the merge's estimate of their clocks.
    if (depth(f) !== depth(than)) return depth(f) > depth(than);
  }
  if (SEVERITY_ORDER[f.severity] !== SEVERITY_ORDER[than.severity]) return SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[than.severity];
  return (f.at ?? Infinity) < (than.at ?? Infinity);
}

/**
 * The diagnosis of every session of the scope, by session id, each made when asked for and not kept:
 * a report walks 200,000 sessions one by one, and holding every diagnosis at once held hundreds of
 * megabytes. A session's findings depend only on its own hops (the cross-hop chain), so each
 * diagnosis needs the findings of its chain alone.
 */
export function diagnoseAll(scope: DiagnosisScope): Diagnoses {
  return new Diagnoses(scope);
}

export class Diagnoses {
  private readonly byId: CaptureRecords;
  /** The last chain's findings: the hops of one exec are usually asked for one after another. */
  private lastChain: { members: readonly ExecSession[]; findings: Map<number, Finding[]> } | null = null;

  constructor(scope: DiagnosisScope) {
    this.byId = recordsOf(scope);
  }

  get(id: number): Diagnosis | undefined {
    const s = this.byId.get(id);
    if (!s) return undefined;
    const chain = s.previousHop === null && s.nextHop === null ? [s] : hopChain(this.byId, s);
    const own = this.findingsOf(chain);
    // kubectl closed its hop without a Status (the user gave up): a connection lost or closed on
    // another hop after that is the teardown that followed, not why the exec hung.
    const kubectl = chain[0];
    const leftAt = kubectl.hop === 'apiserver' && kubectl.exit === null && kubectl.connectionEnd?.by === 'client' ? kubectl.connectionEnd.ts : null;
    const teardown = (f: Finding) => leftAt !== null && f.session !== kubectl.id && (f.rule === 'R3' || f.rule === 'R6') && f.at !== null && f.at > leftAt;
    const chainCause = primary(
      chain.flatMap((h) => own.get(h.id) ?? []).filter((f) => !teardown(f)),
      (f) => chain.findIndex((h) => h.id === f.session),
    );
    const mine = own.get(s.id) ?? [];
    // A cause from another hop is carried over; one this session's own rule reported for another attempt (a folded refusal) is its own.
    const fromHop = chainCause !== null && chainCause.session !== s.id && chain.some((h) => h.id === chainCause.session);
    let cause = chainCause && fromHop ? carriedOver(chainCause, s, this.byId) : chainCause;
    if (cause) cause = { ...cause, evidence: [...cause.evidence, ...versionCaveats(s, cause, this.byId)] };
    const rest = mine.filter((f) => f !== chainCause);
    return {
      cause,
      consequences: rest.filter((f) => f.severity !== 'info' && cause !== null).sort(bySeverity),
      notes: rest.filter((f) => f.severity === 'info' || cause === null).sort(bySeverity),
      inferred: inference(s),
    };
  }

  /** The findings of each hop of `chain`, reused while the same chain is asked about (findings are compared by identity). */
  private findingsOf(chain: readonly ExecSession[]): Map<number, Finding[]> {
    const last = this.lastChain;
    // By id: a spilled hop read back again is another object with the same findings.
    if (last && last.members.length === chain.length && last.members.every((h, i) => h.id === chain[i].id)) return last.findings;
    const findings = new Map(chain.map((h) => [h.id, sessionFindings(h, this.byId)]));
    this.lastChain = { members: chain, findings };
    return findings;
  }
}

const bySeverity = (a: Finding, b: Finding) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity];

/** Every finding of a diagnosis, the cause first, then its consequences, then notes. */
export function findingsOf(d: Diagnosis | undefined): Finding[] {
  return d ? [...(d.cause ? [d.cause] : []), ...d.consequences, ...d.notes] : [];
}

/** Every finding of one session, the cause first (one session of a front end; reports use diagnoseAll). */
export function diagnose(s: ExecSession, sessions: readonly ExecSession[], connections: readonly ConnectionRecord[] = []): Finding[] {
  return findingsOf(diagnoseAll({ sessions: sessions as ExecSession[], connections: connections as ConnectionRecord[] }).get(s.id));
}

/** How sure an exec inferred from framing alone is (PROTOCOL.md: inferred sessions are gated). */
function inference(s: ExecSession): string | null {
  if (s.target !== '' || s.httpStatus !== null) return null;
  const known = s.streams.filter((r) => !r.name.startsWith('unknown'));
  const unknown = s.streams.length - known.length;
  if (s.transport === 'spdy') {
    return known.length && !unknown
      ? `sure: the capture starts after the upgrade, but every SPDY stream names its streamType (${known.map((r) => r.name).join(', ')})`
      : `unsure: SPDY framing without the upgrade${unknown ? `, ${unknown} stream${unknown > 1 ? 's' : ''} without a known streamType` : ', no stream names seen'}`;
  }
  return known.length && !unknown
    ? `likely: WebSocket frames only on the exec channels (${known.map((r) => `${r.id} ${r.name}`).join(', ')}); the subprotocol is assumed to be v5.channel.k8s.io`
    : `unsure: WebSocket framing without the upgrade${unknown ? `, ${unknown} channel${unknown > 1 ? 's' : ''} outside 0–4 and 255` : ', no channel data seen'}`;
}
