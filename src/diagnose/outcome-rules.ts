/**
 * Rules about how a session ended against what its error stream said: no Status at all (R3), a
 * Status after which the connection stayed up (R4), a port-forward torn down after one forwarded
 * connection failed (R14), the server done while stdin still flowed (R15), and a client that left
 * without a word (R16).
 */
import { hopsBehind } from '../model/cross-hop.js';
import type { SessionsById } from '../model/records.js';
import { lastDataAt, type ExecSession, type StreamRecord } from '../model/session.js';
import { portForwardErrors } from '../report/outcome.js';
import { formatDuration } from '../core/time.js';
import { exitSaid, finding, sessionEndTs, sinceStart, type Finding } from './finding.js';

/** kubectl closes everything within moments of reading a port-forward error. */
const TEARDOWN_NS = 2e9;

const statusAt = (s: ExecSession): number | null => (s.exit !== null ? lastDataAt(s.streams.find((r) => r.name === 'error')) : null);

/** After the Status, kubectl closes within milliseconds: a connection up this much later is stuck. */
const LINGER_NS = 2e9;

/** When the server closed every output stream it opened (all of them half-closed), or null. */
export function outputEndedAt(s: ExecSession): number | null {
  const out = s.streams.filter((r) => r.dataDir === 's2c' && r.name !== 'error');
  if (!out.length || out.some((r) => r.closedAt.s2c === null)) return null;
  return Math.max(...out.map((r) => r.closedAt.s2c!));
}

/**
 * When the output ended on this hop or, nearest first, on a hop behind it: a WebSocket cannot say its
 * output ended (kubectl's hop), so only the SPDY hops behind show the command's output over and its
 * Status the one thing still awaited. Null when no hop shows it.
 */
export function outputEndedHereOrBehind(s: ExecSession, byId: SessionsById): number | null {
  const here = outputEndedAt(s);
  if (here !== null || s.nextHop === null) return here;
  for (const behind of hopsBehind(byId, s)) {
    const there = outputEndedAt(behind);
    if (there !== null) return there;
  }
  return null;
}

/**
 * R3: the connection ended before any byte on the error stream: "connection lost", never "success".
 * When the output had ended and the Status did not follow, the Status is what got lost, at the
 * furthest hop that lacks it; when the client left while output was still open, that is R16.
 */
export function missingStatus(s: ExecSession): Finding | null {
  // Still open when the capture ended, only the output's end says the Status is late: a hang.
  if (s.kind === 'portforward' || (s.state !== 'aborted' && s.state !== 'open-at-end') || s.exit !== null) return null;
  const end = s.connectionEnd;
  const outputEnded = outputEndedAt(s);
  if (end?.by === 'client' && outputEnded === null && s.httpStatus === 101) return null;
  if (outputEnded !== null && (end?.ts ?? sessionEndTs(s)) - outputEnded >= LINGER_NS) {
    return finding(s, {
      rule: 'R3',
      severity: 'error',
      title: 'output ended, the Status never came',
      evidence: [
        `every output stream was closed by ${sinceStart(s, outputEnded)}, and no byte came on the error stream in the ${formatDuration((end?.ts ?? sessionEndTs(s)) - outputEnded)} after`,
        end ? `then the ${end.by} ${end.reset ? 'reset' : 'closed'} the connection at ${sinceStart(s, end.ts)}` : 'the connection was still open when the capture ended',
        'the process ended but its exit never reached the error stream: a runtime that lost it (crashed shim) or a proxy that dropped the last frame; kubectl waits for the Status',
      ],
      at: outputEnded,
      locate: 'far-end',
    });
  }
  // An open connection is not lost.
  if (s.state !== 'aborted') return null;
  const how = end ? `${end.reset ? 'reset (RST)' : 'closed (FIN)'} by the ${end.by} at ${sinceStart(s, end.ts)}` : 'ended';
  const errorStream = s.streams.find((r) => r.name === 'error');
  const lastOutput = Math.max(0, ...s.streams.filter((r) => r.dataDir === 's2c' && r.name !== 'error').map((r) => lastDataAt(r) ?? 0));
  // A WebSocket session's error channel needs no opening: one that carried nothing has no record.
  const silent = errorStream ? 'the error stream carried no byte: no Status' : s.transport === 'websocket' ? 'nothing came on the error channel (3): no Status' : 'no error stream was opened, so no Status';
  const evidence = [`the connection was ${how}`, silent];
  if (lastOutput > 0) evidence.push(`output stopped at ${sinceStart(s, lastOutput)}: what came before may be cut short`);
  evidence.push(
    s.transport === 'spdy' && s.hop === 'apiserver'
      ? 'kubectl over SPDY takes an empty error stream for success and exits 0 here (kubernetes/kubernetes#137404): do not trust that exit code'
      : 'an empty error stream is not success: whoever reports an exit code for this session is guessing',
  );
  return finding(s, { rule: 'R3', severity: 'error', title: 'connection lost before the Status', evidence, at: end?.ts ?? s.endTs });
}

