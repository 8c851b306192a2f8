/**
 * The TUI's navigation state and the moves the keys make on it. Pure: the App derives a context (how
 * many sessions, lanes, layers… exist right now); keys.ts maps each key press to one of these moves.
 */
import type { Problem } from '../core/problem.js';
import { SORT_KEYS, type SortKey } from '../report/session-summary.js';
import { fullView, panView, revealInView, toAxis, zoomView, type TimeAxis, type Viewport } from './time-axis.js';
import { nearestItem } from './timeline-lanes.js';

export type Pane = 'sessions' | 'timeline' | 'events' | 'event' | 'content';
export const PANES: readonly Pane[] = ['sessions', 'timeline', 'events', 'event', 'content'];

/** What covers the panes: the help, the hang doctor's findings, a connection's requests and TLS. */
export type Overlay = 'help' | 'diagnosis' | 'connection';

/** A line typed at the bottom: a search in Content, or the path a save writes to. */
export interface Prompt {
  purpose: 'search' | 'save';
  text: string;
}

/** A one-line answer in the status bar (a file written, a search without a match), gone at the next key. */
export interface Notice {
  text: string;
  error: boolean;
}

/** Where a warning points: an event of a session, or a connection without one. */
/** Where ⏎ on a warning goes: the event carrying its packet (the Event pane then marks the problem's layer and bytes), or its connection. */
export type WarningTarget = { session: number; lane: number; item: number; problem?: Problem } | { connection: number };

export interface UiState {
  pane: Pane;
  /** What the top pane lists: exec sessions, every TCP connection, or the decoding warnings. */
  list: 'sessions' | 'connections' | 'warnings';
  /** Selected warning (index into the capture's warnings). */
  warning: number;
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
  overlay: Overlay | null;
  /** First row of the overlay shown. */
  overlayScroll: number;
  filter: string;
  /** Filter text being typed; null when not typing. */
  filterDraft: string | null;
  /** Selected layer of the Event pane; -1: the layer of `problem`, once the layers are known. */
  layer: number;
  /** The warning ⏎ jumped to, marked in the Event pane until another event is selected. */
  problem: Problem | null;
  /** Selected field of the selected layer; -1: the layer itself. */
  field: number;
  /** Rows the Event pane's hex view is scrolled from where it would show the highlight (PgUp/PgDn). */
  hexScroll: number;
  /** Content stream index; -1 follows the stream selected on the timeline. */
  contentStream: number;
  /** First row of Content shown; -1 follows the selected event (its first byte's row). */
  contentScroll: number;
  /** The search applied in Content ('' none) and which of its matches is current (-1: none yet). */
  search: string;
  searchAt: number;
  /** The line being typed for a search or a save, or null. */
  prompt: Prompt | null;
  /** A save asked for and not yet done: the App writes it, then says how it went in `notice`. */
  saveTo: string | null;
  notice: Notice | null;
  /** Exec chains unfolded in the Sessions list (by the id of the hop nearest kubectl). */
  unfolded: readonly number[];
  /** Explain mode: the selected event explained beside its layers (e; the guided walk turns it on). */
  explain: boolean;
  /** First row of the explanation shown, when it stands in place of the layers and does not fit. */
  explainScroll: number;
}

