/**
 * The lab's faults: each one imitates a real-world failure on one hop, for teaching and for testing
 * the hang doctor. `--fault NAME[=VALUE][@HOP]`.
 */
import type { HopId } from './observations.js';

export type FaultName =
  | 'no-stream-reply'
  | 'no-exit-status'
  | 'stall-reader'
  | 'reset-mid-stream'
  | 'idle-drop'
  | 'refuse-websocket'
  | 'no-pings';

export interface FaultSpec {
  name: FaultName;
  hop: HopId;
  /** reset-mid-stream: bytes; idle-drop: seconds. */
  value?: number;
}

export interface FaultInfo {
  hops: readonly HopId[];
  defaultHop: HopId;
  /** The value's meaning and default, for faults that take one. */
  value?: { unit: string; default?: number };
  effect: string;
  imitates: string;
}

export const FAULTS: Record<FaultName, FaultInfo> = {
  'no-stream-reply': {
    hops: ['cri'],
    defaultHop: 'cri',
    effect: 'the streaming server never answers SYN_STREAM; the SPDY client gives up after 30 s',
    imitates:
      'a wedged runtime streaming server, e.g. spdystream frame workers blocked by a stream nobody reads ' +
      '(kubernetes/kubernetes#16373), or a middlebox that passes the upgrade but not the frames',
  },
  'no-exit-status': {
    hops: ['cri', 'apiserver'],
    defaultHop: 'cri',
    effect: 'the process ends and its output closes, but the Status is never written and the connection stays open',
    imitates:
      'a runtime that loses the exit of an exec (crashed shim, dockershim-era races) or a proxy that drops the last ' +
      'frame: kubectl waits for the error stream forever (hang rule R3)',
  },
  'stall-reader': {
    hops: ['cri'],
    defaultHop: 'cri',
    effect: 'the server stops reading the connection at the first stdin byte, so the sender backs up',
    imitates:
      'a container that never reads stdin blocking spdystream, which has no flow control (head-of-line blocking, ' +
      'kubernetes/kubernetes#16373; `kubectl cp` hangs such as #60140)',
  },
  'reset-mid-stream': {
    hops: ['apiserver', 'kubelet', 'cri'],
    defaultHop: 'kubelet',
    value: { unit: 'bytes after the upgrade request', default: 65536 },
    effect: 'the connection is reset (RST) once VALUE bytes have passed after the upgrade request',
    imitates:
      'a load balancer, NAT or conntrack table dropping a flow, or a node or proxy restart: over SPDY kubectl then ' +
      'reports success with truncated output (empty error stream, kubernetes/kubernetes#137404)',
  },
  'idle-drop': {
    hops: ['apiserver', 'kubelet', 'cri'],
    defaultHop: 'apiserver',
    value: { unit: 'seconds without traffic' },
    effect: 'a connection that carried no byte for VALUE seconds is closed',
    imitates:
      'a load balancer idle timeout (ELB 60 s, haproxy 50 s, nginx proxy_timeout) dropping a quiet shell ' +
      '(kubernetes/kubernetes#15702, #59411)',
  },
  'refuse-websocket': {
    hops: ['apiserver'],
    defaultHop: 'apiserver',
    effect: 'WebSocket exec upgrades are answered 403, so kubectl ≥1.30 falls back to SPDY on a new connection',
    imitates:
      'an apiserver or gateway in front of it that does not accept WebSocket exec (pre-1.30 translator, an ' +
      'authorizing proxy, RBAC without the create verb: kubernetes/kubernetes#133515)',
  },
  'no-pings': {
    hops: ['apiserver'],
    defaultHop: 'apiserver',
    effect: "the stream translator's SPDY leg to the kubelet sends no PINGs",
    imitates:
      'apiserver 1.30–1.32, whose translator had no PingPeriod: kubectl pings the apiserver, but the upstream leg ' +
      'idles out behind a load balancer (kubernetes/kubernetes#128314; combine with idle-drop@kubelet)',
  },
};

export class FaultError extends Error {}

/** Parses `NAME[=VALUE][@HOP]`. */
export function parseFault(text: string): FaultSpec {
  const match = /^([a-z-]+)(?:=([0-9.]+))?(?:@([a-z]+))?$/.exec(text.trim());
  const name = match?.[1] as FaultName | undefined;
  if (!match || !name || !(name in FAULTS)) {
    throw new FaultError(`unknown fault ${JSON.stringify(text)}; known: ${Object.keys(FAULTS).join(', ')}`);
  }
  const info = FAULTS[name];
  const hop = (match[3] ?? info.defaultHop) as HopId;
  if (!info.hops.includes(hop)) throw new FaultError(`fault ${name} applies to ${info.hops.join(' or ')}, not ${hop}`);
  const spec: FaultSpec = { name, hop };
  if (match[2] !== undefined) {
    if (!info.value) throw new FaultError(`fault ${name} takes no value`);
    spec.value = Number(match[2]);
  } else if (info.value) {
    if (info.value.default === undefined) throw new FaultError(`fault ${name} needs a value: ${name}=${info.value.unit.split(' ')[0].toUpperCase()}`);
    spec.value = info.value.default;
  }
  if (spec.value !== undefined && !(spec.value > 0)) throw new FaultError(`fault ${name}: the value must be positive`);
  return spec;
}

/** The faults that act on one hop. */
export function faultsOn(faults: readonly FaultSpec[], hop: HopId): Map<FaultName, FaultSpec> {
  return new Map(faults.filter((f) => f.hop === hop).map((f) => [f.name, f]));
}

/** A text listing of every fault, for `execscope help lab`. */
export function faultHelp(): string {
  return Object.entries(FAULTS)
    .map(([name, f]) => {
      const value = f.value ? `=${f.value.unit.split(' ')[0].toUpperCase()}` : '';
      return `  ${name}${value} (@${f.hops.join('|@')}, default @${f.defaultHop})\n      ${f.effect}.\n      Imitates: ${f.imitates}.`;
    })
    .join('\n');
}