/** R4: the server said how it ended and closed its side, but the connection stayed up. */
export function statusButStillOpen(s: ExecSession): Finding | null {
  if (s.exit === null || s.connectionEnd !== null || s.httpStatus !== 101) return null;
  const errorStream = s.streams.find((r) => r.name === 'error');
  const statusAt = lastDataAt(errorStream);
  const waited = statusAt === null ? null : sessionEndTs(s) - statusAt;
  // A capture stopped right after the Status says nothing about what came next.
  if (waited !== null && waited < LINGER_NS) return null;
  const evidence = [
    `the Status (${s.exit.status}${s.exit.code !== null ? `, exit ${s.exit.code}` : ''}) came at ${statusAt === null ? 'an unknown time' : sinceStart(s, statusAt)}`,
    `the connection was still open ${waited === null ? 'when the capture ended' : `${formatDuration(waited)} later, when the capture ended`}`,
    'the command is done: what keeps the session alive is the client (kubectl still waiting on its stdin or output pipe) or a proxy that does not pass the close on',
  ];
  return finding(s, { rule: 'R4', severity: 'warn', title: 'Status seen, connection still open', evidence, at: statusAt });
}

/** R14: text on one forwarded connection's error stream, then the client closed the whole port-forward (kubectl ≥ 1.23). */
export function portForwardTeardown(s: ExecSession): Finding | null {
  if (s.kind !== 'portforward' || s.connectionEnd?.by !== 'client') return null;
  const failed = portForwardErrors(s).filter((r) => {
    const at = lastDataAt(r);
    return at !== null && s.connectionEnd!.ts - at >= 0 && s.connectionEnd!.ts - at <= TEARDOWN_NS;
  });
  if (!failed.length) return null;
  const first = failed[0];
  const failedAt = lastDataAt(first)!;
  const text = first.headBytes ? Buffer.from(first.head[0]).toString('utf8').trim().slice(0, 300) : `${first.bytes} B`;
  const data = s.streams.filter((r) => r.name.startsWith('data'));
  return finding(s, {
    rule: 'R14',
    severity: 'error',
    title: 'a forwarded connection failed and kubectl closed them all',
    evidence: [
      `${first.name} carried an error at ${sinceStart(s, failedAt)}: ${text}`,
      `the client closed the port-forward connection ${formatDuration(s.connectionEnd!.ts - failedAt)} later, ${data.length === 1 ? 'ending its forwarded connection' : `ending all ${data.length} forwarded connections`}`,
      'kubectl ≥ 1.23 ends the whole port-forward on any error stream text (kubernetes/kubectl#1169): one refused connection to the pod stops the others too',
    ],
    at: failedAt,
    // The error text is the runtime's, passed on by every hop in front: the furthest hop showing it,
    // not whichever clock says it came first (merged captures are lined up to a few ms).
    locate: 'far-end',
  });
}

