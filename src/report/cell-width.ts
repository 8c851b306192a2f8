/**
 * A string's width in terminal cells, exactly as string-width counts it, without string-width's cost
 * where the answer is plain. string-width splits any string that is not all printable ASCII into
 * grapheme clusters (Intl.Segmenter) and tests each one against Unicode-property expressions: its
 * RGI_Emoji expression alone takes 40-60 ms to compile on first use, and a 100-character TUI row with
 * one · or box-drawing character in it then costs ~0.28 ms (both measured at load 6 on our 2-core VM).
 *
 * A string made only of code units that always make a grapheme cluster of their own (ranges below: no
 * marks, joiners, variation selectors, format or control characters, Hangul jamo or surrogates) has a
 * width that is the sum of theirs, and each one's is its East Asian Width, which is what string-width
 * gives such a cluster (test/report/cell-width.test.ts checks every one of them against it). ANSI
 * escapes are stripped first with string-width's own strip-ansi, as string-width does (Ink measures
 * coloured rows); anything else goes to string-width. The TUI's module gives Ink and its helpers this
 * in place of string-width (scripts/build.mjs).
 */
import stringWidth from 'string-width';
import stripAnsi from 'strip-ansi';
import { eastAsianWidth } from 'get-east-asian-width';

type StringWidthOptions = Parameters<typeof stringWidth>[1];

/** Code units from here on are never looked up: string-width measures strings holding one. */
const TABLE_END = 0x2c00;
/** In `loneWidths`: a code unit that can join a neighbour in a cluster, or whose width string-width decides otherwise. */
const NOT_ALONE = 255;
/** Per code unit below TABLE_END: 0 not yet looked up, 1 or 2 cells, or NOT_ALONE. */
const loneWidths = new Uint8Array(TABLE_END);

function standsAlone(c: number): boolean {
  return (
    (c >= 0x20 && c <= 0x7e) ||
    // Latin-1 and Latin Extended up to the combining diacritics, without the soft hyphen (a format character)
    (c >= 0xa0 && c <= 0x2ff && c !== 0xad) ||
    // General Punctuation between the zero-width and bidirectional controls and after them
    (c >= 0x2010 && c <= 0x2027) ||
    (c >= 0x2030 && c <= 0x205e) ||
    // Letterlike symbols, arrows, mathematical operators, technical symbols, box drawing, blocks,
    // geometric shapes, dingbats, braille, more arrows and mathematical symbols (the combining marks
    // for symbols, 20D0-20FF, stay out)
    (c >= 0x2100 && c < TABLE_END)
  );
}

/** 1 or 2: the cells a code unit takes when it is a cluster of its own; 0 when it may not be one (measure the string with string-width). */
export function loneCellWidth(c: number): number {
  if (c >= TABLE_END) return 0;
  let w = loneWidths[c];
  if (w === 0) w = loneWidths[c] = standsAlone(c) ? eastAsianWidth(c, { ambiguousAsWide: false }) : NOT_ALONE;
  return w === NOT_ALONE ? 0 : w;
}

/** The cells of `text` when each of its code units stands alone, else -1. */
function loneCells(text: string): number {
  let cells = 0;
  for (let i = 0; i < text.length; i++) {
    const w = loneCellWidth(text.charCodeAt(i));
    if (w === 0) return -1;
    cells += w;
  }
  return cells;
}

/** string-width's answer for `text`. */
export default function cellWidth(text: string, options?: StringWidthOptions): number {
  if (options !== undefined || typeof text !== 'string') return stringWidth(text, options);
  let cells = loneCells(text);
  if (cells < 0 && (text.includes('\x1b') || text.includes('\x9b'))) cells = loneCells(stripAnsi(text));
  return cells < 0 ? stringWidth(text) : cells;
}
