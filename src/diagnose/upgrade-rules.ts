/**
 * Rules about the upgrade request itself: an authorization refusal (R10), any other refusal
 * classified by its Status body with the hop that failed (R11, a WebSocket refusal and the SPDY
 * retry's folded into one), the SPDY retry that followed a refused WebSocket (R9), and a Failure
 * Status right after the 101 (R12).
 */
import { retryOf, sessionById, type SessionsById } from '../model/records.js';
import { lastDataAt, type ExecSession, type Hop } from '../model/session.js';
import { finding, sinceStart, type Finding } from './finding.js';

/** A Failure this soon after the 101, with no output, is the setup failing behind the hop that answered. */
const SETUP_FAILURE_NS = 2e9;

interface RefusalClass {
  /** What was refused, as a title. */
  title: string;
  /** The hop whose failure it is. */
  hop: Hop;
  explain: string;
}

/** Reads the refusal's Status message (PROTOCOL.md "Refused upgrade, classified"). */
export function classifyRefusal(s: ExecSession): RefusalClass | null {
  if (s.state !== 'upgrade-failed') return null;
  const message = s.refusal?.message ?? '';
  const code = s.httpStatus;
  const behind = s.hop === 'apiserver' ? 'kubelet' : s.hop === 'kubelet' ? 'cri' : 'cri';
  if (/error dialing backend|dial tcp|connection refused|no route to host|i\/o timeout/i.test(message)) {
    return { title: `the ${s.hop === 'apiserver' ? 'apiserver could not reach the kubelet' : 'kubelet could not reach the runtime'}`, hop: behind, explain: `the ${s.hop} answered for the hop behind it, which it could not dial: a node down, a firewall on the kubelet port (10250), or konnectivity` };
  }
  if (/x509|certificate|tls: |remote error: tls|handshake failure/i.test(message)) {
    return { title: `TLS to the ${behind} failed`, hop: behind, explain: `the ${s.hop} could not complete TLS with the ${behind}: a certificate it does not trust, an expired serving certificate, or TLS spoken to a plaintext port` };
  }
  if (/does not have a host assigned/i.test(message)) {
    return { title: 'the pod is not scheduled', hop: 'apiserver', explain: 'the pod has no node yet (Pending): there is no kubelet to send the exec to' };
  }
  if (code === 404 || /not found|is not valid for pod|container .* is not valid|no such container/i.test(message)) {
    return { title: 'the pod or container does not exist', hop: s.hop, explain: 'the request named a pod or container that is not there (wrong -c, a restarted pod, a typo): nothing about the transport' };
  }
  if (s.transport === 'websocket' && (code === 403 || code === 400) && /websocket|protocol|upgrade/i.test(message) && !/cannot \w+ resource/.test(message)) {
    const v5Only = s.offeredProtocols.length > 0 && s.offeredProtocols.every((p) => p === 'v5.channel.k8s.io');
    return {
      title: `the ${s.hop === 'cri' ? 'runtime' : s.hop} refused the WebSocket upgrade`,
      hop: s.hop,
      explain: v5Only
        ? 'a v5.channel.k8s.io-only offer refused: a runtime or proxy without v5 (containerd/containerd#11136) or a gateway that does not pass WebSocket exec'
        : 'a server or gateway that does not accept WebSocket exec (before the 1.30 translator, an authorizing proxy)',
    };
  }
  return { title: `the ${s.hop} refused the request (${code ?? 'no answer'}${s.refusal?.reason ? ` ${s.refusal.reason}` : ''})`, hop: s.hop, explain: 'the refusal names no transport problem: read the message' };
}

/** R10: the upgrade was forbidden by authorization. */
export function authorization(s: ExecSession): Finding | null {
  if (s.httpStatus !== 403 || !s.refusal) return null;
  const message = s.refusal.message;
  // RBAC's wording: `pods "web-0" is forbidden: User "alice" cannot create resource "pods/exec" …`.
  if (!/cannot \w+ resource/.test(message)) return null;
  const evidence = [`403: ${message}`];
  if (/pods\/(exec|attach|portforward)/.test(message)) {
    evidence.push('the RBAC verb follows the HTTP method: POST (SPDY) needs create, GET (WebSocket) get — and from 1.35 create as well (kubernetes/kubernetes#133515)');
  }
  return { ...finding(s, { rule: 'R10', severity: 'error', title: 'upgrade forbidden', evidence, at: s.endTs ?? s.startTs }), hop: 'apiserver' };
}

