/**
 * The lab's truth file, in the shared captures' format (../shared/captures/*.truth.json): one entry
 * per exec/attach request each hop served, written from what the lab's servers observed — the bytes in
 * and out of the process, the Status each hop wrote — never from decoding the recording. A hop that
 * only copied bytes (kubelet, apiserver for SPDY) reports the session behind it when it copied every
 * byte both ways; otherwise its stream contents are left out as unknown.
 */
import { basename } from 'node:path';
import type { Lab } from './lab.js';
import type { SessionObservation } from './observations.js';
import type { StreamDigest } from './stream-tally.js';
import type { ForwardedRequest } from './client-runner.js';

const EMPTY_DIGEST: StreamDigest = {
  length: 0,
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  head_quoted: '""',
};

export interface ClientRecord {
  kind: 'kubectl';
  argv: string[];
  env: Record<string, string>;
  stdin_sent: StreamDigest | null;
  stdout_received: StreamDigest;
  stderr_text: string;
  exit_code: number | null;
  killed_by_harness: boolean;
  duration_s: number;
  /** kubectl port-forward: the requests made through its local port. */
  forwarded?: ForwardedRequest[];
}

export interface TruthExtras {
  scenario: string;
  description: string;
  clients: ClientRecord[];
  /** Path of the capture the truth describes (default: the lab's recording). */
  capturePath?: string;
  notes?: string[];
}

const HOP_NAMES: Record<string, string> = { apiserver: 'kubectl->apiserver', kubelet: 'apiserver->kubelet', runtime: 'kubelet->runtime', cri: 'kubelet->streaming-server' };

export function labTruth(lab: Lab, extras: TruthExtras): object {
  const sessions = lab.observations.sessions;
  const capture = extras.capturePath ?? lab.recordPath ?? '';
  const entries = sessions.map((s) => sessionTruth(s, sessions));
  return {
    file: basename(capture),
    files: { capture: basename(capture) },
    set: 'lab',
    scenario: extras.scenario,
    description: extras.description,
    format: 'pcapng',
    capture_tool: 'execscope lab',
    interface: 'one interface per hop',
    link_type: 'EN10MB (Ethernet, synthesised)',
    protocol: [...new Set(sessions.map((s) => s.transport))],
    negotiated_subprotocols: [...new Set(sessions.map((s) => s.negotiatedProtocol).filter((p) => p !== ''))],
    tls: lab.tls,
    // The recording embeds the key log (Decryption Secrets Blocks); the file is written beside it too.
    keylog_file: null,
    keylog_embedded: lab.tls,
    server_ports: lab.hops.map((h) => h.port),
    hops: lab.hops.map((h, k) => ({ id: h.id, interface_id: k, interface_name: h.name, port: h.port })),
    two_hop: false,
    faults: lab.options.faults,
    sessions: entries,
    clients: extras.clients,
    http_requests_seen_by_server: lab.observations.requests.map((r) => ({ logged_by: r.hop, ...r })),
    notes: extras.notes ?? [],
  };
}

type ContentEnd = SessionObservation['contentEnd'];

/**
 * The session whose account holds for `s` — itself, or, through hops that copy bytes, the one behind
 * it — and where `s`'s connection stops carrying stream content (in its own wire offsets). A copying
 * hop inherits the account only if the content went through both ways: client bytes the next hop did
 * not read carry none (its stdin had ended), and this leg carried the next hop's answer at least up to
 * its Status. Otherwise null: a reset or a stall left content in flight.
 */
function resolveAccount(s: SessionObservation, all: readonly SessionObservation[], depth = 0): { account: SessionObservation; end: ContentEnd } | null {
  const p = s.proxy;
  if (!p) return { account: s, end: s.contentEnd };
  const behind = all.find((b) => b.clientAddr === s.upstreamClientAddr);
  if (!behind?.wire || !s.wire || depth > 4) return null;
  const inner = resolveAccount(behind, all, depth + 1);
  if (!inner) return null;
  const unreadByBackend = p.requestHeadBytes + p.clientIn > behind.wire.c2s;
  const c2sOk = !unreadByBackend || inner.end.c2s !== null;
  const s2cOk = p.clientOut === p.backendIn && inner.end.s2c !== null && p.backendIn >= inner.end.s2c;
  if (!c2sOk || !s2cOk) return null;
  // The backend's connection starts with our request head, ours with the client's: shift c2s offsets.
  const frontHead = s.wire.c2s - p.clientIn;
  return {
    account: inner.account,
    end: { c2s: inner.end.c2s === null ? null : inner.end.c2s - p.requestHeadBytes + frontHead, s2c: inner.end.s2c },
  };
}

/** How a copying hop's session ended as its client saw it: its own end, or the end of the session behind it. */
function endOf(s: SessionObservation, all: readonly SessionObservation[]): string {
  if (!s.proxy || s.end !== 'clean') return s.end;
  const behind = all.find((b) => b.clientAddr === s.upstreamClientAddr);
  return behind ? endOf(behind, all) : s.end;
}

/**
 * Port-forward: the connections forwarded to the pod, as the streaming server that made them saw
 * them; a hop in front of it that ended cleanly carried the same (it copied the SPDY bytes unchanged).
 */
