/**
 * Issue 13's ways through a session, in the App at 80×24 and 160×50: the Events pane (every event in
 * time order, the other panes following it), Content beside the Event pane on a wide terminal,
 * search in Content, saving a stream or an event's bytes, labels that differ only at the end.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App } from '../../src/ui/App.js';
import { createStreamSaver } from '../../src/pipeline/stream-extract.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import type { CaptureModel, ExecSession } from '../../src/model/session.js';
import { captureModel, connection, data, mark, origin, session, stream } from '../helpers/model-builders.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { expectFits, focusedPane as focused, frameLines as lines, KEYS, loaded, renderTui, tuiTestSetup } from './tui-harness.js';

const MS = 1e6;

/** Three lines of stdout in three frames, a stderr line between them, and a Status: 300 lines in all. */
function chattySession(): ExecSession {
  const s = session({ id: 1, command: ['sh', '-c', 'seq'], stderr: true, upgradeTs: 1 * MS, endTs: 50 * MS, state: 'complete', exit: { code: 0, status: 'Success' } as ExecSession['exit'] });
  const out = stream(s, 'stdout', 1);
  const err = stream(s, 'stderr', 2);
  const text = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');
  mark(out, 'open', 's2c', origin(0, 0, 2, 1 * MS));
  data(out, 's2c', text(1, 101), origin(0, 800, 3, 10 * MS));
  data(err, 's2c', 'warning: half way\n', origin(800, 18, 4, 20 * MS));
  data(out, 's2c', text(101, 201), origin(818, 900, 5, 30 * MS));
  data(out, 's2c', text(201, 301), origin(1718, 900, 6, 40 * MS));
  return s;
}

tuiTestSetup();

