import chalk from 'chalk';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentStreams, headBuffer } from '../../src/ui/content.js';
import { layoutPanes } from '../../src/ui/layout.js';
import { connectionMatches, filterError, parseFilter, sessionMatches } from '../../src/ui/session-filter.js';
import { diagnose } from '../../src/diagnose/diagnose.js';
import { progressBar } from '../../src/ui/StatusBar.js';
import { KEY_TABLE, keyHints, reduceInput, reduceKey, type Scope } from '../../src/ui/keys.js';
import { applyColorEnv } from '../../src/ui/theme.js';
import { parseMouse } from '../../src/ui/mouse.js';
import { buildTimeAxis, fullView } from '../../src/ui/time-axis.js';
import { initialUiState, timeOrder, type KeyPress, type Pane, type UiContext, type UiState } from '../../src/ui/ui-state.js';
import { data, hangingSession, hostileSession, origin, session, spdyEchoConnections, spdyEchoSession, stream, wsEchoSession } from '../helpers/model-builders.js';

const MS = 1e6;

const ctx = (over: Partial<UiContext> = {}): UiContext => ({
  sessionIds: [1, 2, 3],
  connectionIds: [10, 11],
  lanes: [{ items: [{ ts: 0 }] }, { items: [{ ts: 10 * MS }, { ts: 20 * MS }, { ts: 80 * MS }] }, { items: [] }, { items: [{ ts: 21 * MS }, { ts: 90 * MS }] }],
  axis: buildTimeAxis(0, 100 * MS, [], false, 60),
  layerCount: 5,
  fieldCount: 0,
  hexRows: 0,
  contentStreamCount: 3,
  contentLineCount: 50,
  pageSize: 10,
  warningCount: 3,
  warningTarget: null,
  connectionSession: null,
  ...over,
});

const resolved = (over: Partial<UiState> = {}): UiState => ({ ...initialUiState, session: 1, connection: 10, lane: 1, item: 0, contentStream: 0, contentScroll: 0, ...over });

function press(s: UiState, keys: (string | KeyPress)[], c = ctx()): UiState | 'quit' {
  let cur: UiState | 'quit' = s;
  for (const k of keys) {
    if (cur === 'quit') return cur;
    cur = reduceKey(cur, typeof k === 'string' ? { input: k } : k, c);
  }
  return cur;
}

const up: KeyPress = { input: '', upArrow: true };
const down: KeyPress = { input: '', downArrow: true };
const left: KeyPress = { input: '', leftArrow: true };
const right: KeyPress = { input: '', rightArrow: true };
const enter: KeyPress = { input: '\r', return: true };
const esc: KeyPress = { input: '', escape: true, meta: true };
const tab: KeyPress = { input: '', tab: true };
const shiftTab: KeyPress = { input: '', tab: true, shift: true };

