/**
 * Cross-hop links: one `kubectl exec` is a session on each hop it crosses — kubectl→apiserver,
 * apiserver→kubelet, kubelet→runtime — and a capture taken on a node (or the lab's recording) holds
 * several of them. The hop further from kubectl is opened while the nearer one is being set up:
 *
 * - the apiserver dials the kubelet after the request arrived: the proxy before it answers 101, the
 *   WebSocket translator just after (it upgrades kubectl first), so within a few seconds of the 101;
 * - the kubelet dials the runtime's streaming URL after its CRI call and proxies the 101 back, so the
 *   runtime session starts between the kubelet's request and its 101 (a translating kubelet, 1.36,
 *   upgrades first and dials just after).
 *
 * The apiserver and kubelet requests also name the same pod, container and command; the runtime's
 * names only a token, so there the timing decides; between overlapping execs, the pair whose 101s
 * are closest. Each session links to at most one on each side.
 *
 * With docker as the runtime, the streaming server's exec is a docker session of its own (hop
 * `docker`): the Engine API calls it made while its streaming session was open.
 *
 * Between the kubelet and the runtime's streaming server sits the kubelet's CRI call (Exec, Attach,
 * PortForward): its response's URL carries the one-time token the streaming session presents, so a
 * capture holding both (a node capture with the runtime socket's traffic, the lab's recording) links
 * them exactly. The session keeps what its own URL carried (a token); the call has the container,
 * command and stream flags the reports show for it.
 */
import type { RpcCall } from './rpc-call.js';
import { sessionById, type SessionsById } from './records.js';
import { lastDataAt, type ExecSession } from './session.js';

/** The translator's upstream dial follows its WebSocket 101 within this (ns). */
const TRANSLATOR_DIAL_NS = 5e9;
/** A hop dials the next one while it sets up, well within this of its own request (ns). */
const SETUP_WINDOW_NS = 60e9;

/** What linking reads of a session, and the links it sets: the pipeline links spilled sessions through this much of each. */
export type HopLinked = Pick<ExecSession, 'id' | 'hop' | 'kind' | 'transport' | 'startTs' | 'upgradeTs' | 'endTs' | 'namespace' | 'pod' | 'container' | 'command' | 'token' | 'criCall' | 'previousHop' | 'nextHop'>;

/**
 * Sets previousHop/nextHop on every session whose neighbouring hop is in the capture. `clockSlackNs`:
 * how far the clocks of merged captures may still disagree after lining them up (0 for one capture):
 * every "before" of the setup sequence is allowed that much.
 */
export function linkHops(sessions: readonly HopLinked[], rpcs: readonly RpcCall[] = [], clockSlackNs = 0): void {
  for (const s of sessions) {
    s.previousHop = null;
    s.nextHop = null;
  }
  linkCriCalls(sessions, rpcs, clockSlackNs);
  const byStart = [...sessions].sort((a, b) => a.startTs - b.startTs || a.id - b.id);
  for (const [near, far, carries] of NEIGHBOURS) link(byStart, near, far, carries, clockSlackNs);
}

/**
 * The hops whose sessions linkHops may link, among the hops of a capture's sessions: both of each
 * neighbouring pair present, and the runtime's when CRI calls returned tokens. A capture of one hop
 * (200,000 execs to the apiserver) links nothing.
 */
export function linkableHops(present: ReadonlySet<ExecSession['hop']>, rpcs: readonly RpcCall[]): Set<ExecSession['hop']> {
  const linkable = new Set<ExecSession['hop']>();
  for (const [near, far] of NEIGHBOURS) {
    if (!present.has(near) || !present.has(far)) continue;
    linkable.add(near);
    linkable.add(far);
  }
  if (present.has('cri') && rpcs.some((c) => c.token !== null)) linkable.add('cri');
  return linkable;
}

/** The sessions of one exec across hops, nearest kubectl first (just `s` when it has no links); a map by id looks up faster. */
export function hopChain(sessions: SessionsById, s: ExecSession): ExecSession[] {
  // Compared by id: a spilled session read back twice is two objects.
  let head = s;
  for (let up = sessionById(sessions, head.previousHop); up && up.id !== s.id; up = sessionById(sessions, head.previousHop)) head = up;
  const chain = [head.id === s.id ? s : head];
  for (let next = sessionById(sessions, chain[0].nextHop); next && !chain.some((h) => h.id === next!.id); next = sessionById(sessions, next.nextHop)) chain.push(next.id === s.id ? s : next);
  return chain;
}

/** The sessions of `s`'s exec on the hops behind it (further from kubectl), nearest first. */
export function hopsBehind(sessions: SessionsById, s: ExecSession): ExecSession[] {
  const chain = hopChain(sessions, s);
  return chain.slice(chain.findIndex((h) => h.id === s.id) + 1);
}

