/**
 * Renders an Ink tree into a fake terminal of a chosen size (ink-testing-library's stdout is fixed
 * at 100 columns and has no rows), can resize it, and types keys the way a terminal sends them.
 */
import { EventEmitter } from 'node:events';
import { render } from 'ink';
import type { ReactElement } from 'react';

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

const tick = (ms = 15) => new Promise<void>((r) => setTimeout(r, ms));

export interface Tui {
  lastFrame(): string;
  /** Types each key in turn, letting Ink render after each. */
  press(...keys: string[]): Promise<void>;
  resize(columns: number, rows: number): Promise<void>;
  rerender(tree: ReactElement): Promise<void>;
  /** Lets React run passive effects (the EventInspector call) and settle their results. */
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
  await tick();
  return {
    stdout,
    lastFrame: () => stdout.frames[stdout.frames.length - 1] ?? '',
    async press(...keys: string[]) {
      for (const k of keys) {
        stdin.write(k);
        // A lone ESC is delivered on the next setImmediate: let that happen before anything else.
        await new Promise<void>((r) => setImmediate(r));
        await tick();
      }
    },
    async resize(columns: number, rows: number) {
      stdout.columns = columns;
      stdout.rows = rows;
      stdout.emit('resize');
      await tick();
    },
    async rerender(t: ReactElement) {
      instance.rerender(t);
      await tick();
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
