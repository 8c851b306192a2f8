/**
 * Rules about how a session ended against what its error stream said: no Status at all (R3), or a
 * Status after which the connection stayed up (R4).
 */
import type { ExecSession } from '../model/session.js';
import { formatDuration } from '../report/time.js';
import { sessionEndTs, sinceStart, type Finding } from './finding.js';

/** After the Status, kubectl closes within milliseconds: a connection up this much later is stuck. */
const LINGER_NS = 2e9;

/** R3: the connection ended before any byte on the error stream: "connection lost", never "success". */
export function missingStatus(s: ExecSession): Finding | null {
  if (s.kind === 'portforward' || s.state !== 'aborted' || s.exit !== null) return null;
  const end = s.connectionEnd;
  const how = end ? `${end.reset ? 'reset (RST)' : 'closed (FIN)'} by the ${end.by} at ${sinceStart(s, end.ts)}` : 'ended';
  const errorStream = s.streams.find((r) => r.name === 'error');
  const lastOutput = Math.max(0, ...s.streams.filter((r) => r.dataDir === 's2c' && r.name !== 'error').map((r) => r.lastDataAt ?? 0));
  const evidence = [`the connection was ${how}`, errorStream ? 'the error stream carried no byte: no Status' : 'no error stream, so no Status'];
  if (lastOutput > 0) evidence.push(`output stopped at ${sinceStart(s, lastOutput)}: what came before may be cut short`);
  evidence.push(
    s.transport === 'spdy' && s.hop === 'apiserver'
      ? 'kubectl over SPDY takes an empty error stream for success and exits 0 here (kubernetes/kubernetes#137404): do not trust that exit code'
      : 'an empty error stream is not success: whoever reports an exit code for this session is guessing',
  );
  return { rule: 'R3', severity: 'error', title: 'connection lost before the Status', evidence, at: end?.ts ?? s.endTs };
}

/** R4: the server said how it ended and closed its side, but the connection stayed up. */
export function statusButStillOpen(s: ExecSession): Finding | null {
  if (s.exit === null || s.connectionEnd !== null || s.httpStatus !== 101) return null;
  const errorStream = s.streams.find((r) => r.name === 'error');
  const statusAt = errorStream?.lastDataAt ?? null;
  const waited = statusAt === null ? null : sessionEndTs(s) - statusAt;
  // A capture stopped right after the Status says nothing about what came next.
  if (waited !== null && waited < LINGER_NS) return null;
  const evidence = [
    `the Status (${s.exit.status}${s.exit.code !== null ? `, exit ${s.exit.code}` : ''}) came at ${statusAt === null ? 'an unknown time' : sinceStart(s, statusAt)}`,
    `the connection was still open ${waited === null ? 'when the capture ended' : `${formatDuration(waited)} later, when the capture ended`}`,
    'the command is done: what keeps the session alive is the client (kubectl still waiting on its stdin or output pipe) or a proxy that does not pass the close on',
  ];
  return { rule: 'R4', severity: 'warn', title: 'Status seen, connection still open', evidence, at: statusAt };
}
