/**
 * The lab's request log: a line in its terminal as each request reaches a hop (→), and one as each
 * session ends (←) with how it ended, so a class watching the lab sees the traffic arrive.
 */
import { parseExecStatus } from '../k8s/status.js';
import { quoteArgv } from '../report/format.js';
import { safeInline } from '../report/terminal-text.js';
import type { LabActivity, SessionObservation } from './observations.js';

/** "POST /api/v1/namespaces/default/pods/lab-0/exec · sh -c 'echo hi'": the path, and the command the query carries. */
function requestTarget(uri: string): string {
  const url = new URL(uri, 'http://lab');
  const command = url.searchParams.getAll('command');
  return `${safeInline(url.pathname)}${command.length ? ` · ${quoteArgv(command)}` : ''}`;
}

/** How the session ended: the exit its hop reported or wrote on the error stream, else why it ended. */
function ending(s: SessionObservation): string {
  if (s.processExitCode !== null) return `exit ${s.processExitCode}`;
  if (s.statusJson !== null) {
    const status = parseExecStatus(new TextEncoder().encode(s.statusJson), s.negotiatedProtocol);
    if (status.status === 'Success') return 'exit 0';
    if (status.code !== null) return `exit ${status.code}`;
    return `${status.status}${status.message ? `: ${status.message}` : ''}`;
  }
  return s.end;
}

export function requestLogLine(a: LabActivity): string {
  if ('request' in a) {
    const r = a.request;
    return safeInline(`  → ${r.hop.padEnd(9)} ${r.method} ${requestTarget(r.uri)}`, 300);
  }
  const s = a.ended;
  const where = s.pod ? ` ${s.namespace ?? 'default'}/${s.pod}${s.container ? ` [${s.container}]` : ''}` : '';
  const command = s.command.length ? ` ${quoteArgv(s.command)}` : '';
  const protocol = s.negotiatedProtocol || (s.transport === 'websocket' ? 'WebSocket' : 'SPDY');
  return safeInline(`  ← ${s.hop.padEnd(9)} ${s.kind}${where}${command} · ${protocol} · ${s.httpStatus ?? 'no answer'} · ${ending(s)}`, 300);
}
