/**
 * The hang doctor: every rule of PROTOCOL.md's "Hang-diagnosis rules" that a capture can check, run
 * over a session of the model (R5, dockershim's false success, needs the process's state, which no
 * capture holds). Findings come worst first.
 */
import type { ExecSession } from '../model/session.js';
import type { Finding } from './finding.js';
import { missingStatus, statusButStillOpen } from './outcome-rules.js';
import { outputNeverEnds, setupStall, stdinNeverClosed } from './stream-rules.js';
import { idleExpiry, keepaliveGaps } from './timer-rules.js';
import { authorization, transportFallback } from './upgrade-rules.js';

export type { Finding, RuleId } from './finding.js';

const SEVERITY_ORDER = { error: 0, warn: 1, info: 2 };

export function diagnose(s: ExecSession, all: readonly ExecSession[]): Finding[] {
  const findings = [
    stdinNeverClosed(s),
    outputNeverEnds(s),
    missingStatus(s),
    statusButStillOpen(s),
    idleExpiry(s),
    keepaliveGaps(s, all),
    setupStall(s),
    transportFallback(s, all),
    authorization(s),
  ].filter((f): f is Finding => f !== null);
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
