/**
 * Rules about a connection before any exec session exists on it: TLS spoken to a plaintext port, or
 * plaintext to a TLS one (R13) — a ClientHello answered by `HTTP/1.1 400`, an HTTP request answered
 * by a TLS alert. On any hop: 1.36 kubelets dial cri-dockerd's scheme-less streaming URL over HTTPS.
 */
import type { ConnectionRecord } from '../model/session.js';

export interface ConnectionFinding {
  rule: 'R13';
  severity: 'error';
  title: string;
  evidence: string[];
  /** ConnectionRecord.id */
  connection: number;
  at: number;
}

export function crossedTls(c: ConnectionRecord): ConnectionFinding | null {
  if (!c.crossed) return null;
  const tlsClient = c.crossed.kind === 'tls-to-plaintext';
  return {
    rule: 'R13',
    severity: 'error',
    title: tlsClient ? 'TLS spoken to a plaintext port' : 'plaintext spoken to a TLS port',
    evidence: [
      tlsClient
        ? `${c.client} opened with a TLS ClientHello; ${c.server} answered in plain HTTP: ${c.crossed.serverSaid}`
        : `${c.client} sent a plain HTTP request; ${c.server} answered with ${c.crossed.serverSaid}`,
      tlsClient
        ? "the client was told https:// (or assumed it) for a plaintext server: e.g. a 1.36 kubelet dialling cri-dockerd's scheme-less streaming URL over HTTPS (Mirantis/cri-dockerd#560); the hop in front reports 'http: server gave HTTP response to HTTPS client'"
        : 'the client was told http:// for a TLS server (a wrong scheme in a kubeconfig, a proxy or an endpoint)',
    ],
    connection: c.id,
    at: c.startTs,
  };
}

/** Every connection-level finding of the capture. */
export function diagnoseConnections(connections: Iterable<ConnectionRecord>): ConnectionFinding[] {
  const found: ConnectionFinding[] = [];
  for (const c of connections) {
    const f = crossedTls(c);
    if (f) found.push(f);
  }
  return found;
}
