/**
 * `--json-lines`: what changed in the capture model since the last look, as one JSON object per line
 * (see the README for the events). The model is sampled as the capture is read, so events come out
 * while the exec still runs. Pure: fed model snapshots, returns events.
 *
 * Stream data carries the new bytes as text (`text`, invalid UTF-8 replaced) while they are within
 * the head the model keeps (256 KiB per stream), and always the byte counts; printJsonLine
 * (follow-capture.ts) prints it so that no control in it acts on a terminal.
 */
import { isoTime } from '../core/time.js';
import { diagnoseAll, type Finding } from '../diagnose/diagnose.js';
import { lastDataAt, type CaptureModel, type ExecSession, type StreamRecord } from '../model/session.js';
import { sessionIdentityJson } from '../report/json-report.js';

export type LiveEvent = Record<string, unknown> & { event: string };

interface SeenStream {
  bytes: number;
  closed: boolean;
  reset: boolean;
}

interface SeenSession {
  streams: Map<string, SeenStream>;
  exitSent: boolean;
  ended: boolean;
  /** Rules already reported. */
  findings: Set<string>;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class LiveEventDiffer {
  private readonly sessions = new Map<number, SeenSession>();
  private warnings = 0;

  /** The events that make `model` out of what earlier calls reported. */
  next(model: CaptureModel): LiveEvent[] {
    const out: LiveEvent[] = [];
    const at = (ts: number | null) => (ts === null ? null : isoTime(model.capture.originNs, ts));
    let ended = false;
    for (const s of model.sessions) {
      let seen = this.sessions.get(s.id);
      if (!seen) {
        seen = { streams: new Map(), exitSent: false, ended: false, findings: new Set() };
        this.sessions.set(s.id, seen);
        out.push(sessionOpened(s, at(s.startTs)));
      }
      for (const stream of s.streams) out.push(...streamChanges(s, stream, seen, at));
      if (s.exit && !seen.exitSent) {
        seen.exitSent = true;
        out.push({ event: 'status', session: s.id, status: s.exit.status, code: s.exit.code, reason: s.exit.reason ?? null, message: s.exit.message ?? null });
      }
      if (s.endTs !== null && !seen.ended) {
        seen.ended = ended = true;
        out.push({ event: 'session-ended', session: s.id, state: s.state, time: at(s.endTs) });
      }
    }
    // The doctor speaks about sessions that ended: an open one's silence is not yet a finding.
    if (ended) {
      const diagnoses = diagnoseAll(model);
      for (const s of model.sessions) {
        const seen = this.sessions.get(s.id)!;
        if (s.endTs === null) continue;
        const d = diagnoses.get(s.id);
        for (const f of [d?.cause, ...(d?.consequences ?? []), ...(d?.notes ?? [])].filter((x): x is Finding => !!x)) {
          if (seen.findings.has(f.rule)) continue;
          seen.findings.add(f.rule);
          out.push({ event: 'finding', session: s.id, rule: f.rule, severity: f.severity, title: f.title, evidence: f.evidence });
        }
      }
    }
    for (; this.warnings < model.warnings.length; this.warnings++) {
      const w = model.warnings[this.warnings];
      out.push({ event: 'warning', where: w.where, message: w.message });
    }
    return out;
  }
}

function sessionOpened(s: ExecSession, time: string | null): LiveEvent {
  const { id, ...identity } = sessionIdentityJson(s);
  return { event: 'session', session: id, time, ...identity };
}

function streamChanges(s: ExecSession, stream: StreamRecord, seen: SeenSession, at: (ts: number | null) => string | null): LiveEvent[] {
  const out: LiveEvent[] = [];
  let was = seen.streams.get(stream.name);
  if (!was) {
    was = { bytes: 0, closed: false, reset: false };
    seen.streams.set(stream.name, was);
  }
  if (stream.bytes > was.bytes) {
    const text = headSlice(stream, was.bytes, stream.bytes);
    out.push({ event: 'data', session: s.id, stream: stream.name, time: at(lastDataAt(stream)), bytes: stream.bytes - was.bytes, total: stream.bytes, ...(text !== null ? { text } : {}) });
    was.bytes = stream.bytes;
  }
  const closed = stream.closedAt[stream.dataDir];
  if (closed !== null && !was.closed) {
    was.closed = true;
    out.push({ event: 'half-close', session: s.id, stream: stream.name, time: at(closed) });
  }
  if (stream.resetAt !== null && !was.reset) {
    was.reset = true;
    out.push({ event: 'reset', session: s.id, stream: stream.name, status: stream.resetStatus, time: at(stream.resetAt) });
  }
  return out;
}

/** Bytes [from, to) of the stream as text, when the kept head holds all of them. */
function headSlice(stream: StreamRecord, from: number, to: number): string | null {
  if (to > stream.headBytes) return null;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const piece of stream.head) {
    const start = Math.max(from, offset);
    const end = Math.min(to, offset + piece.length);
    if (start < end) parts.push(piece.subarray(start - offset, end - offset));
    offset += piece.length;
    if (offset >= to) break;
  }
  return utf8.decode(Buffer.concat(parts));
}
