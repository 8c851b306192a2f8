/**
 * Rules about the k8s streams themselves: stdin that never reaches EOF (R1), output that never
 * ends (R2), streams that were never set up or never answered (R8).
 */
import { lastDataAt, type ExecSession, type StreamRecord } from '../model/session.js';
import { formatDuration } from '../core/time.js';
import type { SessionsById } from '../model/records.js';
import { finding, sessionEndTs, sinceStart, type Finding } from './finding.js';
import { outputEndedHereOrBehind } from './outcome-rules.js';

/** A quiet stretch this long before the capture ends reads as "nothing is coming". */
const QUIET_NS = 2e9;
/** client-go and the CRI server both give up on a missing SYN_REPLY after 30 s. */
const REPLY_TIMEOUT_NS = 30e9;

const stream = (s: ExecSession, name: string): StreamRecord | undefined => s.streams.find((r) => r.name === name);
const unfinished = (s: ExecSession) => s.exit === null && s.state !== 'upgrade-failed' && s.kind !== 'portforward';

/**
 * R1: the command waits for stdin's EOF, which never came. Not for a terminal: an interactive shell
 * is typed into and ends with `exit`, never with an EOF; and not while stdin was busy until the end.
 */
export function stdinNeverClosed(s: ExecSession): Finding | null {
  const stdin = stream(s, 'stdin');
  // An attach the client left is a detach: nothing waits for its EOF.
  if (s.kind === 'attach' && s.connectionEnd?.by === 'client') return null;
  // A WebSocket channel needs no opening: a stdin asked for and never used (nor closed) has no record.
  if (!s.stdin || s.tty || (!stdin && s.transport !== 'websocket') || !unfinished(s)) return null;
  if (stdin && (stdin.closedAt.c2s !== null || stdin.resetAt !== null)) return null;
  // Quiet for a while (or for most of a short capture): a live tap mid-transfer is not a hang. A
  // stdin that never carried a byte needs the while: a capture stopped or cut moments after the
  // streams opened shows a client yet to send, not one done sending.
  const since = s.upgradeTs ?? s.startTs;
  const stdinAt = lastDataAt(stdin);
  const quiet = stdinAt === null ? QUIET_NS : Math.min(QUIET_NS, (sessionEndTs(s) - since) / 2);
  if (sessionEndTs(s) - (stdinAt ?? since) < quiet) return null;
  const evidence = [
    stdin && stdin.bytes > 0
      ? `stdin carried ${stdin.bytes} B, the last at ${sinceStart(s, stdinAt ?? s.startTs)}, and was never half-closed`
      : stdin
        ? 'stdin was opened and never half-closed (nothing was sent on it)'
        : 'stdin was asked for and never used: nothing was sent on channel 0, and it was never closed',
  ];
  if (s.transport === 'spdy') evidence.push(`no empty DATA frame with FIN on SPDY stream ${stdin!.id}`);
  else if (s.transport === 'hijacked') evidence.push('no TCP FIN from the client: the docker client half-closes the hijacked connection at stdin EOF');
  else if (s.protocol === 'v5.channel.k8s.io') evidence.push('no v5 CLOSE signal ([255, 0]) for channel 0');
  else evidence.push(`${s.protocol || 'this WebSocket protocol'} has no way to close stdin: only v5.channel.k8s.io can (kubernetes/kubernetes#89899)`);
  evidence.push('a command reading stdin to its end (cat, sort, wc …) waits for that EOF forever');
  return finding(s, { rule: 'R1', severity: 'error', title: 'stdin never half-closed', evidence, at: stdinAt ?? stdin?.openedAt ?? since });
}

/** R2: no Status, output still open and quiet: a child process holds the pipe or tty. */
export function outputNeverEnds(s: ExecSession, all: SessionsById): Finding | null {
  // Still open when the capture ended, or kubectl closed its own exec's hop after waiting (the user
  // gave up; an attach's client leaving is a detach, and its container's output goes on).
  const gaveUp = s.kind === 'exec' && s.hop === 'apiserver' && s.state === 'aborted' && s.connectionEnd?.by === 'client' ? s.connectionEnd : null;
  if (!unfinished(s) || (s.state !== 'open-at-end' && !gaveUp)) return null;
  // A hop behind saw the output end (kubectl's WebSocket cannot): what is awaited is the Status (R3).
  if (outputEndedHereOrBehind(s, all) !== null) return null;
  const open = ['stdout', 'stderr'].map((n) => stream(s, n)).filter((r): r is StreamRecord => !!r && r.closedAt.s2c === null && r.resetAt === null);
  if (open.length === 0) return null;
  const last = Math.max(...open.map((r) => lastDataAt(r) ?? r.openedAt ?? s.startTs));
  const quiet = (gaveUp?.ts ?? sessionEndTs(s)) - last;
  if (quiet < QUIET_NS) return null;
  // A shell at its prompt is quiet too (a live tap shows one between keystrokes): on a terminal only
  // keys typed after the last output, which a terminal echoes, and never answered make it a hang.
  const typedAt = lastDataAt(stream(s, 'stdin'));
  if (s.tty && (typedAt === null || typedAt <= last)) return null;
  return finding(s, {
    rule: 'R2',
    severity: 'warn',
    title: 'output never ends',
    evidence: [
      `${open.map((r) => r.name).join(' and ')} still open, ${s.hop === 'docker' ? 'no exit code from an inspect or wait' : 'no Status on the error stream'}`,
      gaveUp ? `nothing on them for ${formatDuration(quiet)} before the client ${gaveUp.reset ? 'reset' : 'closed'} the connection at ${sinceStart(s, gaveUp.ts)}` : `nothing on them for the last ${formatDuration(quiet)} of the capture`,
      'the process (or a child it started in the background) still holds the pipe or terminal (kubernetes/kubernetes#44371)',
    ],
    at: last,
  });
}

/** R8: streams the request asked for that never appeared, or SYN_STREAMs never answered. */
export function setupStall(s: ExecSession): Finding | null {
  // A capture that starts mid-session saw neither the request nor the streams being set up.
  if (s.transport !== 'spdy' || s.httpStatus !== 101 || s.kind === 'portforward' || s.target === '') return null;
  const evidence: string[] = [];
  const wanted = [s.stdin && 'stdin', s.stdout && 'stdout', s.stderr && !s.tty && 'stderr', s.tty && 'resize', 'error'].filter((n): n is string => !!n);
  const missing = wanted.filter((n) => !stream(s, n));
  if (missing.length) evidence.push(`the request asks for ${wanted.join(', ')} but no SYN_STREAM opened ${missing.join(', ')}`);
  const end = sessionEndTs(s);
  const unanswered = s.streams.filter((r) => r.openedAt !== null && r.repliedAt === null && end - r.openedAt >= REPLY_TIMEOUT_NS / 10);
  for (const r of unanswered) evidence.push(`${r.name} (stream ${r.id}) opened at ${sinceStart(s, r.openedAt!)} and never answered by a SYN_REPLY (${formatDuration(end - r.openedAt!)} later)`);
  if (unanswered.length && end - Math.min(...unanswered.map((r) => r.openedAt!)) >= REPLY_TIMEOUT_NS) {
    evidence.push("client-go and the streaming server give up after 30 s: a wedged server (spdystream's frame queues, kubernetes/kubernetes#16373) or a middlebox that passes the upgrade but not the frames");
  }
  if (!evidence.length) return null;
  return finding(s, { rule: 'R8', severity: 'error', title: 'streams never set up', evidence, at: unanswered[0]?.openedAt ?? s.upgradeTs, locate: 'far-end' });
}
