import { buildTimeAxis, fullView } from '../../src/ui/time-axis.js';
import {
  activityTimes,
  binLane,
  buildLanes,
  cellGlyph,
  defaultSelection,
  gapMarks,
  type GapMark,
  itemTitle,
  maxCellBytes,
  nearestItem,
  sessionEnd,
  volumeGlyph,
  type Lane,
} from '../../src/ui/timeline-lanes.js';
import { connection, control, data, hangingSession, origin, refusedAndFallback, session, spdyEchoSession, stream, wsEchoSession } from '../helpers/model-builders.js';

const MS = 1e6;

/** The lane drawn as plain glyphs, with the selected item and the shared volume scale. */
function draw(lane: Lane, start: number, end: number, width: number, selected = null as Lane['items'][number] | null, gaps: GapMark[] = []): string {
  const axis = buildTimeAxis(start, end, [], false, width);
  const cells = binLane(lane, axis, fullView(axis), width, selected, gaps);
  return cells.map((c) => cellGlyph(c, maxCellBytes([cells]))).join('');
}

describe('buildLanes', () => {
  it('WebSocket v5 echo: upgrade, stdout, error, control, with notes', () => {
    const s = wsEchoSession();
    const lanes = buildLanes(s, [s]);
    expect(lanes.map((l) => l.label)).toEqual(['upgrade', 'stdout', 'error', 'control']);
    expect(lanes[0].items.map((i) => i.event.kind)).toEqual(['request', 'upgrade']);
    expect(lanes[0].items[0].event).toMatchObject({ kind: 'request', detail: 'GET /api/v1/namespaces/default/pods/demo-0/exec', origin: s.requestOrigin });
    expect(lanes[0].note).toBe('101 v5.channel.k8s.io');
    expect(lanes[1].note).toBe('21 B');
    expect(lanes[1].items.map((i) => [i.event.kind, i.length])).toEqual([
      ['established', 0],
      ['data', 21],
    ]);
    expect(lanes[2]).toMatchObject({ note: 'exit 0', noteSeverity: 'ok' });
    expect(lanes[3]).toMatchObject({ note: '2 close', noteSeverity: 'info' });
    // The stream line runs from its first event to the end of the session (never closed on v5 echo).
    expect(lanes[1].lineFrom).toBe(120.103 * MS);
    expect(lanes[1].lineTo).toBe(121.874 * MS);
  });

  it('SPDY v4 echo: streams in the usual order, closes and the error stream reset', () => {
    const s = spdyEchoSession();
    const lanes = buildLanes(s, [s]);
    expect(lanes.map((l) => l.label)).toEqual(['upgrade', 'stdout', 'stderr', 'error', 'control']);
    expect(lanes[1].note).toBe('16 B · closed +4.65 ms');
    expect(lanes[1].lineFrom).toBe(92.11 * MS);
    expect(lanes[1].lineTo).toBe(94.142 * MS);
    expect(lanes[3].lineTo).toBe(94.741 * MS);
    expect(lanes[4].items.map((i) => i.event.kind)).toEqual(['rst', 'goaway']);
    expect(lanes[4]).toMatchObject({ note: '1 rst · 1 goaway', noteSeverity: 'warn' });
  });

  it('says when stdin was never closed and what was resized', () => {
    const s = hangingSession();
    s.resizes.push({ width: 100, height: 30, ts: 1005 * MS }, { width: 120, height: 40, ts: 1006 * MS });
    data(stream(s, 'resize', 4), 'c2s', '{"Width":120,"Height":40}', origin(600, 30, 13, 1006 * MS));
    const lanes = buildLanes(s, [s]);
    expect(lanes.map((l) => l.label)).toEqual(['upgrade', 'stdin', 'stdout', 'resize', 'control']);
    expect(lanes[1]).toMatchObject({ note: '14 B · never closed', noteSeverity: 'warn' });
    expect(lanes[3].note).toBe('120×40 (2)');
    expect(lanes[2].lineTo).toBe(sessionEnd(s));
    expect(lanes[4].note).toBe('120 ping · 120 pong');
    // A hang's keepalives are not activity: only data and lifecycle events count for idle compression.
    expect(activityTimes(lanes)).toHaveLength(2 + 2 + 2 + 1);
  });

  it('the refused attempt has no streams and says so', () => {
    const [refused, fallback] = refusedAndFallback();
    const lanes = buildLanes(refused, [refused, fallback]);
    expect(lanes.map((l) => l.label)).toEqual(['upgrade', 'control']);
    expect(lanes[0]).toMatchObject({ note: '403', noteSeverity: 'error' });
  });

  it('neutralises stream names taken from the wire', () => {
    const s = session();
    data(stream(s, 'x\x1b[2J', 9), 's2c', 'a', origin(0, 2, 2, 1));
    expect(buildLanes(s, [s])[1].label).toBe('x␛[2J');
  });
});