describe('reduceKey', () => {
  it('moves through sessions by id and starts a fresh selection on change', () => {
    const s = resolved({ lane: 3, item: 1, layer: 2, view: { from: 0, to: 10 } });
    const next = press(s, [down]) as UiState;
    expect(next).toMatchObject({ session: 2, lane: -1, item: -1, view: null, layer: 0, contentStream: -1 });
    expect((press(s, ['j', 'j', 'j']) as UiState).session).toBe(3);
    expect((press(s, [up]) as UiState).session).toBe(1);
    expect(press(s, [up])).toBe(s);
    expect((press(s, ['G']) as UiState).session).toBe(3);
    expect((press(resolved({ session: 3 }), ['g']) as UiState).session).toBe(1);
    expect((press(s, [{ input: '', pageDown: true }]) as UiState).session).toBe(3);
  });

  it('tab cycles the panes both ways', () => {
    const s = resolved();
    expect(['sessions', 'timeline', 'events', 'event', 'content', 'sessions'].map((_, i) => (press(s, Array(i).fill(tab)) as UiState).pane)).toEqual([
      'sessions',
      'timeline',
      'events',
      'event',
      'content',
      'sessions',
    ]);
    expect((press(s, [shiftTab]) as UiState).pane).toBe('content');
  });

  it('enter drills in and esc goes back', () => {
    let s = press(resolved(), [enter]) as UiState;
    expect(s.pane).toBe('timeline');
    s = press(s, [enter]) as UiState;
    expect(s.pane).toBe('event');
    s = press({ ...s, contentStream: 2 }, [enter]) as UiState;
    expect(s).toMatchObject({ pane: 'content', contentStream: -1, contentScroll: -1 });
    expect(press(s, [esc, esc, esc]) as UiState).toMatchObject({ pane: 'sessions' });
    expect((press(resolved({ pane: 'timeline', item: -1 }), [enter]) as UiState).pane).toBe('timeline');
    expect((press(resolved(), [enter], ctx({ sessionIds: [] })) as UiState).pane).toBe('sessions');
  });

  it('timeline: ←→ move along the lane, ↑↓ change lane keeping the time', () => {
    const s = resolved({ pane: 'timeline', lane: 1, item: 1 });
    expect(press(s, [right])).toMatchObject({ lane: 1, item: 2 });
    expect(press(s, [right, right, right])).toMatchObject({ item: 2 });
    expect(press(s, ['h', 'h'])).toMatchObject({ item: 0 });
    // From the event at 20 ms: the control lane's nearest event is the one at 21 ms.
    expect(press(s, [down, down])).toMatchObject({ lane: 3, item: 0 });
    // An empty lane can be selected; it has no item.
    expect(press(s, [down])).toMatchObject({ lane: 2, item: -1 });
    expect(press(s, [up, up])).toMatchObject({ lane: 0, item: 0 });
  });

  it('zoom and pan, keeping the selected event in view', () => {
    const s = resolved({ pane: 'timeline', lane: 1, item: 1 });
    const z = press(s, ['+']) as UiState;
    expect(z.view).toEqual({ from: 10 * MS, to: 60 * MS });
    expect((press(z, ['-']) as UiState).view).toEqual({ from: 0, to: 100 * MS });
    expect((press(z, [']']) as UiState).view).toEqual({ from: 22.5 * MS, to: 72.5 * MS });
    expect((press(z, ['[']) as UiState).view).toEqual({ from: 0, to: 50 * MS });
    expect((press(z, ['0']) as UiState).view).toBeNull();
    // Moving to the event at 80 ms scrolls the zoomed view to it.
    const moved = press({ ...z, view: { from: 0, to: 40 * MS } }, [right]) as UiState;
    expect(moved.item).toBe(2);
    expect(moved.view!.to).toBeGreaterThanOrEqual(80 * MS);
    expect(press(s, ['z'])).toMatchObject({ compressIdle: true, view: null });
    // Zoom works from any pane.
    expect((press(resolved({ pane: 'sessions' }), ['='] ) as UiState).view).not.toBeNull();
    expect(press(s, ['+'], ctx({ axis: null }))).toBe(s);
  });

  it('event pane: ↑↓ choose the layer, ←→ still move between events', () => {
    const s = resolved({ pane: 'event', lane: 1, item: 1 });
    expect(press(s, [down, down, down, down, down, down])).toMatchObject({ layer: 4 });
    expect(press(s, [right])).toMatchObject({ item: 2, layer: 0 });
  });

  it('content pane: scroll within the text, switch streams', () => {
    const s = resolved({ pane: 'content' });
    expect(press(s, [down, down])).toMatchObject({ contentScroll: 2 });
    expect(press(s, [{ input: '', pageDown: true }, { input: '', pageDown: true }])).toMatchObject({ contentScroll: 20 });
    expect(press(s, ['G'])).toMatchObject({ contentScroll: 40 });
    expect(press(s, [up])).toMatchObject({ contentScroll: 0 });
    expect(press({ ...s, contentScroll: 7 }, [right])).toMatchObject({ contentStream: 1, contentScroll: 0 });
    expect(press(s, [left])).toMatchObject({ contentStream: 0 });
  });

  it('x, ?, s, c toggle; q quits except while typing a filter', () => {
    const s = resolved();
    expect(press(s, ['x'])).toMatchObject({ hex: true });
    expect(press(s, ['x', 'x'])).toMatchObject({ hex: false });
    expect(press(s, ['?'])).toMatchObject({ overlay: 'help' });
    expect(press(s, ['?', esc])).toMatchObject({ overlay: null });
    expect(press(s, ['?', '?'])).toMatchObject({ overlay: null });
    expect(press(s, ['?', down])).toMatchObject({ overlay: 'help', session: 1 });
    expect(press(s, ['d'])).toMatchObject({ overlay: 'diagnosis' });
    expect(press(s, ['d', '?'])).toMatchObject({ overlay: 'diagnosis' });
    expect(press(s, ['d', 'd'])).toMatchObject({ overlay: null });
    expect(press(s, ['s'])).toMatchObject({ sort: 'duration', session: 1 });
    expect(press(s, ['s', 's', 's'])).toMatchObject({ sort: 'hop' });
    expect(press(s, ['s', 's', 's', 's'])).toMatchObject({ sort: 'time' });
    expect(press(resolved({ pane: 'event' }), ['c'])).toMatchObject({ list: 'connections', pane: 'sessions' });
    expect(press(s, ['c', down])).toMatchObject({ connection: 11, session: 1 });
    expect(press(s, ['c', esc])).toMatchObject({ list: 'sessions' });
    expect(press(s, ['q'])).toBe('quit');
    expect(press(s, ['?', 'q'])).toBe('quit');
    expect(press(s, [{ input: 'q', ctrl: true }])).not.toBe('quit');
  });

  it('/ types a filter: printable text only, backspace, enter applies, esc cancels, esc again clears', () => {
    let s = press(resolved(), ['/']) as UiState;
    expect(s.filterDraft).toBe('');
    s = press(s, ['p', 'o', 'd', ':', 'w', 'q', { input: '', backspace: true }]) as UiState;
    expect(s.filterDraft).toBe('pod:w');
    expect(press(s, [{ input: '\x1b[31mx\u009b' }])).toMatchObject({ filterDraft: 'pod:w[31mx' });
    expect(press(s, [down])).toMatchObject({ filterDraft: 'pod:w', session: 1 });
    const applied = press(s, [{ input: ' ' }, enter]) as UiState;
    expect(applied).toMatchObject({ filter: 'pod:w', filterDraft: null });
    expect(press(applied, ['/', 'x', esc])).toMatchObject({ filter: 'pod:w', filterDraft: null });
    expect(press(applied, ['/', { input: 'u', ctrl: true }])).toMatchObject({ filterDraft: '' });
    expect(press(applied, [esc])).toMatchObject({ filter: '' });
  });
  it(', and . step through every lane in time order', () => {
    const c = ctx();
    expect(timeOrder(c).map((e) => [e.lane, e.item])).toEqual([[0, 0], [1, 0], [1, 1], [3, 0], [1, 2], [3, 1]]);
    const s = resolved({ pane: 'timeline', lane: 1, item: 1 });
    // From the event at 20 ms on lane 1 to the control lane's at 21 ms, then back to lane 1 at 80 ms.
    expect(press(s, ['.'])).toMatchObject({ lane: 3, item: 0 });
    expect(press(s, ['.', '.'])).toMatchObject({ lane: 1, item: 2 });
    expect(press(s, ['.', '.', '.', '.', '.'])).toMatchObject({ lane: 3, item: 1 });
    expect(press(s, [',', ',', ','])).toMatchObject({ lane: 0, item: 0 });
    expect(press(resolved({ pane: 'event', lane: 2, item: -1 }), ['.'])).toMatchObject({ lane: 0, item: 0 });
    expect(press(s, ['.'], ctx({ lanes: [] }))).toBe(s);
  });

  it('w lists the warnings; ⏎ goes to the event a warning points at, or to its connection', () => {
    const s = press(resolved({ pane: 'event', filter: 'pod:x' }), ['w']) as UiState;
    expect(s).toMatchObject({ list: 'warnings', pane: 'sessions' });
    expect(press(s, [down, down, down, down])).toMatchObject({ warning: 2 });
    const target = ctx({ warningTarget: { session: 3, lane: 1, item: 2 } });
    expect(press(s, [enter], target)).toMatchObject({ list: 'sessions', session: 3, lane: 1, item: 2, pane: 'event', filter: '' });
    expect(press(s, [enter], ctx({ warningTarget: { connection: 11 } }))).toMatchObject({ list: 'connections', connection: 11, overlay: 'connection' });
    expect(press(s, [enter])).toBe(s);
    expect(press(s, [esc])).toMatchObject({ list: 'sessions' });
    expect(press(s, ['w'])).toMatchObject({ list: 'sessions' });
  });

  it('⏎ on a connection opens its details; ⏎ there opens its session', () => {
    const details = press(resolved(), ['c', enter]) as UiState;
    expect(details).toMatchObject({ list: 'connections', overlay: 'connection' });
    expect(keyHints(details, Infinity, { connectionSession: 2 })).toMatch(/⏎ its session {2}.*esc close/);
    // Without a session on the connection ⏎ does nothing there, and no hint says it would.
    expect(keyHints(details, Infinity, { connectionSession: null })).toBe('esc close  q quit');
    expect(keyHints(resolved({ list: 'warnings' }), Infinity, { warningCount: 0 })).not.toMatch(/⏎|↑↓/);
    expect(press(details, [enter])).toBe(details);
    expect(press(details, [enter], ctx({ connectionSession: 2 }))).toMatchObject({ list: 'sessions', session: 2, pane: 'timeline', overlay: null });
    expect(press(details, [esc])).toMatchObject({ list: 'connections', overlay: null });
  });

  it('esc then q typed quickly (one meta-q from the terminal) closes and quits', () => {
    expect(reduceInput(resolved({ overlay: 'diagnosis' }), { input: 'q', meta: true }, ctx())).toBe('quit');
    expect(reduceInput(resolved({ pane: 'event' }), { input: 'x', meta: true }, ctx())).toMatchObject({ pane: 'timeline', hex: true });
    expect(reduceInput(resolved({ filter: 'rule:R1' }), { input: '/hop:x', meta: true }, ctx())).toMatchObject({ filter: '', filterDraft: 'hop:x' });
  });

  it('esc then ⏎, an arrow or PgDn typed quickly (one meta key from the terminal) closes, then acts', () => {
    // "\x1b\r" and "\x1b\x1b[B" came as one meta key that nothing took: the overlay stayed, and the key after Esc was lost.
    expect(reduceInput(resolved({ overlay: 'help' }), { input: '', return: true, meta: true }, ctx())).toMatchObject({ overlay: null, pane: 'timeline' });
    expect(reduceInput(resolved({ overlay: 'diagnosis' }), { input: '', downArrow: true, meta: true }, ctx())).toMatchObject({ overlay: null, session: 2 });
    expect(reduceInput(resolved({ pane: 'event' }), { input: '', pageDown: true, meta: true }, ctx())).toMatchObject({ pane: 'timeline' });
    expect(reduceInput(resolved({ filterDraft: 'pod:x' }), { input: '', return: true, meta: true }, ctx())).toMatchObject({ filterDraft: null, filter: '', pane: 'timeline' });
  });

});

