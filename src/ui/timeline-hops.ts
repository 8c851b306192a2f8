/**
 * An exec's hops on the Timeline: one row per hop (kubectl→apiserver, apiserver→kubelet,
 * kubelet→runtime) on the axis the lanes share, drawn from the doctor's hopProgress (model/cross-hop),
 * so that where the bytes stopped — the first hop that carried less than the one behind it — shows.
 */
import { formatDuration } from '../core/time.js';
import type { HopProgress, hopProgress } from '../model/cross-hop.js';
import type { ExecSession } from '../model/session.js';
import { formatBytes } from '../report/format.js';
import { columnOf, toAxis, type TimeAxis, type Viewport } from './time-axis.js';
import { sessionEnd } from './timeline-lanes.js';

export interface HopRow {
  progress: HopProgress;
  session: ExecSession;
  /** What did not cross this hop when it is where the bytes stopped, else null. */
  stopped: string | null;
  /** The hop whose lanes the Timeline shows. */
  current: boolean;
}

/** The hops of hopProgress(all, current) as Timeline rows, nearest kubectl first. */
export function timelineHops(chain: ReturnType<typeof hopProgress>, all: readonly ExecSession[], current: ExecSession | null): HopRow[] {
  return chain.hops.flatMap((progress) => {
    const session = all.find((s) => s.id === progress.session);
    if (!session) return [];
    const stopped = chain.stopped && chain.stopped.after === session.id ? chain.stopped.what : null;
    return [{ progress, session, stopped, current: session === current }];
  });
}

/** From the first hop's request to the last hop's end: the axis the exec's hops share. */
export function hopSpan(rows: readonly HopRow[]): { start: number; end: number } {
  return { start: Math.min(...rows.map((r) => r.session.startTs)), end: Math.max(...rows.map((r) => sessionEnd(r.session))) };
}

/** The times a hop's row marks: request, 101, first output, Status, end. */
export function hopTimes(row: HopRow): number[] {
  const p = row.progress;
  const s = row.session;
  return [s.startTs, p.setupNs === null ? null : s.startTs + p.setupNs, p.firstOutputTs, p.statusTs, sessionEnd(s)].filter((t): t is number => t !== null);
}

const HOP_NAMES: Record<ExecSession['hop'], string> = { apiserver: 'apisrv', kubelet: 'kubelet', cri: 'runtime', docker: 'dockerd' };

/** The row's label: the server this hop reached. */
export function hopName(row: HopRow): string {
  return HOP_NAMES[row.session.hop];
}

/** The row's cells: ─ while the hop is open, ○ request, ● 101, ▪ first output, █ Status, ┤ end (✕ where the bytes stopped). */
export function hopCells(row: HopRow, axis: TimeAxis, view: Viewport, width: number): string {
  const cells = Array.from({ length: width }, () => ' ');
  const col = (ts: number) => columnOf(view, width, toAxis(axis, ts));
  const put = (ts: number | null, glyph: string) => {
    if (ts === null) return;
    const c = col(ts);
    if (c >= 0 && c < width) cells[c] = glyph;
  };
  const s = row.session;
  const p = row.progress;
  for (let c = Math.max(0, col(s.startTs)); c <= Math.min(width - 1, col(sessionEnd(s))); c++) cells[c] = '─';
  put(sessionEnd(s), '┤');
  put(s.startTs, '○');
  put(p.setupNs === null ? null : s.startTs + p.setupNs, '●');
  put(p.firstOutputTs, '▪');
  put(p.statusTs, '█');
  // Where the bytes stopped is the mark that must not be hidden.
  if (row.stopped) put(sessionEnd(s), '✕');
  return cells.join('');
}

/** "#2 · 101 after 3.2 ms · 35 B out · Status", or what stopped at this hop. */
export function hopNote(row: HopRow): string {
  if (row.stopped) return `#${row.session.id} ✗ stopped here: ${row.stopped}`;
  const p = row.progress;
  return [`#${row.session.id}`, p.setupNs === null ? 'no 101' : `101 after ${formatDuration(p.setupNs)}`, `${formatBytes(p.outputBytes)} out`, p.statusTs === null ? 'no Status' : 'Status'].join(' · ');
}