function link(sessions: readonly HopLinked[], near: ExecSession['hop'], far: ExecSession['hop'], carries: (up: HopLinked, down: HopLinked, slack: number) => boolean, slack: number): void {
  const candidates = sessions.filter((s) => s.hop === near);
  let started = 0;
  for (const down of sessions) {
    if (down.hop !== far) continue;
    while (started < candidates.length && candidates[started].startTs <= down.startTs + slack) started++;
    let best: HopLinked | null = null;
    let bestScore = Infinity;
    for (let i = started - 1; i >= 0 && candidates[i].startTs >= down.startTs - SETUP_WINDOW_NS; i--) {
      const up = candidates[i];
      if (up.nextHop !== null || up.kind !== down.kind || !carries(up, down, slack)) continue;
      // A proxy forwards the 101 it gets at once, a translator upgrades just before it dials: the
      // two 101s of one exec are close. Without them, the latest request before this one.
      const score = up.upgradeTs !== null && down.upgradeTs !== null ? Math.abs(up.upgradeTs - down.upgradeTs) : down.startTs - up.startTs;
      if (score < bestScore) {
        best = up;
        bestScore = score;
      }
    }
    if (best) {
      best.nextHop = down.id;
      down.previousHop = best.id;
    }
  }
}

/** Each hop and the one it dials, with what says a session of the first carried one of the second. */
const NEIGHBOURS: [near: ExecSession['hop'], far: ExecSession['hop'], carries: (up: HopLinked, down: HopLinked, slack: number) => boolean][] = [
  ['apiserver', 'kubelet', apiserverCarries],
  ['kubelet', 'cri', kubeletCarries],
  ['cri', 'docker', dockershimCarries],
];

/** Same request (the apiserver may have defaulted the container): the same exec, whatever the clocks say. */
function sameRequest(up: HopLinked, down: HopLinked): boolean {
  if (up.namespace !== down.namespace || up.pod !== down.pod) return false;
  if (up.kind !== 'portforward') {
    if (up.container !== null && up.container !== down.container) return false;
    if (up.command.length !== down.command.length || up.command.some((arg, i) => arg !== down.command[i])) return false;
  }
  return true;
}

/** Streams whose bytes flow one way only, by name before any `:PORT:REQUEST` (a port-forward's data streams carry both). */
const RELAYED_ONE_WAY = new Set(['stdin', 'stdout', 'stderr', 'error']);

/** What may be added to a far hop's clock to line it up with the near hop's (ns): `hi` is Infinity when nothing bounds it from above. */
export interface ClockBounds {
  lo: number;
  hi: number;
}

/**
 * Sessions on neighbouring hops that may be one exec seen by two captures whose clocks differ: the
 * same request (apiserver → kubelet), or any of the same kind (kubelet → runtime, whose URL names
 * only a token). Returns what causality allows to add to `down`'s clock, or null.
 *
 * Only what one hop caused on the other bounds it, never how long a hop took to act: the near hop
 * dials the far one after its own request arrived, and relays stdin to it, so the far request and
 * first stdin byte come after the near ones (`lo`); output, the Status and a proxy's 101 are relayed
 * the other way, so each reaches the near hop after the far one (`hi`) — the last byte too when the
 * near hop carried all of it. A translator (WebSocket in, SPDY out) upgrades before it dials: its
 * 101 relays nothing. How long the dial took (43.7 ms in the lab's stall-reader recording, the
 * kubelet's CRI call before it dials the runtime) is no clock skew: without output the bounds say
 * so by staying wide.
 */
export function clockOffsetBounds(up: ExecSession, down: ExecSession): ClockBounds | null {
  const next = up.hop === 'apiserver' ? 'kubelet' : up.hop === 'kubelet' ? 'cri' : null;
  if (down.hop !== next || up.kind !== down.kind || up.upgradeTs === null) return null;
  if (up.hop === 'apiserver' && !sameRequest(up, down)) return null;
  let lo = up.startTs - down.startTs;
  let hi = Infinity;
  for (const far of down.streams) {
    if (far.firstDataAt === null || !RELAYED_ONE_WAY.has(far.name.split(':')[0])) continue;
    const near = up.streams.find((r) => r.name === far.name && r.firstDataAt !== null);
    if (!near) continue;
    if (far.dataDir === 'c2s') {
      lo = Math.max(lo, near.firstDataAt! - far.firstDataAt);
      continue;
    }
    hi = Math.min(hi, near.firstDataAt! - far.firstDataAt);
    if (near.bytes >= far.bytes) hi = Math.min(hi, lastDataAt(near)! - lastDataAt(far)!);
  }
  if (up.transport === down.transport && down.upgradeTs !== null) hi = Math.min(hi, up.upgradeTs - down.upgradeTs);
  return { lo, hi };
}