describe('the Event pane: layers, their fields, the bytes', () => {
  const pgdn: KeyPress = { input: '', pageDown: true };
  const pgup: KeyPress = { input: '', pageUp: true };
  it('↓ enters the selected layer\'s fields and leaves them for the next layer; ↑ comes back the same way', () => {
    const c = ctx({ layerCount: 3, fieldCount: 2 });
    const s = resolved({ pane: 'event', layer: 1, field: -1 });
    expect(press(s, [down], c)).toMatchObject({ layer: 1, field: 0 });
    expect(press(s, [down, down], c)).toMatchObject({ layer: 1, field: 1 });
    expect(press(s, [down, down, down], c)).toMatchObject({ layer: 2, field: -1 });
    expect(press(resolved({ pane: 'event', layer: 1, field: 1 }), [up, up], c)).toMatchObject({ layer: 1, field: -1 });
    expect(press(resolved({ pane: 'event', layer: 1, field: -1 }), [up], c)).toMatchObject({ layer: 0, field: -1 });
    expect(press(resolved({ pane: 'event', layer: 1, field: 1 }), ['G'], c)).toMatchObject({ layer: 2, field: -1 });
  });

  it('PgDn and PgUp scroll the bytes a page at a time within their rows; a new field scrolls back to its bytes', () => {
    const c = ctx({ layerCount: 3, fieldCount: 2, hexRows: 38, pageSize: 6 });
    const s = resolved({ pane: 'event', layer: 2 });
    expect(press(s, [pgdn, pgdn], c)).toMatchObject({ hexScroll: 12, layer: 2 });
    expect(press(s, [pgdn, pgup, pgup], c)).toMatchObject({ hexScroll: -6 });
    expect((press(s, Array(10).fill(pgdn), c) as UiState).hexScroll).toBe(38);
    expect(press(s, [pgdn, down], c)).toMatchObject({ field: 0, hexScroll: 0 });
  });
});

