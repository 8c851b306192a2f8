/**
 * The one key table. Each binding names its keys, says what it does and where it applies, and
 * carries its effect on the UI state; the reducer, the help overlay, the status bar's hints and the
 * README's keys table all read this table, so they cannot disagree. A new key is one more entry.
 */
import cellWidth from '../report/cell-width.js';
import {
  askSavePath,
  back,
  cyclePane,
  cycleSort,
  drillIn,
  editFilter,
  editPrompt,
  moveHorizontally,
  moveVertically,
  nextMatch,
  openConnectionSession,
  pan,
  scrollHex,
  stepInTime,
  toggleOverlay,
  zoom,
  type KeyPress,
  type Overlay,
  type Pane,
  type UiContext,
  type UiState,
} from './ui-state.js';
import { stepWalk, toggleExplain } from './explain-walk.js';

/** Where a key applies: a pane (the top pane split by what it lists), or an open overlay. */
export type Scope = Exclude<Pane, 'sessions'> | 'sessions' | 'connections' | 'warnings' | Overlay;
/**
 * A hint may also name 'explanation': the Event pane in explain mode where the explanation stands in
 * the layers' place and overflows, so ↑↓ scroll it; 'exec': a session of several hops selected;
 * 'lone-connection': the details of a connection no session runs on; 'no-warnings': an empty
 * warnings list. Where a key does nothing there, its hint is '' (shown nowhere).
 */
type HintScope = Scope | 'explanation' | 'exec' | 'lone-connection' | 'no-warnings';

/** Names of the keys that are not one printable character. */
export type SpecialKey = 'up' | 'down' | 'left' | 'right' | 'pgup' | 'pgdn' | 'home' | 'end' | 'enter' | 'esc' | 'tab' | 'shift-tab';

export interface KeyBinding {
  /** The keys, each a printable character or a SpecialKey name. */
  keys: readonly string[];
  /** How the help, the README and the status bar write the keys. */
  label: string;
  /** What the keys do, for the help and the README. */
  does: string;
  /** Where the keys apply; without it, in every pane (not over an overlay). */
  scopes?: readonly Scope[];
  /** The status bar's short hint, for every scope or per scope; none: only the help lists it. */
  hint?: string | Partial<Record<HintScope, string>>;
  /** The state after the key (`key` is which of `keys` was pressed), or 'quit'. */
  run(s: UiState, ctx: UiContext, key: string): UiState | 'quit';
}

const PANE_SCOPES: readonly Scope[] = ['sessions', 'connections', 'warnings', 'timeline', 'events', 'event', 'content'];
const OVERLAYS: readonly Overlay[] = ['help', 'diagnosis', 'connection'];

