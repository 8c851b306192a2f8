/** `?`: every key, and what the timeline's symbols mean. */
import { Box } from 'ink';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';

export const KEY_HELP: readonly [string, string][] = [
  ['↑ ↓  k j', 'move: session, lane, layer, scroll'],
  ['← →  h l', 'previous / next event · content: stream'],
  ['PgUp PgDn g G', 'page / first / last'],
  ['⏎ enter', 'drill in: session → timeline → layers → content'],
  ['esc', 'back · close help · cancel filter · clear filter'],
  ['⇥ tab  ⇧⇥', 'next / previous pane'],
  ['/', 'filter: words, or pod: cmd: stream: text:'],
  ['+ -', 'zoom the timeline in / out'],
  ['[ ]', 'pan the timeline earlier / later'],
  ['0', 'whole session on the timeline'],
  ['z', 'compress long idle stretches (≈)'],
  ['x', 'content as hex / as text'],
  ['s', 'sort sessions: time, duration, outcome'],
  ['c', 'all connections (discovery, TLS, unknown TCP)'],
  ['? d', 'this help · what went wrong (hang rules, evidence)'],
  ['q', 'quit'],
];

export const SYMBOL_HELP: readonly [string, string][] = [
  ['─ ▪ ■ █', 'stream open · data by volume'],
  ['├ ┤ ✕', 'open · half-close · reset'],
  ['◉', 'selected event'],
  ['• ∘ ⊘', 'ping · pong · goaway/close'],
  ['┆ ╳', 'TCP gap (bytes missing)'],
  ['≈', 'idle stretch compressed'],
  ['◂ ▸', 'more events off screen'],
  ['✓ ! ✗', 'ok · warning · error'],
];

export function HelpOverlay({ height, width }: { height: number; width: number }) {
  const twoColumns = width >= 100;
  const keyRows: Segment[][] = KEY_HELP.map(([k, what]) => [
    { text: `  ${k.padEnd(15)}`, color: 'cyan', bold: true },
    { text: what },
  ]);
  const symbolRows: Segment[][] = SYMBOL_HELP.map(([k, what]) => [
    { text: `  ${k.padEnd(9)}`, color: 'cyan' },
    { text: what, dim: true },
  ]);
  // Narrow terminals get the symbols two to a row so that everything fits in 24 rows.
  const pairedSymbols: Segment[][] = [];
  for (let i = 0; i < symbolRows.length; i += 2) {
    const [a, b] = [SYMBOL_HELP[i], SYMBOL_HELP[i + 1]];
    pairedSymbols.push([
      { text: `  ${a[0].padEnd(8)}`, color: 'cyan' },
      { text: a[1].padEnd(31), dim: true },
      { text: b ? ` ${b[0].padEnd(8)}` : '', color: 'cyan' },
      { text: b ? b[1] : '', dim: true },
    ]);
  }
  const rows = twoColumns ? keyRows : [...keyRows, ...pairedSymbols];
  return (
    <Box flexDirection="column" height={height}>
      <PaneTitle title="Help" focused info={[{ text: 'esc or ? closes', dim: true }]} />
      <Box flexDirection="row">
        <Box flexDirection="column" width={twoColumns ? 66 : width}>
          {rows.slice(0, Math.max(0, height - 1)).map((r, i) => (
            <Line key={i} segments={r} />
          ))}
        </Box>
        {twoColumns ? (
          <Box flexDirection="column" width={width - 66}>
            {symbolRows.slice(0, Math.max(0, height - 1)).map((r, i) => (
              <Line key={i} segments={r} />
            ))}
          </Box>
        ) : null}
      </Box>
    </Box>
  );
}
