/**
 * The Timeline pane: one lane per stream plus upgrade and control lanes on a shared time axis.
 * A hang shows as a long flat lane; ≈ marks compressed quiet stretches, ┆ TCP gaps, ◉ the
 * selected event.
 */
import { Box } from 'ink';
import type { Finding } from '../diagnose/diagnose.js';
import type { ExecSession } from '../model/session.js';
import { formatDuration } from '../core/time.js';
import { fitMiddle, fitWidth } from '../report/terminal-cells.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { scrollWindow } from './SessionList.js';
import type { Outcome } from '../report/session-summary.js';
import { severityColor, severitySymbol, streamColor, type InkColor } from './theme.js';
import { axisTicks, idleColumns, type TimeAxis, type Viewport } from './time-axis.js';
import { hopCells, hopName, hopNote, type HopRow } from './timeline-hops.js';
import { binLane, cellGlyph, maxCellBytes, type GapMark, type Lane, type LaneCell, type TimelineItem } from './timeline-lanes.js';

export interface TimelineProps {
  session: ExecSession;
  /** Ids of the same exec on each hop in the capture, nearest kubectl first (cross-hop links). */
  /** The exec's chain across hops (`#1`, `CRI Exec OK 3 ms`, `#3`), empty when it crossed one hop. */
  hops: readonly string[];
  /** The exec's hops on the shared axis, one row each (none when it crossed one hop). */
  hopRows?: readonly HopRow[];
  /** The hang doctor's worst finding, named in the title (d shows them all). */
  finding: Finding | null;
  outcome: Outcome;
  lanes: readonly Lane[];
  axis: TimeAxis;
  view: Viewport;
  gaps: readonly GapMark[];
  selectedLane: number;
  selectedItem: TimelineItem | null;
  compressIdle: boolean;
  focused: boolean;
  height: number;
  width: number;
}

export const LABEL_WIDTH = 10;

/**
 * Columns left for the lane cells once the label and note columns are taken. From 160 columns the
 * notes get up to 48 columns, so a hop's "#3 · 101 after 28 µs · 684 KiB out · no Status" is whole.
 */
export function timelineGeometry(width: number): { cells: number; note: number } {
  const note = Math.max(8, width >= 160 ? Math.min(48, Math.floor(width * 0.3)) : Math.min(30, Math.floor(width * 0.22)));
  return { cells: Math.max(10, width - LABEL_WIDTH - note - 1), note };
}

function cellStyle(cell: LaneCell, color: InkColor): Omit<Segment, 'text'> {
  if (cell.selected) return { color, bold: true, inverse: true };
  switch (cell.mark) {
    case 'line':
    case 'idle':
    case 'none':
      return { dim: true };
    case 'more-left':
    case 'more-right':
      return { color: 'cyan' };
    case 'reset':
      return { color: 'red', bold: true };
    case 'gap':
      return { color: 'yellow', bold: true };
    case 'close':
      return { color, bold: true };
    default:
      return { color };
  }
}

/** Runs of equally styled cells as segments. */
function cellSegments(cells: readonly LaneCell[], maxBytes: number, color: InkColor): Segment[] {
  const out: Segment[] = [];
  let key = '';
  for (const cell of cells) {
    const style = cellStyle(cell, color);
    const k = JSON.stringify(style);
    const glyph = cellGlyph(cell, maxBytes);
    if (k === key) out[out.length - 1].text += glyph;
    else out.push({ text: glyph, ...style });
    key = k;
  }
  return out;
}

/** The axis row: tick labels at their columns, ≈ over compressed stretches with how long they were. */
export function axisRow(axis: TimeAxis, view: Viewport, width: number, origin: number): string {
  const row = Array.from({ length: width }, () => ' ');
  for (const idle of idleColumns(axis, view, width)) {
    for (let c = idle.from; c <= idle.to; c++) row[c] = '≈';
  }
  for (const t of axisTicks(axis, view, width, origin)) {
    for (let i = 0; i < t.label.length; i++) row[t.column + i] = t.label[i];
  }
  return row.join('');
}

/** Rows under the title: the hop rows first (where a lane fits besides them), then lanes [first, first + laneRows), then the axis. */
export function timelineWindow(height: number, hopCount: number, laneCount: number, selectedLane: number): { hops: number; laneRows: number; first: number } {
  const hops = height - 2 > hopCount ? hopCount : 0;
  const laneRows = Math.max(0, height - 2 - hops);
  return { hops, laneRows, first: scrollWindow(laneCount, selectedLane, laneRows) };
}

