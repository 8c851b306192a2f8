/**
 * `e`: the selected event explained — what it does, who sent it and why, where in Kubernetes it
 * comes from, the protocol fact's source — with the guided walk's position (n/p). Beside the
 * layers on a wide terminal, in their place on a narrow one.
 */
import { Box } from 'ink';
import type { Explanation } from '../explain/explain-event.js';
import { explanationLines } from '../explain/explain-event.js';
import { formatDuration } from '../core/time.js';
import { wrapWords } from '../report/format.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';

export interface WalkInfo {
  /** 1-based step number, and whether the selected event is that step or one it stands for. */
  step: number;
  steps: number;
  exact: boolean;
  repeats: number;
  repeatBytes: number;
  /** Time of the last event the step stands for, since the session's start (ns). */
  lastAt: number;
}

const LABEL = 7;

export function explainRows(x: Explanation, walk: WalkInfo | null, width: number): Segment[][] {
  const room = Math.max(16, width - LABEL - 2);
  const rows: Segment[][] = wrapWords(x.title, Math.max(16, width - 2)).map((text) => [{ text: ` ${text}`, bold: true }]);
  for (const [label, text] of explanationLines(x)) {
    wrapWords(text, room).forEach((line, i) => rows.push([{ text: ` ${i ? '' : label}`.padEnd(LABEL + 1), color: 'cyan' }, { text: line, dim: label === 'source' }]));
  }
  if (walk && walk.exact && walk.repeats > 0) {
    const bytes = walk.repeatBytes ? `, ${walk.repeatBytes} B` : '';
    rows.push([{ text: ` … and ${walk.repeats} more like it${bytes}, the last at +${formatDuration(walk.lastAt)}`, dim: true }]);
  }
  return rows;
}

/** Rows the panel shows below its title. */
export function explainRoom(height: number): number {
  return Math.max(0, height - 1);
}

export function ExplainPanel({ rows, walk, scroll, focused, height, width }: { rows: readonly Segment[][] | null; walk: WalkInfo | null; scroll: number; focused: boolean; height: number; width: number }) {
  if (height <= 0) return null;
  const place = walk ? `${walk.exact ? 'step' : 'after step'} ${walk.step}/${walk.steps} · ` : '';
  const all = rows ?? [[{ text: ' no event selected: n starts the walk at the request', dim: true }]];
  const room = explainRoom(height);
  const first = Math.max(0, Math.min(scroll, all.length - room));
  const info: Segment[] = [{ text: `${place}n/p walk · e close`, dim: true }];
  const shown = all.slice(first, first + room);
  if (all.length > room) {
    if (focused) info.push({ text: ` · ↑↓ scroll ${first + 1}–${first + shown.length} of ${all.length}`, color: 'yellow' });
    else if (room > 0) shown[room - 1] = [{ text: ` … ${all.length - first - room + 1} more lines (⏎ on the event, then ↑↓)`, color: 'yellow' }];
  }
  return (
    <Box flexDirection="column" height={height} width={width}>
      <PaneTitle title="Explain" focused={focused} info={info} />
      {shown.map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
