/**
 * Rules about time: a connection closed after exactly the idle time of some timer, or after a
 * silence no keepalive broke (R6); keepalives that are missing or unanswered, per hop (R7); and
 * keepalives that hold an idle timer off on a session that carries no data (R17).
 */
import { sessionById, type ConnectionsById, type SessionsById } from '../model/records.js';
import { lastDataAt, type ExecSession } from '../model/session.js';
import { formatDuration } from '../core/time.js';
import { finding, sessionEndTs, sessionOverTs, sinceStart, type Finding } from './finding.js';
import { outputEndedHereOrBehind } from './outcome-rules.js';

/** Idle timeouts that drop exec connections (PROTOCOL.md §2.13 and the issues it cites). */
const IDLE_TIMERS: { seconds: number; name: string }[] = [
  { seconds: 50, name: "haproxy's default timeout (50 s)" },
  { seconds: 60, name: 'a load balancer idle timeout (AWS ELB/ALB default 60 s)' },
  { seconds: 61, name: "client-go's WebSocket pong deadline (61 s: 12 missed pings + 1 s)" },
  { seconds: 300, name: 'a 5-minute idle timeout (proxies, NAT gateways)' },
  { seconds: 350, name: "AWS NAT gateway's idle timeout (350 s)" },
  { seconds: 600, name: 'a 10-minute idle timeout (Azure LB, some ingress defaults)' },
  { seconds: 14400, name: "the kubelet's streaming connection idle timeout (4 h)" },
];
/** client-go pings every 5 s: a session up this long without one has none. */
const KEEPALIVE_NS = 6e9;
/** client-go's ping period (SPDY and WebSocket alike). */
const PING_PERIOD_NS = 5e9;
/** Data-idle this long, pinged throughout, outlasted an idle timer the pings held off: the shortest one above. */
const PINGED_IDLE_NS = Math.min(...IDLE_TIMERS.map((t) => t.seconds)) * 1e9;

/** A server that closes a session this quiet, without a Status, gave up waiting on something (s). */
const SERVER_QUIT_S = 1;

export const keepalives = (s: ExecSession) => s.control.filter((c) => c.kind === 'ping' || c.kind === 'pong');

/** The last time anything (data or a keepalive) crossed the session's connection. */
const lastTrafficAt = (s: ExecSession): number => Math.max(s.upgradeTs ?? s.startTs, ...s.streams.map((r) => lastDataAt(r) ?? 0), ...keepalives(s).map((c) => c.ts));

/**
 * This hop carried no keepalive and went a ping period without traffic before it ended (its
 * connection's end, or the capture's): a hop an idle timer could have dropped because nothing pinged it.
 */
export function idledWithoutKeepalives(s: ExecSession): boolean {
  return keepalives(s).length === 0 && (s.connectionEnd?.ts ?? sessionEndTs(s)) - lastTrafficAt(s) >= PING_PERIOD_NS;
}

