/**
 * The Sessions pane: one row per exec/attach/port-forward, the selected one marked ▸. An exec seen
 * on several hops is one row (`+2`: two more hops folded under it); unfolded (`−`), its other hops
 * follow it (├ └).
 */
import { Box } from 'ink';
import cellWidth from '../report/cell-width.js';
import type { RpcCall } from '../model/rpc-call.js';
import type { ExecSession } from '../model/session.js';
import { protocolLabel, hopLabel } from '../report/outcome.js';
import { formatDuration } from '../core/time.js';
import { formatOffset, plural } from '../report/format.js';
import { fitWidth, fitRight } from '../report/terminal-cells.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { asCalled, commandLabel, sessionDuration, sessionOutcome, targetLabel, type SortKey } from '../report/session-summary.js';
import { severityColor, severitySymbol } from './theme.js';
import type { SessionRow } from './session-groups.js';

export interface SessionListProps {
  /** Sessions listed (filtered and sorted). */
  sessions: readonly ExecSession[];
  /** The rows they make, hops grouped under their exec. */
  rows: readonly SessionRow[];
  /** Every session of the capture (a refused upgrade's fallback may be filtered out). */
  all: readonly ExecSession[];
  /** The capture's gRPC calls: a runtime session is listed with the container and command of its CRI call. */
  rpcs?: readonly RpcCall[];
  selectedId: number | null;
  focused: boolean;
  /** Rows, title included. */
  height: number;
  width: number;
  sort: SortKey;
  filter: string;
  /** Why the filter cannot match (an unknown prefix…), or null. */
  filterError: string | null;
  otherConnections: number;
  /** The capture is still being read: open sessions are live, and more sessions may come. */
  loading: boolean;
  /** Decoding stopped with this error (no more sessions will come), or null. */
  stopped: string | null;
}

interface Columns {
  /** The fold column (`+2`, `−`, `├`), there when some exec has several hops. */
  fold: number;
  target: number;
  command: number;
  start: number;
  hop: number;
}

const KIND: Record<ExecSession['kind'], string> = { exec: 'exec', attach: 'att', portforward: 'pf', execsync: 'sync' };
const FIXED = 2 + 4 + 5 + 9 + 10;
const FOLD = 3;
const MIN_OUTCOME = 14;

/**
 * Column widths for a terminal `width` wide: start time from 100 columns, the hop from 120. Target
 * and command share what is left (the target first) up to what the listed sessions need; the
 * outcome, last, takes the rest.
 */
export function sessionColumns(width: number, need: { target: number; command: number }, folds = false): Columns {
  const fold = folds ? FOLD : 0;
  const start = width >= 100 ? 10 : 0;
  const hop = width >= 120 ? 19 : 0;
  const avail = Math.max(0, width - FIXED - fold - start - hop - MIN_OUTCOME);
  const target = Math.min(need.target + 1, Math.max(8, Math.ceil(avail * 0.6)));
  const command = Math.min(need.command + 1, Math.max(6, avail - target));
  return { fold, target: target - 1, command: command - 1, start, hop };
}

/** Which rows the pane shows: column names when there is room, and rows [first, first + rows) of the list. */
export function sessionListWindow(total: number, selected: number, height: number): { header: boolean; rows: number; first: number } {
  // Column names once there is room for them and two rows, or the one row there is (a pane squeezed to its selected row has none).
  const header = total > 0 && height - 2 >= Math.min(total, 2);
  const rows = Math.max(0, height - 1 - (header ? 1 : 0));
  return { header, rows, first: scrollWindow(total, Math.max(0, selected), rows) };
}

/** Rows [first, first + count) of `total`, keeping `selected` in the middle where possible. */
export function scrollWindow(total: number, selected: number, count: number): number {
  if (total <= count) return 0;
  return Math.min(Math.max(0, selected - Math.floor(count / 2)), total - count);
}

/** The fold column: `+2` two hops folded under this exec, `−` unfolded, ├ └ one of its hops. */
function foldMark(r: SessionRow): string {
  if (r.depth === 1) return r.last ? '└ ' : '├ ';
  if (r.hops < 2) return '  ';
  return r.unfolded ? '− ' : `+${Math.min(9, r.hops - 1)}`;
}

/**
 * The target in `width` cells: without its namespace, then its container, when it does not fit, so the
 * pod shows. A docker session's target is its container: cut short, never dropped.
 */
function fitTarget(s: ExecSession, width: number): string {
  const forms = s.hop === 'docker' ? [targetLabel(s)] : [targetLabel(s), targetLabel({ ...s, namespace: null }), targetLabel({ ...s, namespace: null, container: null })];
  return fitWidth(forms.find((f) => cellWidth(f) <= width) ?? forms[forms.length - 1], width);
}

