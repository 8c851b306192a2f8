/** `?`: every key of the key table, and what the timeline's symbols mean. */
import cellWidth from '../report/cell-width.js';
import { wrapWords } from '../report/format.js';
import { type Segment } from './Line.js';
import { KEY_TABLE } from './keys.js';
import { OverlayPane } from './OverlayPane.js';

export const SYMBOL_HELP: readonly [string, string][] = [
  ['─ ▪ ■ █', 'stream open · data by volume'],
  ['├ ┤ ✕', 'open · half-close · reset'],
  ['○ ● ┼', 'request · 101/other · reply'],
  ['◉', 'selected event'],
  ['• ∘ ⊘', 'ping · pong/0 B · goaway/close'],
  ['+ ≡ ?', 'flow window · settings · poll'],
  ['┆ ╳', 'TCP gap (bytes missing)'],
  ['≈', 'idle stretch compressed'],
  ['◂ ▸', 'more events off screen'],
  ['✓ ! ✗', 'ok · warning · error'],
  ['▪ █ ┤', 'hops: output · Status · end'],
];

const KEY_COLUMN = 66;
const LABEL_WIDTH = 15;
/** Width of a symbol row beside the keys: its glyphs and the longest meaning. */
const SYMBOL_WIDTH = 2 + 9 + Math.max(...SYMBOL_HELP.map(([, text]) => cellWidth(text)));

function padTo(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - cellWidth(text)));
}

/**
 * The help's rows: keys (what they do wrapped to the width), then the symbols two to a row; where
 * both fit side by side, the symbols beside the keys.
 */
export function helpRows(width: number): Segment[][] {
  const beside = width >= KEY_COLUMN + SYMBOL_WIDTH;
  const doesWidth = Math.max(20, (beside ? KEY_COLUMN : width) - 2 - LABEL_WIDTH - 1);
  const keyRows: Segment[][] = KEY_TABLE.flatMap((b) =>
    wrapWords(b.does, doesWidth).map((line, i): Segment[] => [
      { text: `  ${padTo(i === 0 ? b.label : '', LABEL_WIDTH)}`, color: 'cyan', bold: true },
      { text: line },
    ]),
  );
  if (beside) {
    const count = Math.max(keyRows.length, SYMBOL_HELP.length);
    return Array.from({ length: count }, (_, i) => {
      const keys = keyRows[i] ?? [];
      const used = keys.reduce((n, s) => n + cellWidth(s.text), 0);
      const symbol = SYMBOL_HELP[i];
      return [
        ...keys,
        ...(symbol
          ? [
              { text: padTo(used >= KEY_COLUMN ? ' ' : '', KEY_COLUMN - used) + `  ${padTo(symbol[0], 9)}`, color: 'cyan' as const },
              { text: symbol[1], dim: true },
            ]
          : []),
      ];
    });
  }
  const pairedSymbols: Segment[][] = [];
  for (let i = 0; i < SYMBOL_HELP.length; i += 2) {
    const [a, b] = [SYMBOL_HELP[i], SYMBOL_HELP[i + 1]];
    pairedSymbols.push([
      { text: `  ${padTo(a[0], 8)}`, color: 'cyan' },
      { text: padTo(a[1], 31), dim: true },
      { text: b ? ` ${padTo(b[0], 8)}` : '', color: 'cyan' },
      { text: b ? b[1] : '', dim: true },
    ]);
  }
  return [...keyRows, ...pairedSymbols];
}

export function HelpOverlay({ height, width, scroll }: { height: number; width: number; scroll: number }) {
  return <OverlayPane title="Help" closeHint="esc or ? closes" rows={helpRows(width)} scroll={scroll} height={height} />;
}