/** R6: the connection went away after it had been quiet for about the length of a known timer. */
export function idleExpiry(s: ExecSession, all: SessionsById, connections: ConnectionsById): Finding | null {
  const end = s.connectionEnd;
  if (!end || s.exit !== null || s.httpStatus !== 101) return null;
  // A window closed until the end held the sender: it could send nothing, not even a PING. That
  // silence is the reader that stopped (R8), not a connection left idle.
  if (connections.hasZeroWindows(s.connectionId) && connections.connection(s.connectionId)?.zeroWindows.some((w) => w.ts < end.ts && (w.reopenedAt ?? Infinity) >= end.ts)) return null;
  // Output over and no Status: the silence was the wait for a Status that was lost (R3). Whatever
  // closed the connection then — a timer, a client giving up, a node shutting down — ended a session
  // already lost, and whether it came before or after the next PING is timing, not a cause. On
  // kubectl's WebSocket the output's end shows only on the hops behind.
  if (outputEndedHereOrBehind(s, all) !== null) return null;
  const lastTraffic = lastTrafficAt(s);
  const idle = (end.ts - lastTraffic) / 1e9;
  const timer = IDLE_TIMERS.find((t) => Math.abs(idle - t.seconds) <= Math.max(1, t.seconds * 0.03));
  // A pinging client breaks every silence after 5 s: a longer one on a hop without pings is what an idle timer waits for.
  const unpinged = keepalives(s).length === 0 && idle * 1e9 >= KEEPALIVE_NS;
  // Behind the apiserver the client is a proxy (apiserver, kubelet): its close passes one on from elsewhere.
  if (!timer && end.by === 'client' && s.hop !== 'apiserver') return null;
  // The server ending a quiet session with no word: it, or something in front of it, timed out.
  const serverQuit = end.by === 'server' && idle >= SERVER_QUIT_S;
  if (!timer && idle < 30 && !unpinged && !serverQuit) return null;
  return finding(s, {
    rule: 'R6',
    // Only a session that never got its Status gets here: whatever closed it cost the exec its end.
    severity: 'error',
    title: timer ? `closed after ${formatDuration(idle * 1e9)} of silence: ${timer.name}` : `closed after ${formatDuration(idle * 1e9)} of silence`,
    evidence: [
      `nothing crossed the connection (no data, no ping) from ${sinceStart(s, lastTraffic)} until the ${end.by} ${end.reset ? 'reset' : 'closed'} it at ${sinceStart(s, end.ts)}`,
      timer ? `that matches ${timer.name}` : 'that silence is long enough for an idle timeout somewhere on the path',
      ...(unpinged ? ['no keepalive crossed this hop to break the silence (a pinging client sends one every 5 s)'] : []),
    ],
    at: end.ts,
  });
}

/** R7: this hop carried no keepalives, or carried pings nobody answered. */
export function keepaliveGaps(s: ExecSession, all: SessionsById): Finding | null {
  if (s.httpStatus !== 101 || s.kind === 'portforward') return null;
  // Silence after the session said it was over (Status, GOAWAY, Close, the connection's end) is not a missing keepalive.
  const over = sessionOverTs(s) ?? sessionEndTs(s);
  const span = over - (s.upgradeTs ?? s.startTs);
  const pings = s.control.filter((c) => c.kind === 'ping');
  // A PING is unanswered only if the session went on for a ping period after it: one sent as the
  // session ended (its pong queued behind the last output, or the peer already gone) proves no black hole.
  const unanswered = pings.filter((c) => c.detail.includes('never answered') && over - c.ts >= PING_PERIOD_NS);
  const evidence: string[] = [];
  if (unanswered.length) {
    evidence.push(`${unanswered.length} PING${unanswered.length > 1 ? 's' : ''} never answered, the first at ${sinceStart(s, unanswered[0].ts)}: the path black-holes traffic and SPDY has no deadline, so the session hangs until TCP gives up`);
  } else if (span >= KEEPALIVE_NS && pings.length === 0 && !s.control.some((c) => c.kind === 'pong') && quietFor(s, over) >= PING_PERIOD_NS) {
    evidence.push(`no ${s.transport === 'spdy' ? 'SPDY PING' : 'WebSocket ping/pong'} in ${formatDuration(span)} (client-go pings every 5 s)`);
    // Walk towards kubectl: the nearest hop that still carried keepalives is where they stop.
    let previous = sessionById(all, s.previousHop);
    for (let depth = 0; previous && depth < 4 && !previous.control.some((c) => c.kind === 'ping' || c.kind === 'pong'); depth++) {
      const at: ExecSession = previous;
      previous = sessionById(all, at.previousHop);
    }
    if (previous) {
      const translator = previous.hop === 'apiserver' && previous.transport === 'websocket';
      evidence.push(
        `#${previous.id} (${previous.hop}) carried pings: they stop after that hop${translator ? " — the apiserver's WebSocket translator sent none upstream before 1.33 (kubernetes/kubernetes#128314)" : ''}`,
      );
    } else {
      evidence.push(s.transport === 'spdy' ? 'a client older than kubectl 1.21, or a third-party client' : 'a third-party client without ping/pong');
    }
    evidence.push('an idle load balancer or NAT on this leg will drop the quiet connection');
  }
  if (!evidence.length) return null;
  return finding(s, { rule: 'R7', severity: unanswered.length ? 'error' : 'warn', title: unanswered.length ? 'keepalives unanswered' : 'no keepalives on this hop', evidence, at: unanswered[0]?.ts ?? s.upgradeTs });
}