function forwardsTruth(s: SessionObservation, all: readonly SessionObservation[]): { observer: SessionObservation | null; forwards: object[] } {
  let observer: SessionObservation | undefined = s;
  for (let depth = 0; observer && observer.hop !== 'cri' && depth < 4; depth++) {
    if (observer.end !== 'clean') return { observer: null, forwards: [] };
    const at: SessionObservation = observer;
    observer = all.find((b) => b.clientAddr === at.upstreamClientAddr);
  }
  if (!observer || observer.hop !== 'cri') return { observer: null, forwards: [] };
  return {
    observer,
    forwards: observer.forwards.map((f) => ({ port: f.port, request_id: f.requestId, to_pod: f.toPod.digest(), from_pod: f.fromPod.digest(), error: f.error })),
  };
}

function sessionTruth(s: SessionObservation, all: readonly SessionObservation[]): object {
  if (s.kind === 'portforward' && s.httpStatus === 101) {
    const { observer, forwards } = forwardsTruth(s, all);
    return { ...commonTruth(s, all), observed_by: observer && observer !== s ? `${observer.hop} (SPDY bytes copied unchanged by ${s.hop})` : observer ? s.hop : null, forwards };
  }
  const account = s.httpStatus === 101 ? (resolveAccount(s, all)?.account ?? null) : s;
  const digest = (name: 'stdin' | 'stdout' | 'stderr') => (account?.streams ? account.streams[name].digest() : account ? EMPTY_DIGEST : undefined);
  const status = account?.statusJson ?? null;
  const parsed = parseStatus(status);
  return {
    ...commonTruth(s, all),
    observed_by: account && account !== s ? `${account.hop} (bytes copied unchanged by ${s.hop})` : account ? s.hop : null,
    ...(account || s.httpStatus !== 101
      ? { stdin_bytes: digest('stdin') ?? EMPTY_DIGEST, stdout_bytes: digest('stdout') ?? EMPTY_DIGEST, stderr_bytes: digest('stderr') ?? EMPTY_DIGEST, status_json: status }
      : { contents_unknown: 'this hop copied bytes and did not pass every one through: its stream contents are not known to the lab' }),
    exit_code: parsed.exitCode,
    local_process_exit_code: account?.processExitCode ?? null,
    resize_events: (account ?? s).resizes,
    status: parsed.status,
    status_reason: parsed.reason,
    status_message: parsed.message,
  };
}

/** What every session's entry says: the request, the addresses, how it ended. */
function commonTruth(s: SessionObservation, all: readonly SessionObservation[]): Record<string, unknown> {
  const [clientIp, clientPort] = s.clientAddr.split(':');
  const [, serverPort] = s.serverAddr.split(':');
  // The URL of a CRI streaming request names only the token: what it stood for is kept apart.
  const cri = s.hop === 'cri';
  return {
    logged_by: s.hop,
    hop: HOP_NAMES[s.hop],
    kind: s.kind,
    transport: s.transport,
    protocol: s.transport,
    negotiated_subprotocol: s.negotiatedProtocol,
    offered_subprotocols: s.offeredProtocols,
    http_method: s.method,
    request_uri: s.requestUri,
    http_status: s.httpStatus,
    namespace: cri ? null : s.namespace,
    pod: cri ? null : s.pod,
    container: cri ? null : s.container,
    command: cri ? [] : s.command,
    tty: cri ? false : s.tty,
    stdin: cri ? false : s.stdin,
    stdout: cri ? false : s.stdout,
    stderr: cri ? false : s.stderr,
    ...(cri ? { token_request: { namespace: s.namespace, pod: s.pod, container: s.container, command: s.command, stdin: s.stdin, stdout: s.stdout, stderr: s.stderr, tty: s.tty } } : {}),
    client_port: Number(clientPort),
    server_port: Number(serverPort),
    client_addr: s.clientAddr,
    server_addr: s.serverAddr,
    client_ip: clientIp,
    // The connection this hop opened to the next one for this request: the next hop's client address.
    next_hop_client_addr: s.upstreamClientAddr,
    end: endOf(s, all),
    ended_cleanly: endOf(s, all) === 'clean',
    // What this hop wrote is not all on the wire: its client reset the connection before reading it all.
    reset_by_client_unread: all.some((p) => p.upstreamClientAddr === s.clientAddr && p.closedNextHopUnread),
    fault: s.fault,
    notes: s.notes,
  };
}

function parseStatus(json: string | null): { status: string | null; reason: string | null; message: string | null; exitCode: number | null } {
  if (json === null) return { status: null, reason: null, message: null, exitCode: null };
  try {
    const st = JSON.parse(json) as { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
    const cause = st.details?.causes?.find((c) => c.reason === 'ExitCode');
    const exitCode = st.status === 'Success' ? 0 : cause ? Number(cause.message) : null;
    return { status: st.status ?? null, reason: st.reason ?? null, message: st.message ?? null, exitCode };
  } catch {
    // v1–v3: plain text on failure.
    return { status: 'Failure', reason: null, message: json, exitCode: null };
  }
}