describe('reduceInput', () => {
  it('takes each character of a burst as a key of its own', () => {
    const s = resolved();
    expect(reduceInput(s, { input: 'jj' }, ctx())).toEqual(press(s, ['j', 'j']));
    expect(reduceInput(s, { input: 'jjjjj' }, ctx())).toMatchObject({ session: 3 });
    expect(reduceInput(s, { input: 'xs' }, ctx())).toMatchObject({ hex: true, sort: 'duration' });
    expect(reduceInput(s, { input: 'G' }, ctx())).toMatchObject({ session: 3 });
    expect(reduceInput(s, { input: 'jG' }, ctx())).toEqual(press(s, ['j', 'G']));
  });

  it('enter, tab and backspace inside a burst are those keys', () => {
    const s = resolved();
    expect(reduceInput(s, { input: 'j\r' }, ctx())).toEqual(press(s, ['j', enter]));
    expect(reduceInput(s, { input: '\t\t\t' }, ctx())).toMatchObject({ pane: 'event' });
  });

  it('stops at q, and a burst typed into the filter is filter text up to enter', () => {
    const s = resolved();
    expect(reduceInput(s, { input: 'jqj' }, ctx())).toBe('quit');
    expect(reduceInput(s, { input: '/pod:web' }, ctx())).toMatchObject({ filterDraft: 'pod:web' });
    expect(reduceInput(s, { input: '/web q\rj' }, ctx())).toMatchObject({ filter: 'web q', filterDraft: null, session: 2 });
    expect(reduceInput(s, { input: '/webx\x7f\rq' }, ctx())).toBe('quit');
    expect(reduceInput(resolved({ filterDraft: 'a' }), { input: 'bc\x7f' }, ctx())).toMatchObject({ filterDraft: 'ab' });
    // Ctrl-U then new text in one read: the old text goes, the new stays.
    expect(reduceInput(resolved({ filterDraft: 'rule:R1' }), { input: '\x15foo:1' }, ctx())).toMatchObject({ filterDraft: 'foo:1' });
  });

  it('leaves modified keys alone', () => {
    const s = resolved();
    expect(reduceInput(s, { input: 'qq', ctrl: true }, ctx())).not.toBe('quit');
  });
});

