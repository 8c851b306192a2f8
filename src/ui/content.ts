/** What the Content pane can show for a session: each payload stream as one continuous text. */
import type { ExecSession, StreamRecord } from '../model/session.js';
import cellWidth from '../report/cell-width.js';
import { formatBytes } from '../report/format.js';
import { renderTerminalLines, safeInline, type TerminalLine } from '../report/terminal-text.js';
import { keystrokeLines } from './keystrokes.js';

const CONTENT_ORDER = ['stdout', 'stderr', 'stdin'];

function rank(name: string): number {
  const i = CONTENT_ORDER.indexOf(name);
  return i < 0 ? CONTENT_ORDER.length + (name === 'error' ? 1 : 0) : i;
}

/** stdout, stderr, stdin, port-forward data, then the error stream; resize is not content. */
export function contentStreams(s: ExecSession): StreamRecord[] {
  return s.streams.filter((r) => r.name !== 'resize').sort((a, b) => rank(a.name) - rank(b.name) || a.id - b.id);
}

/** Lines the text view renders at most; past them a last line says the rest is not shown. */
export const MAX_CONTENT_LINES = 100_000;

/**
 * How much of the stream Content shows (and its search searches) when that is not all of it: the
 * stream longer than its kept head (`loaded`: bytes read back from the capture, when they were), or
 * the text view cut at MAX_CONTENT_LINES (`linesCut`): "first 16.0 MiB shown"; null for all of it.
 */
export function shownPart(r: StreamRecord, loaded: number | null = null, linesCut = false): string | null {
  const have = loaded ?? r.headBytes;
  const partial = r.bytes > have;
  if (linesCut) return `first ${MAX_CONTENT_LINES.toLocaleString('en-US')} lines shown${partial ? ` of the first ${formatBytes(have)}` : ''}`;
  if (partial) return `first ${formatBytes(have)} ${loaded === null ? 'kept' : 'shown'}`;
  return null;
}

/** "stdout · 21 B", with how much is shown when that is not all of it ("stdout · 20.0 MiB · first 16.0 MiB shown"). */
export function contentLabel(r: StreamRecord, loaded: number | null = null, linesCut = false): string {
  const part = shownPart(r, loaded, linesCut);
  return `${safeInline(r.name)} · ${formatBytes(r.bytes)}${part ? ` · ${part}` : ''}`;
}

/** Whether the text view stopped at MAX_CONTENT_LINES (its last line then says so). */
export function linesCut(lines: readonly TerminalLine[]): boolean {
  return lines.length > MAX_CONTENT_LINES;
}

/** The kept head as one buffer (the hex view needs contiguous bytes). */
export function headBuffer(r: StreamRecord): Uint8Array {
  if (r.head.length === 1) return r.head[0];
  const out = new Uint8Array(r.headBytes);
  let at = 0;
  for (const h of r.head) {
    out.set(h.subarray(0, out.length - at), at);
    at += h.length;
    if (at >= out.length) break;
  }
  return out;
}

