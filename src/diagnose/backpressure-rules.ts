/**
 * R8, backpressure: a peer that stopped reading. TCP says it plainly — the receiver advertises a
 * zero window, the sender probes it, the window never reopens — and names the side that stopped,
 * when, and how many bytes it had taken. The k8s stream the sender was writing then is the one
 * blocked; a sender blocked by flow control cannot send a PING either, so missing keepalives,
 * unclosed stdin and an endless session follow from it.
 */
import type { ConnectionsById } from '../model/records.js';
import { lastDataAt, type ConnectionRecord, type ExecSession, type ZeroWindow } from '../model/session.js';
import { formatDuration } from '../core/time.js';
import { finding, sessionEndTs, sessionOverTs, sinceStart, type Finding } from './finding.js';

/** A window closed this long is a reader that stopped, not a reader catching up. */
const STALL_NS = 2e9;

export function backpressure(s: ExecSession, connections: ConnectionsById): Finding[] {
  // Most connections never closed a window: a spilled one is not read back to learn so.
  const conn = s.httpStatus === 101 && connections.hasZeroWindows(s.connectionId) ? connections.connection(s.connectionId) : undefined;
  if (!conn) return [];
  const end = Math.max(sessionEndTs(s), conn.endTs ?? 0);
  // A window that reopened and let the session finish with its Status was a slow reader (a process
  // still starting: nothing reads stdin before it runs), not one that stopped. A server that answered
  // with its Status while it still took no stdin was done with it, not stuck: the command stopped
  // reading and ended (input truncated, R15, when stdin is seen outliving the Status); a proxy in
  // front of it stays blocked until the teardown.
  // Nor does a window closed after the session said it was over (its Status, GOAWAY, the connection's end): the reader was done.
  const over = sessionOverTs(s) ?? Infinity;
  const stalls = conn.zeroWindows.filter(
    (w) => w.ts >= (s.upgradeTs ?? s.startTs) && w.ts < over && (s.exit === null || (reopenedAt(s, w) === null && w.dir === 's2c')) && (reopenedAt(s, w) ?? end) - w.ts >= STALL_NS,
  );
  // One finding per direction: the first stall says who stopped reading.
  const out: Finding[] = [];
  for (const dir of ['c2s', 's2c'] as const) {
    const w = stalls.find((x) => x.dir === dir);
    if (w) out.push(stall(s, w, end));
  }
  return out;
}

/**
 * When the window reopened while the connection was still up, or null: a window opened by the packet
 * that closes the connection (its FIN advertising room again, the reader gone) let nothing through.
 */
function reopenedAt(s: ExecSession, w: ZeroWindow): number | null {
  return w.reopenedAt !== null && (s.connectionEnd === null || w.reopenedAt < s.connectionEnd.ts) ? w.reopenedAt : null;
}

function stall(s: ExecSession, w: ZeroWindow, end: number): Finding {
  const reader = w.dir === 'c2s' ? 'server' : 'client';
  const writer = w.dir === 'c2s' ? 'client' : 'server';
  // The stream the writer was sending on when the window closed.
  const sending = s.streams.filter((r) => r.dataDir === w.dir && lastDataAt(r) !== null && r.bytes > 0).sort((a, b) => lastDataAt(b)! - lastDataAt(a)!)[0];
  const reopened = reopenedAt(s, w);
  const closed = s.connectionEnd;
  const held =
    reopened !== null
      ? `reopened only ${formatDuration(reopened - w.ts)} later`
      : closed
        ? `never reopened: the ${closed.by} ${closed.reset ? 'reset' : 'closed'} the connection ${formatDuration(closed.ts - w.ts)} later`
        : `never reopened (${formatDuration(end - w.ts)} until the capture ended)`;
  const evidence = [
    `the ${reader} advertised a zero TCP window at ${sinceStart(s, w.ts)} (packet ${w.packet}) after accepting ${w.accepted} B from the ${writer}; it ${held}${w.probes ? `, ${w.probes} zero-window probe${w.probes > 1 ? 's' : ''} unanswered` : ''}`,
    sending
      ? `${sending.name} (${s.transport === 'spdy' ? 'stream' : 'channel'} ${sending.id}) was being sent: ${sending.bytes} B got through, the last at ${sinceStart(s, lastDataAt(sending)!)}`
      : `nothing of the exec's streams got through in that direction`,
  ];
  const exhausted = s.control.filter((c) => c.kind === 'flow-control');
  if (exhausted.length) evidence.push(`SPDY flow-control windows ran out too (${exhausted[0].detail})`);
  evidence.push(
    reader === 'server'
      ? `the ${s.hop === 'cri' ? 'runtime' : s.hop} stopped reading: a command that never reads its stdin, or a stuck stream copier behind it (kubernetes/kubernetes#16373); a blocked ${writer} cannot send a PING or close stdin either`
      : 'the client stopped reading its output: a full pipe or terminal on the kubectl side',
  );
  return finding(s, { rule: 'R8', severity: 'error', title: `the ${reader} stopped reading${sending ? ` ${sending.name}` : ''}`, evidence, at: w.ts, locate: 'far-end' });
}
