/**
 * The TUI as a person meets it: the real binary in tmux at 80×24 and 160×50, keys typed, the
 * screen read back. (Ink draws only at exit when CI is set, so the terminal runs without it.)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirForTests } from '../kit/temp-dir.js';
import { CLI, tuiTerminals } from './tmux.js';

const root = process.cwd();
const cli = CLI;
const { open: openTerminal, tui: start } = tuiTerminals();
const tmp = tempDirForTests('execscope-tui-');

test('a newcomer at 80×24: session → timeline → stdout event layers → content → help → quit', async () => {
  const t = start('demo.pcapng', 80, 24);
  let screen = await t.waitFor(/Sessions · 11/);
  expect(screen).toMatch(/▸ +1 exec +(default\/)?demo-0/);
  expect(screen.split('\n').every((line) => [...line].length <= 80)).toBe(true);

  t.keys('Enter');
  screen = await t.waitFor(/▶ Timeline · #1/);
  expect(screen).toMatch(/^ ?upgrade +○/m);
  expect(screen).toMatch(/stdout .*16 B/);
  expect(screen).toMatch(/^ ?error .*exit 0/m);

  t.keys('Enter');
  screen = await t.waitFor(/▶ Event · stdout data 16 B/);
  expect(screen).toMatch(/├ frame +SPDY DATA frame/);
  // spdystream writes a DATA frame in three writes: three packets carry this one event.
  screen = await t.waitFor(/packet 77[\s\S]*packet 78/);
  expect(screen).toMatch(/├ TCP +TCP 127\.0\.0\.1:18100 → 127\.0\.0\.1:38284/);

  t.keys('Enter');
  screen = await t.waitFor(/▶ Content · stdout/);
  expect(screen).toContain('hello from spdy');

  t.keys('?');
  screen = await t.waitFor(/▶ Help/);
  expect(screen).toMatch(/zoom the timeline/);
  t.keys('Escape', 'q');
  await t.waitFor(/\[exited 0\]/);
  expect(t.alternateScreen()).toBe(false);
});

test('the hang and the refused upgrade read at a glance in the session list', async () => {
  const t = start('demo.pcapng', 160, 50);
  // A session is "still open at end of capture" only once the whole capture is read: on a loaded
  // machine a frame drawn while loading already lists all 11 with session 8 open (live).
  const screen = await t.waitFor(/Sessions · 11[\s\S]*8 exec +default\/batch-7.*sort.*still open at end of capture/);
  expect(screen).toMatch(/9 exec +default\/web-1.*upgrade refused 403/);
  expect(screen).toMatch(/10 exec +default\/web-1.*SPDY v4/);
  t.keys('q');
  await t.waitFor(/\[exited 0\]/);
});

test('d: the hang doctor names the hang and its evidence', async () => {
  const t = start('demo.pcapng', 120, 40);
  await t.waitFor(/Sessions · 11/);
  t.keys('/', 'batch-7', 'Enter');
  let screen = await t.waitFor(/▸ +8 exec +(default\/)?batch-7/);
  expect(screen).toMatch(/Timeline · #8 · R1 stdin never half-closed \(d\)/);
  t.keys('d');
  screen = await t.waitFor(/Diagnosis · #8/);
  expect(screen).toMatch(/✗ R1 +stdin never half-closed/);
  expect(screen).toMatch(/· no empty DATA frame with FIN on SPDY stream 3/);
  t.keys('Escape', 'q');
  await t.waitFor(/\[exited 0\]/);
});

test('keys typed ahead arrive in one read and each one counts', async () => {
  const t = start('demo.pcapng', 160, 50);
  await t.waitFor(/Sessions · 11/);
  // One send-keys string reaches the program as one read: Ink hands it over as one input.
  t.keys('jjj');
  await t.waitFor(/▸ +4 exec/);
  // A filter typed in one go is filter text, not keys.
  t.keys('kk/web-1');
  let screen = await t.waitFor(/Sessions · 2 of 11 .*filter “web-1”/);
  // The first Enter applies the filter, the second opens the selected session.
  t.keys('Enter', 'Enter');
  screen = await t.waitFor(/▶ Timeline · #9/);
  expect(screen).not.toMatch(/demo-0/);
  t.keys('q');
  await t.waitFor(/\[exited 0\]/);
});

test('a capture piped in is shown live, keys coming from the terminal', async () => {
  // The first 40 kB, then nothing (a quiet tap) until the test has seen the screen show them, then the rest.
  const demo = join('fixtures', 'demo.pcapng');
  const go = join(tmp, 'go');
  const feed = `(head -c 40000 ${demo}; while [ ! -e ${go} ]; do sleep 0.05; done; tail -c +40001 ${demo})`;
  const t = openTerminal(['sh', '-c', `${feed} | env -u CI ${process.execPath} ${cli} -`], 120, 40);
  let screen = await t.waitFor(/stdin · pcapng · \d+ packets · EN10MB · \d+ connections · 3 sessions/);
  expect(screen).toMatch(/live · 39\.1 KiB read/);
  writeFileSync(go, '');
  screen = await t.waitFor(/stdin · pcapng · 633 packets · EN10MB · 31 connections · 11 sessions/);
  t.keys('jj', 'Enter');
  screen = await t.waitFor(/▶ Timeline · #3/);
  t.keys('q');
  await t.waitFor(/\[exited 0\]/);
});

test('port-forward through the WebSocket tunnel: each hop, each forwarded connection, the tunnelled frames', async () => {
  const t = start(join('lab', 'lab-ws-portforward.pcapng'), 140, 40);
  // Until the capture is read to its end the first hop's session is still open (live): wait for its end.
  let screen = await t.waitFor(/1 \+2 pf +default\/lab-0 +→ port 80 +WS\+SPDY +kubectl→apiserver .*✓ 2 connections forwarded to port 80/);
  // One port-forward seen on three hops: one row, its hops a → away.
  expect(screen).toMatch(/Sessions · 3 · 1 exec \(→ hops\)/);
  t.keys('Right');
  screen = await t.waitFor(/2 ├ +pf +default\/lab-0 +→ port 80 +SPDY +apiserver→kubelet/);
  expect(screen).toMatch(/3 └ +pf /);
  t.keys('Enter');
  screen = await t.waitFor(/▶ Timeline · #1/);
  // The same port-forward on the three hops of the recording.
  expect(screen).toMatch(/▶ Timeline · #1 · .* · hops #1→#2→CRI PortForward→#3/);
  // Labels that differ only at the end keep their ends: data:80:0 and data:80:1 are told apart.
  expect(screen).toMatch(/^.dat…80:1 .*97\.9 KiB/m);
  expect(screen).toMatch(/^.dat…80:0 .*221 B/m);
  t.keys('Enter');
  screen = await t.waitFor(/▶ Event · error:80:0/);
  expect(screen).toMatch(/├ frame +SPDY DATA frame in the WebSocket tunnel · tunnelled SPDY c2s bytes/);
  expect(screen).toMatch(/the SPDY bytes travel in WebSocket binary messages/);
  t.keys('q');
  await t.waitFor(/\[exited 0\]/);
});

test('a piped capture kept with --save: the Event pane reads packets back from the copy', async () => {
  const copy = join(tmp, 'live.pcapng');
  const demo = join('fixtures', 'demo.pcapng');
  const t = openTerminal(['sh', '-c', `cat ${demo} | env -u CI ${process.execPath} ${cli} - --save ${copy}`], 120, 40);
  await t.waitFor(/stdin → .*live\.pcapng · pcapng · 633 pkts · EN10MB · 31 connections/);
  t.keys('Enter', 'Enter');
  // Packets and their bytes come from re-reading the capture: here, the copy.
  const screen = await t.waitFor(/└ packet +packet \d+ · .* bytes on the wire/);
  expect(screen).toMatch(/TCP payload at byte|packets? \d+/);
  t.keys('q');
  await t.waitFor(/\[exited 0\]/);
  expect(readFileSync(copy)).toEqual(readFileSync(demo));
});

const captures = readdirSync(join(root, 'fixtures')).filter((f) => /\.pcap(ng)?$/.test(f) && !f.startsWith('tls-ws-keylog'));

const sizes: [number, number][] = [
  [80, 24],
  [160, 50],
];

describe.each(sizes)('at %i×%i', (cols, rows) => {
  test.each(captures)('%s: the walk-through from session to content', async (file) => {
    const t = start(file, cols, rows);
    let screen = await t.waitFor(/Sessions · \d+/);
    expect(screen).toMatch(/▸ +1 exec/);
    expect(screen).toMatch(/exit \d/);
    t.keys('Enter');
    screen = await t.waitFor(/▶ Timeline · #1/);
    expect(screen).toMatch(/stdout/);
    t.keys('Enter');
    screen = await t.waitFor(/▶ Event · /);
    expect(screen).toMatch(/├ frame/);
    await t.waitFor(/packet \d+/);
    t.keys('Enter');
    await t.waitFor(/▶ Content · /);
    t.keys('q');
    await t.waitFor(/\[exited 0\]/);
    expect(screen.split('\n').every((line) => [...line].length <= cols)).toBe(true);
  });
});

test('hostile stdout is shown neutralised and never acts on the terminal', async () => {
  const t = start('hostile-escapes.pcap', 80, 24);
  const titleBefore = t.title();
  await t.waitFor(/Sessions · 1/);
  t.keys('Enter');
  await t.waitFor(/▶ Timeline/);
  t.keys('Enter');
  await t.waitFor(/▶ Event/);
  t.keys('Enter');
  const screen = await t.waitFor(/▶ Content · stdout/);
  expect(screen).toContain('welcome␛[2J␛[H␛]0;pwned title␇');
  expect(screen).toContain('line two␛[10;10Hmoved␛[?1049h⟨U+009B⟩2J');
  expect(t.title()).toBe(titleBefore);
  t.keys('x');
  await t.waitFor(/Content · stdout · 90 B · hex/);
  t.keys('q');
  await t.waitFor(/\[exited 0\]/);
  expect(t.title()).toBe(titleBefore);
  expect(t.alternateScreen()).toBe(false);
});

test.each([
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const)('killed with %s, the TUI leaves the terminal as it found it: main screen, cursor shown, no mouse reports', async (signal, status) => {
  // stderr elsewhere: the terminal is put back through stdout, not by what Ink's helpers write to stderr.
  const t = openTerminal(['sh', '-c', `exec env -u CI "${process.execPath}" "${cli}" fixtures/demo.pcapng 2>/dev/null`], 100, 30);
  await t.waitFor(/Sessions · 11/);
  expect({ alternate: t.alternateScreen(), cursor: t.cursorVisible(), mouse: t.mouseReporting().any }).toEqual({ alternate: true, cursor: false, mouse: true });
  process.kill(t.programPid(), signal);
  await t.waitFor(new RegExp(`\\[exited ${status}\\]`));
  expect({ alternate: t.alternateScreen(), cursor: t.cursorVisible(), mouse: t.mouseReporting().any }).toEqual({ alternate: false, cursor: true, mouse: false });
});

test('follows the terminal when it is resized', async () => {
  const t = start('demo.pcapng', 80, 24);
  await t.waitFor(/Sessions · 11/);
  t.resize(160, 50);
  const wide = await t.waitFor((s) => s.split('\n').some((line) => [...line].length > 100));
  expect(wide).toMatch(/Sessions · 11/);
  t.resize(80, 24);
  await t.waitFor((s) => s.split('\n').every((line) => [...line].length <= 80) && /Sessions · 11/.test(s));
  t.keys('q');
  await t.waitFor(/\[exited 0\]/);
});

test('a file that is not a capture: a clear message in the UI, no stack trace, exit 2 as from analyze', async () => {
  const t = openTerminal(['env', '-u', 'CI', process.execPath, cli, 'package.json'], 80, 24);
  const screen = await t.waitFor(/not a pcap or pcapng capture/);
  expect(screen).not.toMatch(/\bat .*\.js:\d+/);
  t.keys('q');
  await t.waitFor(/\[exited 2\]/);
});
