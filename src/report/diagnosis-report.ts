/**
 * `execscope diagnose`: the doctor's findings only — per session with something to say, the cause
 * first with its hop and evidence, then its consequences — for scripts and CI jobs that capture a
 * failing exec. Captured text is neutralised.
 */
import { basename } from 'node:path';
import { diagnoseAll, diagnoseConnections, type Diagnosis } from '../diagnose/diagnose.js';
import { clockOffsetJson, clockOffsetText } from './clock-offset.js';
import { recordsOf } from '../model/records.js';
import type { CaptureModel, ExecSession } from '../model/session.js';
import { asCalled, commandLabel } from './session-summary.js';
import { safeInline, safeLines } from './terminal-text.js';
import { plural } from './format.js';
import { diagnosisJson } from './json-report.js';
import { hopLabel } from './outcome.js';
import { diagnosisLines } from './text-report.js';

export interface DiagnosisReport {
  /** Sessions with a cause (something is wrong). */
  faulty: number;
  text: string;
  json: object;
}

const who = (s: ExecSession) => [s.namespace, s.pod].filter(Boolean).join('/') || s.token || '?';

/**
 * Which session: a runtime session's command and container from its CRI call (its URL names only a
 * token), and with several captures merged the file its evidence's packet numbers count in.
 */
function sessionLine(model: CaptureModel, s: ExecSession): string {
  const file = s.file === undefined ? undefined : model.capture.files?.[s.file];
  return [`#${s.id}`, s.kind, safeInline(who(s)), commandLabel(asCalled(s, model.rpcs)), '·', hopLabel(s), ...(file ? ['·', safeInline(basename(file.path))] : [])].filter((p) => p !== '').join(' ');
}

export function diagnosisReport(model: CaptureModel, name: string): DiagnosisReport {
  const records = recordsOf(model);
  const diagnoses = diagnoseAll(records);
  // One pass over the sessions (spilled ones are read back once): what each says, kept as its lines and JSON.
  const sessionLines: string[] = [];
  const sessionsJson: object[] = [];
  let faultySessions = 0;
  let unfinished = 0;
  const endedAt = model.fatal?.truncated ? 'where the capture is cut short' : 'when the capture ended';
  for (const s of records.sessions()) {
    const d = diagnoses.get(s.id) as Diagnosis;
    if (d.cause) faultySessions++;
    // No rule matched does not make it healthy: how it ends (a Status, a close) is not in the capture.
    const open = s.state === 'open-at-end' && s.exit === null;
    if (open) unfinished++;
    if (!d.cause && !d.notes.length && !d.inferred && !open) continue;
    sessionLines.push('', sessionLine(model, s), ...diagnosisLines(d));
    if (open) sessionLines.push(`   · still open ${endedAt}${s.kind === 'portforward' ? '' : ', no Status yet'}: how it ends is not in the capture`);
    // file: the index into files (merged captures), as in analyze's JSON: the file the evidence's packet numbers count in.
    sessionsJson.push({ id: s.id, kind: s.kind, hop: s.hop, file: s.file, namespace: s.namespace, pod: s.pod, command: s.command, ...(open ? { openAtEnd: true } : {}), diagnosis: diagnosisJson(d) });
  }
  const crossed = diagnoseConnections(records.connections());
  const faulty = faultySessions + crossed.length;
  const lines = [
    `${safeInline(name)} · ${plural(records.sessionCount, 'session')} · ${faulty ? `${faulty} with a fault` : 'nothing wrong found'}${unfinished ? ` · ${unfinished} still open ${endedAt}` : ''}`,
    ...(model.capture.files ?? []).map((f) => `   file ${safeInline(basename(f.path))} · clock ${safeInline(clockOffsetText(f))}`),
    ...sessionLines,
  ];
  for (const f of crossed) {
    const c = records.connection(f.connection)!;
    lines.push('', `connection ${c.id} ${c.client} → ${c.server}`, `   ✗ cause: ${f.rule} ${f.title}`, ...f.evidence.map((e) => `       ${safeInline(e, 2000)}`));
  }
  if (model.fatal) lines.push('', `error: ${safeInline(model.fatal.message)}`);
  const json = {
    ...(model.capture.files ? { files: model.capture.files.map((f) => ({ path: f.path, ...clockOffsetJson(f) })) } : {}),
    sessions: sessionsJson,
    connections: crossed.map((f) => ({ rule: f.rule, severity: f.severity, title: f.title, connection: f.connection, evidence: f.evidence })),
    ...(model.fatal ? { error: model.fatal } : {}),
  };
  // Every line made safe at the end too: a connection's addresses can be a captured unix socket path.
  return { faulty, text: safeLines(lines.join('\n')) + '\n', json };
}
