/**
 * The Event pane's layers, fields and bytes as a person meets them: the real binary in tmux at
 * 80×24 and 160×50 on a real kubectl exec capture, ↓ through a layer's fields (each highlighted in
 * the bytes) and PgUp/PgDn through bytes taller than the pane.
 */
import { tuiTerminals } from './tmux.js';

const { tui: start } = tuiTerminals();

/** The hex view's heading: which bytes are highlighted and which rows are shown. */
const heading = (screen: string) => /^ +(rows .*|bytes of .*)$/m.exec(screen)?.[0] ?? '';

test('80×24: the packet layer lists its link, IP and TCP fields, ↓ highlights each, PgDn/PgUp scroll the bytes', async () => {
  const t = start('ws-echo.pcap', 80, 24);
  await t.waitFor(/Sessions · 1/);
  t.keys('Enter');
  await t.waitFor(/▶ Timeline/);
  t.keys('Enter');
  let screen = await t.waitFor(/▶ Event · stdout data 21 B[\s\S]*└ packet +packet 33/);
  t.keys('G');
  screen = await t.waitFor(/▸└ packet +packet 33/);
  t.keys('Down');
  screen = await t.waitFor(/▸ +Ethernet destination: 00:00:00:00:00:00 0–5/);
  expect(heading(screen)).toMatch(/rows 1–\d+\/6 \(PgUp\/PgDn\) · bytes of packet 33 /);
  expect(screen).toMatch(/^00000000\[00 00 00 00 00 00\]00/m);
  for (let k = 0; k < 3; k++) t.keys('Down');
  screen = await t.waitFor(/▸ +IPv4 version: 4 14/);
  expect(screen).toMatch(/^00000000 (\S\S ){13}\S\S\[45\]/m);
  // The bytes are taller than the pane: PgDn shows the last rows, PgUp the first again.
  const before = /rows (\d+)–(\d+)\/(\d+)/.exec(heading(screen))!;
  t.keys('PageDown');
  screen = await t.waitFor((s) => /rows (\d+)–(\d+)\/(\d+)/.exec(heading(s))?.[2] === before[3]);
  expect(screen).toMatch(/^00000050 /m);
  t.keys('PageUp', 'PageUp');
  screen = await t.waitFor((s) => /rows 1–/.test(heading(s)));
  expect(screen).toMatch(/^00000000 /m);
  expect(screen.split('\n').every((line) => [...line].length <= 80)).toBe(true);
  t.keys('q');
});

test('160×50: the upgrade request under a stream event, header by header, scrolled to its end', async () => {
  const t = start('ws-echo.pcap', 160, 50);
  await t.waitFor(/Sessions · 1/);
  t.keys('Enter');
  await t.waitFor(/▶ Timeline/);
  t.keys('Enter');
  let screen = await t.waitFor(/▶ Event · stdout data 21 B[\s\S]*├ HTTP +HTTP\/1\.1 upgrade/);
  t.keys('G');
  await t.waitFor(/▸└ packet/);
  t.keys('Up');
  await t.waitFor(/▸├ TCP/);
  t.keys('Up');
  screen = await t.waitFor(/▸├ HTTP +HTTP\/1\.1 upgrade/);
  screen = await t.waitFor(/method: GET 0–2/);
  expect(screen).toMatch(/Sec-Websocket-Protocol: v5\.channel\.k8s\.io/i);
  const total = Number(/bytes of TCP c2s 0–(\d+)/.exec(screen)?.[1]) + 1;
  expect(total).toBeGreaterThan(300);
  expect(screen).toMatch(/rows 1–\d+\/\d+ \(PgUp\/PgDn\)/);
  // The head's last row (its empty line) comes into view with PgDn.
  const lastRow = (Math.ceil(total / 16) - 1) * 16;
  const lastOffset = lastRow.toString(16).padStart(8, '0');
  for (let k = 0; k < 6 && !new RegExp(`^${lastOffset}[ []`, 'm').test(screen); k++) {
    t.keys('PageDown');
    screen = await t.waitFor((s) => s !== screen);
  }
  expect(screen).toMatch(new RegExp(`^${lastOffset}[ [].*0d 0a`, 'm'));
  t.keys('q');
});
