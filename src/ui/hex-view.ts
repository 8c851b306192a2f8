/**
 * Hex + ASCII rows with a highlighted byte range. The highlight is marked twice: as a style flag
 * for colour, and with brackets around the highlighted hex bytes so it still reads with NO_COLOR.
 * Only printable ASCII reaches the ASCII column; everything else is a dot.
 */
import type { ByteRange } from './event-layers.js';

export interface HexPiece {
  text: string;
  highlighted: boolean;
}

export interface HexRow {
  offset: number;
  /** "00000010" */
  offsetText: string;
  hex: HexPiece[];
  ascii: HexPiece[];
}

/** 16 bytes a row when the terminal has room for offset + hex + ASCII (74 columns), else 8. */
export function bytesPerRow(width: number): number {
  return width >= 8 + 1 + 16 * 3 + 1 + 16 ? 16 : 8;
}

function pushPiece(pieces: HexPiece[], text: string, highlighted: boolean): void {
  const last = pieces[pieces.length - 1];
  if (last && last.highlighted === highlighted) last.text += text;
  else pieces.push({ text, highlighted });
}

/**
 * Rows [firstRow, firstRow + maxRows) of the dump. The separator before a byte is '[' where a
 * highlighted run starts and ']' after it ends, so "00 [41 42] 43" reads without colour.
 */
export function hexRows(bytes: Uint8Array, highlight: ByteRange | null, perRow: number, firstRow = 0, maxRows = Infinity): HexRow[] {
  const rows: HexRow[] = [];
  const isHl = (i: number) => highlight !== null && i >= highlight.start && i < highlight.end && i < bytes.length;
  const totalRows = Math.ceil(bytes.length / perRow);
  for (let r = firstRow; r < totalRows && rows.length < maxRows; r++) {
    const start = r * perRow;
    const hex: HexPiece[] = [];
    const ascii: HexPiece[] = [];
    for (let i = start; i < start + perRow; i++) {
      const hl = isHl(i);
      const prevHl = i > start && isHl(i - 1);
      const sep = hl && !prevHl ? '[' : !hl && prevHl ? ']' : ' ';
      pushPiece(hex, sep, hl && prevHl);
      if (i < bytes.length) {
        const b = bytes[i];
        pushPiece(hex, b.toString(16).padStart(2, '0'), hl);
        pushPiece(ascii, b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.', hl);
      } else {
        pushPiece(hex, '  ', false);
      }
    }
    pushPiece(hex, isHl(start + perRow - 1) ? ']' : ' ', false);
    rows.push({ offset: start, offsetText: start.toString(16).padStart(8, '0'), hex, ascii });
  }
  return rows;
}

/** Row holding the first highlighted byte, to scroll the dump there. */
export function highlightRow(highlight: ByteRange | null, perRow: number): number {
  return highlight ? Math.floor(highlight.start / perRow) : 0;
}
