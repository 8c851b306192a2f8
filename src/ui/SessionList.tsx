/** The Sessions pane: one row per exec/attach/port-forward session, the selected one marked ▸. */
import { Box } from 'ink';
import type { RpcCall } from '../model/rpc-call.js';
import type { ExecSession } from '../model/session.js';
import { protocolLabel, hopLabel } from '../report/outcome.js';
import { formatDuration } from '../core/time.js';
import { fitWidth, fitRight, formatOffset } from '../report/format.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { asCalled, commandLabel, sessionDuration, sessionOutcome, targetLabel, type SortKey } from '../report/session-summary.js';
import { severityColor, severitySymbol } from './theme.js';

export interface SessionListProps {
  /** Sessions listed (filtered and sorted). */
  sessions: readonly ExecSession[];
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
  target: number;
  command: number;
  start: number;
  hop: number;
}

const KIND: Record<ExecSession['kind'], string> = { exec: 'exec', attach: 'att', portforward: 'pf', execsync: 'sync' };
const FIXED = 2 + 4 + 5 + 9 + 10;
const MIN_OUTCOME = 14;

/**
 * Column widths for a terminal `width` wide: start time from 100 columns, the hop from 120. Target
 * and command share what is left (the target first) up to what the listed sessions need; the
 * outcome, last, takes the rest.
 */
export function sessionColumns(width: number, need: { target: number; command: number }): Columns {
  const start = width >= 100 ? 10 : 0;
  const hop = width >= 120 ? 19 : 0;
  const avail = Math.max(0, width - FIXED - start - hop - MIN_OUTCOME);
  const target = Math.min(need.target + 1, Math.max(8, Math.ceil(avail * 0.6)));
  const command = Math.min(need.command + 1, Math.max(6, avail - target));
  return { target: target - 1, command: command - 1, start, hop };
}

/** Rows [first, first + count) of `total`, keeping `selected` in the middle where possible. */
export function scrollWindow(total: number, selected: number, count: number): number {
  if (total <= count) return 0;
  return Math.min(Math.max(0, selected - Math.floor(count / 2)), total - count);
}

function sessionRow(s: ExecSession, all: readonly ExecSession[], selected: boolean, focused: boolean, cols: Columns, live: boolean): Segment[] {
  const outcome = sessionOutcome(s, all, live);
  const duration = sessionDuration(s);
  const row: Segment[] = [
    { text: selected ? '▸ ' : '  ', color: 'cyan', bold: true },
    { text: `${fitRight(String(s.id), 3)} `, inverse: selected && focused, bold: selected },
    { text: fitWidth(KIND[s.kind], 4) + ' ', dim: true },
    { text: fitWidth(targetLabel(s), cols.target) + ' ', bold: selected },
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
  let text = `  ${fitRight('#', 3)} ${fitWidth('kind', 4)} ${fitWidth('target', cols.target)} ${fitWidth('command', cols.command)} ${fitWidth('protocol', 8)} `;
  if (cols.hop) text += fitWidth('hop', cols.hop - 1) + ' ';
  if (cols.start) text += fitRight('start', cols.start - 1) + ' ';
  text += `${fitRight('duration', 9)} outcome`;
  return [{ text, dim: true, bold: true }];
}

export function SessionList(p: SessionListProps) {
  // Column names once there is room for them and two rows (a pane squeezed to its selected row has none).
  const header = p.height >= 4 && p.sessions.length > 0;
  const rows = Math.max(0, p.height - 1 - (header ? 1 : 0));
  const selected = Math.max(0, p.sessions.findIndex((s) => s.id === p.selectedId));
  const first = scrollWindow(p.sessions.length, selected, rows);
  const shown = p.sessions.slice(first, first + rows).map((s) => asCalled(s, p.rpcs ?? []));
  const cols = sessionColumns(p.width, {
    target: Math.max(0, ...shown.map((s) => targetLabel(s).length)),
    command: Math.max(0, ...shown.map((s) => commandLabel(s).length)),
  });
  const info: Segment[] = [{ text: `${p.sessions.length}${p.filter ? ` of ${p.all.length}` : ''} · by ${p.sort}`, dim: true }];
  if (p.filter) info.push({ text: ` · filter “${p.filter}”`, color: 'yellow' });
  if (p.otherConnections) info.push({ text: ` · ${p.otherConnections} other connections (c)`, dim: true });
  const lines: Segment[][] = shown.map((s, i) => sessionRow(s, p.all, first + i === selected, p.focused, cols, p.loading));
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
