/**
 * The timeline's shared time axis. Times (ns since capture origin) map to axis units; the axis is
 * linear, except that with idle compression each long quiet stretch shrinks to a few columns
 * while active stretches keep their scale, so tick steps stay the same everywhere. A viewport is a
 * window [from, to) in axis units that zoom and pan move; columns are linear in axis units.
 */
import { durationUnit } from '../core/time.js';

export interface AxisSegment {
  t0: number;
  t1: number;
  u0: number;
  u1: number;
  /** A compressed quiet stretch. */
  idle: boolean;
}

export interface TimeAxis {
  start: number;
  end: number;
  segments: AxisSegment[];
  /** Total length in axis units. */
  length: number;
}

export interface Viewport {
  from: number;
  to: number;
}

/** A quiet stretch is compressed when longer than this and than IDLE_FRACTION of the span. */
export const IDLE_MIN_NS = 1e9;
const IDLE_FRACTION = 0.05;
/** Columns a compressed stretch takes at full view. */
export const IDLE_COLUMNS = 3;
/** Narrowest viewport: 1 µs. */
const MIN_SPAN = 1000;

/**
 * Axis over [start, end]. `activity` are the times that count as activity for idle detection
 * (data and lifecycle events; keepalives do not make a hang less of a hang). `columns` is the
 * width the full view is drawn at, so a compressed stretch takes IDLE_COLUMNS there.
 */
export function buildTimeAxis(start: number, end: number, activity: readonly number[], compressIdle: boolean, columns: number): TimeAxis {
  if (!(end > start)) end = start + MIN_SPAN;
  const span = end - start;
  const linear: TimeAxis = { start, end, segments: [{ t0: start, t1: end, u0: 0, u1: span, idle: false }], length: span };
  if (!compressIdle) return linear;
  const points = [start, ...activity.filter((t) => t > start && t < end), end].sort((a, b) => a - b);
  const threshold = Math.max(IDLE_MIN_NS, span * IDLE_FRACTION);
  const quiet: [number, number][] = [];
  let active = 0;
  for (let i = 1; i < points.length; i++) {
    const gap = points[i] - points[i - 1];
    if (gap > threshold) quiet.push([points[i - 1], points[i]]);
    else active += gap;
  }
  if (quiet.length === 0) return linear;
  const activeColumns = Math.max(columns - IDLE_COLUMNS * quiet.length, Math.ceil(columns / 2), 1);
  const idleLength = IDLE_COLUMNS * Math.max(active / activeColumns, 1);
  const segments: AxisSegment[] = [];
  let t = start;
  let u = 0;
  for (const [q0, q1] of quiet) {
    if (q0 > t) {
      segments.push({ t0: t, t1: q0, u0: u, u1: u + (q0 - t), idle: false });
      u += q0 - t;
    }
    segments.push({ t0: q0, t1: q1, u0: u, u1: u + idleLength, idle: true });
    u += idleLength;
    t = q1;
  }
  if (end > t) {
    segments.push({ t0: t, t1: end, u0: u, u1: u + (end - t), idle: false });
    u += end - t;
  }
  return { start, end, segments, length: u };
}

function segmentAt<K extends 't0' | 'u0'>(axis: TimeAxis, key: K, value: number): AxisSegment {
  const segs = axis.segments;
  let lo = 0;
  let hi = segs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[mid][key] <= value) lo = mid;
    else hi = mid - 1;
  }
  return segs[lo];
}

/** Axis position of time t (linear beyond both ends). */
export function toAxis(axis: TimeAxis, t: number): number {
  if (t <= axis.start) return t - axis.start;
  if (t >= axis.end) return axis.length + (t - axis.end);
  const s = segmentAt(axis, 't0', t);
  if (!s.idle) return s.u0 + (t - s.t0);
  return s.u0 + ((t - s.t0) / (s.t1 - s.t0)) * (s.u1 - s.u0);
}

/** Time at axis position u (inverse of toAxis). */
export function toTime(axis: TimeAxis, u: number): number {
  if (u <= 0) return axis.start + u;
  if (u >= axis.length) return axis.end + (u - axis.length);
  const s = segmentAt(axis, 'u0', u);
  if (!s.idle) return s.t0 + (u - s.u0);
  return s.t0 + ((u - s.u0) / (s.u1 - s.u0)) * (s.t1 - s.t0);
}

export function fullView(axis: TimeAxis): Viewport {
  return { from: 0, to: axis.length };
}

function clampView(axis: TimeAxis, from: number, span: number): Viewport {
  span = Math.min(Math.max(span, Math.min(MIN_SPAN, axis.length)), axis.length);
  from = Math.min(Math.max(from, 0), axis.length - span);
  return { from, to: from + span };
}

