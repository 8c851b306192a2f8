/** What the session list says about a session, and how it sorts. */
import { shortDockerId } from '../docker/engine-api.js';
import type { RpcCall } from '../model/rpc-call.js';
import type { ExecSession, Hop } from '../model/session.js';
import { outcomeText, portForwardErrors } from './outcome.js';
import { quoteArgv } from './format.js';
import { safeInline } from './terminal-text.js';

export type Severity = 'ok' | 'warn' | 'error' | 'info';
export type SortKey = 'time' | 'duration' | 'outcome' | 'hop';
export const SORT_KEYS: readonly SortKey[] = ['time', 'duration', 'outcome', 'hop'];

export interface Outcome {
  text: string;
  severity: Severity;
}

/**
 * The report's outcome line, plus the fallback seen from the refused side, with a severity: a
 * success is ok, anything that leaves the user without an exit status or with a failure is an
 * error, loose ends (open at the end of the capture, a refused upgrade that fell back) are warnings.
 * `live`: the capture is still being read (a tap), so an open session may yet end.
 */
export function sessionOutcome(s: ExecSession, all: readonly ExecSession[], live = false): Outcome {
  const text = safeInline(outcomeText(s, live));
  if (s.state === 'upgrade-failed') {
    const fallback = all.find((o) => o.fallbackFrom === s.id);
    if (fallback) return { text: `${text} → fell back to SPDY (session ${fallback.id})`, severity: 'warn' };
    return { text, severity: 'error' };
  }
  if (s.kind === 'portforward') {
    if (s.state === 'aborted' || portForwardErrors(s).length) return { text, severity: 'error' };
    return { text, severity: s.state === 'complete' ? 'ok' : 'warn' };
  }
  if (s.exit) {
    // Status seen but the connection stayed up (R4): the client side is stuck, not the command.
    if (s.exit.status === 'Success') return { text, severity: s.state === 'complete' ? 'ok' : 'warn' };
    return { text, severity: 'error' };
  }
  if (s.state === 'open-at-end') return { text, severity: 'warn' };
  return { text, severity: s.state === 'complete' ? 'warn' : 'error' };
}

/** Duration, or null while the session is still open. */
export function sessionDuration(s: ExecSession): number | null {
  return s.endTs === null ? null : s.endTs - s.startTs;
}

/**
 * A runtime session as its CRI call describes it: the streaming URL names only a token, the call
 * the container and command (for the list and the summary; the session itself keeps what its URL said).
 */
export function asCalled(s: ExecSession, rpcs: readonly RpcCall[]): ExecSession {
  if (s.criCall === null || s.kind === 'execsync') return s;
  const req = rpcs.find((c) => c.id === s.criCall)?.request;
  if (!req) return s;
  return { ...s, container: s.container ?? req.containerId ?? null, command: s.command.length ? s.command : (req.command ?? []) };
}

/** "default/demo-0 [main]", the CRI token (and the container its call named), or the request path when nothing else is known. */
export function targetLabel(s: ExecSession): string {
  if (s.hop === 'docker') return `container ${safeInline(shortDockerId(s.container ?? '?'))}`;
  const who = [s.namespace, s.pod].filter((x) => x !== null && x !== '').join('/');
  const container = s.container ? ` [${safeInline(shortDockerId(s.container))}]` : '';
  if (who) return safeInline(who) + container;
  if (s.token) return `token ${safeInline(s.token, 12)}${container}`;
  return safeInline(s.target.split('?')[0]);
}

/** What the session runs: the command, or for port-forward the pod ports its connections went to. */
export function commandLabel(s: ExecSession): string {
  if (s.kind !== 'portforward') return quoteArgv(s.command);
  const ports = new Set(s.ports.map(String));
  for (const r of s.streams) if (r.name.startsWith('data:')) ports.add(r.name.split(':')[1]);
  return ports.size ? `→ port ${[...ports].map((p) => safeInline(p, 8)).join(', ')}` : '';
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warn: 1, info: 2, ok: 3 };

/** A new array sorted by start time, by duration (longest, and still open, first) or by outcome (worst first). */
const HOP_ORDER: readonly Hop[] = ['apiserver', 'kubelet', 'cri', 'docker'];

export function sortSessions(sessions: readonly ExecSession[], key: SortKey): ExecSession[] {
  const byTime = (a: ExecSession, b: ExecSession) => a.startTs - b.startTs || a.id - b.id;
  const out = [...sessions];
  if (key === 'time') return out.sort(byTime);
  if (key === 'duration') {
    const d = (s: ExecSession) => sessionDuration(s) ?? Infinity;
    return out.sort((a, b) => d(b) - d(a) || byTime(a, b));
  }
  // By hop: the kubectl side first, down the chain to the runtime, each hop in time order.
  if (key === 'hop') return out.sort((a, b) => HOP_ORDER.indexOf(a.hop) - HOP_ORDER.indexOf(b.hop) || byTime(a, b));
  const rank = new Map(sessions.map((s) => [s, SEVERITY_RANK[sessionOutcome(s, sessions).severity]]));
  return out.sort((a, b) => rank.get(a)! - rank.get(b)! || byTime(a, b));
}
