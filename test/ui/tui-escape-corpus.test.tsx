/**
 * The TUI in the escape corpus: the hand-built hostile capture (every escape family of
 * test/kit/escape-corpus.ts in every field a peer controls) goes through the real pipeline, the
 * capture inspector and the content reader, and every pane is walked at 80×24 and 160×50 — the
 * sessions, the timeline's lanes, every event of each session with every layer, field and hex view
 * of the Event pane, Content as text and hex on every stream, Explain, the warnings (and ⏎ on one),
 * the connections and a connection's details, the diagnosis and the help. Not one frame written may
 * carry a control character from the capture: with colour off none at all, with colour on nothing
 * but Ink's SGR colours. The hostile values must still be on screen, neutralised.
 */
import chalk from 'chalk';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createContentReader } from '../../src/pipeline/capture-content-reader.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import type { CaptureModel } from '../../src/model/session.js';
import { App } from '../../src/ui/App.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { clientHello, record } from '../helpers/tls-synthetic.js';
import { ALL_ESCAPES, RAW_CONTROL } from '../kit/escape-corpus.js';
import { hostileFields, pcapBytes } from '../kit/hostile-captures.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { cleanupTuis, KEYS, readsSettled, renderTui, tracked, type Tui } from './tui-harness.js';

const tmp = tempDirForTests('execscope-tui-hostile-');
const capture = join(tmp, `hostile${ALL_ESCAPES.replace(/\//g, '_')}.pcap`);

let model: CaptureModel;
beforeAll(async () => {
  writeFileSync(capture, pcapBytes(hostileFields(ALL_ESCAPES, record(22, clientHello({ random: new Uint8Array(32), sni: `evil${ALL_ESCAPES}.example` })))));
  model = await analyzeCapture(capture, analyzeOptions());
});

let level: typeof chalk.level;
beforeEach(() => {
  level = chalk.level;
});
afterEach(async () => {
  cleanupTuis();
  await readsSettled();
  chalk.level = level;
});

const SHIFT_TAB = KEYS.shiftTab;
const plain = (frame: string) => frame.replace(/\x1b\[[0-9;]*m/g, '');
/** The focused pane's title (▶ marks it; Content's stands beside the Event pane's from 160 columns). */
const focusedPane = (t: Tui) => /▶ (\w+) ·/.exec(plain(t.lastFrame()))?.[1] ?? '';

/** Lets the inspector's re-read land before the next key. */
async function settled(t: Tui): Promise<void> {
  for (let i = 0; i < 400 && plain(t.lastFrame()).includes('… re-reading the capture'); i++) await t.settle(20);
}

async function focus(t: Tui, pane: string): Promise<void> {
  for (let i = 0; i < 8 && focusedPane(t) !== pane; i++) await t.press(KEYS.tab);
  expect(focusedPane(t)).toBe(pane);
}

/**
 * Every event of the selected session with its k8s layer and frame fields (where a SPDY header or a
 * channel byte shows); the first one down through every layer and field (the upgrade request header
 * by header, TCP, each packet), which are the session's for all its events.
 */
async function everyEvent(t: Tui, events: number, tall: boolean): Promise<void> {
  await focus(t, 'Events');
  await t.press('g');
  for (let e = 0; e < events; e++) {
    await focus(t, 'Event');
    await settled(t);
    // A tall pane shows a layer's fields as soon as the layer is selected: fewer keys reach them all.
    for (let k = 0; k < (e === 0 ? (tall ? 30 : 70) : tall ? 2 : 14); k++) await t.press(KEYS.down);
    await t.press(KEYS.pageDown, 'g', SHIFT_TAB);
    expect(focusedPane(t)).toBe('Events');
    await t.press(KEYS.down);
  }
}

async function walk(t: Tui, tall: boolean): Promise<void> {
  for (const s of model.sessions) {
    await focus(t, 'Sessions');
    await t.press('g', ...Array.from({ length: model.sessions.indexOf(s) }, () => KEYS.down), KEYS.enter);
    // Every lane, and along each.
    for (let l = 0; l < 8; l++) await t.press(KEYS.down, KEYS.right, KEYS.right, KEYS.left);
    await everyEvent(t, s.streams.reduce((n, r) => n + r.events.length, 0) + s.control.length, tall);
    await focus(t, 'Event');
    await t.press('e');
    await settled(t);
    await t.press('e');
    await focus(t, 'Content');
    for (let c = 0; c < s.streams.length; c++) await t.press(KEYS.right, 'x', KEYS.pageDown, 'x');
    await t.press('/', 'a', KEYS.enter, 'n', KEYS.escape);
    await t.press('d', KEYS.down, KEYS.escape);
  }
  await t.press('w');
  for (let i = 0; i < model.warnings.length; i++) await t.press(KEYS.down);
  await t.press('g', KEYS.enter);
  await settled(t);
  await t.press(KEYS.escape, 'c');
  for (let i = 0; i < model.connections.length; i++) await t.press(KEYS.down, KEYS.enter, KEYS.down, KEYS.escape);
  await t.press(KEYS.escape, '?', KEYS.pageDown, KEYS.escape, SHIFT_TAB);
}

/** Each line of a frame holding a raw control (SGR colour sequences removed first when `sgr`). */
function leaks(frames: readonly string[], sgr: boolean): string[] {
  const out = new Set<string>();
  for (const f of frames) {
    for (const line of f.split('\n')) {
      const text = sgr ? line.replace(/\x1b\[[0-9;]*m/g, '') : line;
      if (RAW_CONTROL.test(text)) out.add(`U+${text.match(RAW_CONTROL)![0].charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify(text)}`);
    }
  }
  return [...out];
}

// With colour off nothing at all may be written but text; with colour on Ink's SGR colours only.
describe.each([
  [80, 24, 'colour off', 0],
  [160, 50, 'colour on', 3],
] as const)('%i×%i, %s', (columns, rows, _name, colour) => {
  it('every pane shows the hostile capture, no control sequence from it reaches the screen', async () => {
    chalk.level = colour;
    const inspector = tracked(createEventInspector(createCaptureInspector(capture), model));
    const contentReader = tracked(createContentReader(capture, analyzeOptions()));
    const t = await renderTui(<App path={capture} load={{ model, bytesRead: 1, totalBytes: 1, revision: 1, error: null }} inspector={inspector} contentReader={contentReader} />, { columns, rows });
    await walk(t, rows >= 50);
    const frames = t.stdout.frames;
    expect(leaks(frames, colour > 0)).toEqual([]);
    if (colour === 0) expect(frames.join('\n').includes('\x1b')).toBe(false);
    const all = plain(frames.join('\n'));
    // The walk went everywhere, and the hostile values are on screen neutralised.
    for (const pane of ['Sessions', 'Timeline', 'Events', 'Event', 'Content', 'Warnings', 'Connections']) expect(all).toContain(`${pane} ·`);
    // The session's namespace or pod (a wide list shows the pod alone).
    expect(all).toMatch(/(ns|pod)␛\[2J␛\]0;PWNED␇/);
    expect(all).toMatch(/streamtype: stderr ␛\[2J␛]0;PWNED␇/);
    expect(all).toContain('⟨U+009B⟩31m');
    expect(all).toContain('⟨U+202E⟩gnp.exe');
    t.unmount();
  }, 420_000);
});
