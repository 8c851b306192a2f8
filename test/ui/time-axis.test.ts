import {
  axisTicks,
  buildTimeAxis,
  columnOf,
  fullView,
  idleColumns,
  IDLE_COLUMNS,
  niceStep,
  panView,
  revealInView,
  tickLabel,
  toAxis,
  toTime,
  zoomView,
} from '../../src/ui/time-axis.js';

const MS = 1e6;
const S = 1e9;

describe('buildTimeAxis', () => {
  it('is linear without compression', () => {
    const axis = buildTimeAxis(100 * MS, 600 * MS, [200 * MS], false, 60);
    expect(axis.segments).toEqual([{ t0: 100 * MS, t1: 600 * MS, u0: 0, u1: 500 * MS, idle: false }]);
    expect(axis.length).toBe(500 * MS);
    expect(toAxis(axis, 350 * MS)).toBe(250 * MS);
    expect(toAxis(axis, 50 * MS)).toBe(-50 * MS);
    expect(toAxis(axis, 700 * MS)).toBe(600 * MS);
    expect(toTime(axis, 250 * MS)).toBe(350 * MS);
  });

  it('gives an empty span a minimal width', () => {
    const axis = buildTimeAxis(5, 5, [], false, 60);
    expect(axis.end).toBeGreaterThan(axis.start);
    expect(axis.length).toBe(1000);
  });

  it('compresses quiet stretches longer than 1 s and 5% of the span, keeping the active scale', () => {
    // Activity at 0–2 s, then 10 minutes of silence, then activity for 1 s.
    const act = [0, 1 * S, 2 * S, 602 * S, 603 * S];
    const axis = buildTimeAxis(0, 603 * S, act, true, 63);
    expect(axis.segments.map((s) => s.idle)).toEqual([false, true, false]);
    const [a, idle, b] = axis.segments;
    expect(a).toMatchObject({ t0: 0, t1: 2 * S, u0: 0, u1: 2 * S });
    expect(idle).toMatchObject({ t0: 2 * S, t1: 602 * S, u0: 2 * S });
    // 3 s active over 60 columns → 50 ms a column; the quiet stretch takes 3 columns of that.
    expect(idle.u1 - idle.u0).toBeCloseTo(IDLE_COLUMNS * (3 * S) / 60, 0);
    expect(b.u1 - b.u0).toBe(1 * S);
    expect(axis.length).toBeCloseTo(3 * S + 0.15 * S, 0);
    expect(idleColumns(axis, fullView(axis), 63)).toEqual([{ from: 40, to: 42, duration: 600 * S }]);
  });

  it('does not compress short pauses, and maps times through a compressed stretch both ways', () => {
    expect(buildTimeAxis(0, 10 * S, [0, 0.6 * S, 1.2 * S, 9 * S], true, 60).segments.map((x) => x.idle)).toEqual([false, true, false]);
    expect(buildTimeAxis(0, 2 * S, [0, 0.5 * S, 1 * S, 1.5 * S], true, 60).segments).toHaveLength(1);
    const axis = buildTimeAxis(0, 603 * S, [0, 2 * S, 602 * S], true, 63);
    for (const t of [0, 1 * S, 2 * S, 100 * S, 302 * S, 601 * S, 602 * S, 603 * S, 700 * S]) {
      expect(toTime(axis, toAxis(axis, t))).toBeCloseTo(t, -3);
    }
    expect(toAxis(axis, 302 * S)).toBeCloseTo((axis.segments[1].u0 + axis.segments[1].u1) / 2, 0);
  });
});

describe('viewport', () => {
  const axis = buildTimeAxis(0, 1000 * MS, [], false, 60);

  it('zooms around a point, keeping it at the same place on screen', () => {
    const v = zoomView(axis, fullView(axis), 2, 250 * MS);
    expect(v.to - v.from).toBe(500 * MS);
    expect((250 * MS - v.from) / (v.to - v.from)).toBeCloseTo(0.25);
    const back = zoomView(axis, v, 0.5, 250 * MS);
    expect(back).toEqual(fullView(axis));
    // Zooming out never goes past the whole axis; in stops at 1 µs.
    expect(zoomView(axis, fullView(axis), 0.5, 0)).toEqual(fullView(axis));
    let z = fullView(axis);
    for (let i = 0; i < 40; i++) z = zoomView(axis, z, 2, 500 * MS);
    expect(z.to - z.from).toBe(1000);
  });

  it('pans by a quarter of the span and stops at both ends', () => {
    const v = { from: 400 * MS, to: 600 * MS };
    expect(panView(axis, v, 0.25)).toEqual({ from: 450 * MS, to: 650 * MS });
    expect(panView(axis, v, -0.25)).toEqual({ from: 350 * MS, to: 550 * MS });
    expect(panView(axis, { from: 900 * MS, to: 1000 * MS }, 0.25)).toEqual({ from: 900 * MS, to: 1000 * MS });
    expect(panView(axis, { from: 10 * MS, to: 110 * MS }, -0.25)).toEqual({ from: 0, to: 100 * MS });
  });

  it('reveals a point outside the view with a margin, leaves a visible one alone', () => {
    const v = { from: 0, to: 80 * MS };
    expect(revealInView(axis, v, 40 * MS)).toBe(v);
    expect(revealInView(axis, v, 500 * MS)).toEqual({ from: 430 * MS, to: 510 * MS });
    expect(revealInView(axis, { from: 500 * MS, to: 580 * MS }, 100 * MS)).toEqual({ from: 90 * MS, to: 170 * MS });
  });

  it('maps axis positions to columns, the right edge into the last column', () => {
    const v = { from: 0, to: 100 };
    expect(columnOf(v, 10, 0)).toBe(0);
    expect(columnOf(v, 10, 9.99)).toBe(0);
    expect(columnOf(v, 10, 10)).toBe(1);
    expect(columnOf(v, 10, 100)).toBe(9);
    expect(columnOf(v, 10, -1)).toBe(-1);
    expect(columnOf(v, 10, 101)).toBe(10);
  });
});

