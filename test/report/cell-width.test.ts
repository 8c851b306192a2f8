/**
 * cellWidth stands in for string-width (in the TUI's own code, and for Ink and its helpers in the
 * bundle), so it must give string-width's answer for every string: checked for every code unit it
 * sums by itself, and for random strings mixing those with what it hands to string-width (marks,
 * joiners, variation selectors, emoji, CJK, Hangul jamo, format characters, escapes). The fitting
 * functions' shortcut (cutting between two such code units without segmenting) is checked against
 * cutting whole grapheme clusters.
 */
import fc from 'fast-check';
import stringWidth from 'string-width';
import cellWidth, { loneCellWidth } from '../../src/report/cell-width.js';
import { fitMiddle, fitWidth } from '../../src/report/terminal-cells.js';

const lone: string[] = [];
for (let c = 0; c <= 0xffff; c++) if (loneCellWidth(c) !== 0) lone.push(String.fromCharCode(c));

test('every code unit cellWidth sums by itself is as wide as string-width says, alone and in a row', () => {
  // The TUI's own rows: printable ASCII, Latin-1, punctuation, arrows, box drawing, blocks, shapes.
  for (const ch of ['a', '·', '—', '…', '→', '↑', '─', '│', '░', '█', '▸', '▶', '●', '○', '◉', '✓', '✗', '⏎', '⇥', '⟨', '⟩']) expect(lone).toContain(ch);
  expect(lone.length).toBeGreaterThan(2000);
  for (const ch of lone) expect([ch, cellWidth(ch)]).toEqual([ch, stringWidth(ch)]);
  expect(cellWidth(lone.join(''))).toBe(stringWidth(lone.join('')));
});

test('what may join a neighbour or needs string-width is never summed by itself', () => {
  // Combining marks, ZWJ, ZWNJ, variation selectors, soft hyphen, bidi and other format characters,
  // controls, Hangul jamo and syllables, surrogates (emoji, regional indicators), CJK, ESC.
  for (const c of [0x0301, 0x20d0, 0x200d, 0x200c, 0xfe0f, 0xfe0e, 0x00ad, 0x202e, 0x2066, 0x2028, 0x0009, 0x001b, 0x009b, 0x007f, 0x1100, 0x1161, 0xac00, 0xd83d, 0xdc4d, 0x4e00, 0x0e33, 0x0600]) {
    expect([c.toString(16), loneCellWidth(c)]).toEqual([c.toString(16), 0]);
  }
});

/** Strings mixing what cellWidth sums with what it hands on. */
const mixed = fc
  .array(
    fc.oneof(
      fc.constantFrom(...lone),
      fc.constantFrom('\u0301', '\u200d', '\u200c', '\ufe0f', '\u00ad', '\u202e', '\u1100', '\u1161', '\u11a8', '가', '👍', '👍🏽', '🇩🇪', '👩‍💻', '中', '文', '\x1b[31m', '\x1b[0m', '\t', '\u0e33', '❤\ufe0f'),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

/** The longest head (or tail) of whole grapheme clusters within `cells`, as the fitting functions cut before their shortcut. */
function clusterCut(text: string, cells: number, from: 'head' | 'tail'): string {
  const clusters = Array.from(new Intl.Segmenter().segment(text), (g) => g.segment);
  if (from === 'tail') clusters.reverse();
  const kept: string[] = [];
  let used = 0;
  for (const c of clusters) {
    if (used + stringWidth(c) > cells) break;
    kept.push(c);
    used += stringWidth(c);
  }
  return (from === 'tail' ? kept.reverse() : kept).join('');
}

test('coloured rows are measured without their escapes, as string-width measures them', () => {
  for (const row of ['\x1b[1m▶ Sessions\x1b[22m · 11 · by time', '\x1b[31m✗ R1\x1b[39m stdin never half-closed ⟨U+009B⟩', '\x1b]8;;x\x07link\x1b]8;;\x07 ─', '\x9b31m·\x9b0m']) {
    expect([row, cellWidth(row)]).toEqual([row, stringWidth(row)]);
  }
});

test('cellWidth gives string-width answer for any string', () => {
  fc.assert(fc.property(mixed, (text) => cellWidth(text) === stringWidth(text)), { numRuns: 5000 });
});

test('fitWidth and fitMiddle cut where cutting whole clusters does', () => {
  const pad = (text: string, width: number) => text + ' '.repeat(width - stringWidth(text));
  fc.assert(
    fc.property(mixed.filter((t) => !t.includes('\x1b') && !t.includes('\t')), fc.integer({ min: 1, max: 40 }), (text, width) => {
      const long = stringWidth(text) > width;
      expect(fitWidth(text, width)).toBe(long ? pad(clusterCut(text, width - 1, 'head') + '…', width) : pad(text, width));
      if (long && width >= 4) {
        const tail = clusterCut(text, Math.ceil((width - 1) / 2), 'tail');
        const head = clusterCut(text, width - 1 - stringWidth(tail), 'head');
        expect(fitMiddle(text, width)).toBe(head + '…' + tail + ' '.repeat(width - 1 - stringWidth(head) - stringWidth(tail)));
      }
    }),
    { numRuns: 3000 },
  );
});
