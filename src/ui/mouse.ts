/**
 * The mouse, as termshark and k9s users expect it: a click selects the session, lane, event or
 * layer under the pointer (and focuses its pane), the wheel scrolls the pane under the pointer. The
 * terminal reports the mouse in SGR form (`ESC [ < b ; x ; y M`), which run-tui turns on and off.
 */
import { type PaneLayout } from './layout.js';
import { foldChain, moveVertically, selectItem, type Pane, type UiContext, type UiState } from './ui-state.js';
import { columnOf, toAxis, type TimeAxis, type Viewport } from './time-axis.js';

/** Turns on reporting of presses, releases and the wheel, in SGR coordinates (any width). */
export const MOUSE_ON = '\x1b[?1000h\x1b[?1006h';
export const MOUSE_OFF = '\x1b[?1006l\x1b[?1000l';

export interface MousePress {
  button: 'left' | 'middle' | 'right' | 'wheel-up' | 'wheel-down';
  /** Cell of the pointer, 0-based from the top left. */
  x: number;
  y: number;
}

/**
 * A mouse report as Ink hands it over (the ESC taken off): a press or a wheel notch, or null for a
 * release, a motion, or input that is no mouse report.
 */
export function parseMouse(input: string): MousePress | 'ignored' | null {
  const m = /^\x1b?\[<(\d+);(\d+);(\d+)([Mm])$/.exec(input);
  if (!m) return null;
  const code = Number(m[1]);
  // Releases, motion (32) and modified presses do nothing here.
  if (m[4] === 'm' || code & 32) return 'ignored';
  const base = code & ~(4 | 8 | 16);
  const button = base === 0 ? 'left' : base === 1 ? 'middle' : base === 2 ? 'right' : base === 64 ? 'wheel-up' : base === 65 ? 'wheel-down' : null;
  if (!button) return 'ignored';
  return { button, x: Number(m[2]) - 1, y: Number(m[3]) - 1 };
}

/** Where things are on the screen, as the App laid them out for the frame the user clicked on. */
export interface ScreenMap {
  layout: PaneLayout;
  /** First list entry shown in the top pane, and whether column names take its second row. */
  list: { first: number; header: boolean; foldColumn: boolean };
  timeline: { hops: readonly number[]; firstLane: number; cells: number; labelWidth: number; axis: TimeAxis | null; view: Viewport | null };
  events: { first: number; header: boolean; order: readonly { lane: number; item: number }[] };
  /** The layer of each tree row the Event pane shows (-1: a note). */
  layerRows: readonly number[];
}

const WHEEL_ROWS = 3;

/** The state after a press at (x, y) on the frame `map` describes (`s` resolved, `ctx` its context). */
export function mouseAction(s: UiState, ctx: UiContext, map: ScreenMap, press: MousePress): UiState {
  const wheel = press.button === 'wheel-up' ? -1 : press.button === 'wheel-down' ? 1 : 0;
  if (!wheel && press.button !== 'left') return s;
  if (s.overlay) return wheel ? moveVertically(s, ctx, wheel * WHEEL_ROWS) : s;
  if (s.filterDraft !== null || s.prompt) return s;
  const { layout } = map;
  const onContent = layout.detailPane === 'content' || (layout.detailPane === 'both' && press.x > layout.eventWidth);
  // The panes from the top, each with its rows and what a click on its row `row` (1: below its title) does.
  const panes: { pane: Pane; rows: number; click: (focus: UiState, row: number) => UiState }[] = [
    { pane: 'sessions', rows: layout.sessions, click: (focus, row) => clickList(focus, ctx, map, press, row) },
    { pane: 'timeline', rows: layout.timeline, click: (focus, row) => clickTimeline(focus, ctx, map, press, row) },
    { pane: 'events', rows: layout.events, click: (focus, row) => clickEvents(focus, ctx, map, row) },
    onContent
      ? { pane: 'content', rows: layout.detail, click: (focus) => focus }
      : { pane: 'event', rows: layout.detail, click: (focus, row) => clickLayer(focus, map, row) },
  ];
  let top = 1; // the title bar is row 0
  for (const { pane, rows, click } of panes) {
    if (press.y >= top && press.y < top + rows) {
      const focus = { ...s, pane };
      // The wheel scrolls the pane under the pointer (Content by a few rows a notch).
      if (wheel) return moveVertically(focus, ctx, wheel * (pane === 'content' ? WHEEL_ROWS : 1));
      const row = press.y - top;
      return row === 0 ? focus : click(focus, row);
    }
    top += rows;
  }
  return s;
}

/** A click on row `row` of the top pane: that session (its fold column folds its hops), connection or warning. */
function clickList(focus: UiState, ctx: UiContext, map: ScreenMap, press: MousePress, row: number): UiState {
  const at = map.list.first + row - 1 - (map.list.header ? 1 : 0);
  if (at < 0) return focus;
  if (focus.list === 'sessions') {
    const id = ctx.sessionIds[at];
    if (id === undefined) return focus;
    const current = Math.max(0, ctx.sessionIds.indexOf(focus.session ?? ctx.sessionIds[0]));
    const chosen = moveVertically(focus, ctx, at - current);
    // A click on the fold column (`+2`, `−`) folds or unfolds the exec's hops.
    if (map.list.foldColumn && press.x >= 6 && press.x <= 8) return foldChain(chosen, ctx, !chosen.unfolded.includes(ctx.chainOf?.(id)?.head ?? -1));
    return chosen;
  }
  const ids = focus.list === 'connections' ? ctx.connectionIds : Array.from({ length: ctx.warningCount }, (_, i) => i);
  if (at >= ids.length) return focus;
  const current = focus.list === 'connections' ? Math.max(0, ctx.connectionIds.indexOf(focus.connection ?? ids[0])) : focus.warning;
  return moveVertically(focus, ctx, at - current);
}

/** A click on row `row` of the Timeline: another hop of the exec, or a lane (on its cells, the event nearest the pointer). */
function clickTimeline(focus: UiState, ctx: UiContext, map: ScreenMap, press: MousePress, row: number): UiState {
  const t = map.timeline;
  if (row - 1 < t.hops.length) {
    // Another hop of the exec: its lanes, its hops listed under the exec.
    const id = t.hops[row - 1];
    const head = ctx.chainOf?.(focus.session)?.head;
    const unfolded = head === undefined || focus.unfolded.includes(head) ? focus.unfolded : [...focus.unfolded, head];
    return id === focus.session ? focus : { ...focus, unfolded, session: id, lane: -1, item: -1, view: null, layer: 0, contentStream: -1, contentScroll: -1 };
  }
  const lane = t.firstLane + row - 1 - t.hops.length;
  const items = ctx.lanes[lane]?.items;
  if (!items) return focus;
  // On the lane's cells: the event drawn nearest the pointer; on its label: the lane, near the selected time.
  const column = press.x - t.labelWidth;
  if (column >= 0 && column < t.cells && t.axis && t.view && items.length) {
    const axis = t.axis;
    const view = t.view;
    let best = 0;
    items.forEach((it, i) => {
      if (Math.abs(columnOf(view, t.cells, toAxis(axis, it.ts)) - column) < Math.abs(columnOf(view, t.cells, toAxis(axis, items[best].ts)) - column)) best = i;
    });
    return selectItem(focus, ctx, lane, best);
  }
  return moveVertically(focus, ctx, lane - focus.lane);
}

/** A click on row `row` of the Events pane: that event. */
function clickEvents(focus: UiState, ctx: UiContext, map: ScreenMap, row: number): UiState {
  const at = map.events.first + row - 1 - (map.events.header ? 1 : 0);
  const target = at >= 0 ? map.events.order[at] : undefined;
  return target ? selectItem(focus, ctx, target.lane, target.item) : focus;
}

/** A click on row `row` of the Event pane: the layer drawn there (a note's row keeps the selection). */
function clickLayer(focus: UiState, map: ScreenMap, row: number): UiState {
  const layer = map.layerRows[row - 1];
  return layer !== undefined && layer >= 0 ? { ...focus, layer } : focus;
}
