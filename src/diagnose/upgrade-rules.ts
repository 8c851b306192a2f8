/**
 * Rules about the upgrade request itself: a refused WebSocket that kubectl retried over SPDY (R9),
 * and a refusal that is an authorization decision (R10).
 */
import type { ExecSession } from '../model/session.js';
import type { Finding } from './finding.js';

/** R9: a refused WebSocket upgrade, and what kubectl did next. */
export function transportFallback(s: ExecSession, all: readonly ExecSession[]): Finding | null {
  if (s.fallbackFrom !== null) {
    const refused = all.find((x) => x.id === s.fallbackFrom);
    return {
      rule: 'R9',
      severity: 'info',
      title: 'SPDY after a refused WebSocket',
      evidence: [
        `session #${s.fallbackFrom}'s WebSocket upgrade was answered ${refused?.httpStatus ?? '?'}${refused?.refusal?.message ? ` (${refused.refusal.message})` : ''}`,
        'kubectl ≥ 1.30 then retries the same request over SPDY on a new connection, as here',
      ],
      at: s.startTs,
    };
  }
  if (s.transport !== 'websocket' || s.state !== 'upgrade-failed') return null;
  const retry = all.find((x) => x.fallbackFrom === s.id);
  return {
    rule: 'R9',
    severity: retry ? 'info' : 'error',
    title: retry ? `WebSocket refused, SPDY retry in #${retry.id}` : 'WebSocket refused, no SPDY retry',
    evidence: [
      `the WebSocket upgrade was answered ${s.httpStatus ?? 'nothing'}${s.refusal?.message ? `: ${s.refusal.message}` : ''}`,
      retry
        ? `kubectl fell back to SPDY (session #${retry.id}), which ${retry.state === 'upgrade-failed' ? `was refused too (${retry.httpStatus ?? '?'})` : 'went through'}`
        : 'no SPDY retry followed in this capture: a refusal that does not look like an upgrade failure (a TLS or proxy error) is not retried (kubernetes/kubernetes#126134)',
    ],
    at: s.endTs ?? s.startTs,
  };
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
  return { rule: 'R10', severity: 'error', title: 'upgrade forbidden', evidence, at: s.endTs ?? s.startTs };
}
