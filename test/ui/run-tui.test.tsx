import { jest } from '@jest/globals';
import { join } from 'node:path';
import type { CaptureModel } from '../../src/model/session.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { MOUSE_OFF, MOUSE_ON } from '../../src/ui/mouse.js';
import { runTui, type LoadProgress } from '../../src/ui/run-tui.js';
import { captureModel, spdyEchoSession, wsEchoSession } from '../helpers/model-builders.js';
import { FakeStdin, FakeStdout, tuiTestSetup } from './tui-harness.js';

const ENTER_ALT = '\x1b[?1049h';
const LEAVE_ALT = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

/** The main screen is back, once, and nothing but the cursor's return is written after it. */
function leftAltScreen(out: FakeStdout): void {
  expect(out.frames.filter((f) => f === LEAVE_ALT)).toHaveLength(1);
  expect(out.frames.slice(out.frames.indexOf(LEAVE_ALT)).filter((f) => f !== SHOW_CURSOR)).toEqual([LEAVE_ALT]);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until what was written to the terminal matches (giving up only after 10 s: a loaded machine is slow). */
async function screenShows(out: FakeStdout, pattern: RegExp): Promise<string> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    const screen = out.frames.join('');
    if (pattern.test(screen)) return screen;
    await wait(20);
  }
  return out.frames.join('');
}

function streams(tty: boolean) {
  const stdin = new FakeStdin();
  stdin.isTTY = tty;
  const stdout = new FakeStdout(80, 24);
  stdout.isTTY = tty;
  const stderr = new FakeStdout(80, 24);
  return {
    stdin,
    stdout,
    stderr,
    io: {
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
    },
  };
}

tuiTestSetup();

describe('without a terminal', () => {
  it('prints one frame of the loaded capture and exits 0', async () => {
    const { stdout, stderr, io } = streams(false);
    const code = await runTui({ path: 'ws-echo.pcap', load: async () => captureModel({ sessions: [wsEchoSession()] }), ...io });
    expect(code).toBe(0);
    const out = stdout.frames.join('');
    expect(out).toContain('execscope   ws-echo.pcap');
    expect(out).toMatch(/▸ +1 exec default\/demo-0 \[main\]/);
    expect(out.includes('\x1b')).toBe(false);
    expect(stderr.frames).toEqual([]);
  });

  it('a capture it cannot read: a one-line message on stderr and exit 1, no stack trace', async () => {
    const { stdout, stderr, io } = streams(false);
    const code = await runTui({
      path: 'bad.pcap',
      load: async () => {
        throw new Error('not a pcap or pcapng file (first bytes 3c 68 74 6d) \x1b[2J');
      },
      ...io,
    });
    expect(code).toBe(1);
    expect(stdout.frames).toEqual([]);
    expect(stderr.frames.join('')).toBe('execscope: cannot analyze bad.pcap: not a pcap or pcapng file (first bytes 3c 68 74 6d) ␛[2J\n');
  });

  it('a truncated capture still shows what was decoded but exits 2, as analyze does', async () => {
    const { stdout, stderr, io } = streams(false);
    const model = captureModel({ sessions: [spdyEchoSession()], fatal: { message: 'packet 40 cut short', where: 'byte 8000 of file', truncated: true } });
    const code = await runTui({ path: 'cut.pcap', load: async () => model, ...io });
    expect(code).toBe(2);
    expect(stdout.frames.join('')).toContain('✗ truncated: packet 40 cut short');
    expect(stderr.frames.join('')).toBe('execscope: cut.pcap: packet 40 cut short (byte 8000 of file)\n');
  });
});