describe('layoutPanes', () => {
  it('always uses exactly the rows it has, the focused pane getting the room', () => {
    for (const rows of [8, 24, 40, 60]) {
      for (const pane of ['sessions', 'timeline', 'events', 'event', 'content'] as const) {
        const l = layoutPanes(rows, 80, pane, { list: 12, lanes: 7, events: 40 });
        expect(l.sessions + l.timeline + l.events + l.detail).toBe(rows - 2);
        expect(l.detail).toBeGreaterThanOrEqual(2);
      }
    }
    const at80 = (rows: number, pane: Pane, list: number, lanes: number) => layoutPanes(rows, 80, pane, { list, lanes, events: 40 });
    expect(at80(24, 'sessions', 2, 5)).toMatchObject({ sessions: 3, timeline: 7, events: 2, detail: 10, detailPane: 'event' });
    expect(at80(24, 'sessions', 30, 5)).toMatchObject({ sessions: 8, timeline: 7, events: 2, detail: 5, detailPane: 'event' });
    expect(at80(24, 'timeline', 30, 7)).toMatchObject({ sessions: 4, timeline: 9, events: 2, detail: 7, detailPane: 'event' });
    expect(at80(24, 'events', 30, 7)).toMatchObject({ sessions: 2, timeline: 5, events: 8, detail: 7, detailPane: 'event' });
    expect(at80(24, 'event', 30, 7)).toMatchObject({ sessions: 2, timeline: 6, events: 2, detail: 12, detailPane: 'event' });
    expect(at80(24, 'content', 30, 7)).toMatchObject({ sessions: 2, timeline: 5, events: 2, detail: 13, detailPane: 'content' });
    // A session with few events does not get more rows than it has events.
    expect(layoutPanes(24, 80, 'events', { list: 30, lanes: 7, events: 1 }).events).toBe(3);
  });

  it('puts Content beside the Event pane from 160 columns, unless the explanation is there', () => {
    expect(layoutPanes(50, 160, 'event', { list: 30, lanes: 7, events: 40 })).toMatchObject({ detailPane: 'both', eventWidth: 80 });
    expect(layoutPanes(60, 200, 'sessions', { list: 30, lanes: 7, events: 40 })).toMatchObject({ detailPane: 'both', eventWidth: 100 });
    expect(layoutPanes(50, 159, 'event', { list: 30, lanes: 7, events: 40 })).toMatchObject({ detailPane: 'event', eventWidth: 159 });
    expect(layoutPanes(50, 160, 'event', { list: 30, lanes: 7, events: 40 }, true)).toMatchObject({ detailPane: 'event' });
  });
});

