/** The bottom row: the filter being typed, else loading progress and the keys of the focused pane. */
import cellWidth from '../report/cell-width.js';
import { formatBytes } from '../report/format.js';
import { Line, type Segment } from './Line.js';
import { keyHints, type HintContext } from './keys.js';
import { FILTER_PREFIXES } from './session-filter.js';
import { safeInline } from '../report/terminal-text.js';
import type { UiState } from './ui-state.js';

export interface Progress {
  bytesRead: number;
  totalBytes: number | null;
  /** The input grows while it is shown (a pipe, a tap): it has no end to load up to. */
  live?: boolean;
}

/** "▕██████░░░░▏ 61% 610 MiB of 1.00 GiB" in `width` columns; without a total, just what was read. */
export function progressBar(p: Progress, width: number): string {
  if (p.live) return `live · ${formatBytes(p.bytesRead)} read`;
  if (p.totalBytes === null || p.totalBytes <= 0) return `loading… ${formatBytes(p.bytesRead)} read`;
  const frac = Math.min(1, Math.max(0, p.bytesRead / p.totalBytes));
  const text = ` ${Math.floor(frac * 100)}% ${formatBytes(p.bytesRead)} of ${formatBytes(p.totalBytes)}`;
  const bar = Math.max(4, Math.min(30, width - text.length - 2));
  const full = Math.round(frac * bar);
  return `▕${'█'.repeat(full)}${'░'.repeat(bar - full)}▏${text}`;
}

export function StatusBar({ ui, ctx, filterError, progress, loading, width }: { ui: UiState; ctx?: HintContext; filterError: string | null; progress: Progress; loading: boolean; width: number }) {
  if (ui.filterDraft !== null) {
    return (
      <Line
        segments={[
          { text: '/', color: 'yellow', bold: true },
          { text: ui.filterDraft },
          { text: '█', color: 'yellow' },
          filterError ? { text: `  ✗ ${filterError}`, color: 'red' } : { text: `  ⏎ apply  esc cancel  ${FILTER_PREFIXES}`, dim: true },
        ]}
      />
    );
  }
  if (ui.prompt) {
    const save = ui.prompt.purpose === 'save';
    return (
      <Line
        segments={[
          { text: save ? 'save to: ' : 'search: ', color: 'yellow', bold: true },
          { text: safeInline(ui.prompt.text) },
          { text: '█', color: 'yellow' },
          { text: save ? '  ⏎ write (a new file, mode 0600)  esc cancel' : '  ⏎ find  esc cancel  then n/N next/previous', dim: true },
        ]}
      />
    );
  }
  if (ui.notice) return <Line segments={[{ text: ui.notice.text, color: ui.notice.error ? 'red' : 'green', bold: ui.notice.error }]} />;
  const segments: Segment[] = [];
  if (loading) segments.push({ text: progressBar(progress, Math.floor(width / 2)) + '  ', color: 'cyan' });
  const used = segments.reduce((n, s) => n + cellWidth(s.text), 0);
  segments.push({ text: keyHints(ui, width - used, ctx), dim: true });
  return <Line segments={segments} />;
}