describe('on a terminal', () => {
  it('uses the alternate screen, shows the model as it grows, quits with q and restores the screen', async () => {
    const { stdin, stdout, io } = streams(true);
    const model: CaptureModel = captureModel({ sessions: [], done: false });
    let finish: () => void = () => {};
    let progress: LoadProgress = () => {};
    const done = runTui({
      path: 'big.pcap',
      load: (onProgress) => {
        progress = onProgress;
        return new Promise((resolve) => (finish = () => resolve(model)));
      },
      throttleMs: 20,
      ...io,
    });
    await screenShows(stdout, /\x1b\[\?1049h/);
    expect(stdout.frames[0]).toBe(ENTER_ALT);
    // A burst of progress reports does not flood the terminal with redraws.
    model.sessions.push(spdyEchoSession());
    const before = stdout.frames.length;
    for (let i = 1; i <= 1000; i++) progress(model, i * 1000, 1_000_000);
    expect(await screenShows(stdout, /100% 977 KiB of 977 KiB/)).toMatch(/Sessions · 1 · by time/);
    await wait(100);
    expect(stdout.frames.slice(before).filter((f) => f.includes('execscope')).length).toBeLessThanOrEqual(2);
    model.sessions.push(wsEchoSession());
    model.done = true;
    finish();
    expect(await screenShows(stdout, /Sessions · 2 · by time/)).toContain('Sessions · 2 · by time');
    stdin.write('q');
    await expect(done).resolves.toBe(0);
    leftAltScreen(stdout);
    // Mouse reporting was on while the TUI ran, and is off after it.
    expect(stdout.frames.indexOf(MOUSE_ON)).toBeGreaterThan(-1);
    expect(stdout.frames.lastIndexOf(MOUSE_OFF)).toBeGreaterThan(stdout.frames.lastIndexOf(MOUSE_ON));
  });

  it('draws the first model and the first with sessions at once, without waiting for the redraw throttle', async () => {
    const { stdin, stdout, io } = streams(true);
    // A file's first report is its header's, before any session.
    const model: CaptureModel = captureModel({ sessions: [], done: false });
    let progress: LoadProgress = () => {};
    let finish: () => void = () => {};
    const done = runTui({
      path: 'big.pcap',
      load: (onProgress) => {
        progress = onProgress;
        return new Promise((resolve) => (finish = () => resolve(model)));
      },
      // Longer than any test: only an immediate draw can show the session.
      throttleMs: 600_000,
      ...io,
    });
    await screenShows(stdout, /\x1b\[\?1049h/);
    progress(model, 100, 1_000_000);
    await screenShows(stdout, /Sessions · 0/);
    model.sessions.push(spdyEchoSession());
    progress(model, 1000, 1_000_000);
    expect(await screenShows(stdout, /Sessions · 1 · by time/)).toContain('Sessions · 1 · by time');
    // Later reports wait for the throttle.
    model.sessions.push(wsEchoSession());
    progress(model, 2000, 1_000_000);
    await wait(200);
    expect(stdout.frames.join('')).not.toContain('Sessions · 2');
    model.done = true;
    finish();
    expect(await screenShows(stdout, /Sessions · 2 · by time/)).toContain('Sessions · 2 · by time');
    stdin.write('q');
    await expect(done).resolves.toBe(0);
  });

  it('the title shows the capture format from the file header on, while the packets are still being decoded', async () => {
    const { stdin, stdout, io } = streams(true);
    stdout.columns = 120; // room for the packet count beside the long name
    // Larger than the file reader's first read (256 KiB), which brings the header and first records.
    const name = 'lab-fault-reset-mid-stream.pcapng';
    let first: { format: string | null; linkTypes: string[]; packets: number; done: boolean; bytesRead: number } | null = null;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    // The clock stands still while the file is read: no slice ever ends, so only a report made for
    // the header itself comes before the end, however fast or loaded the machine.
    const clock = jest.spyOn(performance, 'now').mockReturnValue(0);
    const done = runTui({
      path: name,
      // The TUI gets the first report only, as it stood then, and the end once the test has seen it.
      load: (onProgress) =>
        analyzeCapture(join(process.cwd(), 'fixtures', 'lab', name), analyzeOptions(), (model, bytesRead, totalBytes) => {
          if (first) return;
          const c = model.capture;
          first = { format: c.format, linkTypes: [...c.linkTypes], packets: c.packets, done: model.done, bytesRead };
          onProgress({ ...model, capture: { ...c }, sessions: [...model.sessions], connections: [...model.connections] }, bytesRead, totalBytes);
        })
          .finally(() => clock.mockRestore())
          .then(async (model) => {
            await released;
            return model;
          }),
      throttleMs: 20,
      ...io,
    });
    await screenShows(stdout, / · \d+ packets · /);
    expect(first).toMatchObject({ format: 'pcapng', linkTypes: ['EN10MB'], done: false });
    expect(first!.bytesRead).toBeLessThanOrEqual(256 * 1024);
    expect(first!.packets).toBeLessThan(104);
    expect(stdout.frames.join('')).toContain(`${name} · pcapng · ${first!.packets} packets · EN10MB · `);
    release();
    expect(await screenShows(stdout, / · 104 packets · /)).toContain(`${name} · pcapng · 104 packets · `);
    stdin.write('q');
    await expect(done).resolves.toBe(0);
  });

  it('a rendering bug is one red line, then a message after the screen is restored and exit 1', async () => {
    const { stdin, stdout, stderr, io } = streams(true);
    // A model no pipeline makes: the App trips over it while rendering.
    const broken = { ...captureModel(), sessions: [null] } as unknown as CaptureModel;
    const done = runTui({ path: 'x.pcap', load: async () => broken, ...io });
    expect(await screenShows(stdout, /internal error/)).toMatch(/✗ internal error: Cannot read properties of null \(reading 'id'\) · q quits/);
    stdin.write('q');
    await expect(done).resolves.toBe(1);
    leftAltScreen(stdout);
    expect(stderr.frames.join('')).toMatch(/^execscope: internal error: .+\n$/);
    expect(stderr.frames.join('')).not.toMatch(/\n\s+at /);
  });

  it('a load failure is shown in the UI until q, then exit 1', async () => {
    const { stdin, stdout, io } = streams(true);
    const done = runTui({
      path: 'bad.pcap',
      load: async () => {
        throw new Error('unsupported link type 147');
      },
      ...io,
    });
    const screen = await screenShows(stdout, /unsupported link type 147/);
    expect(screen).toContain('✗ cannot analyze bad.pcap');
    expect(screen).toContain('unsupported link type 147');
    expect(screen).not.toMatch(/\n\s+at /);
    stdin.write('q');
    await expect(done).resolves.toBe(1);
    leftAltScreen(stdout);
  });
});