function sessionRow(r: SessionRow, all: readonly ExecSession[], selected: boolean, focused: boolean, cols: Columns, live: boolean): Segment[] {
  const s = r.session;
  const outcome = sessionOutcome(s, all, live);
  const duration = sessionDuration(s);
  const row: Segment[] = [
    { text: selected ? '▸ ' : '  ', color: 'cyan', bold: true },
    { text: `${fitRight(String(s.id), 3)} `, inverse: selected && focused, bold: selected },
    ...(cols.fold ? [{ text: foldMark(r) + ' ', color: 'cyan' as const }] : []),
    { text: fitWidth(KIND[s.kind], 4) + ' ', dim: true },
    { text: fitTarget(s, cols.target) + ' ', bold: selected },
    { text: fitWidth(commandLabel(s), cols.command) + ' ' },
    { text: fitWidth(protocolLabel(s), 8) + ' ', color: s.transport === 'websocket' ? 'blue' : 'magenta' },
  ];
  if (cols.hop) row.push({ text: fitWidth(hopLabel(s), cols.hop - 1) + ' ', dim: true });
  if (cols.start) row.push({ text: fitRight(formatOffset(s.startTs), cols.start - 1) + ' ', dim: true });
  row.push({ text: fitRight(duration === null ? 'open' : formatDuration(duration), 9) + ' ', color: duration === null ? 'yellow' : undefined });
  row.push({ text: `${severitySymbol(outcome.severity)} ${outcome.text}`, color: severityColor(outcome.severity) });
  return row;
}

/** The column names over the rows, aligned with sessionRow's columns. */
function headerRow(cols: Columns): Segment[] {
  // Short names where a column is narrow: a cut name ("comm…") reads as a typo.
  const name = (full: string, short: string, width: number) => fitWidth(cellWidth(full) <= width ? full : short, width);
  let text = `  ${fitRight('#', 3)} ${' '.repeat(cols.fold)}${fitWidth('kind', 4)} ${name('target', 'pod', cols.target)} ${name('command', 'cmd', cols.command)} ${fitWidth('protocol', 8)} `;
  if (cols.hop) text += fitWidth('hop', cols.hop - 1) + ' ';
  if (cols.start) text += fitRight('start', cols.start - 1) + ' ';
  text += `${fitRight('duration', 9)} outcome`;
  return [{ text, dim: true, bold: true }];
}

export function SessionList(p: SessionListProps) {
  const { header, rows, first } = sessionListWindow(p.rows.length, p.rows.findIndex((r) => r.session.id === p.selectedId), p.height);
  const selected = Math.max(0, p.rows.findIndex((r) => r.session.id === p.selectedId));
  const shownRows = p.rows.slice(first, first + rows).map((r) => ({ ...r, session: asCalled(r.session, p.rpcs ?? []) }));
  const shown = shownRows.map((r) => r.session);
  const cols = sessionColumns(
    p.width,
    { target: Math.max(0, ...shown.map((s) => cellWidth(targetLabel(s)))), command: Math.max(0, ...shown.map((s) => cellWidth(commandLabel(s)))) },
    p.rows.some((r) => r.hops > 1),
  );
  const execs = new Set(p.rows.map((r) => r.head)).size;
  const info: Segment[] = [{ text: `${p.sessions.length}${p.filter ? ` of ${p.all.length}` : ''}${execs < p.sessions.length ? ` · ${plural(execs, 'exec')} (→ hops)` : ''} · by ${p.sort}`, dim: true }];
  if (p.filter) info.push({ text: ` · filter “${p.filter}”`, color: 'yellow' });
  if (p.otherConnections) info.push({ text: ` · ${plural(p.otherConnections, 'other connection')} (c)`, dim: true });
  const lines: Segment[][] = shownRows.map((r, i) => sessionRow(r, p.all, first + i === selected, p.focused, cols, p.loading));
  if (p.sessions.length === 0 && rows > 0) {
    if (p.filterError) lines.push([{ text: `  ✗ ${p.filterError}`, color: 'red' }]);
    else if (p.filter) lines.push([{ text: '  no session matches the filter (esc clears it)', dim: true }]);
    else if (p.stopped) lines.push([{ text: '  no exec session in what was decoded before decoding stopped', dim: true }]);
    else lines.push([{ text: p.loading ? '  no exec session found yet' : '  no exec session found', dim: true }]);
  }
  if (p.height <= 0) return null;
  return (
    <Box flexDirection="column" height={p.height}>
      <PaneTitle title="Sessions" focused={p.focused} info={info} />
      {header ? <Line segments={headerRow(cols)} /> : null}
      {lines.slice(0, rows).map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