export const initialUiState: UiState = {
  pane: 'sessions',
  list: 'sessions',
  warning: 0,
  session: null,
  connection: null,
  sort: 'time',
  lane: -1,
  item: -1,
  view: null,
  compressIdle: false,
  hex: false,
  overlay: null,
  overlayScroll: 0,
  filter: '',
  filterDraft: null,
  layer: 0,
  problem: null,
  field: -1,
  hexScroll: 0,
  contentStream: -1,
  contentScroll: -1,
  search: '',
  searchAt: -1,
  prompt: null,
  saveTo: null,
  notice: null,
  unfolded: [],
  explain: false,
  explainScroll: 0,
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
  /** Fields of the selected layer, and rows of its hex view. */
  fieldCount: number;
  hexRows: number;
  contentStreamCount: number;
  contentLineCount: number;
  /** Rows the focused list or text shows, for page up/down. */
  pageSize: number;
  /** The guided walk's steps (explain/walk.ts) as positions on the lanes, in protocol order. */
  walk?: readonly { lane: number; item: number }[];
  /** Rows of the explanation below the Event pane when it stands in place of the layers (↑↓ scroll it). */
  explainOverflow?: number;
  warningCount: number;
  /** Where the selected warning points, when it points somewhere. */
  warningTarget: WarningTarget | null;
  /** The first session on the selected connection, if it has one. */
  connectionSession: number | null;
  /** The Content row of each match of `term` in the stream shown, in order. */
  findInContent?: (term: string) => readonly number[];
  /** How much of the stream findInContent searches when not all of it ("first 16.0 MiB shown"), else null. */
  contentShownPart?: string | null;
  /** What S would save where the state is (the stream shown in Content, else the selected event's bytes), or why nothing; asked when S is pressed (the name offered is one no file has then). */
  saveTarget?: () => { defaultPath: string } | { nothing: string };
  /** A listed session's exec in the Sessions list: the id of its row's hop nearest kubectl, and how many hops it has. */
  chainOf?: (session: number | null) => { head: number; hops: number } | null;
}

/** A move along a list: by a number of rows, or to its first or last entry. */
export type Step = number | 'first' | 'last';

const ZOOM = 2;
const PAN = 0.25;

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

function moveIndex(current: number, step: Step, count: number): number {
  if (count <= 0) return 0;
  if (step === 'first') return 0;
  if (step === 'last') return count - 1;
  return clamp(current + step, 0, count - 1);
}

/** Move within a list of ids from the selected one (null or gone: from the first). */
function moveId(current: number | null, step: Step, ids: readonly number[]): number | null {
  if (ids.length === 0) return current;
  const at = current === null ? 0 : Math.max(0, ids.indexOf(current));
  return ids[moveIndex(at, step, ids.length)];
}

/** A different session (or list entry) is selected: the per-session selection starts over. */
function freshSelection(s: UiState): UiState {
  return { ...s, lane: -1, item: -1, view: null, layer: 0, problem: null, field: -1, hexScroll: 0, contentStream: -1, contentScroll: -1, searchAt: -1 };
}

function itemAxis(s: UiState, ctx: UiContext, lane = s.lane, item = s.item): number | null {
  const ts = ctx.lanes[lane]?.items[item]?.ts;
  return ts === undefined || !ctx.axis ? null : toAxis(ctx.axis, ts);
}

/** Select item `item` on lane `lane`, scrolling a zoomed view to keep it visible. */
export function selectItem(s: UiState, ctx: UiContext, lane: number, item: number): UiState {
  const u = itemAxis(s, ctx, lane, item);
  const view = s.view && ctx.axis && u !== null ? revealInView(ctx.axis, s.view, u) : s.view;
  const same = item === s.item && lane === s.lane;
  if (same) return { ...s, view };
  // Content follows a newly selected event to its first byte.
  return { ...s, lane, item, view, layer: 0, problem: null, field: -1, hexScroll: 0, explainScroll: 0, contentScroll: -1 };
}

function moveItem(s: UiState, ctx: UiContext, step: Step): UiState {
  const count = ctx.lanes[s.lane]?.items.length ?? 0;
  if (count === 0) return s;
  return selectItem(s, ctx, s.lane, moveIndex(s.item, step, count));
}

function moveLane(s: UiState, ctx: UiContext, step: Step): UiState {
  const lane = moveIndex(s.lane, step, ctx.lanes.length);
  if (lane === s.lane) return s;
  const ts = ctx.lanes[s.lane]?.items[s.item]?.ts;
  const items = ctx.lanes[lane]?.items ?? [];
  return selectItem(s, ctx, lane, ts === undefined ? (items.length ? 0 : -1) : nearestItem(items, ts));
}

/**
 * Every event of the session in time order, ties broken by lane then position: the order that `.`
 * and `,` step through, whatever lane the events are on.
 */
export function timeOrder(ctx: Pick<UiContext, 'lanes'>): { lane: number; item: number; ts: number }[] {
  const all = ctx.lanes.flatMap((l, lane) => l.items.map((it, item) => ({ lane, item, ts: it.ts })));
  return all.sort((a, b) => a.ts - b.ts || a.lane - b.lane || a.item - b.item);
}

