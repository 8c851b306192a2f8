/**
 * Renders an Ink tree into a fake terminal of a chosen size (ink-testing-library's stdout is fixed
 * at 100 columns and has no rows), can resize it, and types keys the way a terminal sends them.
 * Each step waits for the frame it causes, never for a duration; and the setup every TUI test file
 * shares (colour off, TUIs unmounted, a loaded model, the frame's rows) is here.
 */
import { EventEmitter } from 'node:events';
import chalk from 'chalk';
import { render } from 'ink';
import type { ReactElement } from 'react';
import stringWidth from 'string-width';
import type { LoadState } from '../../src/ui/App.js';
import type { CaptureModel } from '../../src/model/session.js';
import { until } from '../kit/until.js';

export class FakeStdout extends EventEmitter {
  isTTY = true;
  frames: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string) => {
    this.frames.push(frame);
    return true;
  };
}

export class FakeStdin extends EventEmitter {
  isTTY = true;
  private pending: string | null = null;
  write(data: string): void {
    this.pending = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const d = this.pending;
    this.pending = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export const KEYS = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  enter: '\r',
  escape: '\x1b',
  tab: '\t',
  shiftTab: '\x1b[Z',
  backspace: '\x7f',
  pageDown: '\x1b[6~',
} as const;

const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Longest wait for a frame or a state: only a broken TUI takes that long. Not 10 s: in CI's two test
 * workers beside the lab's end-to-end suites, the Event pane's re-read of a TLS capture once took
 * longer (a whole test of it takes 2 s idle, 7–14 s beside three CPU-bound processes). Below the
 * suite's 60 s test timeout, so a stuck wait still fails with the frame it stopped at.
 */
const WAIT_MS = 30_000;

export interface Tui {
  lastFrame(): string;
  /** Types each key in turn, waiting after each for the frame it draws. */
  press(...keys: string[]): Promise<void>;
  /** Resizes the terminal and waits for the frame drawn at the new size. */
  resize(columns: number, rows: number): Promise<void>;
  rerender(tree: ReactElement): Promise<void>;
  /** Waits until the last frame matches (or `test` holds), failing with the last frame after a long while. */
  waitFor(test: RegExp | ((frame: string) => boolean)): Promise<string>;
  /** Gives React time to run effects when a test checks that something does NOT happen. */
  settle(ms?: number): Promise<void>;
  exited(): Promise<void>;
  unmount(): void;
  stdout: FakeStdout;
}

const mounted = new Set<{ unmount(): void }>();

/** Unmounts whatever a test left mounted (a failed assertion skips its own unmount). */
export function cleanupTuis(): void {
  for (const m of mounted) m.unmount();
  mounted.clear();
}

const reads = new Set<Promise<unknown>>();

/**
 * `read` (an inspector or a content reader given to the App), each of its calls awaited by
 * readsSettled: a re-read the TUI started must not outlive the test, or Jest tears the module
 * environment down under it while it still opens the capture.
 */
export function tracked<A extends unknown[], R>(read: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args) => {
    const call = read(...args);
    reads.add(call);
    const done = () => reads.delete(call);
    call.then(done, done);
    return call;
  };
}

/** Resolves once every tracked read has finished, those started while waiting too. */
export async function readsSettled(): Promise<void> {
  while (reads.size > 0) await Promise.allSettled([...reads]);
}

/**
 * The hooks every TUI test file wants: colour off (NO_COLOR: what is shown must read without it; a
 * test may turn it on) and back after each test, every TUI a test left mounted unmounted and every
 * tracked read it started finished.
 */
export function tuiTestSetup(): void {
  let level: typeof chalk.level;
  beforeEach(() => {
    level = chalk.level;
    chalk.level = 0;
  });
  afterEach(async () => {
    cleanupTuis();
    await readsSettled();
    chalk.level = level;
  });
}

/** A load state with the whole model read. */
export const loaded = (model: CaptureModel | null, over: Partial<LoadState> = {}): LoadState => ({ model, bytesRead: 100, totalBytes: 100, revision: 1, error: null, ...over });

/** The rows of the last frame. */
export const frameLines = (tui: Tui): string[] => tui.lastFrame().split('\n');

/** The focused pane's name (marked ▶; on a wide terminal Content's title stands beside the Event pane's). */
export const focusedPane = (tui: Tui): string | undefined => /▶ (\w+)/.exec(tui.lastFrame())?.[1];

/** Every row fits the terminal in cells (wide characters take two) and the frame fills it exactly. */
export function expectFits(tui: Tui, columns: number, rows: number): void {
  const ls = frameLines(tui);
  expect(ls).toHaveLength(rows);
  for (const l of ls) expect(stringWidth(l)).toBeLessThanOrEqual(columns);
}

export async function renderTui(tree: ReactElement, size: { columns: number; rows: number } = { columns: 80, rows: 24 }): Promise<Tui> {
  const stdout = new FakeStdout(size.columns, size.rows);
  const stdin = new FakeStdin();
  const instance = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  mounted.add(instance);
  const lastFrame = () => stdout.frames[stdout.frames.length - 1] ?? '';
  /** Runs `act`, then waits for the frame it makes Ink draw. */
  const drawn = async (what: string, act: () => void) => {
    const before = stdout.frames.length;
    act();
    await until(() => stdout.frames.length > before, () => `a frame drawn after ${what}; the last one:\n${lastFrame()}`, { timeoutMs: WAIT_MS });
    // A lone ESC is delivered on the next setImmediate, and effects run after the frame: let both happen.
    await new Promise<void>((r) => setImmediate(r));
  };
  await until(() => stdout.frames.length > 0, 'a first frame', { timeoutMs: WAIT_MS });
  return {
    stdout,
    lastFrame,
    async press(...keys: string[]) {
      for (const k of keys) await drawn(`the key ${JSON.stringify(k)}`, () => stdin.write(k));
    },
    async resize(columns: number, rows: number) {
      await drawn(`a resize to ${columns}×${rows}`, () => {
        stdout.columns = columns;
        stdout.rows = rows;
        stdout.emit('resize');
      });
    },
    async rerender(t: ReactElement) {
      await drawn('a rerender', () => instance.rerender(t));
    },
    async waitFor(test) {
      const ok = typeof test === 'function' ? test : (f: string) => test.test(f);
      await until(() => ok(lastFrame()), () => `a frame matching ${test}; the last one:\n${lastFrame()}`, { timeoutMs: WAIT_MS });
      return lastFrame();
    },
    settle: (ms = 250) => tick(ms),
    async exited() {
      await instance.waitUntilExit();
    },
    unmount: () => {
      mounted.delete(instance);
      instance.unmount();
    },
  };
}
