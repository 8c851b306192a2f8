/**
 * What the hang doctor says about a session: which rule of ../shared/PROTOCOL.md ("Hang-diagnosis
 * rules") matched, in a line, with the evidence from the capture that made it match.
 */
import type { ExecSession } from '../model/session.js';
import { formatDuration } from '../report/time.js';

export type RuleId = 'R1' | 'R2' | 'R3' | 'R4' | 'R6' | 'R7' | 'R8' | 'R9' | 'R10';

export interface Finding {
  rule: RuleId;
  /** error: why the exec failed or hung; warn: a likely cause or a trap; info: worth knowing. */
  severity: 'error' | 'warn' | 'info';
  title: string;
  /** Facts from the capture, each a sentence. */
  evidence: string[];
  /** Capture time (ns) to look at, when there is one. */
  at: number | null;
}

/** A capture time as an offset into the session ("+1.25 s"). */
export function sinceStart(s: ExecSession, ts: number): string {
  return `+${formatDuration(Math.max(0, ts - s.startTs))}`;
}

/** Where the capture ends for this session: its end, or the last thing it saw. */
export function sessionEndTs(s: ExecSession): number {
  return s.endTs ?? s.startTs;
}
