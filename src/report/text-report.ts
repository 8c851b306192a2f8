/** The human summary `execscope analyze` prints: one block per session. Captured text is neutralised. */
import type { RpcCall } from '../model/rpc-call.js';
import type { CaptureModel, ConnectionRecord, DockerDetails, ExecSession, StreamRecord, TlsSummary } from '../model/session.js';
import { shortDockerId } from '../docker/engine-api.js';
import { asCalled, commandLabel } from './session-summary.js';
import { safeInline, safeLines, utf8CutLength } from './terminal-text.js';
import { basename } from 'node:path';
import { clockOffsetText } from './clock-offset.js';
import { plural } from './format.js';
import { diagnoseAll, type Diagnosis, type Finding } from '../diagnose/diagnose.js';
import { hopChain, hopProgress } from '../model/cross-hop.js';
import { recordsOf, sessionsOf } from '../model/records.js';
import { explainEvent, explanationLines } from '../explain/explain-event.js';
import { walkSteps } from '../explain/walk.js';
import { criCallLabel, hopChainSteps, hopLabel, outcomeText, protocolLabel, translationNote } from './outcome.js';
import { formatDuration, isoTime } from '../core/time.js';
import { http2Lines, webSocketLines } from './connection-traffic.js';

const PREVIEW = 60;

function preview(r: StreamRecord): string {
  if (r.headBytes === 0) return '';
  const head = r.head[0];
  // A Buffer over the head's own bytes: Buffer.from(head) would copy them to decode them.
  const first = Buffer.from(head.buffer, head.byteOffset, Math.min(PREVIEW, head.length));
  const cut = r.bytes > first.length;
  return `  "${safeInline(first.toString('utf8', 0, cut ? utf8CutLength(first) : first.length))}"${cut ? '…' : ''}`;
}

function streamLine(r: StreamRecord): string {
  const flags = [r.closedAt[r.dataDir] !== null ? 'closed' : '', r.resetAt !== null ? `reset ${r.resetStatus ?? ''}`.trim() : '']
    .filter(Boolean)
    .join(', ');
  return `   ${r.name.padEnd(7)} ${`${r.bytes} B`.padStart(10)}  ${flags.padEnd(14)}${preview(r)}`;
}

function dockerLine(d: DockerDetails): string {
  const parts = [
    d.execId ? `exec ${shortDockerId(d.execId)}` : '',
    d.user ? `user ${safeInline(d.user)}` : '',
    d.workingDir ? `workdir ${safeInline(d.workingDir)}` : '',
    d.env.length ? `env ${d.env.map((e) => safeInline(e, 40)).join(', ')} (values not kept)` : '',
    d.polls ? `${d.polls} inspect poll${d.polls === 1 ? '' : 's'}` : '',
    `connections ${d.connectionIds.join(', ')}`,
  ];
  return `   docker  ${parts.filter(Boolean).join(' · ')}`;
}

/** `--explain`: the session's guided walk, each step with what it does, who sent it, where and the source. */
function explainLines(model: CaptureModel, s: ExecSession): string[] {
  const steps = walkSteps(s);
  const events = steps.reduce((n, st) => n + 1 + st.repeats, 0);
  const dropped = s.streams.reduce((n, r) => n + r.eventsDropped, 0);
  const lines = [`   explained, in protocol order (${steps.length} steps for ${events} events${dropped ? `; ${dropped} later frames were not kept` : ''}):`];
  for (const step of steps) {
    const x = explainEvent(s, sessionsOf(model), step);
    const at = `+${formatDuration(Math.max(0, step.event.ts - s.startTs))}`;
    lines.push(`   ${at.padStart(11)} ${step.event.dir === 'c2s' ? 'client→' : '←server'}  ${x.title}`);
    for (const [label, text] of explanationLines(x)) lines.push(`${' '.repeat(24)}${label.padEnd(7)}${text}`);
    if (step.repeats > 0) {
      const bytes = step.repeatBytes ? `, ${step.repeatBytes} B` : '';
      lines.push(`${' '.repeat(24)}… and ${step.repeats} more like it${bytes}, the last at +${formatDuration(Math.max(0, step.lastTs - s.startTs))}`);
    }
  }
  return lines;
}

