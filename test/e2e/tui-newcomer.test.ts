/**
 * What a newcomer reaches for in the first minutes (issue 13), typed into the real binary in tmux at
 * 80×24 and 160×50 and read back from the screen.
 */
import { tuiTerminals } from './tmux.js';

const { tui: start } = tuiTerminals();

const fits = (screen: string, cols: number) => screen.split('\n').every((line) => [...line].length <= cols);

describe.each([
  [80, 24],
  [160, 50],
])('at %i×%i', (cols, rows) => {
  test('filter by rule and hop, an unknown prefix said so; , and . step through every lane in time', async () => {
    const t = start('demo.pcapng', cols, rows);
    await t.waitFor(/Sessions · 11/);
    t.keys('/', 'rule:R1', 'Enter');
    let screen = await t.waitFor(/Sessions · 1 of 11 .*filter “rule:R1”/);
    expect(screen).toMatch(/▸ +8 exec +(default\/)?batch-7/);
    t.keys('/', 'C-u', 'foo:1');
    screen = await t.waitFor(/✗ unknown filter prefix foo:/);
    expect(screen).toMatch(/Sessions · 0 of 11/);
    t.keys('Escape');
    await t.waitFor(/Sessions · 1 of 11 .*filter “rule:R1”/);
    t.keys('Escape');
    await t.waitFor(/Sessions · 11 · by time/);
    t.keys('/', 'hop:apiserver state:complete', 'Enter');
    await t.waitFor(/Sessions · \d+ of 11 .*filter “hop:apiserver state:complete”/);
    t.keys('Escape');
    await t.waitFor(/Sessions · 11 · by time/);
    t.keys('s', 's', 's');
    await t.waitFor(/Sessions · 11 · by hop/);
    t.keys('s');
    await t.waitFor(/Sessions · 11 · by time/);

    // Session 1: from stdout's data, the next event in time is on the same lane (its empty FIN
    // frame), then the stderr lane; , comes back.
    t.keys('Enter');
    await t.waitFor(/Event · stdout data 16 B/);
    t.keys('.');
    await t.waitFor(/Event · stdout data 0 B/);
    t.keys('.', '.');
    screen = await t.waitFor(/Event · (stderr|error) /);
    t.keys(',', ',');
    await t.waitFor(/Event · stdout data 0 B/);
    expect(fits(screen, cols)).toBe(true);
    t.keys('q');
    await t.waitFor(/\[exited 0\]/);
  });

  test('an exec’s hops are one row, unfolded with →; its hops share a time axis that shows where the bytes stopped', async () => {
    const t = start('lab/lab-fault-reset-mid-stream.pcapng', cols, rows);
    let screen = await t.waitFor(/Sessions · 3 · 1 exec \(→ hops\)/);
    expect(screen).toMatch(/▸ +1 \+2 exec (default\/)?lab-0/);
    expect(screen).not.toMatch(/ 2 [├└] /);
    // The three hops on the axis of the whole exec: the kubelet hop is where the output stopped.
    expect(screen).toMatch(/^▹apisrv +●─+.*#1 /m);
    // (At 80 columns its first output and its end fall in one cell: the end, where it stopped, shows.)
    expect(screen).toMatch(/^ kubelet +○─+●─+▪?✕ +#2 ✗ stopped her/m);
    expect(screen).toMatch(/^ runtime +●─+▪─+┤ +#3 /m);
    // From 160 columns a hop's note is whole.
    if (cols >= 160) expect(screen).toMatch(/#3 · 101 after [\d.]+ [µm]?s · [\d.]+ [KMG]?i?B out · (no )?Status$/m);
    const axisOf = (s: string) => s.split('\n').find((l) => /^ {10}0 /.test(l));
    const axis = axisOf(screen);
    t.keys('Right');
    screen = await t.waitFor(/ 3 └ +exec token /);
    expect(screen).toMatch(/▸ +1 − +exec (default\/)?lab-0/);
    expect(screen).toMatch(/ 2 ├ +exec (default\/)?lab-0/);
    t.keys('j');
    screen = await t.waitFor(/▶ Sessions[^]*Timeline · #2 /);
    // Another hop of the exec: the same axis, the marker on its row.
    expect(screen).toMatch(/^▹kubelet/m);
    expect(axisOf(screen)).toBe(axis);
    t.keys('Left');
    screen = await t.waitFor(/▸ +1 \+2 exec/);
    expect(screen).toMatch(/Timeline · #1 /);
    expect(fits(screen, cols)).toBe(true);
    t.keys('q');
    await t.waitFor(/\[exited \d\]/);
  });

  test('the mouse: a click selects a session, a lane’s event, a row of Events, a layer; the wheel scrolls; reporting off at exit and on a kill', async () => {
    let t = start('demo.pcapng', cols, rows);
    let screen = await t.waitFor(/Sessions · 11/);
    expect(t.mouseReporting()).toEqual({ any: true, sgr: true });
    const rowOf = (s: string, re: RegExp) => s.split('\n').findIndex((l) => re.test(l));
    // Session 4 (exit 3), clicked on its row.
    t.click(20, rowOf(screen, /^ +4 exec /));
    screen = await t.waitFor(/Timeline · #4 /);
    expect(screen).toMatch(/▸ +4 exec /);
    // The stderr lane, clicked on its label: the lane and its event.
    t.click(2, rowOf(screen, /^ stderr /));
    screen = await t.waitFor(/▶ Timeline[^]*Event · stderr data/);
    expect(screen).toMatch(/^▸stderr /m);
    // The wheel over Events steps through them in time; a click on a row selects it.
    const events = rowOf(screen, /Events · /);
    t.wheel(10, events + 1, 'up');
    screen = await t.waitFor(/▶ Events · \d+ of/);
    const selected = Number(/▶ Events · (\d+) of/.exec(screen)![1]);
    t.wheel(10, events + 1, 'down');
    screen = await t.waitFor(new RegExp(`▶ Events · ${selected + 1} of`));
    // A layer of the Event pane, clicked: the frame layer.
    t.click(3, rowOf(screen, /^ ├ frame /));
    screen = await t.waitFor(/▶ Event · [^]*▸├ frame/);
    expect(fits(screen, cols)).toBe(true);
    t.keys('q');
    await t.waitFor(/\[exited 0\]/);
    expect(t.mouseReporting()).toEqual({ any: false, sgr: false });

    // Killed: the terminal gets its mouse back all the same.
    t = start('demo.pcapng', cols, rows);
    await t.waitFor(/Sessions · 11/);
    expect(t.mouseReporting().any).toBe(true);
    process.kill(t.programPid(), 'SIGTERM');
    await t.waitFor(/\[exited 143\]/);
    expect(t.mouseReporting()).toEqual({ any: false, sgr: false });
  });

  test('help lists every key and scrolls where it does not fit; esc then q quits at once', async () => {
    const t = start('demo.pcapng', cols, rows);
    await t.waitFor(/Sessions · 11/);
    t.keys('?');
    let screen = await t.waitFor(/▶ Help/);
    expect(screen).toMatch(/, \. +previous \/ next event in time/);
    if (rows < 30) {
      expect(screen).toMatch(/↑↓ scroll 1–/);
      t.keys('G');
      screen = await t.waitFor(/TCP gap/);
    } else expect(screen).toMatch(/TCP gap/);
    expect(fits(screen, cols)).toBe(true);
    t.keys('Escape', 'd');
    await t.waitFor(/Diagnosis · #1/);
    await t.waitFor(/↑↓ scroll  esc close  d close  q quit/);
    // Esc and q in one write, as a quick typist sends them.
    t.keysAtOnce('Escape', 'q');
    await t.waitFor(/\[exited 0\]/);
  });

  test('w opens the warnings, ⏎ goes where one points; ⏎ on a connection shows its requests and TLS, ⏎ again its session', async () => {
    let t = start('tls-ws-keylog.pcap', cols, rows);
    await t.waitFor(/! 2 warnings \(w\)|Sessions · \d+/);
    t.keys('w');
    let screen = await t.waitFor(/▶ Warnings · 2/);
    expect(screen).toMatch(/where +code +message/);
    expect(screen).toMatch(/▸ ·  conn 3 +tls\.no-keys +no TLS keys/);
    t.keys('Enter');
    screen = await t.waitFor(/▶ Connection · 3/);
    expect(screen).toMatch(/TLS 1\.3/);
    expect(screen).toMatch(/NO KEYS: pass --keylog FILE/);
    // No session runs on it: ⏎ does nothing there, and the status bar does not offer it.
    expect(screen).toMatch(/no exec session on this connection/);
    expect(screen).not.toMatch(/⏎ its session/);
    expect(fits(screen, cols)).toBe(true);
    t.keys('q');
    await t.waitFor(/\[exited 0\]/);

    t = start('demo.pcapng', cols, rows);
    await t.waitFor(/Sessions · 11/);
    t.keys('c');
    await t.waitFor(/▶ Connections/);
    t.keys('/', 'exec', 'Enter');
    await t.waitFor(/▶ Connections · \d+ of 31 .*filter “exec”/);
    t.keys('Enter');
    screen = await t.waitFor(/▶ Connection · \d+/);
    expect(screen).toMatch(/POST \/api\/v1\/namespaces\/default\/pods\/demo-0\/exec/);
    // The request's long target wraps, so its answer shows.
    expect(screen).toMatch(/→ 101$/m);
    expect(screen).toMatch(/⏎ its session/);
    const id = /exec session #(\d+) · ⏎ opens #\1/.exec(screen)![1];
    t.keys('Enter');
    await t.waitFor(new RegExp(`▶ Timeline · #${id}`));
    t.keys('q');
    await t.waitFor(/\[exited 0\]/);
  });
});