/** Position of the selected event in timeOrder(ctx), -1 when none is selected. */
export function timeIndex(s: Pick<UiState, 'lane' | 'item'>, order: readonly { lane: number; item: number }[]): number {
  return order.findIndex((e) => e.lane === s.lane && e.item === s.item);
}

/** The event `step` places later (earlier when negative) in time order across all lanes, or the first / last. */
export function stepInTime(s: UiState, ctx: UiContext, step: Step): UiState {
  const order = timeOrder(ctx);
  if (order.length === 0) return s;
  const at = timeIndex(s, order);
  const next = at < 0 && typeof step === 'number' ? (step > 0 ? 0 : order.length - 1) : moveIndex(at, step, order.length);
  return selectItem(s, ctx, order[next].lane, order[next].item);
}

/** ↑↓, page, first/last: the session list, the lane, the layer, the content or the overlay scroll. */
export function moveVertically(s: UiState, ctx: UiContext, step: Step): UiState {
  // The App keeps the overlay's scroll within its rows.
  if (s.overlay) return { ...s, overlayScroll: step === 'first' ? 0 : step === 'last' ? Number.MAX_SAFE_INTEGER : Math.max(0, s.overlayScroll + step) };
  if (s.pane === 'event' && s.explain && ctx.explainOverflow) {
    const max = ctx.explainOverflow;
    return { ...s, explainScroll: step === 'first' ? 0 : step === 'last' ? max : clamp(s.explainScroll + step, 0, max) };
  }
  switch (s.pane) {
    case 'sessions':
      if (s.list === 'connections') return { ...s, connection: moveId(s.connection, step, ctx.connectionIds) };
      if (s.list === 'warnings') return { ...s, warning: moveIndex(s.warning, step, ctx.warningCount) };
      {
        const session = moveId(s.session, step, ctx.sessionIds);
        return session === s.session ? s : freshSelection({ ...s, session });
      }
    case 'timeline':
      return moveLane(s, ctx, step);
    case 'events':
      return stepInTime(s, ctx, step);
    case 'event':
      return moveInLayers(s, ctx, step);
    case 'content': {
      const max = Math.max(0, ctx.contentLineCount - ctx.pageSize);
      const next = step === 'first' ? 0 : step === 'last' ? max : clamp(s.contentScroll + step, 0, max);
      return { ...s, contentScroll: next };
    }
  }
}

/**
 * ↑↓ in the Event pane walk the layers and, inside the selected one, its fields (as Wireshark's
 * packet tree): down from a layer enters its fields, up from its first field returns to it.
 */
function moveInLayers(s: UiState, ctx: UiContext, step: Step): UiState {
  if (step === 'first' || step === 'last') return { ...s, layer: moveIndex(s.layer, step, ctx.layerCount), field: -1, hexScroll: 0 };
  let { layer, field } = s;
  for (let k = Math.abs(step); k > 0; k--) {
    if (step > 0) {
      if (field + 1 < ctx.fieldCount) field++;
      else if (layer + 1 < ctx.layerCount) [layer, field] = [layer + 1, -1];
    } else if (field >= 0) field--;
    else if (layer > 0) layer--;
  }
  return layer === s.layer && field === s.field ? s : { ...s, layer, field, hexScroll: 0 };
}

/** PgUp/PgDn in the Event pane: the hex view by a page, within its rows. */
export function scrollHex(s: UiState, ctx: UiContext, dir: -1 | 1): UiState {
  const page = Math.max(1, ctx.pageSize);
  return { ...s, hexScroll: clamp(s.hexScroll + dir * page, -ctx.hexRows, ctx.hexRows) };
}

/** ←→: the previous or next event on the lane; in Content, the stream shown; in Sessions, fold / unfold the exec's hops. */
export function moveHorizontally(s: UiState, ctx: UiContext, step: -1 | 1): UiState {
  switch (s.pane) {
    case 'sessions':
      return s.list === 'sessions' ? foldChain(s, ctx, step > 0) : s;
    case 'timeline':
    case 'events':
    case 'event':
      return moveItem(s, ctx, step);
    case 'content':
      return { ...s, contentStream: moveIndex(s.contentStream, step, ctx.contentStreamCount), contentScroll: 0, searchAt: -1 };
  }
}