describe.each([
  [80, 24],
  [160, 50],
])('at %i×%i', (columns, rows) => {
  const dir = tempDirForTests('execscope-save-');
  it('the Events pane lists every event in time order; the Timeline, Event and Content panes follow it', async () => {
    const tui = await renderTui(<App path="seq" load={loaded(captureModel({ sessions: [chattySession()] }))} />, { columns, rows });
    await tui.press(KEYS.tab, KEYS.tab);
    expect(focused(tui)).toBe('Events');
    expect(tui.lastFrame()).toMatch(/Events · 3 of \d+ · in time order across lanes/);
    expect(tui.lastFrame()).toMatch(/▸ +3 +\+10\.0 ms stdout +← data 792 B “line 1␊line 2␊/);
    // ↓: the next event in time is on the stderr lane.
    await tui.press(KEYS.down);
    expect(tui.lastFrame()).toMatch(/▸ +4 +\+20\.0 ms stderr +← data 18 B/);
    expect(tui.lastFrame()).toContain('Event · stderr data 18 B');
    expect(tui.lastFrame()).toMatch(/^▸stderr/m);
    await tui.press(KEYS.down);
    expect(tui.lastFrame()).toMatch(/▸ +5 +\+30\.0 ms stdout +← data 900 B “line 101␊/);
    expect(tui.lastFrame()).toMatch(/^▸stdout/m);
    expectFits(tui, columns, rows);
    // Content opens at the selected event's first byte: line 101 on top.
    if (columns < 160) await tui.press(KEYS.enter, KEYS.enter);
    expect(tui.lastFrame()).toMatch(/Content · stdout · 2\.53 KiB · text \(x\) · rows 101–/);
    const content = lines(tui).slice(lines(tui).findIndex((l) => /Content · stdout/.test(l)) + 1);
    expect(content[0]).toMatch(/line 101\s*$/);
    expectFits(tui, columns, rows);
  });

  it('/ in Content searches the stream, the match marked and scrolled into view; n and N go round', async () => {
    const tui = await renderTui(<App path="seq" load={loaded(captureModel({ sessions: [chattySession()] }))} />, { columns, rows });
    await tui.press(KEYS.shiftTab);
    expect(focused(tui)).toBe('Content');
    await tui.press('/');
    expect(lines(tui)[rows - 1]).toMatch(/^search: █ +⏎ find {2}esc cancel/);
    await tui.press('line 25', KEYS.enter);
    // line 25 and line 250–259: eleven matches, the first from the row shown.
    expect(tui.lastFrame()).toMatch(/“line 25” 1 of 11/);
    const at = lines(tui).findIndex((l) => /\bline 25\s*$/.test(l));
    expect(at).toBeGreaterThan(0);
    await tui.press('n');
    expect(tui.lastFrame()).toMatch(/“line 25” 2 of 11/);
    expect(lines(tui).some((l) => /\bline 250\s*$/.test(l))).toBe(true);
    await tui.press('N', 'N');
    expect(tui.lastFrame()).toMatch(/“line 25” 11 of 11/);
    expect(lines(tui).some((l) => /\bline 259\s*$/.test(l))).toBe(true);
    await tui.press('/', '\x15', 'no such text', KEYS.enter);
    expect(lines(tui)[rows - 1]).toMatch(/^no match for “no such text” in this stream/);
    // In hex the bytes are searched: the match is bracketed.
    await tui.press('x', '/', '\x15', 'line 42', KEYS.enter);
    expect(tui.lastFrame()).toMatch(/“line 42” 1 of 1/);
    // The match starts at the end of one row of the dump and goes on in the next.
    expect(tui.lastFrame()).toMatch(/0a\[6c\] +ine 40\.line 41\.l *$/m);
    expect(tui.lastFrame()).toMatch(/00000140\[69 6e 65 20 34 32\]0a/);
    expectFits(tui, columns, rows);
  });

  it('/ finding nothing in a stream Content holds only the first bytes of says it searched only those', async () => {
    const s = chattySession();
    // Only the first 2.53 KiB of a 40 KiB stdout kept, and no capture to read the rest back from (a pipe).
    stream(s, 'stdout', 1).bytes = 40 * 1024;
    const tui = await renderTui(<App path="seq" load={loaded(captureModel({ sessions: [s] }))} />, { columns, rows });
    await tui.press(KEYS.shiftTab, '/', 'no such text', KEYS.enter);
    expect(lines(tui)[rows - 1]).toBe('no match for “no such text” in the first 2.53 KiB kept: the rest is not searched');
    expectFits(tui, columns, rows);
  });

  it('/ finds a match that the wrap of a long line splits over two rows', async () => {
    const s = session({ id: 1, command: ['cat', 'long'], upgradeTs: 1 * MS, endTs: 5 * MS, state: 'complete', exit: { code: 0, status: 'Success' } as ExecSession['exit'] });
    const out = stream(s, 'stdout', 1);
    // Content is 80 cells wide at 80 columns, 79 beside the Event pane at 160: "needle" at 76–81 straddles the wrap in both.
    data(out, 's2c', `${'x'.repeat(76)}needle${'y'.repeat(100)}\n`, origin(0, 183, 2, 2 * MS));
    const tui = await renderTui(<App path="long" load={loaded(captureModel({ sessions: [s] }))} />, { columns, rows });
    await tui.press(KEYS.shiftTab, '/', 'needle', KEYS.enter);
    expect(tui.lastFrame()).toMatch(/“needle” 1 of 1/);
    // The row the wrap cuts "needle" on, and the next one, where the rest goes on.
    const body = lines(tui);
    const at = body.findIndex((l) => l.includes('x'.repeat(76)));
    const head = /x{76}(n\w*)/.exec(body[at])![1];
    expect(head.length).toBeLessThan(6);
    expect(body[at + 1]).toContain('needle'.slice(head.length) + 'y'.repeat(20));
    await tui.press('n');
    expect(tui.lastFrame()).toMatch(/“needle” 1 of 1/);
    expectFits(tui, columns, rows);
  });

  it('S saves the stream in Content, or the selected event’s bytes, to a new file of mode 0600', async () => {
    const saver = createStreamSaver(undefined, analyzeOptions());
    const tui = await renderTui(<App path="seq" load={loaded(captureModel({ sessions: [chattySession()] }))} saver={saver} />, { columns, rows });
    await tui.press(KEYS.tab, KEYS.tab, KEYS.down, 'S');
    expect(lines(tui)[rows - 1]).toMatch(/^save to: execscope-1-stderr-0\.bin█/);
    const eventFile = join(dir, 'event.bin');
    await tui.press('\x15', eventFile, KEYS.enter);
    await tui.waitFor(() => /^(wrote|✗)/.test(lines(tui)[rows - 1]));
    expect(lines(tui)[rows - 1]).toMatch(/^wrote 18 B \(18 B of stderr from byte 0 of #1\) to \/tmp\//);
    expect(readFileSync(eventFile, 'utf8')).toBe('warning: half way\n');
    expect(statSync(eventFile).mode & 0o777).toBe(0o600);
    // Content: the whole stream; a file that exists is not overwritten.
    await tui.press(KEYS.tab, KEYS.tab);
    expect(focused(tui)).toBe('Content');
    await tui.press('S', '\x15', eventFile, KEYS.enter);
    await tui.waitFor(() => lines(tui)[rows - 1].startsWith('✗'));
    expect(lines(tui)[rows - 1]).toMatch(/^✗ cannot save to .*: it exists \(a save never overwrites\)|^✗ cannot save to .*…$/);
    expect(readFileSync(eventFile, 'utf8')).toBe('warning: half way\n');
    const streamFile = join(dir, 'stdout.bin');
    await tui.press(KEYS.left, 'S', '\x15', streamFile, KEYS.enter);
    await tui.waitFor(() => lines(tui)[rows - 1].startsWith('wrote'));
    expect(lines(tui)[rows - 1]).toContain('wrote 2.53 KiB (stdout of #1)');
    expect(readFileSync(streamFile, 'utf8').split('\n')).toHaveLength(301);
    expectFits(tui, columns, rows);
  });

  it('S right after a save offers a name no file has, not the one just saved (a save never overwrites)', async () => {
    const saver = createStreamSaver(undefined, analyzeOptions());
    // The default names are relative: the saves land in this block's directory.
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const tui = await renderTui(<App path="seq" load={loaded(captureModel({ sessions: [chattySession()] }))} saver={saver} />, { columns, rows });
      await tui.press(KEYS.tab, KEYS.tab, KEYS.down);
      for (const name of ['execscope-1-stderr-0.bin', 'execscope-1-stderr-0-2.bin', 'execscope-1-stderr-0-3.bin']) {
        await tui.press('S');
        expect(lines(tui)[rows - 1]).toMatch(new RegExp(`^save to: ${name.replace(/\./g, '\\.')}█`));
        await tui.press(KEYS.enter);
        await tui.waitFor(() => /^(wrote|✗)/.test(lines(tui)[rows - 1]));
        expect(lines(tui)[rows - 1]).toBe(`wrote 18 B (18 B of stderr from byte 0 of #1) to ${name}`);
        expect(readFileSync(join(dir, name), 'utf8')).toBe('warning: half way\n');
      }
    } finally {
      process.chdir(cwd);
    }
  });

  it('labels that differ only at the end stay apart; wide characters take two cells', async () => {
    const s = session({ id: 1, kind: 'portforward', command: [], pod: '数据库-0', ports: [80] });
    for (const [name, id] of [['data:80:0', 0], ['data:80:1', 2], ['error:80:0', 1]] as const) data(stream(s, name, id), 's2c', 'x', origin(0, 1, 2, id * MS));
    const tui = await renderTui(<App path="pf" load={loaded(captureModel({ sessions: [s] }))} />, { columns, rows });
    expect(tui.lastFrame()).toMatch(/^[ ▸]dat…80:0 /m);
    expect(tui.lastFrame()).toMatch(/^[ ▸]dat…80:1 /m);
    expect(tui.lastFrame()).toMatch(/^[ ▸]err…80:0 /m);
    expect(tui.lastFrame()).toContain(columns < 160 ? '数据库-0 [main]' : 'default/数据库-0');
    expectFits(tui, columns, rows);
  });
});

describe('at 60×24', () => {
  it('the lists keep column names that read as names, and the pod shows when its namespace does not fit', async () => {
    const s = session({ id: 1, command: ['sh', '-c', 'echo hello from a narrow terminal'], upgradeTs: 1 * MS, endTs: 5 * MS, state: 'complete', exit: { code: 0, status: 'Success' } as ExecSession['exit'] });
    const tui = await renderTui(<App path="narrow" load={loaded(captureModel({ sessions: [s], connections: [connection({ id: 1, sessionIds: [1] }), connection({ id: 2 })] }))} />, { columns: 60, rows: 24 });
    expect(lines(tui)[1]).toBe('▶ Sessions · 1 · by time · 1 other connection (c)');
    expect(lines(tui)[2]).toMatch(/^ +# kind target +cmd +protocol +duration outcome$/);
    expect(lines(tui)[3]).toMatch(/^▸ +1 exec demo-0 +sh -… /);
    await tui.press('c');
    expect(tui.lastFrame()).toMatch(/^ +# client → server +proto session +info$/m);
    expect(lines(tui)[0]).toBe(' execscope   narrow · pcap · EN10MB · 2 conns · 1 session');
    expectFits(tui, 60, 24);
  });
});