describe('ticks', () => {
  it('picks 1-2-5 steps below a second and clock steps above', () => {
    expect(niceStep(3)).toBe(5);
    expect(niceStep(100)).toBe(100);
    expect(niceStep(101)).toBe(200);
    expect(niceStep(0.3 * MS)).toBe(0.5 * MS);
    expect(niceStep(7 * S)).toBe(10 * S);
    expect(niceStep(40 * S)).toBe(60 * S);
    expect(niceStep(61 * S)).toBe(120 * S);
    expect(niceStep(4000 * S)).toBe(7200 * S);
    expect(niceStep(100000 * S)).toBe(2 * 86400 * S);
  });

  it('labels in the unit the time reads best in (as durations are written), with the precision of the step', () => {
    expect(tickLabel(0, MS)).toBe('0');
    expect(tickLabel(100 * MS, 100 * MS)).toBe('100ms');
    expect(tickLabel(2.5 * MS, 0.5 * MS)).toBe('2.5ms');
    expect(tickLabel(1.5 * S, 0.5 * S)).toBe('1.5s');
    expect(tickLabel(20 * S, 10 * S)).toBe('20s');
    expect(tickLabel(90 * S, 30 * S)).toBe('90s');
    expect(tickLabel(150 * S, 60 * S)).toBe('2m30s');
    expect(tickLabel(7200 * S, 3600 * S)).toBe('2h');
    expect(tickLabel(250_000, 50_000)).toBe('250µs');
    expect(tickLabel(400_000, 200_000)).toBe('400µs');
    expect(tickLabel(1.4 * S, 0.2 * S)).toBe('1.4s');
    expect(tickLabel(0.5 * S, 0.5 * S)).toBe('500ms');
    expect(tickLabel(400, 200)).toBe('0.4µs');
    expect(tickLabel(-2 * MS, MS)).toBe('-2ms');
    // Zoomed in far from the origin: the time in ms, to the step's precision, not "4505600ns" or "4000µs".
    expect(tickLabel(4_505_600, 200)).toBe('4.5056ms');
    expect(tickLabel(4 * MS, 1000)).toBe('4.000ms');
    expect(tickLabel(12 * S + 300 * MS, 100 * MS)).toBe('12.3s');
  });

  it('places labels at their column, relative to the origin, never overlapping', () => {
    const axis = buildTimeAxis(1000 * MS, 1500 * MS, [], false, 50);
    const ticks = axisTicks(axis, fullView(axis), 50, 1000 * MS);
    expect(ticks).toEqual([
      { column: 0, label: '0' },
      { column: 10, label: '100ms' },
      { column: 20, label: '200ms' },
      { column: 30, label: '300ms' },
      { column: 40, label: '400ms' },
    ]);
    // Zoomed in 10×: finer steps, still relative to the same origin.
    const zoomed = axisTicks(axis, { from: 200 * MS, to: 250 * MS }, 50, 1000 * MS);
    expect(zoomed[0]).toEqual({ column: 0, label: '200ms' });
    expect(zoomed[1]).toEqual({ column: 10, label: '210ms' });
  });

  it('skips compressed stretches', () => {
    const axis = buildTimeAxis(0, 603 * S, [0, 2 * S, 602 * S, 603 * S], true, 63);
    const ticks = axisTicks(axis, fullView(axis), 63, 0);
    const idle = idleColumns(axis, fullView(axis), 63)[0];
    for (const t of ticks) expect(t.column + t.label.length <= idle.from || t.column > idle.to).toBe(true);
    expect(ticks.map((t) => t.label)).toEqual(['0', '500ms', '1.0s', '1.5s', '602.0s', '602.5s']);
  });
});
