/**
 * The TUI's navigation state and what each key does to it. Pure: the App derives a context (how
 * many sessions, lanes, layers… exist right now) and hands every key press here.
 */
import { SORT_KEYS, type SortKey } from './session-summary.js';
import { fullView, panView, revealInView, toAxis, zoomView, type TimeAxis, type Viewport } from './time-axis.js';
import { nearestItem } from './timeline-lanes.js';

export type Pane = 'sessions' | 'timeline' | 'event' | 'content';
export const PANES: readonly Pane[] = ['sessions', 'timeline', 'event', 'content'];

export interface UiState {
  pane: Pane;
  /** What the top pane lists: exec sessions, or every TCP connection. */
  list: 'sessions' | 'connections';
  /** Selected session and connection ids (null: the first one listed), so sorting and filtering keep them. */
  session: number | null;
  connection: number | null;
  sort: SortKey;
  /** Selected lane and item on it; -1 until resolved to the session's default selection. */
  lane: number;
  item: number;
  /** Timeline window; null shows the whole session. */
  view: Viewport | null;
  compressIdle: boolean;
  hex: boolean;
  help: boolean;
  /** The hang doctor's findings for the selected session, over the panes. */
  diagnosis: boolean;
  filter: string;
  /** Filter text being typed; null when not typing. */
  filterDraft: string | null;
  layer: number;
  /** Content stream index; -1 follows the stream selected on the timeline. */
  contentStream: number;
  contentScroll: number;
}

export const initialUiState: UiState = {
  pane: 'sessions',
  list: 'sessions',
  session: null,
  connection: null,
  sort: 'time',
  lane: -1,
  item: -1,
  view: null,
  compressIdle: false,
  hex: false,
  help: false,
  diagnosis: false,
  filter: '',
  filterDraft: null,
  layer: 0,
  contentStream: -1,
  contentScroll: 0,
};

/** A key press, independent of Ink's Key type. */
export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
  meta?: boolean;
}

export interface UiContext {
  /** Ids of the sessions and connections listed, in list order. */
  sessionIds: readonly number[];
  connectionIds: readonly number[];
  /** Lanes of the selected session, each with its items' times. */
  lanes: readonly { items: readonly { ts: number }[] }[];
  axis: TimeAxis | null;
  layerCount: number;
  contentStreamCount: number;
  contentLineCount: number;
  /** Rows the focused list or text shows, for page up/down. */
  pageSize: number;
}

const ZOOM = 2;
const PAN = 0.25;

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/** Vertical movement common to lists: -1/+1, a page, first/last. Null when the key is not one. */
function verticalStep(k: KeyPress, page: number): number | 'first' | 'last' | null {
  if (k.upArrow || k.input === 'k') return -1;
  if (k.downArrow || k.input === 'j') return 1;
  if (k.pageUp) return -Math.max(1, page);
  if (k.pageDown) return Math.max(1, page);
  if (k.home || k.input === 'g') return 'first';
  if (k.end || k.input === 'G') return 'last';
  return null;
}

function horizontalStep(k: KeyPress): number | null {
  if (k.leftArrow || k.input === 'h') return -1;
  if (k.rightArrow || k.input === 'l') return 1;
  return null;
}

function moveIndex(current: number, step: number | 'first' | 'last', count: number): number {
  if (count <= 0) return 0;
  if (step === 'first') return 0;
  if (step === 'last') return count - 1;
  return clamp(current + step, 0, count - 1);
}

/** Move within a list of ids from the selected one (null or gone: from the first). */
function moveId(current: number | null, step: number | 'first' | 'last', ids: readonly number[]): number | null {
  if (ids.length === 0) return current;
  const at = current === null ? 0 : Math.max(0, ids.indexOf(current));
  return ids[moveIndex(at, step, ids.length)];
}

/** A different session (or list entry) is selected: the per-session selection starts over. */
function freshSelection(s: UiState): UiState {
  return { ...s, lane: -1, item: -1, view: null, layer: 0, contentStream: -1, contentScroll: 0 };
}