/** → lists every hop of the selected exec under it, ← folds them back (selecting the exec's row). */
export function foldChain(s: UiState, ctx: UiContext, unfold: boolean): UiState {
  // Asked by id: in a burst of keys the selection may have moved since the context was made.
  const chain = ctx.chainOf?.(s.session) ?? null;
  if (!chain || chain.hops < 2) return s;
  const open = s.unfolded.includes(chain.head);
  if (unfold) return open ? s : { ...s, unfolded: [...s.unfolded, chain.head] };
  if (!open) return s;
  const next = { ...s, unfolded: s.unfolded.filter((h) => h !== chain.head) };
  return next.session === chain.head ? next : freshSelection({ ...next, session: chain.head });
}

/** Timeline zoom by `factor` around the selected event (or the view's middle). */
export function zoom(s: UiState, ctx: UiContext, zoomIn: boolean): UiState {
  if (!ctx.axis) return s;
  const view = s.view ?? fullView(ctx.axis);
  const center = itemAxis(s, ctx) ?? (view.from + view.to) / 2;
  return { ...s, view: zoomView(ctx.axis, view, zoomIn ? ZOOM : 1 / ZOOM, center) };
}

export function pan(s: UiState, ctx: UiContext, dir: -1 | 1): UiState {
  if (!ctx.axis) return s;
  return { ...s, view: panView(ctx.axis, s.view ?? fullView(ctx.axis), dir * PAN) };
}

export function cycleSort(s: UiState): UiState {
  return { ...s, sort: SORT_KEYS[(SORT_KEYS.indexOf(s.sort) + 1) % SORT_KEYS.length] };
}

export function cyclePane(s: UiState, dir: 1 | -1): UiState {
  const i = PANES.indexOf(s.pane);
  return { ...s, pane: PANES[(i + (dir > 0 ? 1 : PANES.length - 1)) % PANES.length] };
}

/** A key typed into a line being edited: the new text, or whether it was accepted or abandoned. */
export function editLine(text: string, k: KeyPress): string | 'enter' | 'cancel' {
  if (k.escape) return 'cancel';
  if (k.return) return 'enter';
  if (k.backspace || k.delete) return Array.from(text).slice(0, -1).join('');
  if (k.ctrl && k.input === 'u') return '';
  if (k.ctrl || k.meta || k.tab || k.upArrow || k.downArrow || k.leftArrow || k.rightArrow) return text;
  // Only printable text goes into the line: a pasted escape sequence must not.
  return text + Array.from(k.input).filter((c) => c >= ' ' && c !== '\x7f' && !(c >= '\x80' && c <= '\x9f')).join('');
}

/** A key typed while the filter is being edited. */
export function editFilter(s: UiState, k: KeyPress): UiState {
  const draft = editLine(s.filterDraft ?? '', k);
  if (draft === 'cancel') return { ...s, filterDraft: null };
  if (draft === 'enter') return { ...s, filter: (s.filterDraft ?? '').trim(), filterDraft: null };
  return { ...s, filterDraft: draft };
}

/** Rows of Content above a match, so that it shows with some context. */
const MATCH_CONTEXT = 2;

/** The search's match `at` made current and scrolled into view. */
function showMatch(s: UiState, rows: readonly number[], at: number): UiState {
  return { ...s, searchAt: at, contentScroll: Math.max(0, rows[at] - MATCH_CONTEXT) };
}

/** A key typed while a search or a save path is being edited. */
export function editPrompt(s: UiState, k: KeyPress, ctx: UiContext): UiState {
  if (!s.prompt) return s;
  const text = editLine(s.prompt.text, k);
  if (text === 'cancel') return { ...s, prompt: null };
  if (text !== 'enter') return { ...s, prompt: { ...s.prompt, text } };
  const typed = s.prompt.text.trim();
  if (s.prompt.purpose === 'save') return typed ? { ...s, prompt: null, saveTo: typed } : { ...s, prompt: null };
  if (!typed) return { ...s, prompt: null, search: '', searchAt: -1 };
  const rows = ctx.findInContent?.(typed) ?? [];
  const searched = { ...s, prompt: null, search: typed, searchAt: -1 };
  if (rows.length === 0) return { ...searched, notice: noMatch(typed, ctx) };
  // The first match from the row on top of the pane down, as less and vim search.
  const from = rows.findIndex((r) => r >= Math.max(0, s.contentScroll));
  return showMatch(searched, rows, from < 0 ? 0 : from);
}