/** Same request, opened in time. */
function apiserverCarries(up: HopLinked, down: HopLinked, slack: number): boolean {
  if (!sameRequest(up, down)) return false;
  const latest = (up.upgradeTs ?? up.endTs ?? Infinity) + TRANSLATOR_DIAL_NS;
  return down.startTs <= latest + slack && (up.endTs === null || down.startTs <= up.endTs + slack);
}

/**
 * The runtime session started while the kubelet was still waiting for its upgrade — or, when the
 * kubelet translates WebSocket to SPDY (1.36 ExtendWebSocketsToKubelet), just after it upgraded the
 * apiserver's WebSocket, as the apiserver's translator does.
 */
function kubeletCarries(up: HopLinked, down: HopLinked, slack: number): boolean {
  const translating = up.transport === 'websocket' && down.transport === 'spdy';
  const latest = (up.upgradeTs ?? up.endTs ?? Infinity) + (translating ? TRANSLATOR_DIAL_NS : 0);
  return down.startTs <= latest + slack && (!translating || up.endTs === null || down.startTs <= up.endTs + slack);
}

/**
 * With docker as the runtime (dockershim, cri-dockerd) the streaming server runs the exec through the
 * Engine API once the kubelet's upgrade arrived: the docker exec is created while the streaming
 * session is open, for the same command when both name one.
 */
function dockershimCarries(up: HopLinked, down: HopLinked, slack: number): boolean {
  if (down.startTs < up.startTs - slack || (up.endTs !== null && down.startTs > up.endTs + slack)) return false;
  return !up.command.length || !down.command.length || (up.command.length === down.command.length && up.command.every((arg, i) => arg === down.command[i]));
}

/** Each CRI call that returned a token, to the streaming session that presented it (the first one after the call). */
function linkCriCalls(sessions: readonly HopLinked[], rpcs: readonly RpcCall[], slack: number): void {
  const byToken = new Map<string, HopLinked[]>();
  for (const s of sessions) {
    if (s.hop !== 'cri' || s.token === null) continue;
    if (s.criCall !== null && s.kind !== 'execsync') s.criCall = null;
    const list = byToken.get(s.token) ?? [];
    list.push(s);
    byToken.set(s.token, list);
  }
  for (const call of rpcs) {
    if (call.token === null) continue;
    const s = byToken.get(call.token)?.find((x) => x.criCall === null && x.startTs >= call.startTs - slack);
    if (!s) continue;
    s.criCall = call.id;
    call.sessionId = s.id;
  }
}

/** One hop of a linked exec, for drawing the hops on one time axis. */
export interface HopProgress {
  session: number;
  hop: ExecSession['hop'];
  /** Request → 101 on this hop (ns), null without a 101. */
  setupNs: number | null;
  /** When the first byte of output (stdout, else stderr) crossed this hop, null if none did. */
  firstOutputTs: number | null;
  /** Output bytes (stdout + stderr) this hop carried. */
  outputBytes: number;
  /** When the Status crossed this hop, null if it did not. */
  statusTs: number | null;
}

/**
 * Each hop of the exec `s` belongs to, nearest kubectl first, and where the bytes stopped: the first
 * hop, walking from the process towards kubectl, that carried less output (or no Status) than the
 * hop behind it — e.g. stdout reached the apiserver but not kubectl.
 */
export function hopProgress(sessions: SessionsById, s: ExecSession): { hops: HopProgress[]; stopped: { before: number; after: number; what: string } | null } {
  const chain = hopChain(sessions, s);
  const hops = chain.map((h): HopProgress => {
    const output = h.streams.filter((r) => r.dataDir === 's2c' && (r.name === 'stdout' || r.name === 'stderr'));
    const first = output.map((r) => r.firstDataAt).filter((t): t is number => t !== null);
    return {
      session: h.id,
      hop: h.hop,
      setupNs: h.upgradeTs === null ? null : h.upgradeTs - h.startTs,
      firstOutputTs: first.length ? Math.min(...first) : null,
      outputBytes: output.reduce((n, r) => n + r.bytes, 0),
      statusTs: h.exit !== null ? lastDataAt(h.streams.find((r) => r.name === 'error')) : null,
    };
  });
  for (let i = hops.length - 1; i > 0; i--) {
    const [near, far] = [hops[i - 1], hops[i]];
    if (near.outputBytes < far.outputBytes) return { hops, stopped: { before: far.session, after: near.session, what: `output: ${far.outputBytes} B reached #${far.session} (${far.hop}), ${near.outputBytes} B crossed #${near.session} (${near.hop})` } };
    if (far.statusTs !== null && near.statusTs === null) return { hops, stopped: { before: far.session, after: near.session, what: `the Status reached #${far.session} (${far.hop}) but not #${near.session} (${near.hop})` } };
  }
  return { hops, stopped: null };
}
