/**
 * Fitting text to terminal cells, for the TUI's columns. Apart from format.ts because string-width
 * builds its Unicode-property regular expressions and an Intl.Segmenter when it is loaded: ~190
 * million instructions (~50 ms) that `analyze --json` and the text report, which never measure cells,
 * would pay at every start.
 */
import cellWidth, { loneCellWidth } from './cell-width.js';

const graphemes = new Intl.Segmenter();

/** The longest head of `text` (whole grapheme clusters) that takes at most `cells` terminal cells, and the cells it takes. */
function headCells(text: string, cells: number): { text: string; cells: number } {
  // Cut between two code units that each make a cluster of their own: no segmenting.
  let used = 0;
  for (let i = 0; i < text.length; i++) {
    const w = loneCellWidth(text.charCodeAt(i));
    if (w === 0) return clusterHead(text, cells);
    if (used + w > cells) return { text: text.slice(0, i), cells: used };
    used += w;
  }
  return { text, cells: used };
}

function clusterHead(text: string, cells: number): { text: string; cells: number } {
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = cellWidth(segment);
    if (used + w > cells) break;
    out += segment;
    used += w;
  }
  return { text: out, cells: used };
}

/** The longest tail of `text` that takes at most `cells` terminal cells. */
function tailCells(text: string, cells: number): { text: string; cells: number } {
  let used = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const w = loneCellWidth(text.charCodeAt(i));
    if (w === 0) return clusterTail(text, cells);
    if (used + w > cells) return { text: text.slice(i + 1), cells: used };
    used += w;
  }
  return { text, cells: used };
}

function clusterTail(text: string, cells: number): { text: string; cells: number } {
  const parts = Array.from(graphemes.segment(text), (g) => g.segment);
  let out = '';
  let used = 0;
  for (let i = parts.length - 1; i >= 0; i--) {
    const w = cellWidth(parts[i]);
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
  const w = cellWidth(text);
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
  const w = cellWidth(text);
  if (w <= width) return text + ' '.repeat(width - w);
  if (width < 4) return fitWidth(text, width);
  const tail = tailCells(text, Math.ceil((width - 1) / 2));
  const head = headCells(text, width - 1 - tail.cells);
  return head.text + '…' + tail.text + ' '.repeat(width - 1 - head.cells - tail.cells);
}

/** Right-aligned variant of fitWidth. */
export function fitRight(text: string, width: number): string {
  const w = cellWidth(text);
  if (w >= width) return fitWidth(text, width);
  return ' '.repeat(width - w) + text;
}