describe('the events pane, search, save and hops', () => {
  it('↑↓ in the Events pane step in time across lanes; the selection follows into Content', () => {
    const s = resolved({ pane: 'events', lane: 1, item: 0, contentScroll: 7 });
    // Times: lane0 0, lane1 10 20 80, lane3 21 90.
    expect(press(s, [down])).toMatchObject({ lane: 1, item: 1, contentScroll: -1 });
    expect(press(s, [down, down])).toMatchObject({ lane: 3, item: 0 });
    expect(press(s, [up])).toMatchObject({ lane: 0, item: 0 });
    expect(press(s, ['G'])).toMatchObject({ lane: 3, item: 1 });
    expect(press(s, ['g'])).toMatchObject({ lane: 0, item: 0 });
    expect(press(s, [{ input: '', pageDown: true }])).toMatchObject({ lane: 3, item: 1 });
    expect(press(s, [enter])).toMatchObject({ pane: 'event' });
    expect(press(s, [esc])).toMatchObject({ pane: 'timeline' });
  });

  it('/ in Content searches the stream from the row shown; n and N go round the matches', () => {
    const rows = [3, 12, 12, 40];
    const c = ctx({ findInContent: (term) => (term === 'hello' ? rows : []) });
    const s = resolved({ pane: 'content', contentScroll: 10 });
    const typing = press(s, ['/'], c) as UiState;
    expect(typing.prompt).toEqual({ purpose: 'search', text: '' });
    expect(keyHints(s)).toMatch(/\/ search/);
    const found = reduceInput(typing, { input: 'hello\r' }, c) as UiState;
    expect(found).toMatchObject({ prompt: null, search: 'hello', searchAt: 1, contentScroll: 10 });
    expect(press(found, ['n'], c)).toMatchObject({ searchAt: 2, contentScroll: 10 });
    expect(press(found, ['n', 'n', 'n'], c)).toMatchObject({ searchAt: 0, contentScroll: 1 });
    expect(press(found, ['N', 'N'], c)).toMatchObject({ searchAt: 3, contentScroll: 38 });
    const none = reduceInput(typing, { input: 'nothing\r' }, c) as UiState;
    expect(none).toMatchObject({ search: 'nothing', notice: { text: 'no match for “nothing” in this stream', error: true } });
    // Content holding only part of the stream: the notice says the search went no further.
    const cut = ctx({ findInContent: () => [], contentShownPart: 'first 100,000 lines shown of the first 16.0 MiB' });
    expect((reduceInput(typing, { input: 'nothing\r' }, cut) as UiState).notice?.text).toBe(
      'no match for “nothing” in the first 100,000 lines shown of the first 16.0 MiB: the rest is not searched',
    );
    expect((press(found, ['n'], cut) as UiState).notice?.text).toMatch(/the first 100,000 lines shown of the first 16\.0 MiB: the rest is not searched$/);
    // The notice goes at the next key.
    expect(press(none, [down], c)).toMatchObject({ notice: null });
    // Esc abandons the search being typed; n without a search says how to start one.
    expect(press(typing, ['a', esc], c)).toMatchObject({ prompt: null, search: '' });
    expect((press(s, ['n'], c) as UiState).notice?.text).toMatch(/no search yet/);
    // Outside Content, / is still the filter and n the walk.
    expect(press(resolved(), ['/'], c)).toMatchObject({ filterDraft: '', prompt: null });
  });

  it('S asks for a path (the suggested one editable), ⏎ asks the App to write it', () => {
    const c = ctx({ saveTarget: () => ({ defaultPath: 'execscope-1-stdout.bin' }) });
    const s = resolved({ pane: 'content' });
    const asked = press(s, ['S'], c) as UiState;
    expect(asked.prompt).toEqual({ purpose: 'save', text: 'execscope-1-stdout.bin' });
    expect(reduceInput(asked, { input: '\x15/tmp/out.bin\r' }, c)).toMatchObject({ prompt: null, saveTo: '/tmp/out.bin' });
    expect(press(asked, [esc], c)).toMatchObject({ prompt: null, saveTo: null });
    // Keys typed into the prompt are text, not commands.
    expect(reduceInput(asked, { input: 'qj' }, c)).toMatchObject({ prompt: { text: 'execscope-1-stdout.binqj' } });
    expect(press(s, ['S'], ctx({ saveTarget: () => ({ nothing: 'nothing to save: no session selected' }) }))).toMatchObject({ prompt: null, notice: { error: true } });
    expect(press(resolved({ pane: 'sessions' }), ['S'], c)).toMatchObject({ prompt: null });
  });

  it('→ unfolds an exec’s hops in Sessions, ← folds them back onto the exec', () => {
    const c = ctx({ chainOf: (id) => (id === 1 || id === 2 ? { head: 1, hops: 3 } : null) });
    const s = resolved({ pane: 'sessions', session: 1 });
    const open = press(s, [right], c) as UiState;
    expect(open.unfolded).toEqual([1]);
    expect(press(open, [right], c)).toBe(open);
    expect(press({ ...open, session: 2 }, [left], c)).toMatchObject({ unfolded: [], session: 1 });
    expect(press(s, [right], ctx({ chainOf: () => ({ head: 1, hops: 1 }) }))).toBe(s);
    // Keys typed at once share one context: down to session 2 (an exec of one hop), then →: nothing unfolds.
    expect(press(s, [down, right], ctx({ chainOf: (id) => (id === 1 ? { head: 1, hops: 3 } : { head: id ?? 0, hops: 1 }) }))).toMatchObject({ session: 2, unfolded: [] });
    expect(keyHints(s, Infinity, c)).toMatch(/←→ hops/);
    expect(keyHints(s, Infinity, { chainOf: () => ({ head: 1, hops: 1 }) })).not.toMatch(/hops/);
  });
});

