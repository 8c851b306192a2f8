/**
 * What the hang doctor says about a session: which rule of ../shared/PROTOCOL.md ("Hang-diagnosis
 * rules" R1–R10, "More rules that real reports call for" R11–R17) matched, in a line, with the
 * evidence from the capture that made it match, and the hop where it happened.
 */
import type { CaptureRecords } from '../model/records.js';
import { lastDataAt, type CaptureModel, type ExecOutcome, type ExecSession, type Hop } from '../model/session.js';
import { formatDuration } from '../core/time.js';

export type RuleId = 'R1' | 'R2' | 'R3' | 'R4' | 'R6' | 'R7' | 'R8' | 'R9' | 'R10' | 'R11' | 'R12' | 'R13' | 'R14' | 'R15' | 'R16' | 'R17';

export interface Finding {
  rule: RuleId;
  /** error: why the exec failed or hung; warn: a likely cause or a trap; info: worth knowing. */
  severity: 'error' | 'warn' | 'info';
  title: string;
  /** Facts from the capture, each a sentence. */
  evidence: string[];
  /** Capture time (ns) to look at, when there is one. */
  at: number | null;
  /** The hop where it happened: the session's own, or a linked hop's for a finding carried over from it. */
  hop: Hop;
  /** The session that showed it (differs from the diagnosed one when carried over along the hop links). */
  session: number;
  /**
   * Where this cause starts when several hops of one exec show it: at the far end (a hop that never
   * answered, refused, stopped reading, lost the Status: the furthest hop showing it), or where it
   * showed first (a connection that went: the earliest).
   */
  locate?: 'far-end' | 'first';
}

/**
 * What the doctor needs from the model: every session (hop links, fallbacks) and every connection (TCP
 * facts) — a model's lists, or the reports' CaptureRecords, which also reads spilled ones back.
 */
export type DiagnosisScope = Pick<CaptureModel, 'sessions' | 'connections'> | CaptureRecords;

/** How a Status ended the exec, in a few words: "exit 0", "exit 3", or "a Failure Status (InternalError)" without an exit code. */
export function exitSaid(exit: ExecOutcome): string {
  const code = exit.status === 'Success' ? 0 : exit.code;
  return code !== null ? `exit ${code}` : `a ${exit.status} Status${exit.reason ? ` (${exit.reason})` : ''}`;
}

/** A capture time as an offset into the session ("+1.25 s"). */
export function sinceStart(s: ExecSession, ts: number): string {
  return `+${formatDuration(Math.max(0, ts - s.startTs))}`;
}

/** Where the capture ends for this session: its end, or (still open) the last thing it saw. */
export function sessionEndTs(s: ExecSession): number {
  if (s.endTs !== null) return s.endTs;
  let last = s.upgradeTs ?? s.startTs;
  for (const r of s.streams) last = Math.max(last, lastDataAt(r) ?? 0);
  const control = s.control.at(-1);
  return control ? Math.max(last, control.ts) : last;
}

/** A finding about session `s`, on its own hop. */
export function finding(s: ExecSession, f: Omit<Finding, 'hop' | 'session'>): Finding {
  return { ...f, hop: s.hop, session: s.id };
}

/**
 * When the session's own end was said (a Status on the error stream, the server's GOAWAY, WebSocket
 * Close, the connection's end): silence after it is the end of the session, not a missing keepalive.
 */
export function sessionOverTs(s: ExecSession): number | null {
  const status = s.exit !== null ? lastDataAt(s.streams.find((r) => r.name === 'error')) : null;
  const ends = s.control.filter((c) => c.kind === 'goaway' || c.kind === 'close').map((c) => c.ts);
  const all = [status, s.connectionEnd?.ts ?? null, ...ends].filter((t): t is number => t !== null);
  return all.length ? Math.min(...all) : null;
}