/** A search that found nothing, saying what it searched: the whole stream, or only the part Content holds. */
function noMatch(term: string, ctx: UiContext): UiState['notice'] {
  const part = ctx.contentShownPart;
  return { text: `no match for “${term}” in ${part ? `the ${part}: the rest is not searched` : 'this stream'}`, error: true };
}

/** n / N: the next or previous match of the search, wrapping around the stream. */
export function nextMatch(s: UiState, ctx: UiContext, dir: 1 | -1): UiState {
  if (!s.search) return { ...s, notice: { text: 'no search yet: / searches the stream shown', error: false } };
  const rows = ctx.findInContent?.(s.search) ?? [];
  if (rows.length === 0) return { ...s, notice: noMatch(s.search, ctx) };
  const at = s.searchAt < 0 ? (dir > 0 ? 0 : rows.length - 1) : (s.searchAt + dir + rows.length) % rows.length;
  return showMatch(s, rows, at);
}

/** S: ask where to write what Content shows, or the selected event's bytes. */
export function askSavePath(s: UiState, ctx: UiContext): UiState {
  const target = ctx.saveTarget?.();
  if (!target) return s;
  if ('nothing' in target) return { ...s, notice: { text: target.nothing, error: true } };
  return { ...s, prompt: { purpose: 'save', text: target.defaultPath } };
}

/** esc: close the overlay, else one pane back, else leave the connections list, else clear the filter. */
export function back(s: UiState): UiState {
  if (s.overlay) return { ...s, overlay: null, overlayScroll: 0 };
  switch (s.pane) {
    case 'content':
      return { ...s, pane: 'event' };
    case 'event':
    case 'events':
      return { ...s, pane: 'timeline' };
    case 'timeline':
      return { ...s, pane: 'sessions' };
    case 'sessions':
      if (s.list !== 'sessions') return { ...s, list: 'sessions' };
      if (s.filter) return { ...s, filter: '' };
      return s;
  }
}

export function drillIn(s: UiState, ctx: UiContext): UiState {
  switch (s.pane) {
    case 'sessions':
      if (s.list === 'connections') return ctx.connectionIds.length ? { ...s, overlay: 'connection', overlayScroll: 0 } : s;
      if (s.list === 'warnings') return ctx.warningTarget ? jumpTo(s, ctx.warningTarget) : s;
      return ctx.sessionIds.length > 0 ? { ...s, pane: 'timeline' } : s;
    case 'timeline':
    case 'events':
      return s.item >= 0 ? { ...s, pane: 'event' } : s;
    case 'event':
      return { ...s, pane: 'content', contentStream: -1, contentScroll: -1 };
    case 'content':
      return s;
  }
}

/** Open `overlay`, or close it when it is the one open. */
export function toggleOverlay(s: UiState, overlay: Overlay): UiState {
  return { ...s, overlay: s.overlay === overlay ? null : overlay, overlayScroll: 0 };
}

/**
 * Shows where a warning points: its event selected in the Event pane (the filter cleared so that
 * its session is listed), or the connection's details when no session runs on it.
 */
export function jumpTo(s: UiState, target: WarningTarget): UiState {
  if ('connection' in target) return { ...s, list: 'connections', connection: target.connection, pane: 'sessions', filter: '', overlay: 'connection', overlayScroll: 0 };
  const fresh = freshSelection({ ...s, list: 'sessions', session: target.session, filter: '', overlay: null });
  const problem = target.item >= 0 ? (target.problem ?? null) : null;
  return { ...fresh, lane: target.lane, item: target.item, pane: target.item >= 0 ? 'event' : 'timeline', problem, layer: problem ? -1 : 0 };
}

/** ⏎ on a connection's details: its session's timeline. */
export function openConnectionSession(s: UiState, ctx: UiContext): UiState {
  if (ctx.connectionSession === null) return s;
  return { ...freshSelection({ ...s, list: 'sessions', session: ctx.connectionSession, filter: '', overlay: null }), pane: 'timeline' };
}