describe('filter', () => {
  const ws = wsEchoSession();
  const spdy = spdyEchoSession();
  const hang = hangingSession();
  const all = [ws, spdy, hang];
  const facts = { findings: (s: typeof ws) => diagnose(s, all) };
  const matching = (text: string) => all.filter((s) => sessionMatches(s, parseFilter(text), facts)).map((s) => s.id);

  it('parses fields and lower-cases needles', () => {
    expect(parseFilter('  pod:Web-0  CMD:cat stdout x: ')).toEqual([
      { field: 'pod', needle: 'web-0' },
      { field: 'cmd', needle: 'cat' },
      { field: 'any', needle: 'stdout' },
      { field: 'any', needle: '', error: expect.stringMatching(/^unknown filter prefix x: \(known: pod: .* tty:\)$/) },
    ]);
    expect(parseFilter('127.0.0.1:443 ::1')).toEqual([
      { field: 'any', needle: '127.0.0.1:443' },
      { field: 'any', needle: '::1' },
    ]);
    expect(filterError(parseFilter('hop:kubelet tty:maybe'))).toBe('tty: takes yes or no, not “maybe”');
    expect(filterError(parseFilter('hop:kubelet tty:no'))).toBeNull();
    expect(parseFilter('')).toEqual([]);
  });

  it('matches pod, command, stream and content; all terms must match', () => {
    expect(matching('')).toEqual([1, 2, 3]);
    expect(matching('pod:web')).toEqual([3]);
    expect(matching('pod:MAIN')).toEqual([1, 2]);
    expect(matching('cmd:echo')).toEqual([1, 2]);
    expect(matching('cmd:"hello')).toEqual([]);
    expect(matching('cmd:hello from')).toEqual([1, 2]);
    expect(matching('stream:stdin')).toEqual([3]);
    expect(matching('text:websocket')).toEqual([1]);
    expect(matching('text:line')).toEqual([3]);
    expect(matching('spdy')).toEqual([2]);
    expect(matching('echo websocket')).toEqual([1]);
    expect(matching('nothing-like-this')).toEqual([]);
  });

  it('hop:, state:, rule:, kind:, tty: ask about the session; an unknown prefix matches nothing', () => {
    expect(matching('hop:apiserver')).toEqual([1, 2, 3]);
    expect(matching('hop:kubelet')).toEqual([]);
    expect(matching('state:open')).toEqual([3]);
    expect(matching('state:complete')).toEqual([1, 2]);
    // The hanging session is flagged R1 (stdin never half-closed); R1 does not match R10.
    expect(diagnose(hang, all).map((f) => f.rule)).toContain('R1');
    expect(matching('rule:r1')).toEqual([3]);
    expect(matching('rule:R')).toEqual([]);
    expect(matching('kind:exec')).toEqual([1, 2, 3]);
    expect(matching('kind:port-forward')).toEqual([]);
    expect(matching('tty:no')).toEqual(all.filter((s) => !s.tty).map((s) => s.id));
    expect(matching('tty:yes')).toEqual(all.filter((s) => s.tty).map((s) => s.id));
    expect(matching('R1')).toEqual([]);
    expect(matching('foo:bar')).toEqual([]);
  });

  it('content matching sees text split across chunks, and notices when the head grows', () => {
    const s = session();
    const out = stream(s, 'stdout', 1);
    data(out, 's2c', 'hel', origin(0, 5, 2, 1));
    data(out, 's2c', 'lo wor', origin(5, 8, 3, 2));
    const none = { findings: () => [] };
    expect(sessionMatches(s, parseFilter('text:hello'), none)).toBe(true);
    expect(sessionMatches(s, parseFilter('text:world'), none)).toBe(false);
    data(out, 's2c', 'ld', origin(13, 4, 4, 3));
    expect(sessionMatches(s, parseFilter('text:world'), none)).toBe(true);
  });

  it('matches connections by address, protocol and request target', () => {
    const conns = spdyEchoConnections();
    const ids = (t: string) => conns.filter((c) => connectionMatches(c, parseFilter(t))).map((c) => c.id);
    expect(ids('version')).toEqual([2]);
    expect(ids('38284')).toEqual([3]);
    expect(ids('empty')).toEqual([1]);
  });
});

describe('content streams', () => {
  it('orders stdout, stderr, stdin, others, error and leaves resize out', () => {
    const s = session();
    for (const [name, id] of [['resize', 4], ['error', 3], ['stdin', 0], ['data:8080', 5], ['stderr', 2], ['stdout', 1]] as const) stream(s, name, id);
    expect(contentStreams(s).map((r) => r.name)).toEqual(['stdout', 'stderr', 'stdin', 'data:8080', 'error']);
  });

  it('joins the head chunks', () => {
    const s = hostileSession();
    const r = stream(s, 'stdout', 1);
    data(r, 's2c', 'tail', origin(0, 0, 1, 0));
    expect(new TextDecoder().decode(headBuffer(r)).endsWith('after\ntail')).toBe(true);
    expect(headBuffer(r)).toHaveLength(r.headBytes);
  });
});

