/** The bottom row: the filter being typed, else loading progress and the keys of the focused pane. */
import { formatBytes } from '../report/format.js';
import { Line, type Segment } from './Line.js';
import { keyHints } from './keys.js';
import type { UiState } from './ui-state.js';

export interface Progress {
  bytesRead: number;
  totalBytes: number | null;
}

/** "▕██████░░░░▏ 61% 610 MiB of 1.00 GiB" in `width` columns; without a total, just what was read. */
export function progressBar(p: Progress, width: number): string {
  if (p.totalBytes === null || p.totalBytes <= 0) return `loading… ${formatBytes(p.bytesRead)} read`;
  const frac = Math.min(1, Math.max(0, p.bytesRead / p.totalBytes));
  const text = ` ${Math.floor(frac * 100)}% ${formatBytes(p.bytesRead)} of ${formatBytes(p.totalBytes)}`;
  const bar = Math.max(4, Math.min(30, width - text.length - 2));
  const full = Math.round(frac * bar);
  return `▕${'█'.repeat(full)}${'░'.repeat(bar - full)}▏${text}`;
}

export function StatusBar({ ui, progress, loading, width }: { ui: UiState; progress: Progress; loading: boolean; width: number }) {
  if (ui.filterDraft !== null) {
    return (
      <Line
        segments={[
          { text: '/', color: 'yellow', bold: true },
          { text: ui.filterDraft },
          { text: '█', color: 'yellow' },
          { text: '  ⏎ apply  esc cancel  pod: cmd: stream: text:', dim: true },
        ]}
      />
    );
  }
  const segments: Segment[] = [];
  if (loading) segments.push({ text: progressBar(progress, Math.floor(width / 2)) + '  ', color: 'cyan' });
  segments.push({ text: keyHints(ui), dim: true });
  return <Line segments={segments} />;
}