export const KEY_TABLE: readonly KeyBinding[] = [
  {
    keys: ['up', 'k', 'down', 'j'],
    label: '↑ ↓  k j',
    does: 'move: session, lane, layer, scroll',
    scopes: [...PANE_SCOPES, ...OVERLAYS],
    hint: {
      sessions: '↑↓ session',
      connections: '↑↓ connection',
      warnings: '↑↓ warning',
      'no-warnings': '',
      timeline: '↑↓ lane',
      events: '↑↓ event',
      event: '↑↓ layer/field',
      explanation: '↑↓ explanation',
      content: '↑↓ scroll',
      help: '↑↓ scroll',
      diagnosis: '↑↓ scroll',
    },
    run: (s, ctx, key) => moveVertically(s, ctx, key === 'up' || key === 'k' ? -1 : 1),
  },
  {
    keys: ['left', 'h', 'right', 'l'],
    label: '← →  h l',
    does: 'previous / next event on the lane · content: stream · sessions: fold / unfold an exec’s hops',
    hint: { exec: '←→ hops', timeline: '←→ event', event: '←→ event', content: '←→ stream' },
    run: (s, ctx, key) => moveHorizontally(s, ctx, key === 'left' || key === 'h' ? -1 : 1),
  },
  {
    keys: [',', '.'],
    label: ', .',
    does: 'previous / next event in time, across all lanes',
    hint: { timeline: ', . time', events: ', . time', event: ', . time' },
    run: (s, ctx, key) => stepInTime(s, ctx, key === '.' ? 1 : -1),
  },
  {
    keys: ['pgup', 'pgdn', 'home', 'g', 'end', 'G'],
    label: 'PgUp PgDn g G',
    does: 'page / first / last · Event pane: PgUp PgDn scroll the bytes',
    scopes: [...PANE_SCOPES, ...OVERLAYS],
    hint: { event: 'PgUp/Dn bytes' },
    run: (s, ctx, key) => {
      if (s.pane === 'event' && !s.overlay && (key === 'pgup' || key === 'pgdn')) return scrollHex(s, ctx, key === 'pgup' ? -1 : 1);
      const page = Math.max(1, ctx.pageSize);
      const step = key === 'pgup' ? -page : key === 'pgdn' ? page : key === 'home' || key === 'g' ? 'first' : 'last';
      return moveVertically(s, ctx, step);
    },
  },
  {
    keys: ['enter'],
    label: '⏎ enter',
    does: 'drill in: session → timeline → layers → content; open',
    scopes: [...PANE_SCOPES, 'connection'],
    hint: {
      sessions: '⏎ timeline',
      timeline: '⏎ layers',
      events: '⏎ layers',
      event: '⏎ content',
      connections: '⏎ details',
      warnings: '⏎ go to it',
      'no-warnings': '',
      connection: '⏎ its session',
      'lone-connection': '',
    },
    run: (s, ctx) => (s.overlay === 'connection' ? openConnectionSession(s, ctx) : drillIn(s, ctx)),
  },
  {
    keys: ['esc'],
    label: 'esc',
    does: 'back · close an overlay · cancel filter · clear filter',
    scopes: [...PANE_SCOPES, ...OVERLAYS],
    hint: { connections: 'esc sessions', warnings: 'esc sessions', event: 'esc back', content: 'esc back', help: 'esc close', diagnosis: 'esc close', connection: 'esc close' },
    run: (s) => back(s),
  },
  {
    keys: ['tab', 'shift-tab'],
    label: '⇥ tab  ⇧⇥',
    does: 'next / previous pane',
    hint: '⇥ pane',
    run: (s, _ctx, key) => cyclePane(s, key === 'tab' ? 1 : -1),
  },
  {
    keys: ['/'],
    label: '/',
    does: 'filter; by field: pod cmd stream text hop state rule kind tty',
    scopes: PANE_SCOPES.filter((p) => p !== 'content'),
    hint: { sessions: '/ filter', connections: '/ filter' },
    run: (s) => ({ ...s, filterDraft: s.filter }),
  },
  {
    keys: ['/'],
    label: '/ (content)',
    does: 'search the stream shown',
    scopes: ['content'],
    hint: '/ search',
    run: (s) => ({ ...s, prompt: { purpose: 'search', text: s.search } }),
  },
  {
    keys: ['n', 'N'],
    label: 'n N (content)',
    does: 'next / previous match of the search',
    scopes: ['content'],
    hint: 'n/N match',
    run: (s, ctx, key) => nextMatch(s, ctx, key === 'n' ? 1 : -1),
  },
  {
    keys: ['+', '=', '-', '_'],
    label: '+ -',
    does: 'zoom the timeline in / out',
    hint: { timeline: '+/- zoom' },
    run: (s, ctx, key) => zoom(s, ctx, key === '+' || key === '='),
  },
  {
    keys: ['[', ']'],
    label: '[ ]',
    does: 'pan the timeline earlier / later',
    hint: { timeline: '[ ] pan' },
    run: (s, ctx, key) => pan(s, ctx, key === '[' ? -1 : 1),
  },
  { keys: ['0'], label: '0', does: 'whole session on the timeline', run: (s) => ({ ...s, view: null }) },
  {
    keys: ['z'],
    label: 'z',
    does: 'compress long idle stretches (≈)',
    hint: { timeline: 'z idle' },
    run: (s) => ({ ...s, compressIdle: !s.compressIdle, view: null }),
  },
  {
    keys: ['e'],
    label: 'e',
    does: 'explain the event: what, who sent it, where in k8s, source',
    scopes: ['sessions', 'timeline', 'events', 'event'],
    hint: { timeline: 'e explain', event: 'e explain' },
    run: (s) => toggleExplain(s),
  },
  {
    keys: ['n', 'p'],
    label: 'n p',
    does: 'guided walk: next / previous step, in protocol order',
    scopes: ['sessions', 'timeline', 'events', 'event'],
    hint: { sessions: 'n walk', timeline: 'n/p walk', event: 'n/p walk' },
    run: (s, ctx, key) => stepWalk(s, ctx, key === 'n' ? 1 : -1),
  },
  { keys: ['x'], label: 'x', does: 'content as hex / as text', hint: { content: 'x hex/text' }, run: (s) => ({ ...s, hex: !s.hex, searchAt: -1 }) },
  {
    keys: ['S'],
    label: 'S',
    does: 'save to a file (asks where): the stream in Content, else the event’s bytes',
    scopes: ['timeline', 'events', 'event', 'content'],
    hint: { content: 'S save', event: 'S save' },
    run: (s, ctx) => askSavePath(s, ctx),
  },
  { keys: ['s'], label: 's', does: 'sort sessions: time, duration, outcome, hop', hint: { sessions: 's sort' }, run: (s) => cycleSort(s) },
  {
    keys: ['c'],
    label: 'c',
    does: 'all connections (discovery, TLS, unknown TCP)',
    hint: { sessions: 'c connections' },
    run: (s) => ({ ...s, list: s.list === 'connections' ? 'sessions' : 'connections', pane: 'sessions' }),
  },
  {
    keys: ['w'],
    label: 'w',
    does: 'decoding warnings; ⏎ goes to the packet and byte',
    hint: { sessions: 'w warnings' },
    run: (s) => ({ ...s, list: s.list === 'warnings' ? 'sessions' : 'warnings', pane: 'sessions' }),
  },
  {
    keys: ['d'],
    label: 'd',
    does: 'what went wrong (hang rules, evidence)',
    scopes: [...PANE_SCOPES, 'diagnosis'],
    hint: { diagnosis: 'd close' },
    run: (s) => (s.session === null && s.overlay !== 'diagnosis' ? s : toggleOverlay(s, 'diagnosis')),
  },
  {
    keys: ['?'],
    label: '?',
    does: 'this help',
    scopes: [...PANE_SCOPES, 'help'],
    hint: { help: '? close', ...Object.fromEntries(PANE_SCOPES.map((p) => [p, '? help'])) },
    run: (s) => toggleOverlay(s, 'help'),
  },
  {
    keys: ['q'],
    label: 'q',
    does: 'quit',
    scopes: [...PANE_SCOPES, ...OVERLAYS],
    hint: 'q quit',
    run: () => 'quit',
  },
];

