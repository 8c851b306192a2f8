/**
 * Captured bytes never reach the terminal raw: with colour off not a single ESC (0x1b) or C1
 * control leaves the UI, whatever the capture holds; with colour on, only Ink's own SGR colour
 * sequences do.
 */
import chalk from 'chalk';
import { App } from '../../src/ui/App.js';
import type { CaptureModel } from '../../src/model/session.js';
import { captureModel, connection, hostileSession, tlsSummary, wsEchoSession } from '../helpers/model-builders.js';
import { KEYS, loaded, renderTui, tuiTestSetup, type Tui } from './tui-harness.js';

function hostileModel(): CaptureModel {
  return captureModel({
    sessions: [hostileSession(), wsEchoSession({ id: 2 })],
    connections: [
      connection({
        id: 9,
        protocol: 'http',
        requests: [{ method: 'GET\x1b[2J', target: '/\x1b]0;pwned\x07\u009b31m', status: 200, ts: 0 }],
        tls: tlsSummary({ sni: 'evil\x1b[5m.example', alpn: 'h2\u0085', keysFound: false }),
      }),
    ],
    warnings: [{ code: 'test.hostile', severity: 'warning', where: 'packet 5 \x1b[2J', message: 'bad \u009b frame' }],
    fatal: { message: 'stopped \x1b]2;x\x07 here', where: 'byte 9', truncated: true },
  });
}

/** Walks every pane with the hostile session selected, collecting all frames written. */
async function walk(tui: Tui): Promise<void> {
  await tui.press(KEYS.enter); // timeline
  await tui.press(KEYS.down, KEYS.right, KEYS.up, KEYS.down, KEYS.down); // lanes incl. the hostile stream name
  await tui.press(KEYS.up, KEYS.up, KEYS.enter); // event: stdout with the escape sequences
  await tui.press(KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.up, KEYS.up, KEYS.up, KEYS.up);
  await tui.press(KEYS.enter); // content as text
  await tui.press(KEYS.right, KEYS.left, 'x', KEYS.right, 'x');
  await tui.resize(132, 40);
  await tui.press('?', KEYS.escape, 'c', KEYS.down, KEYS.escape);
  await tui.press('/', '\x1b[2J', '\u009b', 'pod', KEYS.enter, KEYS.escape);
  await tui.press('z', '+', ']');
  await tui.resize(80, 24);
  await tui.press(KEYS.tab, KEYS.tab);
}

const C1 = /[\u0080-\u009f]/;

tuiTestSetup();

it('with NO_COLOR no ESC byte and no C1 control is ever written', async () => {
  const tui = await renderTui(<App path={'evil\x1b[2J.pcap'} load={loaded(hostileModel())} />);
  // At 80 columns the pod shows without its (hostile) namespace, for room.
  expect(tui.lastFrame()).toContain('pod␛]0;title␇');
  await walk(tui);
  expect(tui.stdout.frames.length).toBeGreaterThan(30);
  const all = tui.stdout.frames.join('\n');
  expect(all.includes('\x1b')).toBe(false);
  expect(all).not.toMatch(C1);
  expect(all).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  // …and the hostile bytes are all there to see, neutralised.
  expect(all).toContain('before␛[2J␛[H␛]0;pwned␇␛]8;;http://evil␛\\link␛[10;10H␛[?2004h␛[200~paste␛[201~');
  // The second line: \r went back to column 0 and \b, BEL, "after" overwrote the start, as on a terminal;
  // the raw 0x9b shown as \x9B takes the four cells it is drawn in, so "after" covers it and "31".
  expect(all).toContain('␇afterm⟨U+009B⟩31m⟨U+009D⟩0;t␇␛c␛7');
  expect(all).toContain('exec ns␛[2J/pod␛]0;title␇ [c⟨U+009B⟩31m] sh -c "echo ␛[31mred␛[0m␊⟨U+2');
  expect(all).toContain('failed: Bad␛[5m oops ␛]0;t␇⟨U+009B⟩2J');
  expect(all).toContain('std␛[2Jout');
  expect(all).toContain('GET␛[2J /␛]0;pwned␇⟨U+009B⟩31m → 200');
  expect(all).toContain('✗ truncated: stopped ␛]2;x␇ here');
  expect(all).toContain('00000000[62 65 66 6f 72 65 1b 5b 32 4a 1b 5b 48 1b 5d 30]  before.[2J.[H.]0');
});

it('with colour only SGR colour sequences are written', async () => {
  chalk.level = 3;
  const tui = await renderTui(<App path="evil.pcap" load={loaded(hostileModel())} />);
  await walk(tui);
  const all = tui.stdout.frames.join('\n');
  expect(all).toMatch(/\x1b\[[0-9;]*m/); // colour is on
  const withoutSgr = all.replace(/\x1b\[[0-9;]*m/g, '');
  expect(withoutSgr.includes('\x1b')).toBe(false);
  expect(withoutSgr).not.toMatch(C1);
  expect(withoutSgr).toContain('before␛[2J␛[H␛]0;pwned␇');
});