describe('binLane', () => {
  it('draws the stream line, data by volume, half-close and the end of the line', () => {
    const s = spdyEchoSession();
    const [, stdout] = buildLanes(s, [s]);
    // 89.491 ms … 98.882 ms over 47 columns: 0.2 ms a column.
    const line = draw(stdout, s.startTs, s.endTs!, 47);
    // Open and reply (SYN_STREAM, SYN_REPLY) share column 13; the empty DATA with FIN closes it.
    expect(line).toBe(' '.repeat(13) + '├' + '─'.repeat(8) + '█┤' + ' '.repeat(23));
  });

  it('marks a reset, TCP gaps on the line, the selected item and items off screen', () => {
    const s = spdyEchoSession();
    const lanes = buildLanes(s, [s]);
    const error = lanes[3];
    const line = draw(error, s.startTs, s.endTs!, 47, error.items[2], [{ ts: 93 * MS, dir: 's2c' }, { ts: 92 * MS, dir: 'c2s' }]);
    // Only the gap in the error stream's direction (s2c) breaks its line.
    expect(line).toBe(' '.repeat(6) + '├─────┼────┆───────◉✕' + ' '.repeat(20));
  });

  it('stacks data into one cell and sums its bytes', () => {
    const s = session({ startTs: 0, endTs: 10 * MS });
    const out = stream(s, 'stdout', 1);
    for (let i = 0; i < 5; i++) data(out, 's2c', 'x'.repeat(100), origin(i * 103, 103, i + 2, 1 * MS + i));
    data(out, 's2c', 'y', origin(600, 4, 9, 8 * MS));
    const [, lane] = buildLanes(s, [s]);
    const axis = buildTimeAxis(0, 10 * MS, [], false, 10);
    const cells = binLane(lane, axis, fullView(axis), 10, null, []);
    expect(cells[1]).toMatchObject({ mark: 'data', count: 5, bytes: 500 });
    expect(cells[8]).toMatchObject({ mark: 'data', count: 1, bytes: 1 });
    expect(cellGlyph(cells[1], 500)).toBe('█');
    expect(cellGlyph(cells[8], 500)).toBe('▪');
  });

  it('draws arrows where events lie outside a zoomed view, and ≈ across compressed idle', () => {
    const s = hangingSession();
    const lanes = buildLanes(s, [s]);
    const stdin = lanes[1];
    const axis = buildTimeAxis(s.startTs, sessionEnd(s), activityTimes(lanes), false, 40);
    const cells = binLane(stdin, axis, { from: 15 * MS, to: 19 * MS }, 40, null, []);
    expect(cells[0].mark).toBe('more-left');
    expect(cells[39].mark).toBe('more-right');
    const compressed = buildTimeAxis(s.startTs, sessionEnd(s), activityTimes(lanes), true, 40);
    const drawn = binLane(lanes[2], compressed, fullView(compressed), 40, null, []).map((c) => cellGlyph(c, 7)).join('');
    expect(drawn).toMatch(/█.*≈≈+─*$/);
  });

  it('volume steps on a log scale', () => {
    expect(volumeGlyph(0, 1000)).toBe('∘');
    expect(volumeGlyph(1, 1)).toBe('▪');
    expect(volumeGlyph(3, 1000)).toBe('▪');
    expect(volumeGlyph(60, 1000)).toBe('■');
    expect(volumeGlyph(1000, 1000)).toBe('█');
  });
});

describe('selection helpers', () => {
  it('selects the first stdout data event by default, else the first data event, else the first event', () => {
    const s = spdyEchoSession();
    const lanes = buildLanes(s, [s]);
    expect(defaultSelection(lanes)).toEqual({ lane: 1, item: 2 });
    const noStdout = buildLanes(refusedAndFallback()[0], []);
    expect(defaultSelection(noStdout)).toEqual({ lane: 0, item: 0 });
    const stdinOnly = session();
    data(stream(stdinOnly, 'stdin', 0), 'c2s', 'x', origin(0, 3, 2, 5));
    expect(defaultSelection(buildLanes(stdinOnly, [stdinOnly]))).toEqual({ lane: 1, item: 0 });
  });

  it('finds the nearest item in time on another lane', () => {
    const s = spdyEchoSession();
    const lanes = buildLanes(s, [s]);
    expect(nearestItem(lanes[3].items, 94.5 * MS)).toBe(2);
    expect(nearestItem(lanes[4].items, 0)).toBe(0);
    expect(nearestItem([], 0)).toBe(-1);
  });

  it('titles items', () => {
    const s = spdyEchoSession();
    const lanes = buildLanes(s, [s]);
    expect(itemTitle(lanes[1], lanes[1].items[2])).toBe('stdout data 16 B');
    expect(itemTitle(lanes[1], lanes[1].items[4])).toBe('stdout half-close');
    expect(itemTitle(lanes[3], lanes[3].items[3])).toBe('error reset (CANCEL)');
    expect(itemTitle(lanes[4], lanes[4].items[1])).toBe('goaway · GOAWAY last-good 5 OK');
  });

  it('collects TCP gaps from the connection and the session', () => {
    const s = wsEchoSession();
    control(s, 'gap', 'c2s', '100 bytes missing', null, 7);
    const conns = [connection({ id: 4, gaps: [{ dir: 's2c', offset: 10, length: 100, ts: 5 }] }), connection({ id: 5, gaps: [{ dir: 's2c', offset: 0, length: 1, ts: 9 }] })];
    expect(gapMarks(s, conns)).toEqual([
      { ts: 7, dir: 'c2s' },
      { ts: 5, dir: 's2c' },
    ]);
  });
});
