import { render as inkTestingRender } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import { Text } from 'ink';
import type { EventInspector, InspectableEvent, LayerView } from '../../src/ui/event-layers.js';
import { useInspection } from '../../src/ui/use-inspection.js';
import { KEY_TABLE } from '../../src/ui/keys.js';
import type { CaptureModel } from '../../src/model/session.js';
import { captureModel, connection, data, hangingSession, origin, refusedAndFallback, spdyEchoConnections, spdyEchoSession, stream, wsEchoSession } from '../helpers/model-builders.js';
import { expectFits, focusedPane as focused, frameLines as lines, KEYS, loaded, renderTui, tuiTestSetup, type Tui } from './tui-harness.js';

/** ws-echo (1), spdy-echo (2), a hang (3), a refused WebSocket attempt (4) and its SPDY fallback (5). */
function demoModel(): CaptureModel {
  const [refused, fallback] = refusedAndFallback();
  return captureModel({ sessions: [wsEchoSession(), spdyEchoSession(), hangingSession(), refused, fallback], connections: spdyEchoConnections() });
}

const selectedSession = (tui: Tui) => lines(tui).find((l) => /^▸ +\d+ /.test(l))?.match(/^▸ +(\d+)/)?.[1];

tuiTestSetup();

describe('a newcomer at 80×24', () => {
  it('finds the exec session, sees its streams on the timeline, opens a stdout event and its layers', async () => {
    const model = captureModel({ sessions: [wsEchoSession()], connections: [] });
    const tui = await renderTui(<App path="ws-echo.pcap" load={loaded(model)} />);
    expectFits(tui, 80, 24);
    const first = tui.lastFrame();
    expect(lines(tui)[0]).toBe(' execscope   ws-echo.pcap · pcap · 101 pkts · EN10MB · 0 connections · 1 session');
    expect(first).toMatch(/▸ +1 exec default\/demo-0 \[main\] echo "hello … WS v5 +2\.12 ms ✓ exit 0/);
    expect(first).toContain('Timeline · #1 · ✓ exit 0');
    expect(first).toMatch(/^ upgrade  ○ +● +101 v5\.channel\.k…$/m);
    expect(first).toMatch(/^▸stdout +●─+◉─+ 21 B/m);
    expect(first).toMatch(/^ error +█─* +exit 0/m);
    expect(first).toMatch(/^ control +⊘ ⊘ 2 close/m);
    expect(first).toContain('Event · stdout data 21 B at +1.55 ms “hello from websocket␊”');
    expect(focused(tui)).toBe('Sessions');

    await tui.press(KEYS.enter);
    expect(focused(tui)).toBe('Timeline');
    await tui.press(KEYS.enter);
    expect(focused(tui)).toBe('Event');
    const ev = tui.lastFrame();
    expect(ev).toContain('▸├ k8s    stdout · channel 1');
    expect(ev).toContain('stream bytes 0–20 of 21 B');
    expect(ev).toContain('├ frame  WebSocket binary message · TCP s2c bytes 175–198 (24 B)');
    expect(ev).toContain('├ TCP    TCP 127.0.0.1:18102 → 127.0.0.1:43542');
    expect(ev).toContain('└ packet packet 33 · packet 33 · 2026-11-22T01:42:55.099376Z (+121.3 ms)');
    expect(ev).toContain('00000000[68 65 6c 6c 6f 20 66 72 6f 6d 20 77 65 62 73 6f]  hello from webso');
    expect(ev).toContain('00000010[63 6b 65 74 0a]');
    expectFits(tui, 80, 24);
    tui.unmount();
  });

  it('↑↓ and j/k move through sessions; the timeline follows the selection', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    expect(selectedSession(tui)).toBe('2'); // sorted by time: spdy-echo started first
    expect(tui.lastFrame()).toContain('Timeline · #2 · ✓ exit 0');
    await tui.press(KEYS.down);
    expect(selectedSession(tui)).toBe('1');
    expect(tui.lastFrame()).toContain('Timeline · #1 · ✓ exit 0');
    await tui.press('j', 'j');
    expect(selectedSession(tui)).toBe('4');
    expect(tui.lastFrame()).toContain('Timeline · #4 · R10 upgrade forbidden (d) · ! upgrade refused 403: pods "demo');
    await tui.press('k', KEYS.up);
    expect(selectedSession(tui)).toBe('1');
    await tui.press('G');
    expect(selectedSession(tui)).toBe('5');
    expectFits(tui, 80, 24);
    tui.unmount();
  });

  it('tab and shift-tab cycle the panes; enter drills in and esc goes back', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(focused(tui));
      await tui.press(KEYS.tab);
    }
    seen.push(focused(tui));
    expect(seen).toEqual(['Sessions', 'Timeline', 'Events', 'Event', 'Content', 'Sessions']);
    await tui.press(KEYS.shiftTab);
    expect(focused(tui)).toBe('Content');
    await tui.press(KEYS.escape);
    expect(focused(tui)).toBe('Event');
    await tui.press(KEYS.escape);
    expect(focused(tui)).toBe('Timeline');
    await tui.press(KEYS.escape);
    expect(focused(tui)).toBe('Sessions');
    await tui.press(KEYS.enter, KEYS.enter, KEYS.enter);
    expect(focused(tui)).toBe('Content');
    tui.unmount();
  });

  it('timeline: ←→ select events, ↑↓ lanes, + - zoom, [ ] pan, 0 resets', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    await tui.press(KEYS.enter);
    expect(tui.lastFrame()).toContain('Event · stdout data 16 B at +4.51 ms “hello from spdy␊”');
    await tui.press(KEYS.right);
    expect(tui.lastFrame()).toContain('Event · stdout data 0 B at +4.65 ms');
    await tui.press('l');
    expect(tui.lastFrame()).toContain('Event · stdout half-close at +4.65 ms');
    await tui.press(KEYS.down, KEYS.down);
    expect(tui.lastFrame()).toMatch(/^▸error /m);
    // The nearest event in time on the error lane: the Status JSON.
    expect(tui.lastFrame()).toContain('Event · error data 34 B at +5.14 ms “{"metadata":{},"status":"Success"}”');
    await tui.press(KEYS.right);
    expect(tui.lastFrame()).toContain('Event · error reset (CANCEL) at +5.25 ms');
    const axis = () => lines(tui).find((l) => /^ {10}\S/.test(l) || /^ {10} +\d/.test(l));
    expect(axis()).toBe('          0          2ms        4ms        6ms        8ms      9.39 ms');
    await tui.press('+');
    expect(axis()).toBe(`${' '.repeat(14)}3ms${' '.repeat(8)}4ms${' '.repeat(8)}5ms${' '.repeat(8)}6ms${' '.repeat(8)}7ms  zoom 2.0× · 9.39…`);
    await tui.press('+', '+');
    expect(axis()).toMatch(/ zoom 8\.0× · 9\.39…$/);
    await tui.press(']');
    const panned = tui.lastFrame();
    await tui.press('[');
    expect(tui.lastFrame()).not.toBe(panned);
    await tui.press('-');
    expect(tui.lastFrame()).toContain('zoom 4.0×');
    await tui.press('0');
    expect(tui.lastFrame()).not.toMatch(/zoom \d/);
    expect(axis()).toBe('          0          2ms        4ms        6ms        8ms      9.39 ms');
    tui.unmount();
  });

  it('a hang is a long flat lane; z compresses the idle stretch; a TCP gap shows as a gap', async () => {
    const model = captureModel({ sessions: [hangingSession()], connections: [connection({ id: 5, gaps: [{ dir: 's2c', offset: 195, length: 1000, ts: 301e9 }] })] });
    const tui = await renderTui(<App path="hang" load={loaded(model)} />);
    expect(tui.lastFrame()).toMatch(/^ stdin +█─{51} 14 B · never clo/m);
    // The bytes missing from the server's direction 5 minutes in break the stdout line there.
    expect(tui.lastFrame()).toMatch(/^▸stdout +◉─{24}┆─{26} 14 B/m);
    expect(tui.lastFrame()).toContain('Timeline · #3 · R1 stdin never half-closed (d) · ! still open at end of captu');
    await tui.press('z');
    expect(tui.lastFrame()).toMatch(/^ stdin +█─+█─*≈+ /m);
    expect(lines(tui).find((l) => l.includes('5ms'))).toMatch(/≈≈ ≈ 10 min 0 s · 1…$/);
    await tui.press('z');
    expect(tui.lastFrame()).not.toContain('≈ 10 min');
    // d: what the hang doctor makes of it, with the evidence; d or esc closes it.
    await tui.press('d');
    expect(tui.lastFrame()).toContain('Diagnosis · #3');
    expect(tui.lastFrame()).toMatch(/✗ R1 +stdin never half-closed/);
    expect(tui.lastFrame()).toMatch(/· stdin carried 14 B, the last at \+[\d.]+ \w+, and was never half-closed/);
    expectFits(tui, 80, 24);
    await tui.press('d');
    expect(tui.lastFrame()).not.toContain('Diagnosis');
    tui.unmount();
  });

  it('event pane: ↑↓ select a layer and show its fields', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} initialState={{ pane: 'event' }} />);
    expect(tui.lastFrame()).toContain('stream bytes 0–15 of 16 B');
    await tui.press(KEYS.down);
    expect(tui.lastFrame()).toMatch(/^▸├ frame  SPDY DATA frame$/m);
    expect(tui.lastFrame()).toContain('TCP s2c bytes 190–213 (24 B)');
    expect(tui.lastFrame()).toContain('no bytes for this layer here');
    await tui.press(KEYS.down, KEYS.down, KEYS.down, KEYS.down);
    expect(tui.lastFrame()).toMatch(/^▸└ packet packets 77–80$/m);
    expect(tui.lastFrame()).toContain('packet 80 · last byte · 2026-11-22T01:42:55.072065Z (+94.0 ms)');
    tui.unmount();
  });

  it('content pane: the session output as text, x toggles hex, ←→ switch streams', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    await tui.press(KEYS.enter, KEYS.enter, KEYS.enter);
    expect(focused(tui)).toBe('Content');
    expect(tui.lastFrame()).toContain('Content · stdout · 16 B · text (x) · ←→ [stdout] stderr error');
    expect(lines(tui)).toContain('hello from spdy');
    await tui.press('x');
    expect(tui.lastFrame()).toContain('00000000 68 65 6c 6c 6f 20 66 72 6f 6d 20 73 70 64 79 0a   hello from spdy.');
    await tui.press('x', KEYS.right, KEYS.right);
    expect(tui.lastFrame()).toContain('Content · error · 34 B · text (x)');
    // The Status JSON indented, a field a line.
    expect(lines(tui)).toEqual(expect.arrayContaining(['{', '  "metadata": {},', '  "status": "Success"', '}']));
    await tui.press(KEYS.left);
    expect(tui.lastFrame()).toContain('no bytes on stderr');
    tui.unmount();
  });

  it('? lists every key; esc closes it', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    await tui.press('?');
    // Read the help a page at a time (what a key does wraps onto a second row where long).
    const pages: string[] = [];
    for (let page = 0; page < 3; page++) {
      pages.push(...lines(tui).slice(2, 23));
      expectFits(tui, 80, 24);
      await tui.press(KEYS.pageDown);
    }
    const help = [...new Set(pages)].join('\n').replace(/\s+/g, ' ');
    for (const { label, does } of KEY_TABLE) {
      expect(help).toContain(label.replace(/\s+/g, ' '));
      expect(help).toContain(does);
    }
    // The symbols follow the keys: at 80×24 the last of them are a scroll away.
    await tui.press('G');
    expect(tui.lastFrame()).toContain('TCP gap');
    await tui.press(KEYS.escape);
    expect(tui.lastFrame()).not.toContain('this help');
    expect(focused(tui)).toBe('Sessions');
    tui.unmount();
  });

  it('/ filters by pod, command, stream and content text', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    await tui.press('/', ...'pod:web');
    expect(lines(tui)[23]).toMatch(/^\/pod:web█ +⏎ apply/);
    expect(tui.lastFrame()).toContain('Sessions · 1 of 5 · by time · filter “pod:web”');
    expect(selectedSession(tui)).toBe('3');
    await tui.press(KEYS.enter);
    expect(lines(tui)[23]).toMatch(/^↑↓ session/);
    await tui.press(KEYS.escape);
    expect(tui.lastFrame()).toContain('Sessions · 5 · by time');
    await tui.press('/', ...'text:websocket', KEYS.enter);
    expect(tui.lastFrame()).toContain('Sessions · 1 of 5');
    expect(selectedSession(tui)).toBe('1');
    await tui.press('/', KEYS.backspace.repeat(1), ...'zzz', KEYS.enter);
    expect(tui.lastFrame()).toContain('no session matches the filter (esc clears it)');
    expect(tui.lastFrame()).toContain('no event selected');
    tui.unmount();
  });

  it('s sorts by time, duration, outcome, hop under column names; c lists every connection', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    await tui.press('s');
    expect(tui.lastFrame()).toContain('by duration');
    expect(selectedSession(tui)).toBe('2'); // selection kept by id
    // Row 2 names the columns; the first session follows.
    expect(lines(tui)[2]).toMatch(/^ +# kind target +command +protocol +duration outcome$/);
    expect(lines(tui)[3]).toMatch(/^ +3 exec/);
    await tui.press('s');
    expect(tui.lastFrame()).toContain('by outcome');
    expect(lines(tui)[3]).toMatch(/^ +3 exec .*still open/);
    await tui.press('s');
    expect(tui.lastFrame()).toContain('by hop');
    await tui.press('s');
    await tui.press('c');
    expect(tui.lastFrame()).toContain('Connections · 3 · 2 without an exec session');
    expect(tui.lastFrame()).toMatch(/^ +# client → server +proto session  requests, TLS$/m);
    expect(tui.lastFrame()).toMatch(/^ +2 127\.0\.0\.1:38268 → 127\.0\.0\.1:18100 http  — +GET \/version\?timeout=5s/m);
    expect(tui.lastFrame()).toMatch(/^ +3 127\.0\.0\.1:38284 → 127\.0\.0\.1:18100 spdy  exec #2 +POST/m);
    await tui.resize(132, 30);
    expect(tui.lastFrame()).toContain('GET /version?timeout=5s → 200 (+4 more)');
    expect(tui.lastFrame()).toMatch(/^ +2 127\.0\.0\.1:38268 → 127\.0\.0\.1:18100 +http +— +4\.46 KiB +25\.0 ms GET/m);
    await tui.press(KEYS.escape);
    expect(tui.lastFrame()).toContain('Sessions · 5');
    tui.unmount();
  });

  it('counts the plain connections the capture did not list, in the title and the connection list', async () => {
    const model: CaptureModel = { ...demoModel(), unlistedConnections: { listed: 10_000, connections: 190_000, requests: 190_000, bytes: { c2s: 1, s2c: 2 }, lastId: 190_003 } };
    const tui = await renderTui(<App path="demo" load={loaded(model)} />);
    await tui.resize(132, 30);
    expect(lines(tui)[0]).toContain('190003 connections');
    await tui.press('c');
    expect(tui.lastFrame()).toContain('Connections · 3 · 2 without an exec session · esc back · 190000 more plain HTTP counted, not listed');
    tui.unmount();
  });

  it('q quits', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    const exited = tui.exited();
    await tui.press('q');
    await expect(exited).resolves.toBeUndefined();
  });
});

