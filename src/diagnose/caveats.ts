/**
 * Version caveats read from the client's `User-Agent: kubectl/v1.NN…` (PROTOCOL.md §2.17 and
 * "Version caveats"): evidence lines added to a cause when the client's release changes what the
 * cause means. A capture does not show the apiserver's version; kubectl's is a hint about the era.
 */
import { hopChain } from '../model/cross-hop.js';
import type { SessionIndex } from '../model/records.js';
import type { ExecSession } from '../model/session.js';
import type { Finding } from './finding.js';
import { idledWithoutKeepalives, keepalives } from './timer-rules.js';

/** The minor version of a kubectl User-Agent ("kubectl/v1.32.4 (linux/amd64) kubernetes/…"), or null. */
export function kubectlMinor(userAgent: string | null): number | null {
  const m = /^kubectl\d*\/v1\.(\d+)\b/.exec(userAgent ?? '');
  return m ? Number(m[1]) : null;
}

export function versionCaveats(s: ExecSession, cause: Finding, byId: SessionIndex): string[] {
  const client = hopChain(byId, s)[0];
  const minor = kubectlMinor(client.userAgent);
  if (minor === null) return [];
  const out: string[] = [];
  const translated = client.hop === 'apiserver' && client.transport === 'websocket' && client.nextHop !== null && byId.get(client.nextHop)?.transport === 'spdy';
  // Only where the capture shows it: the failed hop carried no keepalive (R7's unanswered pings were
  // sent) and, lost or closed, had gone a ping period quiet before it ended. A leg reset mid-output,
  // or one the translator did ping, did not idle out.
  const failed = byId.get(cause.session);
  const idled = failed !== undefined && (cause.rule === 'R7' ? keepalives(failed).length === 0 : (cause.rule === 'R6' || cause.rule === 'R3') && idledWithoutKeepalives(failed));
  if (translated && cause.hop !== 'apiserver' && idled && minor >= 30 && minor <= 32) {
    out.push(`the client is kubectl 1.${minor}: an apiserver of that era (1.30–1.32) translates its WebSocket to SPDY without pinging the upstream leg, which then idles out (kubernetes/kubernetes#128314; fixed in 1.33)`);
  }
  if (client.transport === 'websocket' && minor < 34 && (cause.rule === 'R2' || cause.rule === 'R3' || cause.rule === 'R12')) {
    out.push(`the client is kubectl 1.${minor}: before 1.34 its WebSocket reader could drop output that arrived before its streams existed, so output seen here may still be missing at the client (kubernetes/kubernetes#131189)`);
  }
  if (cause.rule === 'R10' && client.method === 'GET' && minor >= 35) {
    out.push(`the client is kubectl 1.${minor}: its WebSocket GET needs the create verb on pods/exec as well as get from 1.35 (AuthorizePodWebsocketUpgradeCreatePermission)`);
  }
  return out;
}