function itemAxis(s: UiState, ctx: UiContext, lane = s.lane, item = s.item): number | null {
  const ts = ctx.lanes[lane]?.items[item]?.ts;
  return ts === undefined || !ctx.axis ? null : toAxis(ctx.axis, ts);
}

/** Select item `item` on lane `lane`, scrolling a zoomed view to keep it visible. */
function selectItem(s: UiState, ctx: UiContext, lane: number, item: number): UiState {
  const u = itemAxis(s, ctx, lane, item);
  const view = s.view && ctx.axis && u !== null ? revealInView(ctx.axis, s.view, u) : s.view;
  return { ...s, lane, item, view, layer: item === s.item && lane === s.lane ? s.layer : 0 };
}

function moveItem(s: UiState, ctx: UiContext, step: number | 'first' | 'last'): UiState {
  const count = ctx.lanes[s.lane]?.items.length ?? 0;
  if (count === 0) return s;
  return selectItem(s, ctx, s.lane, moveIndex(s.item, step, count));
}

function moveLane(s: UiState, ctx: UiContext, step: number | 'first' | 'last'): UiState {
  const lane = moveIndex(s.lane, step, ctx.lanes.length);
  if (lane === s.lane) return s;
  const ts = ctx.lanes[s.lane]?.items[s.item]?.ts;
  const items = ctx.lanes[lane]?.items ?? [];
  return selectItem(s, ctx, lane, ts === undefined ? (items.length ? 0 : -1) : nearestItem(items, ts));
}

function timelineKeys(s: UiState, k: KeyPress, ctx: UiContext): UiState | null {
  if (!ctx.axis) return null;
  const axis = ctx.axis;
  const view = s.view ?? fullView(axis);
  const center = itemAxis(s, ctx) ?? (view.from + view.to) / 2;
  switch (k.input) {
    case '+':
    case '=':
      return { ...s, view: zoomView(axis, view, ZOOM, center) };
    case '-':
    case '_':
      return { ...s, view: zoomView(axis, view, 1 / ZOOM, center) };
    case '[':
      return { ...s, view: panView(axis, view, -PAN) };
    case ']':
      return { ...s, view: panView(axis, view, PAN) };
    case '0':
      return { ...s, view: null };
    case 'z':
      return { ...s, compressIdle: !s.compressIdle, view: null };
  }
  return null;
}

function filterKeys(s: UiState, k: KeyPress): UiState {
  const draft = s.filterDraft ?? '';
  if (k.escape) return { ...s, filterDraft: null };
  if (k.return) return { ...s, filter: draft.trim(), filterDraft: null };
  if (k.backspace || k.delete) return { ...s, filterDraft: Array.from(draft).slice(0, -1).join('') };
  if (k.ctrl && k.input === 'u') return { ...s, filterDraft: '' };
  if (k.ctrl || k.meta || k.tab || k.upArrow || k.downArrow || k.leftArrow || k.rightArrow) return s;
  // Only printable text goes into the filter: a pasted escape sequence must not.
  const text = Array.from(k.input).filter((c) => c >= ' ' && c !== '\x7f' && !(c >= '\x80' && c <= '\x9f')).join('');
  return { ...s, filterDraft: draft + text };
}

function back(s: UiState): UiState {
  switch (s.pane) {
    case 'content':
      return { ...s, pane: 'event' };
    case 'event':
      return { ...s, pane: 'timeline' };
    case 'timeline':
      return { ...s, pane: 'sessions' };
    case 'sessions':
      if (s.list === 'connections') return { ...s, list: 'sessions' };
      if (s.filter) return { ...s, filter: '' };
      return s;
  }
}

function drillIn(s: UiState, ctx: UiContext): UiState {
  switch (s.pane) {
    case 'sessions':
      return s.list === 'sessions' && ctx.sessionIds.length > 0 ? { ...s, pane: 'timeline' } : s;
    case 'timeline':
      return s.item >= 0 ? { ...s, pane: 'event' } : s;
    case 'event':
      return { ...s, pane: 'content', contentStream: -1, contentScroll: 0 };
    case 'content':
      return s;
  }
}

