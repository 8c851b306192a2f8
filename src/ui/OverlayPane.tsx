/**
 * An overlay over the panes (help, diagnosis…): a title and rows that scroll with ↑↓ when they do
 * not fit, saying so in the title.
 */
import { Box } from 'ink';
import cellWidth from '../report/cell-width.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';

/** The first row shown: `scroll` kept within what the rows leave to scroll. */
export function overlayScrollLimit(rowCount: number, height: number): number {
  return Math.max(0, rowCount - Math.max(0, height - 1));
}

/**
 * A row's text in rows of at most `width` cells: broken after a space in the second half of a row,
 * else where the row is full (a URL has no spaces); the rows after the first indented two cells more
 * than the text is.
 */
export function wrapRow(text: string, width: number): string[] {
  const indent = ' '.repeat((/^ */.exec(text)?.[0].length ?? 0) + 2);
  const rows: string[] = [];
  let chars = Array.from(text);
  let prefix = '';
  while (cellWidth(prefix + chars.join('')) > width) {
    const room = width - cellWidth(prefix);
    let cut = 0;
    for (let cells = 0; cut < chars.length && cells + cellWidth(chars[cut]) <= room; cut++) cells += cellWidth(chars[cut]);
    if (cut === 0) break;
    const space = chars.lastIndexOf(' ', cut);
    const end = space > Math.max(indent.length, cut / 2) ? space + 1 : cut;
    rows.push(prefix + chars.slice(0, end).join('').trimEnd());
    chars = chars.slice(end);
    prefix = indent;
  }
  rows.push(prefix + chars.join(''));
  return rows;
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
