/**
 * One-line outcome of a session, as the text report and the TUI's session list say it. It quotes
 * bytes from the wire (refusal messages, port-forward errors): callers make it safe to print.
 */
import { hopChain } from '../model/cross-hop.js';
import { sessionsOf } from '../model/records.js';
import type { RpcCall } from '../model/rpc-call.js';
import type { CaptureModel, ExecSession, StreamRecord } from '../model/session.js';
import { formatDuration } from '../core/time.js';
import { k8sChannelProtocol } from '../websocket/channel-subprotocols.js';

/** An open session: still being captured (`live`: a tap being read), or left open when the capture ended. */
function stillOpen(live: boolean): string {
  return live ? 'open (live)' : 'still open at end of capture';
}

export function outcomeText(s: ExecSession, live = false): string {
  if (s.hop === 'docker') return dockerOutcome(s, live);
  if (s.state === 'upgrade-failed') {
    const msg = s.refusal?.message ? `: ${s.refusal.message}` : '';
    return `upgrade refused ${s.httpStatus ?? ''}${msg}`.trim();
  }
  if (s.kind === 'portforward') return portForwardOutcome(s, live);
  const stdin = s.streams.find((r) => r.name === 'stdin');
  const stdinOpen = stdin && stdin.bytes > 0 && stdin.closedAt.c2s === null && stdin.resetAt === null;
  const parts: string[] = [];
  if (s.exit) {
    if (s.exit.status === 'Success') parts.push('exit 0');
    else if (s.exit.status === 'Failure' && s.exit.code !== null) parts.push(`exit ${s.exit.code}`);
    else if (s.exit.status === 'Failure') parts.push(`failed: ${s.exit.reason ?? ''} ${s.exit.message ?? ''}`.trim());
    else parts.push('invalid status on the error stream');
  } else if (s.state === 'aborted') parts.push('connection lost, no exit status');
  else if (s.state === 'open-at-end') parts.push(stillOpen(live));
  else parts.push('no exit status');
  if (stdinOpen && s.state !== 'complete') parts.push('stdin never closed');
  if (s.fallbackFrom !== null) parts.push(`fell back to SPDY from session ${s.fallbackFrom}`);
  return parts.join(' · ');
}

/**
 * A docker stream carries no exit code: it comes from an inspect poll or a wait, often after the
 * stream closed, and the outcome says which call told it and how late.
 */
function dockerOutcome(s: ExecSession, live: boolean): string {
  if (s.state === 'upgrade-failed') return `refused ${s.httpStatus ?? ''}${s.refusal?.message ? `: ${s.refusal.message}` : ''}`;
  const from = s.docker?.exitFrom;
  const parts: string[] = [];
  if (s.exit && from) {
    const call = from.call === 'inspect' ? 'an inspect poll' : 'the wait';
    const late = from.afterStreamClosedNs !== null ? ` ${formatDuration(from.afterStreamClosedNs)} after the stream closed` : '';
    parts.push(`exit ${s.exit.code}`, `known from ${call}${late}`);
  } else if (s.state === 'aborted') parts.push('connection lost, no exit code');
  else if (s.state === 'open-at-end') parts.push(stillOpen(live));
  else if (s.docker?.lastPollRunning) {
    // dockershim polled 5 times, then reported success for a process still running (kubernetes/kubernetes#73056).
    const n = s.docker.polls;
    parts.push(`no exit code: still running at the last of ${n} inspect poll${n === 1 ? '' : 's'}${n >= 5 ? ' (dockershim gave up here and reported success)' : ''}`);
  } else parts.push('exit code unknown: no inspect or wait answered after the stream');
  const stdin = s.streams.find((r) => r.name === 'stdin');
  if (stdin && stdin.bytes > 0 && stdin.closedAt.c2s === null && s.state !== 'complete') parts.push('stdin never closed');
  return parts.join(' · ');
}

/** Port-forward streams that carried an error: the server could not reach the pod's port. */
export function portForwardErrors(s: ExecSession): StreamRecord[] {
  return s.streams.filter((r) => r.name.startsWith('error') && r.bytes > 0);
}