describe('the key table', () => {
  it('is the README keys table, row for row', () => {
    const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| key | does |'));
    const rows = table.split('\n').slice(2).filter((l, i, all) => all.slice(0, i + 1).every((r) => r.startsWith('|')));
    expect(rows).toEqual(KEY_TABLE.map((b) => `| ${b.label} | ${b.does} |`));
  });

  it('binds no key twice where both would apply', () => {
    const panes: Scope[] = ['sessions', 'connections', 'warnings', 'timeline', 'events', 'event', 'content'];
    for (const scope of [...panes, 'help', 'diagnosis', 'connection'] as Scope[]) {
      const keys = KEY_TABLE.filter((b) => (b.scopes ?? panes).includes(scope)).flatMap((b) => b.keys);
      expect(keys.length).toBe(new Set(keys).size);
    }
  });
});

describe('status bar', () => {
  it('draws a progress bar with a percentage, or what was read when the size is unknown', () => {
    expect(progressBar({ bytesRead: 512 * 1024 ** 2, totalBytes: 1024 ** 3 }, 60)).toBe(`▕${'█'.repeat(15)}${'░'.repeat(15)}▏ 50% 512 MiB of 1.00 GiB`);
    expect(progressBar({ bytesRead: 0, totalBytes: 100 }, 20)).toBe(`▕${'░'.repeat(4)}▏ 0% 0 B of 100 B`);
    expect(progressBar({ bytesRead: 300, totalBytes: 100 }, 40)).toMatch(/^▕█+▏ 100% /);
    expect(progressBar({ bytesRead: 2048, totalBytes: null }, 40)).toBe('loading… 2.00 KiB read');
  });

  it('hints follow the pane', () => {
    expect(keyHints(resolved())).toMatch(/^↑↓ session  ⏎ timeline/);
    expect(keyHints(resolved({ pane: 'timeline' }))).toMatch(/\+\/- zoom  \[ \] pan/);
    expect(keyHints(resolved({ list: 'connections' }))).toMatch(/^↑↓ connection  ⏎ details  esc sessions/);
    // Narrow: the hints before help and quit give way from the right.
    expect(keyHints(resolved({ pane: 'timeline' }), 44)).toBe('↑↓ lane  ←→ event  , . time  ? help  q quit');
    expect(keyHints(resolved({ pane: 'timeline' }), 40)).toBe('↑↓ lane  ←→ event  ? help  q quit');
    expect(keyHints(resolved({ overlay: 'help' }))).toBe('↑↓ scroll  esc close  ? close  q quit');
    expect(keyHints(resolved({ overlay: 'diagnosis' }))).toBe('↑↓ scroll  esc close  d close  q quit');
    // Explain mode: ↑↓ scroll the explanation only where it stands in the layers' place and overflows.
    expect(keyHints(resolved({ pane: 'event', explain: true }))).toMatch(/^↑↓ layer\/field /);
    expect(keyHints(resolved({ pane: 'event', explain: true }), Infinity, { explainOverflow: 5 })).toMatch(/^↑↓ explanation /);
    expect(keyHints(resolved({ pane: 'event' }), Infinity, { explainOverflow: 5 })).toMatch(/^↑↓ layer\/field /);
  });
});

describe('NO_COLOR', () => {
  it('turns chalk off when set and not empty', () => {
    const before = chalk.level;
    try {
      chalk.level = 2;
      expect(applyColorEnv({ NO_COLOR: '' })).toBe(true);
      expect(chalk.level).toBe(2);
      expect(applyColorEnv({})).toBe(true);
      expect(applyColorEnv({ NO_COLOR: '1' })).toBe(false);
      expect(chalk.level).toBe(0);
    } finally {
      chalk.level = before;
    }
  });
});

it('fullView covers the axis', () => {
  expect(fullView(buildTimeAxis(0, 5, [], false, 10))).toEqual({ from: 0, to: 5 });
});

describe('mouse reports', () => {
  it('reads SGR presses and wheel notches, 0-based; releases, motion and other input are not presses', () => {
    expect(parseMouse('[<0;10;5M')).toEqual({ button: 'left', x: 9, y: 4 });
    expect(parseMouse('\x1b[<65;1;1M')).toEqual({ button: 'wheel-down', x: 0, y: 0 });
    expect(parseMouse('[<64;200;60M')).toEqual({ button: 'wheel-up', x: 199, y: 59 });
    expect(parseMouse('[<0;10;5m')).toBe('ignored');
    expect(parseMouse('[<32;10;5M')).toBe('ignored');
    expect(parseMouse('[<0;10;5')).toBeNull();
    expect(parseMouse('j')).toBeNull();
  });
});