/** Where the state is, for choosing bindings. */
export function scopeOf(s: UiState): Scope {
  if (s.overlay) return s.overlay;
  if (s.pane === 'sessions') return s.list;
  return s.pane;
}

function appliesIn(b: KeyBinding, scope: Scope): boolean {
  return (b.scopes ?? PANE_SCOPES).includes(scope);
}

/** The key's name as the table writes it. */
export function keyName(k: KeyPress): string {
  if (k.upArrow) return 'up';
  if (k.downArrow) return 'down';
  if (k.leftArrow) return 'left';
  if (k.rightArrow) return 'right';
  if (k.pageUp) return 'pgup';
  if (k.pageDown) return 'pgdn';
  if (k.home) return 'home';
  if (k.end) return 'end';
  if (k.return) return 'enter';
  if (k.escape) return 'esc';
  if (k.tab) return k.shift ? 'shift-tab' : 'tab';
  return k.input;
}

/** What the hints need to know beyond the state. */
export type HintContext = Partial<Pick<UiContext, 'explainOverflow' | 'chainOf' | 'connectionSession' | 'warningCount'>>;

function hintScopeOf(s: UiState, scope: Scope, ctx: HintContext): HintScope {
  if (scope === 'event' && s.explain && ctx.explainOverflow) return 'explanation';
  if (scope === 'sessions' && (ctx.chainOf?.(s.session)?.hops ?? 0) > 1) return 'exec';
  if (scope === 'connection' && ctx.connectionSession === null) return 'lone-connection';
  if (scope === 'warnings' && ctx.warningCount === 0) return 'no-warnings';
  return scope;
}