function sessionBlock(model: CaptureModel, s: ExecSession, diagnosis: Diagnosis | undefined, opts: TextReportOptions): string[] {
  const call = s.criCall === null ? undefined : model.rpcs.find((c) => c.id === s.criCall);
  const who = [s.namespace, s.pod].filter(Boolean).join('/') || s.token || (s.hop === 'docker' ? 'container' : '?');
  // A runtime session's URL names only a token: its CRI call says which container and command.
  const called = asCalled(s, model.rpcs);
  const container = called.container ? ` [${safeInline(shortDockerId(called.container))}]` : '';
  const cmd = commandLabel(called);
  const start = isoTime(model.capture.originNs, s.startTs) ?? '';
  const dur = s.endTs !== null ? formatDuration(s.endTs - s.startTs) : 'open';
  const lines = [
    `#${s.id} ${s.kind} ${safeInline(who)}${container} ${cmd}`.trimEnd(),
    `   ${hopLabel(s)} ${s.client} → ${s.server} · ${protocolLabel(s)}${s.protocol ? ` (${s.protocol})` : ''} · HTTP ${s.httpStatus ?? '—'} · ${start} · ${dur}`,
  ];
  if (s.docker) lines.push(dockerLine(s.docker));
  for (const r of s.streams) {
    lines.push(streamLine(r));
    if (opts.hash && r.sha256 !== null) lines.push(`${' '.repeat(22)}sha256 ${r.sha256}`);
  }
  if (s.resizes.length) lines.push(`   resize  ${s.resizes.map((r) => `${r.width}×${r.height}`).join(', ')}`);
  lines.push(`   ${safeInline(outcomeText(s))} · ${s.state}`);
  if (call) lines.push(`   ${safeInline(criCallDetail(call))}`);
  if (hopChain(sessionsOf(model), s).length > 1) {
    const note = translationNote(model, s);
    lines.push(`   hops: ${hopChainSteps(model, s, true).join(' → ')}${note ? ` (${note})` : ''}`);
    const stopped = hopProgress(sessionsOf(model), s).stopped;
    if (stopped) lines.push(`   bytes stopped: ${stopped.what}`);
  }
  if (diagnosis) lines.push(...diagnosisLines(diagnosis));
  for (const w of s.warnings.slice(0, 5)) lines.push(`   ! ${safeInline(w.message)} (${safeInline(w.where)})`);
  if (opts.explain) lines.push(...explainLines(model, s));
  return lines;
}

export function textReport(model: CaptureModel, opts: TextReportOptions): string {
  return [...textReportPieces(model, opts)].join('');
}

export interface TextReportOptions {
  connections: boolean;
  name: string;
  explain?: boolean;
  /** Each stream's sha256 under it (computed when analyze --hash asked for it). */
  hash?: boolean;
}

/**
 * The text of textReport(model, opts), in pieces (the summary, each session, the rest), each made
 * terminal-safe on its own, so the whole summary of 200,000 sessions never sits in memory at once.
 */
export function* textReportPieces(model: CaptureModel, opts: TextReportOptions): Generator<string> {
  // Lines are made safe one by one, so a piece's lines read the same as in the whole text.
  const piece = (lines: string[]) => safeLines(lines.join('\n')) + '\n';
  const c = model.capture;
  const records = recordsOf(model);
  const unlisted = model.unlistedConnections;
  const connections = unlisted
    ? `${plural(records.connectionCount + unlisted.connections, 'connection')} (${unlisted.connections} plain HTTP counted, not listed)`
    : plural(records.connectionCount, 'connection');
  const head = [`${safeInline(opts.name)} · ${c.format ?? '?'} · ${plural(c.packets, 'packet')} · ${c.linkTypes.join(', ') || '—'} · ${connections} · ${plural(records.sessionCount, 'session')}`];
  for (const f of c.files ?? []) head.push(`   file ${safeInline(basename(f.path))} · ${f.packets} packets · clock ${safeInline(clockOffsetText(f))}`);
  yield piece(head);
  const diagnoses = diagnoseAll(records);
  for (const s of records.sessions()) yield piece(['', ...sessionBlock(model, s, diagnoses.get(s.id), opts)]);
  let out = rpcLines(model);
  if (opts.connections) {
    // Each connection its own piece: 200,000 of them are never listed in memory at once.
    yield piece([...out, '', 'Connections']);
    out = [];
    for (const conn of records.connections()) yield piece(connectionLines(conn).map((l) => `   ${l}`));
  }
  if (model.warnings.length) {
    out.push('', `Warnings (${model.warnings.length})`);
    for (const w of model.warnings.slice(0, 20)) out.push(`   ${safeInline(w.where)}: ${safeInline(w.message)}`);
    if (model.warnings.length > 20) out.push(`   … ${model.warnings.length - 20} more (--json lists all)`);
  }
  if (model.fatal) out.push('', `error: ${model.fatal.message}`);
  if (out.length) yield piece(out);
}

/** The CRI call behind a runtime session: what the kubelet asked for and how the runtime answered. */
function criCallDetail(c: RpcCall): string {
  const r = c.request;
  const flags = r && r.tty !== undefined ? ['tty', 'stdin', 'stdout', 'stderr'].filter((f) => r[f as 'tty']).join(',') || 'no streams' : '';
  const what = [r?.containerId && `container ${shortDockerId(r.containerId)}`, r?.podSandboxId && `sandbox ${shortDockerId(r.podSandboxId)}`, flags, r?.timeoutSeconds ? `timeout ${r.timeoutSeconds}s` : ''].filter(Boolean).join(' · ');
  const message = c.message ? `: ${c.message}` : '';
  return `${criCallLabel(c)}${message}${what ? ` · ${what}` : ''}${c.timeoutNs !== null ? ` · deadline ${formatDuration(c.timeoutNs)}` : ''}`;
}

