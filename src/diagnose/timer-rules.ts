/**
 * Rules about time: a connection closed after exactly the idle time of some timer (R6), and
 * keepalives that are missing or unanswered, per hop (R7).
 */
import type { ExecSession } from '../model/session.js';
import { formatDuration } from '../report/time.js';
import { sinceStart, type Finding } from './finding.js';

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

/** R6: the connection went away after it had been quiet for about the length of a known timer. */
export function idleExpiry(s: ExecSession): Finding | null {
  const end = s.connectionEnd;
  if (!end || s.exit !== null || s.httpStatus !== 101) return null;
  const lastTraffic = Math.max(s.upgradeTs ?? s.startTs, ...s.streams.map((r) => r.lastDataAt ?? 0), ...s.control.filter((c) => c.kind === 'ping' || c.kind === 'pong').map((c) => c.ts));
  const idle = (end.ts - lastTraffic) / 1e9;
  const timer = IDLE_TIMERS.find((t) => Math.abs(idle - t.seconds) <= Math.max(1, t.seconds * 0.03));
  if (!timer && idle < 30) return null;
  return {
    rule: 'R6',
    severity: timer ? 'error' : 'warn',
    title: timer ? `closed after ${formatDuration(idle * 1e9)} of silence: ${timer.name}` : `closed after ${formatDuration(idle * 1e9)} of silence`,
    evidence: [
      `nothing crossed the connection (no data, no ping) from ${sinceStart(s, lastTraffic)} until the ${end.by} ${end.reset ? 'reset' : 'closed'} it at ${sinceStart(s, end.ts)}`,
      timer ? `that matches ${timer.name}` : 'that silence is long enough for an idle timeout somewhere on the path',
    ],
    at: end.ts,
  };
}

/** R7: this hop carried no keepalives, or carried pings nobody answered. */
export function keepaliveGaps(s: ExecSession, all: readonly ExecSession[]): Finding | null {
  if (s.httpStatus !== 101 || s.kind === 'portforward') return null;
  const span = (s.endTs ?? s.startTs) - (s.upgradeTs ?? s.startTs);
  const pings = s.control.filter((c) => c.kind === 'ping');
  const unanswered = pings.filter((c) => c.detail.includes('never answered'));
  const evidence: string[] = [];
  if (unanswered.length) {
    evidence.push(`${unanswered.length} PING${unanswered.length > 1 ? 's' : ''} never answered, the first at ${sinceStart(s, unanswered[0].ts)}: the path black-holes traffic and SPDY has no deadline, so the session hangs until TCP gives up`);
  } else if (span >= KEEPALIVE_NS && pings.length === 0 && !s.control.some((c) => c.kind === 'pong')) {
    evidence.push(`no ${s.transport === 'spdy' ? 'SPDY PING' : 'WebSocket ping/pong'} in ${formatDuration(span)} (client-go pings every 5 s)`);
    // Walk towards kubectl: the nearest hop that still carried keepalives is where they stop.
    let previous = all.find((x) => x.id === s.previousHop);
    for (let depth = 0; previous && depth < 4 && !previous.control.some((c) => c.kind === 'ping' || c.kind === 'pong'); depth++) {
      const at: ExecSession = previous;
      previous = all.find((x) => x.id === at.previousHop);
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
  return { rule: 'R7', severity: unanswered.length ? 'error' : 'warn', title: unanswered.length ? 'keepalives unanswered' : 'no keepalives on this hop', evidence, at: unanswered[0]?.ts ?? s.upgradeTs };
}
