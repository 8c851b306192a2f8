/** `d`: the hang doctor's findings for the selected session, each with its evidence. */
import { Box } from 'ink';
import type { Finding } from '../diagnose/diagnose.js';
import type { ExecSession } from '../model/session.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { safeInline } from './terminal-text.js';
import { severityColor, severitySymbol } from './theme.js';

const SEVERITY = { error: 'error', warn: 'warn', info: 'info' } as const;
const INDENT = '        ';

/** Words into lines of at most `width` characters (a longer word gets a line of its own, cut by the terminal). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export function DiagnosisOverlay({ session, findings, height, width }: { session: ExecSession; findings: readonly Finding[]; height: number; width: number }) {
  const rows: Segment[][] = [];
  for (const f of findings) {
    const severity = SEVERITY[f.severity];
    rows.push([
      { text: ` ${severitySymbol(severity)} ${f.rule.padEnd(4)}`, color: severityColor(severity), bold: true },
      { text: safeInline(f.title), bold: true },
    ]);
    for (const e of f.evidence) {
      wrap(safeInline(e, 2000), Math.max(20, width - INDENT.length - 1)).forEach((text, i) => rows.push([{ text: `${i ? `${INDENT}  ` : `${INDENT}· `}${text}`, dim: f.severity === 'info' }]));
    }
  }
  if (findings.length === 0) {
    rows.push([{ text: '  No hang rule matches this session: its streams, Status and connection end agree.', dim: true }]);
  }
  const shown = rows.slice(0, Math.max(0, height - 1));
  if (rows.length > shown.length && shown.length > 0) shown[shown.length - 1] = [{ text: `  … ${rows.length - shown.length + 1} more lines (a taller terminal shows them)`, dim: true }];
  return (
    <Box flexDirection="column" height={height}>
      <PaneTitle title={`Diagnosis · #${session.id}`} focused info={[{ text: 'esc or d closes', dim: true }]} />
      {shown.map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
