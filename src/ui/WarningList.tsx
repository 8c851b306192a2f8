/** `w`: every decoding warning of the capture, with where it is; ⏎ goes to its packet and byte. */
import { Box } from 'ink';
import type { Problem } from '../core/problem.js';
import { fitWidth } from '../report/terminal-cells.js';
import { safeInline } from '../report/terminal-text.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { sessionListWindow } from './SessionList.js';

const SYMBOL: Record<Problem['severity'], { text: string; color: 'red' | 'yellow' | 'gray' }> = {
  error: { text: '✗', color: 'red' },
  warning: { text: '!', color: 'yellow' },
  note: { text: '·', color: 'gray' },
};

/** "packet 57 · c2s byte 900", as far as the warning knows. */
export function warningPlace(w: Problem): string {
  const parts = [w.packet !== undefined ? `packet ${w.packet}` : '', w.offset !== undefined ? `${w.direction ?? ''} byte ${w.offset}`.trim() : '', w.connection !== undefined ? `conn ${w.connection}` : ''];
  return parts.filter(Boolean).join(' · ') || safeInline(w.where, 40);
}

export function WarningList({ warnings, selected, focused, height, width }: { warnings: readonly Problem[]; selected: number; focused: boolean; height: number; width: number }) {
  if (height <= 0) return null;
  const { header: named, rows, first } = sessionListWindow(warnings.length, selected, height);
  const place = Math.min(32, Math.max(16, Math.floor(width * 0.3)));
  const code = Math.min(28, Math.max(12, Math.floor(width * 0.2)));
  const header: Segment[] = [{ text: `     ${fitWidth('where', place)} ${fitWidth('code', code)} message`, dim: true, bold: true }];
  const lines = warnings.slice(first, first + rows).map((w, i): Segment[] => {
    const at = first + i === selected;
    return [
      { text: at ? '▸ ' : '  ', color: 'cyan', bold: true },
      { text: `${SYMBOL[w.severity].text}  `, color: SYMBOL[w.severity].color, inverse: at && focused },
      { text: fitWidth(warningPlace(w), place) + ' ', bold: at },
      { text: fitWidth(safeInline(w.code), code) + ' ', dim: true },
      { text: safeInline(w.message, 400) },
    ];
  });
  return (
    <Box flexDirection="column" height={height}>
      <PaneTitle title="Warnings" focused={focused} info={[{ text: `${warnings.length} · ⏎ goes to the packet · esc back`, dim: true }]} />
      {named ? <Line segments={header} /> : null}
      {lines.map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
      {warnings.length === 0 && rows > 0 ? <Line segments={[{ text: '  no decoding warnings', dim: true }]} /> : null}
    </Box>
  );
}
