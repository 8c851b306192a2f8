/**
 * The timeline's lanes for one session (upgrade, one per k8s stream, control) and how each lane's
 * events fall into the columns of the current view.
 */
import type { Direction } from '../core/origin.js';
import type { ControlEvent, ConnectionRecord, ExecSession, StreamEvent, StreamRecord } from '../model/session.js';
import { formatBytes, formatOffset } from '../report/format.js';
import { sessionOutcome, type Severity } from '../report/session-summary.js';
import { safeInline } from '../report/terminal-text.js';
import { requestEvent } from '../explain/walk.js';
import { columnOf, lastColumnBefore, toAxis, type TimeAxis, type Viewport } from './time-axis.js';

export type LaneKind = 'upgrade' | 'stream' | 'control';

/** One selectable event on a lane. */
export interface TimelineItem {
  ts: number;
  /** Payload bytes (stream data), 0 otherwise. */
  length: number;
  event: StreamEvent | ControlEvent;
}

export interface Lane {
  key: string;
  label: string;
  kind: LaneKind;
  stream: StreamRecord | null;
  items: TimelineItem[];
  /** Columns between these times get the lane's line (the stream exists then); null: no line. */
  lineFrom: number | null;
  lineTo: number | null;
  /** Short note drawn after the lane (bytes, closed, outcome). */
  note: string;
  noteSeverity: Severity;
}

const STREAM_ORDER = ['stdin', 'stdout', 'stderr', 'error', 'resize'];
const UPGRADE_KINDS = new Set<ControlEvent['kind']>(['request', 'upgrade']);

export function isStreamEvent(e: StreamEvent | ControlEvent): e is StreamEvent {
  return 'streamOffset' in e;
}

/** The last time anything happened in the session (its end, or its last event while open). */
export function sessionEnd(s: ExecSession): number {
  let end = Math.max(s.startTs, s.endTs ?? s.startTs, s.upgradeTs ?? s.startTs);
  for (const c of s.control) end = Math.max(end, c.ts);
  for (const r of s.streams) {
    const last = r.events[r.events.length - 1];
    if (last) end = Math.max(end, last.ts);
  }
  return end;
}

function streamRank(name: string): number {
  const i = STREAM_ORDER.indexOf(name);
  return i < 0 ? STREAM_ORDER.length : i;
}

function streamNote(s: ExecSession, r: StreamRecord, all: readonly ExecSession[]): { note: string; severity: Severity } {
  if (r.name === 'error') {
    if (s.exit || s.state !== 'open-at-end') {
      const o = sessionOutcome(s, all);
      return { note: o.text, severity: o.severity };
    }
    return { note: 'no status yet', severity: 'warn' };
  }
  if (r.name === 'resize') {
    const last = s.resizes[s.resizes.length - 1];
    return { note: last ? `${last.width}×${last.height}${s.resizes.length > 1 ? ` (${s.resizes.length})` : ''}` : formatBytes(r.bytes), severity: 'info' };
  }
  const parts = [formatBytes(r.bytes)];
  let severity: Severity = 'info';
  const closed = r.closedAt[r.dataDir];
  if (r.resetAt !== null) {
    parts.push(`reset ${formatOffset(r.resetAt - s.startTs)}`);
  } else if (closed !== null) {
    parts.push(`closed ${formatOffset(closed - s.startTs)}`);
  } else if (r.name === 'stdin' && r.bytes > 0 && s.state !== 'complete') {
    parts.push('never closed');
    severity = 'warn';
  }
  if (r.eventsDropped > 0) parts.push(`${r.eventsDropped} events not kept`);
  return { note: parts.join(' · '), severity };
}

