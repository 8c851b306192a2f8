/**
 * Compares what the analyzer decoded from a capture with a truth file in the shared format (the
 * rules of ../shared/check-captures.mjs, on the in-process model): every truth session must be found
 * by its addresses with the same request, state, stream bytes (length + sha256), exit and resizes.
 */
import type { CaptureModel, ExecSession } from '../../src/model/session.js';

interface Digest {
  length: number;
  sha256: string;
}

interface TruthSession {
  logged_by: string;
  kind: string;
  transport: string;
  negotiated_subprotocol: string;
  http_status: number | null;
  namespace: string | null;
  pod: string | null;
  container: string | null;
  command: string[];
  tty: boolean;
  client_addr: string;
  server_addr: string;
  stdin_bytes?: Digest;
  stdout_bytes?: Digest;
  stderr_bytes?: Digest;
  status_json?: string | null;
  resize_events?: { width: number; height: number }[];
  forwards?: { port: number; request_id: string; to_pod: Digest; from_pod: Digest; error: string | null }[];
  next_hop_client_addr?: string | null;
  end: string;
  reset_by_client_unread?: boolean;
}

export interface CompareOptions {
  /**
   * Compare stream contents only for sessions that ended cleanly and that their client read to the
   * end (an independent capture of the wire also holds bytes a stalled or reset server never read,
   * and lacks what a client's reset dropped).
   */
  contentsOnlyWhenClean?: boolean;
}

function expectedExit(statusJson: string | null): { status: string; code: number | null; reason?: string } | null {
  if (!statusJson) return null;
  const st = JSON.parse(statusJson) as { status: string; reason?: string; details?: { causes?: { reason?: string; message?: string }[] } };
  if (st.status === 'Success') return { status: 'Success', code: 0 };
  const cause = st.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (st.reason === 'NonZeroExitCode' && cause) return { status: 'Failure', code: Number(cause.message), reason: st.reason };
  return { status: 'Failure', code: null, reason: st.reason };
}

function expectedStates(end: string): string[] | null {
  if (end.startsWith('clean')) return ['complete'];
  if (end.startsWith('rejected')) return ['upgrade-failed'];
  if (end.startsWith('reset')) return ['aborted'];
  if (end.startsWith('hung')) return ['open-at-end', 'aborted'];
  return null;
}

export function compareWithTruth(model: CaptureModel, truth: { sessions: TruthSession[] }, opts: CompareOptions = {}): string[] {
  const problems: string[] = [];
  for (const t of truth.sessions) {
    const got = model.sessions.find((s) => s.client === t.client_addr && s.server === t.server_addr);
    const where = `${t.logged_by} ${t.client_addr}→${t.server_addr}`;
    if (!got) {
      problems.push(`${where}: session not found`);
      continue;
    }
    for (const p of compareSession(t, got, opts)) problems.push(`${where}: ${p}`);
    // Cross-hop links: the session this one opened is the one whose client address the lab dialled from.
    if (t.next_hop_client_addr !== undefined) {
      const next = t.next_hop_client_addr === null ? null : model.sessions.find((s) => s.client === t.next_hop_client_addr);
      const want = next && truth.sessions.some((x) => x.client_addr === next.client) ? next.id : null;
      if (got.nextHop !== want) problems.push(`${where}: next hop: expected ${want === null ? 'none' : `#${want}`}, got ${got.nextHop === null ? 'none' : `#${got.nextHop}`}`);
    }
  }
  const expected = new Set(truth.sessions.map((t) => `${t.client_addr} ${t.server_addr}`));
  for (const s of model.sessions) if (!expected.has(`${s.client} ${s.server}`)) problems.push(`unexpected session ${s.client}→${s.server} (${s.hop})`);
  return problems;
}

function compareSession(t: TruthSession, got: ExecSession, opts: CompareOptions): string[] {
  const bad: string[] = [];
  const eq = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${what}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
  };
  eq('transport', got.transport, t.transport);
  eq('kind', got.kind, t.kind);
  eq('hop', got.hop, t.logged_by);
  if (t.http_status === 101) eq('protocol', got.protocol, t.negotiated_subprotocol);
  eq('http status', got.httpStatus, t.http_status);
  eq('namespace', got.namespace, t.namespace);
  eq('pod', got.pod, t.pod);
  if (t.container) eq('container', got.container, t.container);
  eq('command', got.command, t.command);
  eq('tty', got.tty, t.tty);
  const states = expectedStates(t.end);
  // The wire lost what was still in flight when the client reset the connection: the session may look
  // cut short there, though its server finished it.
  if (states && opts.contentsOnlyWhenClean && t.reset_by_client_unread && !states.includes('aborted')) states.push('aborted');
  if (states && !states.includes(got.state)) bad.push(`state: expected ${states.join(' or ')}, got ${got.state} (truth end: ${t.end})`);
  if (t.http_status !== 101) return bad;
  if (opts.contentsOnlyWhenClean && (t.end !== 'clean' || t.reset_by_client_unread)) return bad;
  for (const name of ['stdin', 'stdout', 'stderr'] as const) {
    const want = t[`${name}_bytes`];
    if (!want) continue;
    const have = got.streams.find((s) => s.name === name);
    if (want.length === 0) {
      if (have && have.bytes) bad.push(`${name}: expected no bytes, got ${have.bytes}`);
      continue;
    }
    if (!have) {
      bad.push(`${name}: stream missing (expected ${want.length} bytes)`);
      continue;
    }
    eq(`${name}.bytes`, have.bytes, want.length);
    if (have.sha256 !== want.sha256) bad.push(`${name}.sha256 differs`);
  }
  if ('status_json' in t) {
    const want = expectedExit(t.status_json ?? null);
    if (!want) {
      if (got.exit) bad.push(`exit: expected none, got ${JSON.stringify(got.exit)}`);
    } else if (!got.exit) {
      bad.push(`exit: expected ${JSON.stringify(want)}, got none`);
    } else {
      eq('exit.status', got.exit.status, want.status);
      eq('exit.code', got.exit.code, want.code);
      if (want.reason) eq('exit.reason', got.exit.reason, want.reason);
    }
  }
  eq(
    'resizes',
    got.resizes.map((r) => ({ width: r.width, height: r.height })),
    (t.resize_events ?? []).map((r) => ({ width: r.width, height: r.height })),
  );
  // Port-forward: a data stream carries both ways (its count is the sum); an error stream what the server wrote.
  for (const f of t.forwards ?? []) {
    const data = got.streams.find((s) => s.name === `data:${f.port}:${f.request_id}`);
    const error = got.streams.find((s) => s.name === `error:${f.port}:${f.request_id}`);
    eq(`data:${f.port}:${f.request_id}.bytes`, data?.bytes, f.to_pod.length + f.from_pod.length);
    eq(`error:${f.port}:${f.request_id}.bytes`, error?.bytes, Buffer.byteLength(f.error ?? ''));
  }
  return bad;
}
