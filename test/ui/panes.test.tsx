import chalk from 'chalk';
import { Text } from 'ink';
import { connectionSummary } from '../../src/ui/ConnectionList.js';
import { ContentView } from '../../src/ui/ContentView.js';
import { findInLines } from '../../src/ui/content.js';
import { ErrorBoundary } from '../../src/ui/ErrorBoundary.js';
import { HelpOverlay, SYMBOL_HELP } from '../../src/ui/HelpOverlay.js';
import { groupSessions } from '../../src/ui/session-groups.js';
import { SessionList, sessionColumns } from '../../src/ui/SessionList.js';
import { StatusBar } from '../../src/ui/StatusBar.js';
import { TitleBar } from '../../src/ui/TitleBar.js';
import { CONTROL_GLYPHS, SELECTED_GLYPH, STATIC_GLYPHS, volumeGlyph } from '../../src/ui/timeline-lanes.js';
import { renderTerminalLines } from '../../src/report/terminal-text.js';
import { initialUiState } from '../../src/ui/ui-state.js';
import { captureModel, connection, data, hangingSession, origin, session, stream, tlsSummary, wsEchoSession } from '../helpers/model-builders.js';
import { renderTui, tuiTestSetup } from './tui-harness.js';

tuiTestSetup();

describe('ContentView', () => {
  const s = session();
  const out = stream(s, 'stdout', 1);
  data(out, 's2c', Array.from({ length: 40 }, (_, i) => `line ${i + 1}\r\n`).join(''), origin(0, 0, 1, 0));
  const err = stream(s, 'stderr', 2);
  const lines = renderTerminalLines(out.head);

  it('shows the rows from the scroll position and says which rows those are', async () => {
    const tui = await renderTui(<ContentView streams={[out, err]} selected={0} lines={lines} bytes={null} hex={false} scroll={10} focused height={6} width={80} />);
    expect(tui.lastFrame().split('\n')).toEqual([
      '▶ Content · stdout · 351 B · text (x) · rows 11–15 of 40 · ←→ [stdout] stderr',
      'line 11',
      'line 12',
      'line 13',
      'line 14',
      'line 15',
    ]);
  });

  it('marks a match over every row a wrapped line spreads it across, the current one reversed', async () => {
    const long = stream(session(), 'stdout', 1);
    data(long, 's2c', 'abcdefneedleghij', origin(0, 0, 1, 0));
    const wrapped = renderTerminalLines(long.head, { wrapAt: 8 });
    chalk.level = 1;
    const tui = await renderTui(
      <ContentView streams={[long]} selected={0} lines={wrapped} bytes={null} hex={false} scroll={0} search={{ term: 'needle', text: findInLines(wrapped, 'needle'), bytes: [], current: 0 }} focused height={4} width={8} />,
      { columns: 8, rows: 4 },
    );
    const [, first, second] = tui.lastFrame().split('\n');
    // The reversed text of a row: what stands between inverse on and off, other styles left out.
    const reversed = (row: string) => /\x1b\[7m(.*?)\x1b\[27m/.exec(row)?.[1].replace(/\x1b\[\d+m/g, '');
    expect(reversed(first)).toBe('ne');
    expect(reversed(second)).toBe('edle');
  });

  it('hex rows scroll the same way; an empty stream says so', async () => {
    const tui = await renderTui(<ContentView streams={[out, err]} selected={0} lines={lines} bytes={out.head[0]} hex scroll={1} focused={false} height={3} width={80} />);
    expect(tui.lastFrame().split('\n').slice(1)).toEqual([
      '00000010 6c 69 6e 65 20 33 0d 0a 6c 69 6e 65 20 34 0d 0a   line 3..line 4..',
      '00000020 6c 69 6e 65 20 35 0d 0a 6c 69 6e 65 20 36 0d 0a   line 5..line 6..',
    ]);
    await tui.rerender(<ContentView streams={[out, err]} selected={1} lines={[]} bytes={null} hex={false} scroll={0} focused height={3} width={80} />);
    expect(tui.lastFrame()).toContain('no bytes on stderr');
  });
});

describe('TitleBar', () => {
  const model = captureModel({
    sessions: [wsEchoSession()],
    connections: [connection({ id: 1 }), connection({ id: 2 })],
    warnings: [{ code: 'tcp.gap', severity: 'warning', where: 'packet 5', message: 'gap' }],
  });
  const title = async (width: number, props: Partial<Parameters<typeof TitleBar>[0]> = {}) => {
    const tui = await renderTui(<TitleBar path="fixtures/lab/lab-ws-tty-resize.pcapng" model={model} error={null} width={width} {...props} />, { columns: width, rows: 1 });
    return tui.lastFrame();
  };

  it('says everything, link type included, where there is room', async () => {
    expect(await title(160)).toBe(' execscope   fixtures/lab/lab-ws-tty-resize.pcapng · pcap · 101 packets · EN10MB · 2 connections · 1 session · ! 1 warning (w)');
  });

  it('gives way in order (short forms, then packets, link type, the path’s directories, format, connections, the name), never cut mid-word', async () => {
    const shown: string[] = [];
    for (const width of [100, 90, 80, 60, 40]) shown.push(await title(width));
    expect(shown).toEqual([
      ' execscope   fixtures/lab/lab-ws-tty-resize.pcapng · pcap · 2 conns · 1 session · ! 1 warning (w)',
      ' execscope   lab-ws-tty-resize.pcapng · pcap · 2 conns · 1 session · ! 1 warning (w)',
      ' execscope   lab-ws-tty-resize.pcapng · pcap · 2 conns · 1 sess · ! 1 warn (w)',
      '  lab-ws-tty-resize.pcapng · 1 sess · ! 1 warn (w)',
      '  lab-w…pcapng · 1 sess · ! 1 warn (w)',
    ]);
  });

  it('keeps the tap’s export line whole at 80 and 60 columns', async () => {
    const note = 'export KUBECONFIG=/tmp/execscope-tap-o9kFEU/kubeconfig';
    expect(await title(80, { path: 'tap kubectl', note })).toBe(`${note} · 1 sess · ! 1 warn (w)`);
    expect(await title(60, { path: 'tap kubectl', note })).toBe(note);
    expect(await title(120, { path: 'tap kubectl', note })).toBe(` execscope   tap kubectl · ${note} · 2 conns · 1 sess · ! 1 warn (w)`);
  });

  it('what went wrong comes last and keeps room to be read', async () => {
    const cut = { ...model, fatal: { message: 'capture ends inside a packet record', where: 'byte 9', truncated: true } };
    expect(await title(80, { model: cut })).toBe('  lab-w…pcapng · 1 sess · ! 1 warn (w) · ✗ truncated: capture ends inside a pac…');
  });
});

describe('StatusBar', () => {
  it('while typing a filter shows the text and how to finish', async () => {
    const tui = await renderTui(<StatusBar ui={{ ...initialUiState, filterDraft: 'pod:web' }} filterError={null} progress={{ bytesRead: 0, totalBytes: null }} loading={false} width={100} />, { columns: 100, rows: 2 });
    expect(tui.lastFrame()).toBe('/pod:web█  ⏎ apply  esc cancel  pod: cmd: stream: text: hop: state: rule: kind: tty:');
  });

  it('while typing an unknown prefix says so', async () => {
    const tui = await renderTui(<StatusBar ui={{ ...initialUiState, filterDraft: 'foo:x' }} filterError="unknown filter prefix foo:" progress={{ bytesRead: 0, totalBytes: null }} loading={false} width={80} />);
    expect(tui.lastFrame()).toBe('/foo:x█  ✗ unknown filter prefix foo:');
  });

  it('shows progress while loading, before the keys', async () => {
    const tui = await renderTui(<StatusBar ui={initialUiState} filterError={null} progress={{ bytesRead: 3 * 1024 ** 2, totalBytes: null }} loading width={80} />);
    expect(tui.lastFrame()).toMatch(/^loading… 3\.00 MiB read  ↑↓ session/);
    // A pipe or a tap has no end to load up to: it is followed live.
    await tui.rerender(<StatusBar ui={initialUiState} filterError={null} progress={{ bytesRead: 32 * 1024, totalBytes: null, live: true }} loading width={80} />);
    expect(tui.lastFrame()).toMatch(/^live · 32\.0 KiB read  ↑↓ session/);
  });
});

describe('HelpOverlay', () => {
  it('puts the symbols beside the keys on wide terminals', async () => {
    const tui = await renderTui(<HelpOverlay height={30} width={120} scroll={0} />, { columns: 120, rows: 30 });
    const rows = tui.lastFrame().split('\n');
    expect(rows[1]).toMatch(/^ +↑ ↓ {2}k j +move: session, lane, layer, scroll +─ ▪ ■ █ +stream open · data by volume$/);
    for (const [glyphs] of SYMBOL_HELP) expect(tui.lastFrame()).toContain(glyphs);
  });

  it('names every symbol a lane or a hop row draws', () => {
    // ┼ (a stream's reply) was on nearly every SPDY lane, ○ ● on every upgrade lane, + ≡ ? on HTTP/2 and docker ones: none was explained.
    const legend = SYMBOL_HELP.map(([glyphs]) => glyphs).join(' ');
    const drawn = [...Object.values(CONTROL_GLYPHS), ...Object.values(STATIC_GLYPHS), SELECTED_GLYPH, volumeGlyph(0, 9), volumeGlyph(1, 9), volumeGlyph(3, 9), volumeGlyph(9, 9), ...'○●▪█┤✕'];
    expect(drawn.filter((g) => g !== undefined && g.trim() !== '' && !legend.includes(g))).toEqual([]);
  });

  it('scrolls when the keys do not fit, saying where it is', async () => {
    const tui = await renderTui(<HelpOverlay height={10} width={80} scroll={3} />, { columns: 80, rows: 10 });
    const rows = tui.lastFrame().split('\n');
    expect(rows[0]).toMatch(/Help · esc or \? closes · ↑↓ scroll 4–12 of \d+/);
    expect(rows[1]).toMatch(/^ +, \. +previous \/ next event in time/);
  });
});

describe('ErrorBoundary', () => {
  it('a rendering bug becomes one red line, no stack trace; q still quits', async () => {
    function Broken(): never {
      throw new Error('cannot read properties of undefined \x1b[2J');
    }
    const reported: string[] = [];
    const tui = await renderTui(
      <ErrorBoundary onError={(m) => reported.push(m)}>
        <Text>fine</Text>
        <Broken />
      </ErrorBoundary>,
    );
    expect(tui.lastFrame()).toBe('✗ internal error: cannot read properties of undefined ␛[2J · q quits');
    expect(reported).toEqual(['cannot read properties of undefined \x1b[2J']);
    const exited = tui.exited();
    await tui.press('q');
    await expect(exited).resolves.toBeUndefined();
  });
});

describe('list columns', () => {
  it('session columns give the target what it needs first, then the command', () => {
    expect(sessionColumns(80, { target: 21, command: 30 })).toEqual({ fold: 0, target: 21, command: 13, start: 0, hop: 0 });
    expect(sessionColumns(80, { target: 10, command: 12 })).toEqual({ fold: 0, target: 10, command: 12, start: 0, hop: 0 });
    expect(sessionColumns(132, { target: 21, command: 60 })).toEqual({ fold: 0, target: 21, command: 36, start: 10, hop: 19 });
  });

  it('a connection summary: first request and how many more, TLS facts, gaps', () => {
    expect(connectionSummary(connection())).toBe('no payload');
    expect(connectionSummary(connection({ protocol: 'unknown', bytes: { c2s: 10, s2c: 0 } }))).toBe('not decoded');
    expect(
      connectionSummary(
        connection({
          protocol: 'http2',
          requests: [
            { method: 'GET', target: '/api', status: 200, ts: 0 },
            { method: 'GET', target: '/apis', status: null, ts: 1 },
          ],
          tls: tlsSummary({ sni: 'kubernetes', alpn: 'h2', keysFound: false }),
          gaps: [{ dir: 'c2s', offset: 0, length: 5, ts: 0 }],
        }),
      ),
    ).toBe('GET /api → 200 (+1 more) TLS 1.3 kubernetes h2 no keys 1 gaps');
  });
});

describe('SessionList states', () => {
  const list = (over: Partial<Parameters<typeof SessionList>[0]>) => (
    <SessionList
      sessions={[]}
      rows={groupSessions(over.sessions ?? [], over.all ?? [], [])}
      all={[]}
      selectedId={null}
      focused
      height={4}
      width={100}
      sort="time"
      filter=""
      filterError={null}
      otherConnections={0}
      loading={false}
      stopped={null}
      {...over}
    />
  );

  it('says "yet" only while more may come, and not after decoding stopped', async () => {
    expect((await renderTui(list({ loading: true }), { columns: 100, rows: 4 })).lastFrame()).toContain('no exec session found yet');
    expect((await renderTui(list({}), { columns: 100, rows: 4 })).lastFrame()).toMatch(/no exec session found$/m);
    const stopped = (await renderTui(list({ stopped: 'capture truncated' }), { columns: 100, rows: 4 })).lastFrame();
    expect(stopped).toContain('no exec session in what was decoded before decoding stopped');
    expect(stopped).not.toContain('yet');
  });

  it('an open session of a capture still being read is open (live), not open at its end', async () => {
    const hang = hangingSession();
    expect((await renderTui(list({ sessions: [hang], all: [hang], loading: true }), { columns: 100, rows: 4 })).lastFrame()).toContain('open (live)');
    expect((await renderTui(list({ sessions: [hang], all: [hang] }), { columns: 100, rows: 4 })).lastFrame()).toContain('still open at end of capture');
  });
});
