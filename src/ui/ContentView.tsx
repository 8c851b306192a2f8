/**
 * The Content pane: one stream of the session as a terminal would have shown it (controls and
 * escape sequences visible and dimmed, never executed), or as hex. ←→ switch streams, ↑↓ scroll.
 */
import { Box } from 'ink';
import type { StreamRecord } from '../model/session.js';
import { contentLabel } from './content.js';
import { bytesPerRow, hexRows } from './hex-view.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { safeInline, type TerminalLine } from '../report/terminal-text.js';
import { streamColor } from './theme.js';

export interface ContentViewProps {
  streams: readonly StreamRecord[];
  selected: number;
  /** Terminal-rendered lines of the selected stream (ignored in hex mode). */
  lines: readonly TerminalLine[];
  /** The selected stream's kept bytes, for hex mode. */
  bytes: Uint8Array | null;
  /** Bytes read back from the capture beyond the kept head, when they were. */
  loadedBytes?: number | null;
  hex: boolean;
  scroll: number;
  focused: boolean;
  height: number;
  width: number;
}

/** Rows the content has in the current mode (for scrolling). */
export function contentRowCount(lines: readonly TerminalLine[], bytes: Uint8Array | null, hex: boolean, width: number): number {
  return hex ? Math.ceil((bytes?.length ?? 0) / bytesPerRow(width)) : lines.length;
}

function textRows(lines: readonly TerminalLine[], first: number, count: number): Segment[][] {
  return lines.slice(first, first + count).map((line) =>
    line.map((span): Segment => (span.kind === 'text' ? { text: span.text } : { text: span.text, color: span.kind === 'invalid' ? 'red' : 'yellow', dim: span.kind === 'control' })),
  );
}

function hexBody(bytes: Uint8Array, width: number, first: number, count: number): Segment[][] {
  return hexRows(bytes, null, bytesPerRow(width), first, count).map((r) => [
    { text: r.offsetText, dim: true },
    { text: r.hex.map((h) => h.text).join('') },
    { text: '  ' + r.ascii.map((a) => a.text).join(''), dim: true },
  ]);
}

export function ContentView(p: ContentViewProps) {
  if (p.height <= 0) return null;
  const rows = p.height - 1;
  const stream = p.streams[p.selected] ?? null;
  const info: Segment[] = [];
  if (stream) {
    const total = contentRowCount(p.lines, p.bytes, p.hex, p.width);
    info.push({ text: contentLabel(stream, p.loadedBytes ?? null), color: streamColor(stream.name), bold: true });
    info.push({ text: ` · ${p.hex ? 'hex' : 'text'} (x)`, dim: true });
    if (total > rows) info.push({ text: ` · rows ${p.scroll + 1}–${Math.min(total, p.scroll + rows)} of ${total}`, dim: true });
    if (p.streams.length > 1) {
      info.push({ text: ' · ←→', dim: true });
      p.streams.forEach((r, i) => {
        const name = safeInline(r.name);
        info.push({ text: ` ${i === p.selected ? `[${name}]` : name}`, color: streamColor(r.name), dim: i !== p.selected });
      });
    }
  }
  let body: Segment[][];
  if (!stream) body = [[{ text: '  this session has no payload stream', dim: true }]];
  else if (stream.headBytes === 0) body = [[{ text: `  no bytes on ${safeInline(stream.name)}`, dim: true }]];
  else body = p.hex && p.bytes ? hexBody(p.bytes, p.width, p.scroll, rows) : textRows(p.lines, p.scroll, rows);
  return (
    <Box flexDirection="column" height={p.height}>
      <PaneTitle title="Content" focused={p.focused} info={info} />
      {body.slice(0, rows).map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