/**
 * How long the hop went without a payload byte before `over`. A hop busy throughout is no idle
 * timer's prey, and a client whose data backs up there has its PINGs queued behind that data (the
 * translator's, written behind stdin a stopped runtime left in the buffers, crossed the kubelet hop
 * after the Status and the runtime hop never).
 */
function quietFor(s: ExecSession, over: number): number {
  const idle = longestDataIdle(s, over);
  return idle.to - idle.from;
}

/**
 * The longest stretch with no payload byte on any stream, between the upgrade and `over`. A stream
 * whose per-frame events were not kept counts as busy from its first byte to its last.
 */
function longestDataIdle(s: ExecSession, over: number): { from: number; to: number } {
  const start = s.upgradeTs ?? s.startTs;
  // Loops over indices, no filter, map, spread, for-of or destructuring: this runs once a session in the
  // report and is optimised after a few hundred, and TurboFan inlines each of those (iterators, closures,
  // exception paths); compiling it took 46.8 M instructions, 17.6 M with indices (callgrind, one compile).
  const busy: [number, number][] = [];
  const streams = s.streams;
  for (let i = 0; i < streams.length; i++) {
    const r = streams[i];
    const before = busy.length;
    if (!r.eventsDropped) {
      for (let j = 0; j < r.events.length; j++) {
        const e = r.events[j];
        if (e.kind === 'data' && e.length > 0) busy.push([e.ts, e.ts]);
      }
    }
    const lastAt = lastDataAt(r);
    if (busy.length === before && r.firstDataAt !== null && lastAt !== null && r.bytes > 0) busy.push([r.firstDataAt, lastAt]);
  }
  busy.sort((a, b) => a[0] - b[0]);
  busy.push([over, over]);
  let best = { from: start, to: start };
  let reached = start;
  for (let i = 0; i < busy.length; i++) {
    const stretch = busy[i];
    const gapEnd = Math.min(stretch[0], over);
    if (gapEnd - reached > best.to - best.from) best = { from: reached, to: gapEnd };
    reached = Math.max(reached, stretch[1]);
  }
  return best;
}

/**
 * R17: no data for longer than an idle timeout, but pings all along: the timer never fires
 * (kubernetes/kubernetes#102569). Any stretch counts — a command sleeping before it prints, a shell
 * left idle — once it outlasts the shortest idle timer the doctor knows.
 */
export function keepalivesDefeatIdleTimeout(s: ExecSession): Finding | null {
  if (s.httpStatus !== 101 || s.kind === 'portforward') return null;
  const pings = keepalives(s).filter((c) => c.kind === 'ping');
  if (pings.length < 2) return null;
  const over = sessionOverTs(s) ?? sessionEndTs(s);
  const idle = longestDataIdle(s, over);
  const during = pings.filter((c) => c.ts > idle.from && c.ts < idle.to).length;
  if (idle.to - idle.from < PINGED_IDLE_NS || during < 2) return null;
  const outlasted = IDLE_TIMERS.filter((t) => t.seconds * 1e9 <= idle.to - idle.from);
  return finding(s, {
    rule: 'R17',
    severity: 'info',
    title: 'keepalives hold the idle timeout off',
    evidence: [
      `no data for ${formatDuration(idle.to - idle.from)} from ${sinceStart(s, idle.from)}, while ${during} PINGs crossed this hop`,
      `longer than ${outlasted.map((t) => t.name).join(', ')}: the pings kept every such timer from firing`,
      "since 1.21 pings reset the runtime's stream idle timer too, so a configured stream_idle_timeout never fires on an idle but pinged session (kubernetes/kubernetes#102569, containerd/containerd#5563)",
    ],
    at: idle.from,
  });
}