describe('terminal size', () => {
  it('adapts when resized: more columns, more rows, then narrow again', async () => {
    const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />);
    expectFits(tui, 80, 24);
    expect(tui.lastFrame()).not.toContain('kubectl→apiserver');
    await tui.resize(132, 40);
    expectFits(tui, 132, 40);
    expect(tui.lastFrame()).toMatch(/SPDY v4 +kubectl→apiserver +\+89\.5 ms +9\.39 ms ✓ exit 0/);
    expect(tui.lastFrame()).toMatch(/^ +4 exec .* WS +kubectl→apiserver +\+2\.00 s +1\.00 ms ! upgrade refused 403/m);
    await tui.press('j', 'j', 'j');
    // The doctor's verdict comes first (d shows its evidence), then the outcome, cut at the width.
    expect(tui.lastFrame()).toContain('Timeline · #4 · R10 upgrade forbidden (d) · ! upgrade refused 403: pods "demo-0" is forbidden: cannot get resource');
    await tui.resize(80, 24);
    expectFits(tui, 80, 24);
    tui.unmount();
  });

  it('keeps every pane inside small and large terminals', async () => {
    for (const [columns, rows] of [
      [80, 24],
      [100, 30],
      [200, 60],
      [60, 12],
    ]) {
      const tui = await renderTui(<App path="demo" load={loaded(demoModel())} />, { columns, rows });
      for (const keys of [[], [KEYS.enter], [KEYS.enter], [KEYS.enter], ['?']]) {
        await tui.press(...keys);
        expectFits(tui, columns, rows);
      }
      tui.unmount();
    }
  });

  it('on a small terminal the Event pane shows its layers before any bytes, and never an empty range of rows', async () => {
    const tui = await renderTui(<App path="ws-echo.pcap" load={loaded(captureModel({ sessions: [wsEchoSession()] }))} />, { columns: 40, rows: 12 });
    // One row for the bytes under their heading read "rows 1–0/2": the heading of no row.
    expect(tui.lastFrame()).not.toMatch(/rows 1–0\//);
    await tui.press(KEYS.enter, KEYS.enter);
    expect(focused(tui)).toBe('Event');
    // The layer ↑↓ moves was not on screen: the pane's few rows went to the bytes.
    expect(tui.lastFrame()).toMatch(/^▸├ k8s/m);
    expect(tui.lastFrame()).not.toMatch(/rows 1–0\//);
    await tui.press(KEYS.down);
    expect(tui.lastFrame()).toMatch(/^▸├ frame/m);
    expectFits(tui, 40, 12);
  });

  it('the Timeline says which of its lanes it shows when it has no room for all', async () => {
    const tui = await renderTui(<App path="spdy-echo.pcap" load={loaded(captureModel({ sessions: [spdyEchoSession()] }))} />, { columns: 120, rows: 12 });
    const laneRows = () => lines(tui).filter((l) => /^[▸ ](upgrade|stdin|stdout|stderr|error|control) /.test(l)).length;
    // Unfocused, the pane shows some lanes; the others were simply not there, with nothing to say so.
    const shown = laneRows();
    expect(shown).toBeLessThan(5);
    expect(lines(tui).find((l) => l.includes('Timeline · #2'))).toMatch(new RegExp(`· lanes 1–${shown} of 5 \\(↑↓\\)`));
    // ↓ to the last lane: the window moves, and the title with it.
    await tui.press(KEYS.enter, KEYS.down, KEYS.down, KEYS.down, KEYS.down);
    expect(lines(tui)).toContainEqual(expect.stringMatching(/^▸control /));
    expect(lines(tui).find((l) => l.includes('Timeline · #2'))).toMatch(new RegExp(`· lanes ${6 - laneRows()}–5 of 5 \\(↑↓\\)`));
    await tui.resize(120, 40);
    expect(laneRows()).toBe(5);
    expect(lines(tui).find((l) => l.includes('Timeline · #2'))).not.toMatch(/ lanes /);
  });

  it('a preview cut inside a character drops the character’s first bytes, never shows them as U+FFFD', async () => {
    const s = wsEchoSession();
    // 39 bytes of "é" (two bytes each) and a third: the 40-byte preview ends on half of the 20th "é".
    data(stream(s, 'stdout', 1), 's2c', 'x' + 'é'.repeat(30), origin(300, 61, 50, 121.5e6));
    const tui = await renderTui(<App path="ws-echo.pcap" load={loaded(captureModel({ sessions: [s] }))} />, { columns: 120, rows: 30 });
    await tui.press(KEYS.enter, '.');
    expect(tui.lastFrame()).toContain(`data 61 B “x${'é'.repeat(19)}…”`);
    expect(tui.lastFrame()).not.toContain('\ufffd');
  });

  it('renders with ink-testing-library at its fixed 100 columns', async () => {
    const { lastFrame, unmount, stdin } = inkTestingRender(<App path="ws-echo.pcap" load={loaded(captureModel({ sessions: [wsEchoSession()] }))} />);
    expect(lastFrame()).toContain('kubectl→apiserver'.length > 0 ? 'Sessions · 1 · by time' : '');
    expect(lastFrame()!.split('\n')).toHaveLength(24);
    stdin.write('?');
    // Ink draws the key's frame on a later turn (later still on a loaded machine): wait for it.
    for (let waited = 0; waited < 10_000 && !lastFrame()!.includes('Help · esc or ? closes'); waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(lastFrame()).toContain('Help · esc or ? closes');
    // The help fits 100 columns: no key's meaning and no symbol's is cut.
    for (const line of lastFrame()!.split('\n')) expect(Array.from(line).length).toBeLessThan(100);
    expect(lastFrame()).not.toContain('…');
    unmount();
  });
});

describe('loading', () => {
  it('shows progress, then the first session while the rest still loads, then the whole capture', async () => {
    const tui = await renderTui(<App path="big.pcap" load={loaded(null, { bytesRead: 0, totalBytes: 1024 ** 3, revision: 0 })} />);
    expect(tui.lastFrame()).toContain('reading the capture…');
    expect(lines(tui)[23]).toMatch(/^▕░+▏ 0% 0 B of 1\.00 GiB/);
    const model = captureModel({ sessions: [spdyEchoSession()], done: false });
    await tui.rerender(<App path="big.pcap" load={loaded(model, { bytesRead: 420 * 1024 ** 2, totalBytes: 1024 ** 3, revision: 1 })} />);
    expect(lines(tui)[23]).toMatch(/^▕█+░+▏ 41% 420 MiB of 1\.00 GiB +↑↓ session/);
    expect(tui.lastFrame()).toContain('Sessions · 1 · by time');
    // Keys work while loading.
    await tui.press(KEYS.enter);
    expect(focused(tui)).toBe('Timeline');
    // The pipeline grows the same model object in place; the revision tells the App.
    model.sessions.push(wsEchoSession());
    model.done = true;
    await tui.rerender(<App path="big.pcap" load={loaded(model, { bytesRead: 1024 ** 3, totalBytes: 1024 ** 3, revision: 2 })} />);
    expect(tui.lastFrame()).toContain('Sessions · 2 · by time');
    expect(lines(tui)[23]).toMatch(/^↑↓ lane/);
    expect(focused(tui)).toBe('Timeline');
    tui.unmount();
  });

  it('a load failure is a clear message, never a stack trace', async () => {
    const tui = await renderTui(<App path="bad.pcap" load={loaded(null, { error: 'not a pcap or pcapng file (magic 0x3c68746d) \x1b[2J' })} />);
    expect(tui.lastFrame()).toContain('✗ cannot analyze bad.pcap');
    expect(tui.lastFrame()).toContain('not a pcap or pcapng file (magic 0x3c68746d) ␛[2J');
    expect(tui.lastFrame()).not.toMatch(/\bat .*\.(js|ts):\d+/);
    expect(tui.lastFrame()).not.toContain('loading');
    tui.unmount();
  });

  it('a capture that stops early says so in the title', async () => {
    const model = captureModel({ sessions: [wsEchoSession()], fatal: { message: 'capture truncated in packet 40', where: 'byte 8000 of file', truncated: true } });
    const tui = await renderTui(<App path="cut.pcap" load={loaded(model)} />);
    expect(lines(tui)[0]).toContain('✗ truncated: capture truncated in packet 40');
    tui.unmount();
  });
});

describe('EventInspector', () => {
  const tlsLayers = (): LayerView[] => [
    { kind: 'stream', title: 'stdout · channel 1', lines: ['data 21 B'], range: { space: 'stdout stream', start: 0, end: 21 }, bytes: null, highlight: null },
    {
      kind: 'frame',
      title: 'WebSocket binary frame FIN len 22 unmasked',
      lines: ['opcode 2 · header 2 B'],
      range: { space: 'TLS record plaintext', start: 0, end: 24 },
      bytes: Uint8Array.from([0x82, 0x16, 0x01, ...new TextEncoder().encode('hello from websocket\n')]),
      highlight: { start: 0, end: 2 },
    },
    {
      kind: 'tls',
      title: 'TLS 1.3 application_data record',
      lines: ['length 41 · decrypted with the key log'],
      range: { space: 'TCP s2c', start: 2000, end: 2046 },
      bytes: null,
      highlight: null,
    },
    { kind: 'packet', title: 'packet 33', lines: ['78 B · lo · EN10MB'], range: { space: 'packet 33', start: 0, end: 78 }, bytes: new Uint8Array(78), highlight: { start: 32, end: 78 } },
  ];

  it('asks the inspector about the selected event and shows its layers and highlighted bytes', async () => {
    const s = wsEchoSession();
    const calls: unknown[][] = [];
    const inspector: EventInspector = async (session, event) => {
      calls.push([session, event]);
      return tlsLayers();
    };
    const tui = await renderTui(<App path="tls" load={loaded(captureModel({ sessions: [s] }))} inspector={inspector} initialState={{ pane: 'event' }} />);
    await tui.waitFor((f) => f.includes('├ TLS    TLS 1.3 application_data record'));
    expect(calls).toEqual([[s, s.streams[0].events[1]]]);
    await tui.press(KEYS.down);
    expect(tui.lastFrame()).toContain('▸├ frame  WebSocket binary frame FIN len 22 unmasked');
    expect(tui.lastFrame()).toContain('bytes of TLS record plaintext 0–23 · [highlighted] 0–1 (2 B) of 24 B');
    expect(tui.lastFrame()).toContain('00000000[82 16]01 68 65 6c 6c 6f 20 66 72 6f 6d 20 77 65   ...hello from we');
    await tui.press(KEYS.down, KEYS.down);
    expect(tui.lastFrame()).toContain('00000020[00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00]');
    // Selecting another event asks again.
    await tui.press(KEYS.left);
    await tui.waitFor(() => calls.length === 2);
    expect(calls[1][1]).toBe(s.streams[0].events[0]);
    tui.unmount();
  });

  it('is not asked while the event pane is hidden, and only once the selection rests', async () => {
    const s = wsEchoSession();
    const asked: string[] = [];
    const inspector: EventInspector = async (_, event) => {
      asked.push(event.kind);
      return tlsLayers();
    };
    const tui = await renderTui(<App path="x" load={loaded(captureModel({ sessions: [s] }))} inspector={inspector} initialState={{ pane: 'content' }} />);
    await tui.settle();
    expect(asked).toEqual([]);
    await tui.press(KEYS.escape);
    await tui.waitFor(() => asked.length > 0);
    expect(asked).toEqual(['data']);
    // A tiny host so that three selections happen well inside the delay.
    function Probe({ event }: { event: InspectableEvent }) {
      const r = useInspection(inspector, s, event);
      return <Text>{r.status}</Text>;
    }
    const [established, dataEvent] = s.streams[0].events;
    const probe = await renderTui(<Probe event={established} />);
    await probe.rerender(<Probe event={dataEvent} />);
    await probe.rerender(<Probe event={established} />);
    await probe.rerender(<Probe event={dataEvent} />);
    await probe.waitFor((f) => f === 'done');
    expect(asked).toEqual(['data', 'data']);
  });

  it('while the inspector works the model layers show; a failure is a warning line', async () => {
    let asked = false;
    let reject: (e: Error) => void = () => {};
    const inspector: EventInspector = () =>
      new Promise((_, rej) => {
        asked = true;
        reject = rej;
      });
    const tui = await renderTui(<App path="x" load={loaded(captureModel({ sessions: [wsEchoSession()] }))} inspector={inspector} initialState={{ pane: 'event' }} />);
    expect(tui.lastFrame()).toContain('… re-reading the capture');
    expect(tui.lastFrame()).toContain('├ frame  WebSocket binary message');
    await tui.waitFor(() => asked);
    reject(new Error('capture changed on disk \x1b]0;x\x07'));
    await tui.waitFor((f) => f.includes('! could not re-read the capture: capture changed on disk ␛]0;x␇'));
    tui.unmount();
  });
});
