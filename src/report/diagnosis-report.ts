/**
 * `execscope diagnose`: the doctor's findings only — per session with something to say, the cause
 * first with its hop and evidence, then its consequences — for scripts and CI jobs that capture a
 * failing exec. Captured text is neutralised.
 */
import { basename } from 'node:path';
import { diagnoseAll, diagnoseConnections, type Diagnosis } from '../diagnose/diagnose.js';
import { clockOffsetText } from './clock-offset.js';
import type { CaptureModel, ExecSession } from '../model/session.js';
import { commandLabel } from './session-summary.js';
import { safeInline } from './terminal-text.js';
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

export function diagnosisReport(model: CaptureModel, name: string): DiagnosisReport {
  const diagnoses = diagnoseAll(model);
  const said = model.sessions.filter((s) => {
    const d = diagnoses.get(s.id) as Diagnosis;
    return d.cause || d.notes.length || d.inferred;
  });
  const crossed = diagnoseConnections(model.connections);
  const faulty = model.sessions.filter((s) => diagnoses.get(s.id)?.cause).length + crossed.length;
  const lines = [`${safeInline(name)} · ${plural(model.sessions.length, 'session')} · ${faulty ? `${faulty} with a fault` : 'nothing wrong found'}`];
  for (const f of model.capture.files ?? []) lines.push(`   file ${safeInline(basename(f.path))} · clock ${safeInline(clockOffsetText(f))}`);
  for (const s of said) {
    lines.push('', `#${s.id} ${s.kind} ${safeInline(who(s))} ${commandLabel(s)} · ${hopLabel(s)}`.trimEnd(), ...diagnosisLines(diagnoses.get(s.id) as Diagnosis));
  }
  for (const f of crossed) {
    const c = model.connections.find((x) => x.id === f.connection)!;
    lines.push('', `connection ${c.id} ${c.client} → ${c.server}`, `   ✗ cause: ${f.rule} ${f.title}`, ...f.evidence.map((e) => `       ${safeInline(e, 2000)}`));
  }
  if (model.fatal) lines.push('', `error: ${safeInline(model.fatal.message)}`);
  const json = {
    ...(model.capture.files ? { files: model.capture.files.map((f) => ({ path: f.path, clockOffsetMs: f.clockOffsetNs / 1e6, clockOffsetFrom: f.clockOffsetFrom })) } : {}),
    sessions: said.map((s) => ({ id: s.id, kind: s.kind, hop: s.hop, namespace: s.namespace, pod: s.pod, command: s.command, diagnosis: diagnosisJson(diagnoses.get(s.id)) })),
    connections: crossed.map((f) => ({ rule: f.rule, severity: f.severity, title: f.title, connection: f.connection, evidence: f.evidence })),
    ...(model.fatal ? { error: model.fatal } : {}),
  };
  return { faulty, text: lines.join('\n') + '\n', json };
}
