/**
 * Runs the real binary inside tmux, as a person would: a terminal of a given size, keys typed,
 * the screen read back with capture-pane.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Each terminal has a tmux server of its own (-L): no test waits on, or races with, another's server. */
const tmux = (socket: string, ...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 10_000 });

export function haveTmux(): boolean {
  return spawnSync('tmux', ['-V'], { timeout: 10_000 }).status === 0;
}

export class TmuxTerminal {
  private static next = 0;
  readonly name = `execscope-e2e-${process.pid}-${TmuxTerminal.next++}`;
  /** The server's socket: tmux leaves it behind when its server ends, so `kill` removes it. */
  private readonly socketPath: string;

  /**
   * Starts `command` (argv) in a detached tmux session of cols×rows; it reports its exit status on
   * screen. As the `leader` it is the terminal's own process instead, in place of the shell: the
   * session's leader, the one process the kernel tells when the terminal hangs up.
   */
  constructor(argv: string[], cols: number, rows: number, env: Record<string, string> = {}, leader = false) {
    const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const vars = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
    const command = leader ? `${vars} exec ${quoted}` : `${vars} ${quoted}; echo "[exited $?]"; sleep 30`;
    tmux(this.name, 'new-session', '-d', '-s', this.name, '-x', String(cols), '-y', String(rows), command);
    tmux(this.name, 'set-option', '-t', this.name, 'remain-on-exit', 'on');
    this.socketPath = tmux(this.name, 'display-message', '-p', '-t', this.name, '#{socket_path}').trim();
  }

  screen(): string {
    return tmux(this.name, 'capture-pane', '-p', '-t', this.name);
  }

  /** The pane title: an OSC title sequence that reached the terminal would have changed it. */
  title(): string {
    return tmux(this.name, 'display-message', '-p', '-t', this.name, '#{pane_title}').trim();
  }

  alternateScreen(): boolean {
    return tmux(this.name, 'display-message', '-p', '-t', this.name, '#{alternate_on}').trim() === '1';
  }

  /** Whether the cursor is shown (a TUI hides it while it draws). */
  cursorVisible(): boolean {
    return tmux(this.name, 'display-message', '-p', '-t', this.name, '#{cursor_flag}').trim() === '1';
  }

  /** Whether the program asked for mouse reports (any kind, SGR encoding). */
  mouseReporting(): { any: boolean; sgr: boolean } {
    const [any, sgr] = tmux(this.name, 'display-message', '-p', '-t', this.name, '#{mouse_any_flag} #{mouse_sgr_flag}').trim().split(' ');
    return { any: any === '1', sgr: sgr === '1' };
  }

  /** A left click on the cell at column x, row y (0-based), as a terminal in SGR mouse mode reports it. */
  click(x: number, y: number): void {
    tmux(this.name, 'send-keys', '-t', this.name, '-l', `\x1b[<0;${x + 1};${y + 1}M\x1b[<0;${x + 1};${y + 1}m`);
  }

  /** One notch of the wheel over the cell at column x, row y. */
  wheel(x: number, y: number, dir: 'up' | 'down'): void {
    tmux(this.name, 'send-keys', '-t', this.name, '-l', `\x1b[<${dir === 'up' ? 64 : 65};${x + 1};${y + 1}M`);
  }

  /** The PID of the terminal's own process: the shell, or the leader. */
  panePid(): number {
    return Number(tmux(this.name, 'display-message', '-p', '-t', this.name, '#{pane_pid}').trim());
  }

  /** The PID of the program running in the terminal (the shell's child). */
  programPid(): number {
    return Number(execFileSync('pgrep', ['-P', String(this.panePid())], { encoding: 'utf8', timeout: 10_000 }).trim().split('\n')[0]);
  }

  keys(...keys: string[]): void {
    for (const k of keys) tmux(this.name, 'send-keys', '-t', this.name, k);
  }

  /** The keys in one write to the terminal, as a quick typist's keys arrive. */
  keysAtOnce(...keys: string[]): void {
    tmux(this.name, 'send-keys', '-t', this.name, ...keys);
  }

  resize(cols: number, rows: number): void {
    tmux(this.name, 'resize-window', '-t', this.name, '-x', String(cols), '-y', String(rows));
  }

  /**
   * Waits until the screen satisfies `test` (or matches the pattern) and is drawn completely: the
   * terminal may be caught halfway through painting a frame, so a match counts once the next
   * capture reads the same. Throws with the last screen after `timeoutMs` (generous: a loaded
   * machine is slow, and only a stuck TUI takes that long).
   */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 30000): Promise<string> {
    const ok = typeof test === 'function' ? test : (s: string) => test.test(s);
    const deadline = Date.now() + timeoutMs;
    let last = '';
    let matched: string | null = null;
    while (Date.now() < deadline) {
      last = this.screen();
      if (ok(last)) {
        if (last === matched) return last;
        matched = last;
      } else matched = null;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${test}; screen was:\n${last}`);
  }

  /** Ends the tmux server: the terminal's master side closes, so what runs in it sees a hang-up, as when its window is closed. */
  kill(): void {
    spawnSync('tmux', ['-L', this.name, 'kill-server'], { timeout: 10_000 });
    rmSync(this.socketPath, { force: true });
  }
}

/** The built CLI the end-to-end tests run. */
export const CLI = join(process.cwd(), 'dist', 'cli.js');

/**
 * Terminals for one test file: checks for tmux and the built CLI before its tests, and closes every
 * terminal opened after each test. `open` runs any command; `tui` the TUI on a fixture (without CI
 * set: Ink draws only at exit when it believes it runs in CI).
 */
export function tuiTerminals(): { open(argv: string[], cols: number, rows: number, leader?: boolean): TmuxTerminal; tui(file: string, cols: number, rows: number): TmuxTerminal } {
  const opened: TmuxTerminal[] = [];
  beforeAll(() => {
    if (!haveTmux()) throw new Error('tmux is needed for the end-to-end TUI tests (.ci/run installs it)');
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build`');
  });
  afterEach(() => {
    for (const t of opened.splice(0)) t.kill();
  });
  const open = (argv: string[], cols: number, rows: number, leader = false) => {
    const t = new TmuxTerminal(argv, cols, rows, {}, leader);
    opened.push(t);
    return t;
  };
  return { open, tui: (file, cols, rows) => open(['env', '-u', 'CI', process.execPath, CLI, join('fixtures', file)], cols, rows) };
}