export function Timeline(p: TimelineProps) {
  if (p.height <= 0) return null;
  const { cells: width, note } = timelineGeometry(p.width);
  const hopRows = p.hopRows ?? [];
  const { hops: hopCount, laneRows, first } = timelineWindow(p.height, hopRows.length, p.lanes.length, p.selectedLane);
  const hopShown = hopRows.slice(0, hopCount);
  // An exec's hops share one axis, timed from the first hop's request; a lone session from its own start.
  const axisOrigin = hopRows.length ? p.axis.start : p.session.startTs;
  const shown = p.lanes.slice(first, first + laneRows);
  const binned = shown.map((lane) => binLane(lane, p.axis, p.view, width, p.selectedItem, p.gaps));
  const maxBytes = maxCellBytes(binned);
  const zoom = p.axis.length / (p.view.to - p.view.from);
  const quiet = p.axis.segments.filter((s) => s.idle).reduce((n, s) => n + (s.t1 - s.t0), 0);
  const info: Segment[] = [{ text: `#${p.session.id}`, dim: true }];
  // The doctor's verdict first: the outcome text after it may be long and get cut.
  if (p.finding && p.finding.severity !== 'info') info.push({ text: ` · ${p.finding.rule} ${p.finding.title} (d)`, color: severityColor(p.finding.severity), bold: true });
  info.push({ text: ` · ${severitySymbol(p.outcome.severity)} ${p.outcome.text}`, color: severityColor(p.outcome.severity) });
  if (p.hops.length > 1) info.push({ text: ` · hops ${p.hops.join('→')}`, dim: true });
  // Lanes the pane has no room for would otherwise go unseen: a stream the session had looks absent.
  if (laneRows > 0 && laneRows < p.lanes.length) info.push({ text: ` · lanes ${first + 1}–${first + laneRows} of ${p.lanes.length} (↑↓)`, dim: true });
  // The axis row's note column says how the axis is drawn: zoom, compressed idle time, span.
  const axisNote = [
    zoom > 1.001 ? `zoom ${zoom < 10 ? zoom.toFixed(1) : Math.round(zoom)}×` : '',
    p.compressIdle ? (quiet > 0 ? `≈ ${formatDuration(quiet)}` : 'nothing to ≈') : '',
    formatDuration(p.axis.end - p.axis.start),
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <Box flexDirection="column" height={p.height}>
      <PaneTitle title="Timeline" focused={p.focused} info={info} />
      {hopShown.map((h) => (
        <Line
          key={`hop:${h.session.id}`}
          segments={[
            { text: h.current ? '▹' : ' ', color: 'cyan', bold: true },
            { text: fitMiddle(hopName(h), LABEL_WIDTH - 2) + ' ', bold: h.current, dim: !h.current },
            { text: hopCells(h, p.axis, p.view, width), color: h.stopped ? 'red' : undefined, dim: !h.current && !h.stopped },
            { text: ' ' + fitWidth(hopNote(h), note), color: h.stopped ? 'red' : undefined, dim: !h.stopped },
          ]}
        />
      ))}
      {shown.map((lane, i) => {
        const color = streamColor(lane.kind === 'stream' ? (lane.stream?.name ?? '') : lane.kind);
        const selected = first + i === p.selectedLane;
        const segments: Segment[] = [
          { text: selected ? '▸' : ' ', color: 'cyan', bold: true },
          { text: fitMiddle(lane.label, LABEL_WIDTH - 2) + ' ', color, bold: selected },
          ...cellSegments(binned[i], maxBytes, color),
          { text: ' ' + fitWidth(lane.note, note), color: severityColor(lane.noteSeverity), dim: lane.noteSeverity === 'info' },
        ];
        return <Line key={lane.key} segments={segments} />;
      })}
      {laneRows > 0 ? (
        <Line
          segments={[
            { text: ' '.repeat(LABEL_WIDTH) + axisRow(p.axis, p.view, width, axisOrigin) + ' ', dim: true },
            { text: fitWidth(axisNote, note), color: zoom > 1.001 || p.compressIdle ? 'cyan' : undefined, dim: !(zoom > 1.001 || p.compressIdle) },
          ]}
        />
      ) : null}
    </Box>
  );
}