/** How many connections went to which ports, and the first error the server sent back. */
function portForwardOutcome(s: ExecSession, live: boolean): string {
  const data = s.streams.filter((r) => r.name.startsWith('data'));
  const ports = [...new Set(data.map((r) => r.name.split(':')[1]).filter((p) => p !== undefined))];
  const parts = [`${data.length} connection${data.length === 1 ? '' : 's'} forwarded${ports.length ? ` to port ${ports.join(', ')}` : ''}`];
  const errors = portForwardErrors(s);
  if (errors.length) {
    const first = Buffer.concat(errors[0].head).toString('utf8').split('\n')[0].slice(0, 200);
    parts.push(`${errors.length} failed: ${first}`);
  }
  if (s.state === 'aborted') parts.push('connection reset');
  else if (s.state === 'open-at-end') parts.push(stillOpen(live));
  if (s.fallbackFrom !== null) parts.push(`fell back to SPDY from session ${s.fallbackFrom}`);
  return parts.join(' · ');
}

/** Port-forward tunnelled through WebSocket: its frames are SPDY, at offsets of the tunnelled byte stream. */
export function isSpdyTunnel(s: ExecSession): boolean {
  return s.transport === 'websocket' && k8sChannelProtocol(s.protocol).codec === 'tunnel';
}

export function hopLabel(s: ExecSession): string {
  switch (s.hop) {
    case 'apiserver':
      return 'kubectl→apiserver';
    case 'kubelet':
      return 'apiserver→kubelet';
    case 'cri':
      return s.kind === 'execsync' ? 'kubelet→runtime (CRI gRPC)' : 'kubelet→runtime';
    case 'docker':
      return 'client→dockerd';
    default:
      return 'unknown hop';
  }
}

export function protocolLabel(s: ExecSession): string {
  if (s.transport === 'hijacked') return s.tty ? 'docker raw' : 'docker stdcopy';
  if (s.transport === 'grpc') return 'gRPC';
  if (isSpdyTunnel(s)) return 'WS+SPDY';
  const t = s.transport === 'spdy' ? 'SPDY' : 'WS';
  // portforward.k8s.io has one version: the kind column says the rest.
  const v = /^(v\d+)\./.exec(s.protocol)?.[1] ?? (s.kind === 'portforward' ? '' : s.protocol);
  return v ? `${t} ${v}` : t;
}

/** "CRI Exec OK 3.2 ms" (or the failing status), for the hop chain and the session's detail. */
export function criCallLabel(c: RpcCall): string {
  const took = c.endTs !== null ? ` ${formatDuration(c.endTs - c.startTs)}` : ' unanswered';
  return `CRI ${c.method || '?'} ${c.reset ? `reset ${c.reset}` : (c.statusName ?? 'no status')}${took}`;
}

/**
 * One exec across hops, nearest kubectl first, with the kubelet's CRI call before the runtime's
 * session and where a hop translated WebSocket to SPDY (the apiserver from 1.30; the kubelet from 1.36
 * with ExtendWebSocketsToKubelet). `long` names each hop; otherwise sessions are `#id`.
 */
export function hopChainSteps(model: CaptureModel, s: ExecSession, long: boolean): string[] {
  const steps: string[] = [];
  const chain = hopChain(sessionsOf(model), s);
  for (const h of chain) {
    const call = h.criCall === null || h.kind === 'execsync' ? undefined : model.rpcs.find((c) => c.id === h.criCall);
    if (call && chain.length > 1) steps.push(long ? criCallLabel(call) : `CRI ${call.method}${call.status === 0 ? '' : ` ${call.reset ?? call.statusName ?? 'unanswered'}`}`);
    steps.push(long ? `#${h.id} ${hopLabel(h)}` : `#${h.id}`);
  }
  return steps;
}

/** Which hop of the chain turned WebSocket into SPDY (the apiserver from 1.30, the kubelet from 1.36), if one did. */
export function translatingHop(model: CaptureModel, s: ExecSession): { hop: ExecSession['hop']; tunnel: boolean } | null {
  const chain = hopChain(sessionsOf(model), s);
  for (let i = 0; i + 1 < chain.length; i++) {
    const [near, far] = [chain[i], chain[i + 1]];
    if (near.transport === 'websocket' && far.transport === 'spdy') return { hop: near.hop, tunnel: isSpdyTunnel(near) };
  }
  return null;
}

/** "WebSocket → SPDY translated at the kubelet", for the text summary's hop chain. */
export function translationNote(model: CaptureModel, s: ExecSession): string | null {
  const t = translatingHop(model, s);
  if (!t) return null;
  const at = t.hop === 'apiserver' ? 'the apiserver' : t.hop === 'kubelet' ? 'the kubelet' : 'the runtime';
  return t.tunnel ? `WebSocket tunnel unwrapped to SPDY at ${at}` : `WebSocket → SPDY translated at ${at}`;
}
