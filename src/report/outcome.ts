/** One-line outcome of a session, as the text report and the TUI's session list say it. */
import type { ExecSession } from '../model/session.js';

export function outcomeText(s: ExecSession): string {
  if (s.state === 'upgrade-failed') {
    const msg = s.refusal?.message ? `: ${s.refusal.message}` : '';
    return `upgrade refused ${s.httpStatus ?? ''}${msg}`.trim();
  }
  const stdin = s.streams.find((r) => r.name === 'stdin');
  const stdinOpen = stdin && stdin.bytes > 0 && stdin.closedAt.c2s === null && stdin.resetAt === null;
  const parts: string[] = [];
  if (s.exit) {
    if (s.exit.status === 'Success') parts.push('exit 0');
    else if (s.exit.status === 'Failure' && s.exit.code !== null) parts.push(`exit ${s.exit.code}`);
    else if (s.exit.status === 'Failure') parts.push(`failed: ${s.exit.reason ?? ''} ${s.exit.message ?? ''}`.trim());
    else parts.push('invalid status on the error stream');
  } else if (s.state === 'aborted') parts.push('connection lost, no exit status');
  else if (s.state === 'open-at-end') parts.push('still open at end of capture');
  else parts.push('no exit status');
  if (stdinOpen && s.state !== 'complete') parts.push('stdin never closed');
  if (s.fallbackFrom !== null) parts.push(`fell back to SPDY from session ${s.fallbackFrom}`);
  return parts.join(' · ');
}

export function hopLabel(s: ExecSession): string {
  switch (s.hop) {
    case 'apiserver':
      return 'kubectl→apiserver';
    case 'kubelet':
      return 'apiserver→kubelet';
    case 'cri':
      return 'kubelet→runtime';
    default:
      return 'unknown hop';
  }
}

export function protocolLabel(s: ExecSession): string {
  const t = s.transport === 'spdy' ? 'SPDY' : 'WS';
  const v = /^(v\d+)\./.exec(s.protocol)?.[1] ?? s.protocol;
  return v ? `${t} ${v}` : t;
}