/** Zoom by `factor` (>1 in, <1 out) keeping axis position `center` where it is on screen. */
export function zoomView(axis: TimeAxis, view: Viewport, factor: number, center: number): Viewport {
  const span = view.to - view.from;
  const next = Math.min(Math.max(span / factor, Math.min(MIN_SPAN, axis.length)), axis.length);
  const c = Math.min(Math.max(center, view.from), view.to);
  return clampView(axis, c - ((c - view.from) * next) / span, next);
}

/** Pan by a fraction of the visible span (negative: towards earlier times). */
export function panView(axis: TimeAxis, view: Viewport, fraction: number): Viewport {
  const span = view.to - view.from;
  return clampView(axis, view.from + span * fraction, span);
}

/** The view moved just enough to show axis position u (a margin of 1/8 of the span), or the same view. */
export function revealInView(axis: TimeAxis, view: Viewport, u: number): Viewport {
  if (u >= view.from && u <= view.to) return view;
  const span = view.to - view.from;
  const margin = span / 8;
  return clampView(axis, u < view.from ? u - margin : u + margin - span, span);
}

/** Column (0-based, may fall outside [0, width)) that axis position u is drawn in. */
export function columnOf(view: Viewport, width: number, u: number): number {
  if (u === view.to) return width - 1;
  return Math.floor(((u - view.from) / (view.to - view.from)) * width);
}

/** Last column that starts before axis position u (the column a stretch ending at u ends in). */
export function lastColumnBefore(view: Viewport, width: number, u: number): number {
  return Math.ceil(((u - view.from) / (view.to - view.from)) * width) - 1;
}

export interface Tick {
  column: number;
  label: string;
}

const SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** Smallest readable step (1-2-5 below a second, clock steps above) that is at least `raw` ns. */
export function niceStep(raw: number): number {
  if (raw >= 1e9) {
    const s = SECOND_STEPS.find((x) => x * 1e9 >= raw);
    return s !== undefined ? s * 1e9 : Math.ceil(raw / 86400e9) * 86400e9;
  }
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Tick label for a time relative to the axis origin, with as many decimals as the step needs. */
export function tickLabel(rel: number, step: number): string {
  if (rel === 0) return '0';
  const sign = rel < 0 ? '-' : '';
  const a = Math.abs(rel);
  if (step >= 60e9) {
    const total = Math.round(a / 1e9);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (h > 0) return `${sign}${h}h${m ? `${m}m` : ''}`;
    return `${sign}${m}m${s ? `${s}s` : ''}`;
  }
  // The time's own unit, as durations are written everywhere ("4.5056ms", not "4505600ns"; "1.4s", not
  // "1400ms"), past 2 minutes still seconds (steps of a minute and more are the clock's, above); as many
  // decimals as tell one step from the next.
  const unit = durationUnit(a) ?? { name: 's', ns: 1e9 };
  const decimals = Math.max(0, Math.ceil(-Math.log10(step / unit.ns) - 1e-9));
  return `${sign}${(a / unit.ns).toFixed(decimals)}${unit.name}`;
}

/**
 * Ticks for a view `width` columns wide, times relative to `origin`, at least `spacing` columns
 * apart so labels do not touch. Compressed stretches get no ticks (they are drawn as breaks).
 */
export function axisTicks(axis: TimeAxis, view: Viewport, width: number, origin: number, spacing = 10): Tick[] {
  if (width <= 0) return [];
  const unitsPerColumn = (view.to - view.from) / width;
  const step = niceStep(unitsPerColumn * spacing);
  const ticks: Tick[] = [];
  const breaks = idleColumns(axis, view, width);
  let nextFree = 0;
  for (const seg of axis.segments) {
    if (seg.idle || seg.u1 < view.from || seg.u0 > view.to) continue;
    const tFrom = Math.max(seg.t0, toTime(axis, view.from));
    const tTo = Math.min(seg.t1, toTime(axis, view.to));
    for (let k = Math.ceil((tFrom - origin) / step); origin + k * step <= tTo; k++) {
      const rel = k * step;
      const column = columnOf(view, width, toAxis(axis, origin + rel));
      const label = tickLabel(rel, step);
      if (column < nextFree || column < 0 || column + label.length > width) continue;
      if (breaks.some((b) => column + label.length > b.from && column <= b.to)) continue;
      ticks.push({ column, label });
      nextFree = column + label.length + 1;
    }
  }
  return ticks;
}

/** Columns covered by compressed stretches in this view, with how long each stretch really was. */
export function idleColumns(axis: TimeAxis, view: Viewport, width: number): { from: number; to: number; duration: number }[] {
  const out: { from: number; to: number; duration: number }[] = [];
  for (const seg of axis.segments) {
    if (!seg.idle || seg.u1 <= view.from || seg.u0 >= view.to) continue;
    const from = Math.max(0, columnOf(view, width, seg.u0));
    const to = Math.min(width - 1, Math.max(from, lastColumnBefore(view, width, seg.u1)));
    out.push({ from, to, duration: seg.t1 - seg.t0 });
  }
  return out;
}