function paneKeys(s: UiState, k: KeyPress, ctx: UiContext): UiState {
  const v = verticalStep(k, ctx.pageSize);
  const h = horizontalStep(k);
  switch (s.pane) {
    case 'sessions':
      if (v === null) return s;
      if (s.list === 'connections') return { ...s, connection: moveId(s.connection, v, ctx.connectionIds) };
      {
        const session = moveId(s.session, v, ctx.sessionIds);
        return session === s.session ? s : freshSelection({ ...s, session });
      }
    case 'timeline':
      if (v !== null) return moveLane(s, ctx, v);
      if (h !== null) return moveItem(s, ctx, h);
      return s;
    case 'event':
      if (v !== null) return { ...s, layer: moveIndex(s.layer, v, ctx.layerCount) };
      if (h !== null) return moveItem(s, ctx, h);
      return s;
    case 'content':
      if (v !== null) {
        const max = Math.max(0, ctx.contentLineCount - ctx.pageSize);
        const next = v === 'first' ? 0 : v === 'last' ? max : clamp(s.contentScroll + v, 0, max);
        return { ...s, contentScroll: next };
      }
      if (h !== null) return { ...s, contentStream: moveIndex(s.contentStream, h, ctx.contentStreamCount), contentScroll: 0 };
      return s;
  }
}

/** The state after one key press, or 'quit'. Expects session, lane, item and contentStream already resolved. */
/** Control characters that are keys of their own when they come inside a burst of input. */
const BURST_KEYS: Record<string, Partial<KeyPress>> = {
  '\r': { return: true },
  '\n': { return: true },
  '\t': { tab: true },
  '\x7f': { backspace: true },
  '\b': { backspace: true },
};

/**
 * Ink hands plain keys that arrived in one read (typed ahead while the screen was busy, a held key
 * repeating over ssh, pasted) as one string. Each character is then a key of its own, except text
 * going into the filter, which is taken as typed.
 */
export function reduceInput(s: UiState, k: KeyPress, ctx: UiContext): UiState | 'quit' {
  const chars = Array.from(k.input);
  if (chars.length <= 1 || k.ctrl || k.meta) return reduceKey(s, k, ctx);
  let state = s;
  for (let i = 0; i < chars.length; i++) {
    const special = BURST_KEYS[chars[i]];
    if (state.filterDraft !== null && !special) {
      // Filter text runs up to the next control character (Enter ends the filter).
      let end = i;
      while (end < chars.length && !BURST_KEYS[chars[end]]) end++;
      state = filterKeys(state, { input: chars.slice(i, end).join('') });
      i = end - 1;
      continue;
    }
    const next = reduceKey(state, special ? { input: '', ...special } : { input: chars[i], shift: chars[i] !== chars[i].toLowerCase() }, ctx);
    if (next === 'quit') return next;
    state = next;
  }
  return state;
}

export function reduceKey(s: UiState, k: KeyPress, ctx: UiContext): UiState | 'quit' {
  if (s.filterDraft !== null) return filterKeys(s, k);
  if (k.input === 'q' && !k.ctrl && !k.meta) return 'quit';
  if (s.help) return k.input === '?' || k.escape ? { ...s, help: false } : s;
  if (s.diagnosis) return k.input === 'd' || k.escape ? { ...s, diagnosis: false } : s;
  if (k.escape) return back(s);
  if (k.return) return drillIn(s, ctx);
  if (k.tab) {
    const i = PANES.indexOf(s.pane);
    return { ...s, pane: PANES[(i + (k.shift ? PANES.length - 1 : 1)) % PANES.length] };
  }
  switch (k.input) {
    case '?':
      return { ...s, help: true };
    case 'd':
      return s.session === null ? s : { ...s, diagnosis: true };
    case '/':
      return { ...s, filterDraft: s.filter };
    case 'x':
      return { ...s, hex: !s.hex };
    case 'c':
      return { ...s, list: s.list === 'sessions' ? 'connections' : 'sessions', pane: 'sessions' };
    case 's':
      return { ...s, sort: SORT_KEYS[(SORT_KEYS.indexOf(s.sort) + 1) % SORT_KEYS.length] };
  }
  return timelineKeys(s, k, ctx) ?? paneKeys(s, k, ctx);
}
