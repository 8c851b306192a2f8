/** A pane's title row. The focused pane is marked with ▶ (and bold colour), so focus reads without colour. */
import { Line, type Segment } from './Line.js';

export function PaneTitle({ title, focused, info }: { title: string; focused: boolean; info?: readonly Segment[] }) {
  const head: Segment[] = focused
    ? [
        { text: '▶ ', color: 'cyan', bold: true },
        { text: title, color: 'cyan', bold: true },
      ]
    : [{ text: `  ${title}`, bold: true }];
  return <Line segments={info && info.length ? [...head, { text: ' · ', dim: true }, ...info] : head} />;
}