/** Every gRPC call, by name and status (the CRI calls execscope does not decode included). */
function rpcLines(model: CaptureModel): string[] {
  if (!model.rpcs.length) return [];
  const lines = ['', `gRPC calls (${model.rpcs.length})`];
  for (const c of model.rpcs.slice(0, 200)) {
    const session = c.sessionId !== null ? ` → session #${c.sessionId}` : '';
    lines.push(`   ${String(c.id).padStart(3)} ${c.path ? safeInline(c.path) : '(method indexed before the capture began)'}${c.inferred ? ' (inferred from its streaming URL)' : ''} · ${c.reset ? `reset ${c.reset}` : (c.statusName ?? 'no status')}${c.message ? ` "${safeInline(c.message, 200)}"` : ''} · ${c.endTs !== null ? formatDuration(c.endTs - c.startTs) : 'open'}${session}`);
  }
  if (model.rpcs.length > 200) lines.push(`   … ${model.rpcs.length - 200} more (--json lists all)`);
  return lines;
}

/** The cause first, then what followed from it, then notes; each with its evidence. */
export function diagnosisLines(d: Diagnosis, indent = '   '): string[] {
  const lines: string[] = [];
  const add = (label: string, f: Finding) => {
    lines.push(`${indent}${f.severity === 'error' ? '✗' : f.severity === 'warn' ? '!' : '·'} ${label}${f.rule} ${safeInline(f.title)}`);
    for (const e of f.evidence) lines.push(`${indent}    ${safeInline(e, 2000)}`);
  };
  if (d.cause) add('cause: ', d.cause);
  for (const f of d.consequences) add('then: ', f);
  for (const f of d.notes) add('', f);
  if (d.inferred) lines.push(`${indent}· inferred without the upgrade, ${safeInline(d.inferred)}`);
  return lines;
}

/** A connection as `analyze --connections` lists it: addresses, protocol, TLS, bytes each way, then its requests, WebSocket frames and messages, HTTP/2 streams and frames indented. */
export function connectionLines(conn: ConnectionRecord): string[] {
  const tls = conn.tls ? ` (${tlsText(conn.tls)})` : '';
  return [
    `${conn.id} ${conn.client} → ${conn.server} ${conn.protocol}${tls} ${conn.bytes.c2s}/${conn.bytes.s2c} B`,
    ...conn.requests.map((r) => `   ${safeInline(r.method)} ${safeInline(r.target)} → ${r.status ?? '—'}`),
    ...(conn.websocket ? webSocketLines(conn.websocket) : []).map((l) => `   ${l}`),
    ...(conn.http2 ? http2Lines(conn.http2) : []).map((l) => `   ${l}`),
  ];
}

function tlsText(t: TlsSummary): string {
  return [t.version, t.cipherSuite, t.sni && `SNI ${safeInline(t.sni)}`, t.alpn && `ALPN ${safeInline(t.alpn)}`].filter(Boolean).join(', ');
}

/** `execscope keys`: each TLS connection and whether it could be decrypted. */
export function keysReport(model: CaptureModel): string {
  const tls = [...recordsOf(model).connections()].filter((c) => c.tls);
  if (!tls.length) return 'no TLS connections in this capture\n';
  const lines = tls.map((c) => {
    const t = c.tls as TlsSummary;
    const keys = t.keysWrong ? 'BAD KEYS' : t.keysFound === true ? 'decrypted' : t.keysFound === false ? 'NO KEYS' : 'keys not needed yet (handshake incomplete)';
    return `${String(c.id).padStart(4)} ${c.client} → ${c.server}  ${keys.padEnd(9)}  ${tlsText(t)}  ${plural(c.requests.length, 'request')}`;
  });
  const missing = tls.filter((c) => c.tls?.keysFound === false).length;
  if (missing && model.capture.secretsCameLate) {
    // Embedding the secrets again (editcap) would not help: they are in the capture, after the connections.
    lines.push('', `${missing} of ${tls.length} TLS connections have no keys: the capture's secrets block came after them, and a pipe is read once: give the capture as a file (read again with its secrets), or pass --keylog FILE`);
  } else if (missing) {
    lines.push('', `${missing} of ${tls.length} TLS connections have no keys: pass --keylog FILE (NSS key log, e.g. from SSLKEYLOGFILE or Go's KeyLogWriter), or embed it: editcap --inject-secrets tls,FILE in.pcap out.pcapng`);
  }
  const wrong = tls.filter((c) => c.tls?.keysWrong).length;
  if (wrong) lines.push('', `${wrong} of ${tls.length} TLS connections have keys that do not decrypt them: the key log is of another capture or cut short (the warnings say which record failed)`);
  return safeLines(lines.join('\n')) + '\n';
}