/**
 * The status bar's hints for where the state is, in table order, in `width` columns: when they do
 * not fit, the ones before the last two (help and quit, the way out) give way from the right.
 */
export function keyHints(s: UiState, width = Infinity, ctx: HintContext = {}): string {
  const scope = scopeOf(s);
  const hintScope = hintScopeOf(s, scope, ctx);
  const hints = KEY_TABLE.flatMap((b) => {
    if (!appliesIn(b, scope) || !b.hint) return [];
    const hint = typeof b.hint === 'string' ? b.hint : (b.hint[hintScope] ?? b.hint[scope]);
    return hint ? [hint] : [];
  });
  while (hints.length > 2 && cellWidth(hints.join('  ')) > width) hints.splice(hints.length - 3, 1);
  return hints.join('  ');
}

/** The state after one key press, or 'quit'. Expects session, lane, item and contentStream already resolved. */
export function reduceKey(shown: UiState, k: KeyPress, ctx: UiContext): UiState | 'quit' {
  // A notice is read once: any key makes way for the hints again.
  const s = shown.notice ? { ...shown, notice: null } : shown;
  if (s.filterDraft !== null) return editFilter(s, k);
  if (s.prompt) return editPrompt(s, k, ctx);
  if (k.ctrl) return s;
  const name = keyName(k);
  const scope = scopeOf(s);
  const binding = KEY_TABLE.find((b) => b.keys.includes(name) && appliesIn(b, scope));
  return binding ? binding.run(s, ctx, name) : s;
}

/** Control characters that are keys of their own when they come inside a burst of input. */
const BURST_KEYS: Record<string, Partial<KeyPress>> = {
  '\r': { return: true },
  '\n': { return: true },
  '\t': { tab: true },
  '\x7f': { backspace: true },
  '\b': { backspace: true },
  '\x15': { input: 'u', ctrl: true },
};

/**
 * Ink hands plain keys that arrived in one read (typed ahead while the screen was busy, a held key
 * repeating over ssh, pasted) as one string. Each character is then a key of its own, except text
 * going into the filter, which is taken as typed.
 */
export function reduceInput(s: UiState, k: KeyPress, ctx: UiContext): UiState | 'quit' {
  // Esc and the keys typed quickly after it arrive as one "meta" key (text, or ⏎, an arrow, PgDn… as
  // "\x1b\r", "\x1b\x1b[B"): take them as Esc, then those keys. No binding uses Alt.
  if (k.meta && !k.escape && !k.ctrl && keyName(k) !== '') {
    const afterEsc = reduceKey(s, { input: '', escape: true }, ctx);
    if (afterEsc === 'quit') return afterEsc;
    return keyName(k) === k.input ? reduceInput(afterEsc, { input: k.input, shift: k.shift }, ctx) : reduceKey(afterEsc, { ...k, meta: false }, ctx);
  }
  const chars = Array.from(k.input);
  if (chars.length <= 1 || k.ctrl || k.meta) return reduceKey(s, k, ctx);
  let state = s;
  for (let i = 0; i < chars.length; i++) {
    const special = BURST_KEYS[chars[i]];
    if ((state.filterDraft !== null || state.prompt) && !special) {
      // Typed text runs up to the next control character (Enter ends the line).
      let end = i;
      while (end < chars.length && !BURST_KEYS[chars[end]]) end++;
      const text = { input: chars.slice(i, end).join('') };
      state = state.filterDraft !== null ? editFilter(state, text) : editPrompt(state, text, ctx);
      i = end - 1;
      continue;
    }
    const next = reduceKey(state, special ? { input: '', ...special } : { input: chars[i], shift: chars[i] !== chars[i].toLowerCase() }, ctx);
    if (next === 'quit') return next;
    state = next;
  }
  return state;
}