function controlNote(items: readonly TimelineItem[]): string {
  const counts = new Map<string, number>();
  for (const it of items) counts.set(it.event.kind, (counts.get(it.event.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(' · ');
}

/**
 * Lanes in the order the design shows them. The request and upgrade answer form the upgrade lane
 * (the request is taken from the session when the pipeline did not record it as a control event).
 */
export function buildLanes(s: ExecSession, all: readonly ExecSession[]): Lane[] {
  const end = sessionEnd(s);
  const upgradeItems: TimelineItem[] = [];
  const controlItems: TimelineItem[] = [];
  for (const c of s.control) (UPGRADE_KINDS.has(c.kind) ? upgradeItems : controlItems).push({ ts: c.ts, length: 0, event: c });
  if (!upgradeItems.some((i) => i.event.kind === 'request')) {
    const request = requestEvent(s);
    upgradeItems.unshift({ ts: request.ts, length: 0, event: request });
  }
  upgradeItems.sort((a, b) => a.ts - b.ts);
  const upgradeNote = s.httpStatus === null ? 'no answer' : `${s.httpStatus} ${safeInline(s.protocol)}`.trim();
  const lanes: Lane[] = [
    {
      key: 'upgrade',
      label: 'upgrade',
      kind: 'upgrade',
      stream: null,
      items: upgradeItems,
      lineFrom: null,
      lineTo: null,
      note: upgradeNote,
      noteSeverity: s.state === 'upgrade-failed' ? 'error' : 'info',
    },
  ];
  const streams = [...s.streams].sort((a, b) => streamRank(a.name) - streamRank(b.name) || a.id - b.id);
  for (const r of streams) {
    const first = r.events[0]?.ts ?? null;
    const from = r.openedAt ?? first ?? s.upgradeTs;
    const ends = [r.closedAt[r.dataDir], r.resetAt].filter((t): t is number => t !== null);
    const to = ends.length ? Math.min(...ends) : end;
    const { note, severity } = streamNote(s, r, all);
    lanes.push({
      key: `stream:${r.name}`,
      label: safeInline(r.name),
      kind: 'stream',
      stream: r,
      items: r.events.map((e) => ({ ts: e.ts, length: e.kind === 'data' ? e.length : 0, event: e })),
      lineFrom: from,
      lineTo: from === null ? null : Math.max(from, to),
      note,
      noteSeverity: severity,
    });
  }
  lanes.push({
    key: 'control',
    label: 'control',
    kind: 'control',
    stream: null,
    items: controlItems,
    lineFrom: null,
    lineTo: null,
    note: controlNote(controlItems),
    noteSeverity: controlItems.some((i) => i.event.kind === 'rst' || i.event.kind === 'gap') ? 'warn' : 'info',
  });
  return lanes;
}

/** Times that count as activity for idle compression: everything but keepalives and flow control. */
export function activityTimes(lanes: readonly Lane[]): number[] {
  const out: number[] = [];
  for (const lane of lanes) {
    for (const it of lane.items) {
      const k = it.event.kind;
      if (k !== 'ping' && k !== 'pong' && k !== 'window-update') out.push(it.ts);
    }
  }
  return out;
}

export interface GapMark {
  ts: number;
  dir: Direction;
}

/** TCP gaps on the session's connection and gap events the session recorded, with their direction. */
export function gapMarks(s: ExecSession, connections: readonly ConnectionRecord[]): GapMark[] {
  const out: GapMark[] = s.control.filter((c) => c.kind === 'gap').map((c) => ({ ts: c.ts, dir: c.dir }));
  const conn = connections.find((c) => c.id === s.connectionId);
  for (const g of conn?.gaps ?? []) if (!out.some((m) => m.ts === g.ts && m.dir === g.dir)) out.push({ ts: g.ts, dir: g.dir });
  return out;
}

export type CellMark = 'none' | 'line' | 'idle' | 'data' | 'open' | 'reply' | 'close' | 'reset' | 'point' | 'gap' | 'more-left' | 'more-right';

export interface LaneCell {
  mark: CellMark;
  /** Glyph for points (control kinds) and data volume. */
  glyph: string;
  bytes: number;
  count: number;
  selected: boolean;
}

const MARK_RANK: Record<CellMark, number> = {
  none: 0,
  line: 1,
  idle: 2,
  'more-left': 3,
  'more-right': 3,
  point: 4,
  reply: 5,
  open: 6,
  data: 7,
  close: 8,
  gap: 9,
  reset: 10,
};

/** A control event's glyph by kind (● for any other); the help's legend names each (test/ui/panes.test.tsx). */
export const CONTROL_GLYPHS: Partial<Record<string, string>> = {
  ping: '•',
  pong: '∘',
  'window-update': '+',
  settings: '≡',
  rst: '✕',
  goaway: '⊘',
  close: '⊘',
  gap: '╳',
  request: '○',
  upgrade: '●',
  poll: '?',
};

export const STATIC_GLYPHS: Record<CellMark, string> = {
  none: ' ',
  line: '─',
  idle: '≈',
  data: '▪',
  open: '├',
  reply: '┼',
  close: '┤',
  reset: '✕',
  point: '●',
  gap: '┆',
  'more-left': '◂',
  'more-right': '▸',
};

export const SELECTED_GLYPH = '◉';

function markOf(item: TimelineItem): { mark: CellMark; glyph: string } {
  const k = item.event.kind;
  if (!isStreamEvent(item.event)) return { mark: k === 'rst' ? 'reset' : k === 'gap' ? 'gap' : 'point', glyph: CONTROL_GLYPHS[k] ?? '●' };
  if (k === 'data') return { mark: 'data', glyph: STATIC_GLYPHS.data };
  if (k === 'half-close') return { mark: 'close', glyph: STATIC_GLYPHS.close };
  if (k === 'reset') return { mark: 'reset', glyph: STATIC_GLYPHS.reset };
  if (k === 'established') return { mark: 'point', glyph: '●' };
  if (k === 'reply') return { mark: 'reply', glyph: STATIC_GLYPHS.reply };
  return { mark: 'open', glyph: STATIC_GLYPHS.open };
}

/** Volume glyph for a data cell: three steps on a log scale of the busiest cell in view. */
export function volumeGlyph(bytes: number, maxBytes: number): string {
  if (bytes <= 0) return '∘';
  if (maxBytes <= 1) return '▪';
  const level = Math.log(bytes + 1) / Math.log(maxBytes + 1);
  return level > 2 / 3 ? '█' : level > 1 / 3 ? '■' : '▪';
}

/**
 * The lane's cells for a view `width` columns wide: its line where the stream exists (≈ inside
 * compressed stretches), its events binned by column (data summed), TCP gaps, arrows where events
 * lie outside the view, and the selected item.
 */
export function binLane(
  lane: Lane,
  axis: TimeAxis,
  view: Viewport,
  width: number,
  selected: TimelineItem | null,
  gaps: readonly GapMark[],
): LaneCell[] {
  const cells: LaneCell[] = Array.from({ length: width }, () => ({ mark: 'none', glyph: ' ', bytes: 0, count: 0, selected: false }));
  if (width <= 0) return cells;
  const set = (col: number, mark: CellMark, glyph: string) => {
    const c = cells[col];
    if (MARK_RANK[mark] >= MARK_RANK[c.mark]) {
      c.mark = mark;
      c.glyph = glyph;
    }
  };
  if (lane.lineFrom !== null && lane.lineTo !== null) {
    const a = Math.max(0, columnOf(view, width, toAxis(axis, lane.lineFrom)));
    const b = Math.min(width - 1, columnOf(view, width, toAxis(axis, lane.lineTo)));
    for (let col = a; col <= b; col++) set(col, 'line', STATIC_GLYPHS.line);
    for (const seg of axis.segments) {
      if (!seg.idle) continue;
      const c0 = columnOf(view, width, seg.u0);
      const i0 = Math.max(a, c0);
      const i1 = Math.min(b, Math.max(c0, lastColumnBefore(view, width, seg.u1)));
      for (let col = i0; col <= i1; col++) set(col, 'idle', STATIC_GLYPHS.idle);
    }
    if (lane.stream) {
      // Bytes missing in one direction break the lines of the streams flowing that way.
      for (const g of gaps) {
        if (g.dir !== lane.stream.dataDir) continue;
        const col = columnOf(view, width, toAxis(axis, g.ts));
        if (col >= a && col <= b) set(col, 'gap', STATIC_GLYPHS.gap);
      }
    }
  }
  let before = false;
  let after = false;
  for (const it of lane.items) {
    const col = columnOf(view, width, toAxis(axis, it.ts));
    if (col < 0) before = true;
    else if (col >= width) after = true;
    else {
      const c = cells[col];
      c.count++;
      c.bytes += it.length;
      const { mark, glyph } = markOf(it);
      set(col, mark, glyph);
      if (it === selected) c.selected = true;
    }
  }
  if (before) set(0, 'more-left', STATIC_GLYPHS['more-left']);
  if (after) set(width - 1, 'more-right', STATIC_GLYPHS['more-right']);
  return cells;
}

/** Largest data volume in any cell of these lanes, for a shared volume scale. */
export function maxCellBytes(rows: readonly LaneCell[][]): number {
  let max = 0;
  for (const row of rows) for (const c of row) if (c.mark === 'data' && c.bytes > max) max = c.bytes;
  return max;
}

/** Glyph a cell is drawn with, given the shared volume scale. */
export function cellGlyph(cell: LaneCell, maxBytes: number): string {
  if (cell.selected) return SELECTED_GLYPH;
  if (cell.mark === 'data') return volumeGlyph(cell.bytes, maxBytes);
  return cell.glyph;
}

/** Default selection for a session: its first stdout data event, else the first data event, else the first event. */
export function defaultSelection(lanes: readonly Lane[]): { lane: number; item: number } {
  const firstData = (lane: Lane) => lane.items.findIndex((i) => i.event.kind === 'data');
  const stdout = lanes.findIndex((l) => l.stream?.name === 'stdout' && firstData(l) >= 0);
  if (stdout >= 0) return { lane: stdout, item: firstData(lanes[stdout]) };
  const any = lanes.findIndex((l) => firstData(l) >= 0);
  if (any >= 0) return { lane: any, item: firstData(lanes[any]) };
  const withItems = lanes.findIndex((l) => l.items.length > 0);
  return { lane: Math.max(0, withItems), item: withItems >= 0 ? 0 : -1 };
}

/** Index of the item closest in time to ts (-1 when there is none). */
export function nearestItem(items: readonly { ts: number }[], ts: number): number {
  let best = -1;
  let bestDist = Infinity;
  for (let i = 0; i < items.length; i++) {
    const d = Math.abs(items[i].ts - ts);
    if (d < bestDist) {
      best = i;
      bestDist = d;
    }
  }
  return best;
}

/** One-line title of an item: "stdout data 21 B", "ping · PING 1", "stdin half-close (v5 CLOSE signal)". */
export function itemTitle(lane: Lane, item: TimelineItem): string {
  const e = item.event;
  if (!isStreamEvent(e)) return `${e.kind} · ${safeInline(e.detail)}`;
  const detail = e.detail ? ` (${safeInline(e.detail)})` : '';
  if (e.kind === 'data') return `${lane.label} data ${formatBytes(e.length)}`;
  return `${lane.label} ${e.kind}${detail}`;
}
