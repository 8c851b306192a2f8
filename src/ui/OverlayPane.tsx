/**
 * An overlay over the panes (help, diagnosis…): a title and rows that scroll with ↑↓ when they do
 * not fit, saying so in the title.
 */
import { Box } from 'ink';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';

/** The first row shown: `scroll` kept within what the rows leave to scroll. */
export function overlayScrollLimit(rowCount: number, height: number): number {
  return Math.max(0, rowCount - Math.max(0, height - 1));
}

export function OverlayPane({ title, closeHint, rows, scroll, height }: { title: string; closeHint: string; rows: readonly Segment[][]; scroll: number; height: number }) {
  const room = Math.max(0, height - 1);
  const first = Math.min(scroll, overlayScrollLimit(rows.length, height));
  const info: Segment[] = [{ text: closeHint, dim: true }];
  if (rows.length > room) info.push({ text: ` · ↑↓ scroll ${first + 1}–${first + room} of ${rows.length}`, color: 'yellow' });
  return (
    <Box flexDirection="column" height={height}>
      <PaneTitle title={title} focused info={info} />
      {rows.slice(first, first + room).map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
