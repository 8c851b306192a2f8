/** Small formatting helpers for the TUI's one-line fields. */
import stringWidth from 'string-width';
import { formatDuration } from '../core/time.js';
import { safeInline } from './terminal-text.js';

/** "1 session", "2 sessions" */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "0 B", "812 B", "5.9 KiB", "1.00 GiB" */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** A time relative to some origin: "+213.4 ms", "-2.00 s". */
export function formatOffset(ns: number): string {
  return `${ns < 0 ? '-' : '+'}${formatDuration(Math.abs(ns))}`;
}

/** An argv as a shell would need it typed, every argument neutralised: sh -c "echo hi". */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map((a) => (a !== '' && /^[\w@%+=:,./-]+$/.test(a) ? a : `"${safeInline(a).replace(/(["\\$`])/g, '\\$1')}"`)).join(' ');
}

const graphemes = new Intl.Segmenter();

/** The longest head of `text` (whole grapheme clusters) that takes at most `cells` terminal cells, and the cells it takes. */
function headCells(text: string, cells: number): { text: string; cells: number } {
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > cells) break;
    out += segment;
    used += w;
  }
  return { text: out, cells: used };
}

/** The longest tail of `text` that takes at most `cells` terminal cells. */
function tailCells(text: string, cells: number): { text: string; cells: number } {
  const parts = Array.from(graphemes.segment(text), (g) => g.segment);
  let out = '';
  let used = 0;
  for (let i = parts.length - 1; i >= 0; i--) {
    const w = stringWidth(parts[i]);
    if (used + w > cells) break;
    out = parts[i] + out;
    used += w;
  }
  return { text: out, cells: used };
}

/**
 * Cut to `width` terminal cells with an ellipsis, or pad with spaces to exactly `width` cells. Cells,
 * not code points: a wide character takes two, a combining mark none.
 */
export function fitWidth(text: string, width: number): string {
  if (width <= 0) return '';
  const w = stringWidth(text);
  if (w <= width) return text + ' '.repeat(width - w);
  const head = headCells(text, width - 1);
  return head.text + '…' + ' '.repeat(width - 1 - head.cells);
}

/**
 * As fitWidth, but a long text loses its middle: labels that differ only at the end (`data:80:0`,
 * `data:80:1`) stay told apart (`dat…80:0`).
 */
export function fitMiddle(text: string, width: number): string {
  if (width <= 0) return '';
  const w = stringWidth(text);
  if (w <= width) return text + ' '.repeat(width - w);
  if (width < 4) return fitWidth(text, width);
  const tail = tailCells(text, Math.ceil((width - 1) / 2));
  const head = headCells(text, width - 1 - tail.cells);
  return head.text + '…' + tail.text + ' '.repeat(width - 1 - head.cells - tail.cells);
}

/** Right-aligned variant of fitWidth. */
export function fitRight(text: string, width: number): string {
  const w = stringWidth(text);
  if (w >= width) return fitWidth(text, width);
  return ' '.repeat(width - w) + text;
}

/** Words into lines of at most `width` characters (a longer word gets a line of its own, cut by the terminal). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
