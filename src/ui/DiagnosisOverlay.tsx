/** `d`: the hang doctor's findings for the selected session, each with its evidence. */
import type { Finding } from '../diagnose/diagnose.js';
import type { ExecSession } from '../model/session.js';
import { type Segment } from './Line.js';
import { OverlayPane } from './OverlayPane.js';
import { wrapWords } from '../report/format.js';
import { safeInline } from '../report/terminal-text.js';
import { severityColor, severitySymbol } from './theme.js';

const SEVERITY = { error: 'error', warn: 'warn', info: 'info' } as const;
const INDENT = '        ';

/** The findings, each with its evidence wrapped to `width`. */
export function diagnosisRows(findings: readonly Finding[], width: number): Segment[][] {
  const rows: Segment[][] = [];
  for (const f of findings) {
    const severity = SEVERITY[f.severity];
    rows.push([
      { text: ` ${severitySymbol(severity)} ${f.rule.padEnd(4)}`, color: severityColor(severity), bold: true },
      { text: safeInline(f.title), bold: true },
    ]);
    for (const e of f.evidence) {
      wrapWords(safeInline(e, 2000), Math.max(20, width - INDENT.length - 1)).forEach((text, i) => rows.push([{ text: `${i ? `${INDENT}  ` : `${INDENT}· `}${text}`, dim: f.severity === 'info' }]));
    }
  }
  if (findings.length === 0) {
    rows.push([{ text: '  No hang rule matches this session: its streams, Status and connection end agree.', dim: true }]);
  }
  return rows;
}

export function DiagnosisOverlay({ session, findings, height, width, scroll }: { session: ExecSession; findings: readonly Finding[]; height: number; width: number; scroll: number }) {
  return <OverlayPane title={`Diagnosis · #${session.id}`} closeHint="esc or d closes" rows={diagnosisRows(findings, width)} scroll={scroll} height={height} />;
}