/**
 * R11: the upgrade was refused for another reason, classified. A refused WebSocket followed by a
 * refused SPDY retry is one finding, shown on both attempts (the same object).
 */
export function refusedUpgrade(s: ExecSession, all: SessionsById): Finding | null {
  const first = sessionById(all, s.fallbackFrom);
  if (first && s.state === 'upgrade-failed') return refusedUpgrade(first, all);
  const c = classifyRefusal(s);
  if (!c || authorization(s)) return null;
  const retry = retryOf(all, s.id);
  const twice = retry?.state === 'upgrade-failed';
  const evidence = [`${s.transport === 'websocket' ? 'WebSocket GET' : 'SPDY POST'} answered ${s.httpStatus ?? 'nothing'}${s.refusal?.message ? `: ${s.refusal.message}` : ''}`];
  if (twice) evidence.push(`the SPDY retry (#${retry.id}) was answered ${retry.httpStatus ?? '?'}${retry.refusal?.message ? `: ${retry.refusal.message}` : ''}`);
  evidence.push(c.explain);
  if (s.transport === 'websocket' && !retry) {
    evidence.push('no SPDY retry followed in this capture: kubectl retries only a refusal that looks like an upgrade failure (kubernetes/kubernetes#126134)');
  }
  return {
    ...finding(s, {
      rule: 'R11',
      // The retry went through: the exec worked, the refusal is a trap for the next client.
      severity: retry && !twice ? 'warn' : 'error',
      title: twice ? `refused twice (WebSocket ${s.httpStatus}, SPDY ${retry.httpStatus}): ${c.title}` : `upgrade refused: ${c.title}`,
      evidence,
      at: s.endTs ?? s.startTs,
      locate: 'far-end',
    }),
    hop: c.hop,
  };
}

/** R9: kubectl fell back to SPDY after a refused WebSocket (the refusal itself is R10/R11). */
export function transportFallback(s: ExecSession, all: SessionsById): Finding | null {
  if (s.fallbackFrom === null || s.state === 'upgrade-failed') return null;
  const refused = sessionById(all, s.fallbackFrom);
  return finding(s, {
    rule: 'R9',
    severity: 'info',
    title: `SPDY retry after the refused WebSocket #${s.fallbackFrom}`,
    evidence: [
      `session #${s.fallbackFrom}'s WebSocket upgrade was answered ${refused?.httpStatus ?? '?'}${refused?.refusal?.message ? ` (${refused.refusal.message})` : ''}`,
      'kubectl ≥ 1.30 then retries the same request over SPDY on a new connection, as here',
    ],
    at: s.startTs,
  });
}

/** R12: a Failure Status right after the 101 and no output: the setup failed behind the hop that answered. */
export function failureAfterUpgrade(s: ExecSession): Finding | null {
  if (s.httpStatus !== 101 || s.exit?.status !== 'Failure' || s.exit.code !== null || s.upgradeTs === null) return null;
  const statusAt = lastDataAt(s.streams.find((r) => r.name === 'error'));
  const output = s.streams.filter((r) => r.dataDir === 's2c' && r.name !== 'error').reduce((n, r) => n + r.bytes, 0);
  if (statusAt === null || output > 0 || statusAt - s.upgradeTs > SETUP_FAILURE_NS) return null;
  const message = s.exit.message ?? '';
  const notFound = /executable file not found|not found in \$PATH|no such file or directory/i.test(message);
  const crossed = /server gave HTTP response to HTTPS client|first record does not look like a TLS handshake/i.test(message);
  const evidence = [`the ${s.hop} answered 101, then a Failure Status (${s.exit.reason ?? 'no reason'}) at ${sinceStart(s, statusAt)}, with no stdout or stderr: ${message}`];
  if (notFound) evidence.push('the runtime could not start the command in the container: the transport worked');
  else if (crossed) evidence.push('the hop behind it spoke HTTPS to a plaintext streaming server: 1.36 kubelets dial cri-dockerd\'s scheme-less URL over HTTPS (Mirantis/cri-dockerd#560)');
  else evidence.push(`the ${s.hop} upgraded kubectl first, then failed to set up the exec behind it`);
  return finding(s, { rule: 'R12', severity: 'error', title: notFound ? 'the command could not be started' : 'setup failed right after the upgrade', evidence, at: statusAt, locate: 'far-end' });
}