/** The error stream's Status object, indented one field a line; null when the bytes are not JSON. */
function prettyStatus(bytes: Uint8Array | readonly Uint8Array[]): Uint8Array | null {
  const decoder = new TextDecoder();
  const text = bytes instanceof Uint8Array ? decoder.decode(bytes) : bytes.map((b) => decoder.decode(b, { stream: true })).join('') + decoder.decode();
  try {
    return new TextEncoder().encode(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    return null;
  }
}

/** Widths of single characters measured so far: string-width segments each one it is given (~5× the drawing's time on CJK text). */
const characterCells = new Map<string, number>();
const CHARACTERS_KEPT = 65_536;

/** The cells a character of captured text takes (one code point, or one with the marks that joined it). */
function cellsOf(text: string): number {
  if (text.length > 2) return cellWidth(text);
  let cells = characterCells.get(text);
  if (cells === undefined) {
    cells = cellWidth(text);
    if (characterCells.size < CHARACTERS_KEPT) characterCells.set(text, cells);
  }
  return cells;
}

/**
 * Lines of `r` (its bytes `bytes`) for a pane `width` cells wide, long lines wrapped: a TTY
 * session's stdin as the keys typed, the error stream's Status JSON indented, anything else as a
 * terminal would have shown it.
 */
export function contentLines(s: ExecSession, r: StreamRecord, bytes: Uint8Array | readonly Uint8Array[], width: number): TerminalLine[] {
  const wrapAt = Math.max(1, width);
  if (s.tty && r.name === 'stdin') return keystrokeLines(bytes, wrapAt);
  const status = r.name === 'error' ? prettyStatus(bytes) : null;
  return renderTerminalLines(status ?? bytes, { wrapAt, maxLines: MAX_CONTENT_LINES, cellsOf });
}

/** The first `count` bytes of `bytes`, as chunks. */
function prefix(bytes: Uint8Array | readonly Uint8Array[], count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = count;
  for (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) {
    if (left <= 0) break;
    out.push(chunk.subarray(0, left));
    left -= Math.min(left, chunk.length);
  }
  return out;
}

/**
 * The row of contentLines(s, r, bytes, width) where the stream's byte `offset` is drawn: the rows
 * the bytes before it fill (the Status JSON is re-indented, so its events all start at row 0).
 */
export function contentRowOf(s: ExecSession, r: StreamRecord, bytes: Uint8Array | readonly Uint8Array[], offset: number, width: number): number {
  if (offset <= 0 || r.name === 'error') return 0;
  const before = prefix(bytes, offset);
  const last = before[before.length - 1];
  const lastByte = last && last.length ? last[last.length - 1] : -1;
  // A line ended by the last byte before the offset puts the offset at the start of the next row.
  const ended = lastByte === 0x0a || (s.tty && r.name === 'stdin' && lastByte === 0x0d);
  const rows = contentLines(s, r, before, width).length;
  return Math.max(0, ended ? rows : rows - 1);
}

/**
 * One match of a Content search: from code point `start` of row `row` up to (not including) code
 * point `end` of row `endRow`; a match in a line wrapped over several rows runs on across them.
 */
export interface ContentMatch {
  row: number;
  start: number;
  endRow: number;
  end: number;
}

/** Every match of `term` (case-insensitive) in the text, in order; rows a long line wrapped over are searched as the one line they are. */
export function findInLines(lines: readonly TerminalLine[], term: string): ContentMatch[] {
  // Lower-cased character by character, so that positions stay those of the rows' characters.
  const needle = Array.from(term, (c) => c.toLowerCase());
  if (needle.length === 0) return [];
  const out: ContentMatch[] = [];
  for (let first = 0; first < lines.length; ) {
    // The rows of one line: each row's first character's place in the line's text.
    const text: string[] = [];
    const rowStarts: number[] = [];
    let row = first;
    do {
      rowStarts.push(text.length);
      for (const span of lines[row]) for (const c of span.text) text.push(c.toLowerCase());
    } while (lines[row++].continues && row < lines.length);
    const place = (at: number, isEnd: boolean) => {
      // An end on a row boundary ends the row before (a match never starts in an empty place).
      let r = rowStarts.length - 1;
      while (r > 0 && (isEnd ? rowStarts[r] >= at : rowStarts[r] > at)) r--;
      return { row: first + r, col: at - rowStarts[r] };
    };
    for (let i = 0; i + needle.length <= text.length; i++) {
      let j = 0;
      while (j < needle.length && text[i + j] === needle[j]) j++;
      if (j < needle.length) continue;
      const from = place(i, false);
      const to = place(i + needle.length, true);
      out.push({ row: from.row, start: from.col, endRow: to.row, end: to.col });
      i += needle.length - 1;
    }
    first = row;
  }
  return out;
}

/** Every occurrence of `term` (its UTF-8 bytes, ASCII letters in either case) in `bytes`, as byte ranges. */
export function findInBytes(bytes: Uint8Array, term: string): { start: number; end: number }[] {
  const needle = new TextEncoder().encode(term.toLowerCase());
  const lower = (b: number) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
  const out: { start: number; end: number }[] = [];
  if (needle.length === 0) return out;
  for (let i = 0; i + needle.length <= bytes.length; i++) {
    let j = 0;
    while (j < needle.length && lower(bytes[i + j]) === needle[j]) j++;
    if (j === needle.length) {
      out.push({ start: i, end: i + needle.length });
      i += needle.length - 1;
    }
  }
  return out;
}
