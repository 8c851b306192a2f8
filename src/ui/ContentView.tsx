/**
 * The Content pane: one stream of the session as a terminal would have shown it (controls and
 * escape sequences visible and dimmed, never executed), or as hex. ←→ switch streams, ↑↓ scroll,
 * `/` searches (the matches marked, the current one in reverse video).
 */
import { Box } from 'ink';
import type { StreamRecord } from '../model/session.js';
import { contentLabel, linesCut, type ContentMatch } from './content.js';
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
  /** The search: its term, its matches (rows of text, byte ranges of hex) and the current one (-1: none yet). */
  search?: { term: string; text: readonly ContentMatch[]; bytes: readonly { start: number; end: number }[]; current: number } | null;
  focused: boolean;
  height: number;
  width: number;
}

/** Rows the content has in the current mode (for scrolling). */
export function contentRowCount(lines: readonly TerminalLine[], bytes: Uint8Array | null, hex: boolean, width: number): number {
  return hex ? Math.ceil((bytes?.length ?? 0) / bytesPerRow(width)) : lines.length;
}

function spanStyle(kind: TerminalLine[number]['kind']): Omit<Segment, 'text'> {
  return kind === 'text' ? {} : { color: kind === 'invalid' ? 'red' : 'yellow', dim: kind === 'control' };
}

/** A row's spans cut where matches start and end: the current match reversed, the others bold. */
function markMatches(line: TerminalLine, marks: readonly { start: number; end: number; current: boolean }[]): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const span of line) {
    const chars = Array.from(span.text);
    let from = 0;
    while (from < chars.length) {
      const pos = at + from;
      const mark = marks.find((m) => pos >= m.start && pos < m.end);
      const next = mark ? mark.end : Math.min(...marks.filter((m) => m.start > pos).map((m) => m.start), Infinity);
      const to = Math.min(chars.length, next - at);
      const piece = { text: chars.slice(from, to).join(''), ...spanStyle(span.kind) };
      out.push(mark ? { ...piece, bold: true, color: 'yellow', inverse: mark.current } : piece);
      from = to;
    }
    at += chars.length;
  }
  return out;
}

function textRows(lines: readonly TerminalLine[], first: number, count: number, matches: readonly ContentMatch[], current: number): Segment[][] {
  return lines.slice(first, first + count).map((line, i) => {
    const row = first + i;
    // A match that runs on from the row before covers this one from its start; one that runs on past it, to its end.
    const marks = matches.flatMap((m, n) => (m.row <= row && row <= m.endRow ? [{ start: m.row === row ? m.start : 0, end: m.endRow === row ? m.end : Infinity, current: n === current }] : []));
    return marks.length ? markMatches(line, marks) : line.map((span): Segment => ({ text: span.text, ...spanStyle(span.kind) }));
  });
}

function hexBody(bytes: Uint8Array, width: number, first: number, count: number, match: { start: number; end: number } | null): Segment[][] {
  return hexRows(bytes, match, bytesPerRow(width), first, count).map((r) => [
    { text: r.offsetText, dim: true },
    ...r.hex.map((h): Segment => (h.highlighted ? { text: h.text, inverse: true, bold: true } : { text: h.text })),
    { text: '  ', dim: true },
    ...r.ascii.map((a): Segment => (a.highlighted ? { text: a.text, inverse: true } : { text: a.text, dim: true })),
  ]);
}

export function ContentView(p: ContentViewProps) {
  if (p.height <= 0) return null;
  const rows = p.height - 1;
  const stream = p.streams[p.selected] ?? null;
  const info: Segment[] = [];
  const search = p.search ?? null;
  if (stream) {
    const total = contentRowCount(p.lines, p.bytes, p.hex, p.width);
    info.push({ text: contentLabel(stream, p.loadedBytes ?? null, !p.hex && linesCut(p.lines)), color: streamColor(stream.name), bold: true });
    // The search before the mode and the rows: on a narrow terminal the end of the title is cut.
    if (search) {
      const count = p.hex ? search.bytes.length : search.text.length;
      const which = search.current >= 0 ? `${search.current + 1} of ${count}` : `${count} match${count === 1 ? '' : 'es'}`;
      info.push({ text: ` · “${safeInline(search.term, 40)}” ${which}`, color: count ? 'yellow' : 'red' });
    }
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
  else if (p.hex && p.bytes) body = hexBody(p.bytes, p.width, p.scroll, rows, search ? (search.bytes[search.current] ?? null) : null);
  else body = textRows(p.lines, p.scroll, rows, search?.text ?? [], search?.current ?? -1);
  return (
    <Box flexDirection="column" height={p.height}>
      <PaneTitle title="Content" focused={p.focused} info={info} />
      {body.slice(0, rows).map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