/** When the server stopped taking stdin: its Status, or its reset of the stdin stream. */
function serverDoneAt(s: ExecSession, stdin: StreamRecord): { ts: number; how: string } | null {
  const status = statusAt(s);
  if (stdin.resetAt !== null && (status === null || stdin.resetAt < status)) return { ts: stdin.resetAt, how: `reset stdin (${stdin.resetStatus ?? 'RST_STREAM'})` };
  return status === null ? null : { ts: status, how: `sent its Status (${s.exit!.status}${s.exit!.code !== null ? `, exit ${s.exit!.code}` : ''})` };
}

/** R15: the server finished while the client was still sending stdin: input truncated. */
export function inputTruncated(s: ExecSession): Finding | null {
  const stdin = s.streams.find((r) => r.name === 'stdin');
  const stdinAt = lastDataAt(stdin);
  if (!stdin || stdin.bytes === 0 || stdinAt === null || s.tty) return null;
  const done = serverDoneAt(s, stdin);
  if (!done || stdinAt <= done.ts) return null;
  const events = stdin.events.filter((e) => e.kind === 'data');
  const after = events.filter((e) => e.ts > done.ts).reduce((n, e) => n + e.length, 0);
  const split = events.length && !stdin.eventsDropped ? `${stdin.bytes - after} B of stdin before, ${after} B after` : `${stdin.bytes} B of stdin in all, the last at ${sinceStart(s, stdinAt)}`;
  // A Status with the command's exit says where the input stopped being read: in the container, on
  // the runtime hop, whichever hop's capture shows the overlap (the runtime's own server may stop
  // reading at the exit, so only the hops in front see stdin still coming).
  const exited = done.ts === statusAt(s) && (s.exit!.status === 'Success' || s.exit!.code !== null);
  return {
    ...finding(s, {
      rule: 'R15',
      severity: 'error',
      title: 'input truncated: the server finished while stdin was still flowing',
      evidence: [
        `the server ${done.how} at ${sinceStart(s, done.ts)} while the client was still sending: ${split}`,
        'the command never read the rest of its input (it exited early, or the runtime closed stdin: containerd/containerd#13936)',
      ],
      at: done.ts,
      locate: 'far-end',
    }),
    hop: exited ? 'cri' : s.hop,
  };
}

/** R16: the client closed before any Status without half-closing stdin. */
export function clientAbandoned(s: ExecSession, all: SessionsById): Finding | null {
  const end = s.connectionEnd;
  if (s.kind === 'portforward' || s.exit !== null || s.httpStatus !== 101 || end?.by !== 'client') return null;
  const stdin = s.streams.find((r) => r.name === 'stdin');
  if (stdin && (stdin.closedAt.c2s !== null || stdin.resetAt !== null)) return null;
  // Output over and no Status: the client waited for one that never came (R3), it did not walk away.
  if (outputEndedAt(s) !== null) return null;
  const attach = s.kind === 'attach';
  // A hop behind that still got the Status shows the command ended after all (the translator closes
  // stdin when kubectl leaves, and a command reading it to EOF then exits).
  const ended = s.nextHop === null ? undefined : hopsBehind(all, s).find((h) => h.exit !== null);
  return finding(s, {
    rule: 'R16',
    severity: attach ? 'info' : 'warn',
    title: attach ? 'the client detached' : 'the client abandoned the session',
    evidence: [
      `the client ${end.reset ? 'reset' : 'closed'} the connection at ${sinceStart(s, end.ts)}, before any Status${stdin ? ' and without half-closing stdin' : ''}`,
      attach
        ? 'for attach this is a normal detach (Ctrl-P Ctrl-Q, --detach-keys in 1.36): the container goes on'
        : ended?.exit
          ? `the ${ended.hop} hop (#${ended.id}) behind it still carried the command's Status (${exitSaid(ended.exit)}): the command ended after the client left`
          : 'the remote command may still be running: nothing told it its client left (kubernetes-client/javascript#2532)',
    ],
    at: end.ts,
  });
}
