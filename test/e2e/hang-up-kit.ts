/**
 * Hanging up the terminal under a command, as its window closing or its ssh connection dropping
 * does: the command runs under exit-recorder.mjs, which stands where a login shell stands (the
 * session's leader, told of the hang-up by the kernel), passes the SIGHUP on or not, and records how
 * the command ended.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirForTests } from '../kit/temp-dir.js';
import { until } from '../kit/until.js';
import { tuiTerminals, type TmuxTerminal } from './tmux.js';

export interface Ended {
  pid: number;
  code: number | null;
  signal: string | null;
}

/** How often the tests look at processes and files: each look may run a process (pgrep, tmux). */
export const LOOK = { everyMs: 100 };

/** The processes of a session still alive, as `ps` lists them. */
function sessionProcesses(session: number): string[] {
  const found = spawnSync('pgrep', ['-s', String(session), '-a'], { encoding: 'utf8', timeout: 10_000 });
  return found.stdout.split('\n').filter((line) => line.trim() !== '');
}

/**
 * Terminals for one test file, and a temporary directory (removed after its tests) for what the
 * tests make there: `start` runs a shell command in a terminal under the recorder, its stdin, stdout
 * and stderr the terminal unless the command redirects them; `hangUp` hangs that terminal up.
 */
export function hangUpTerminals(): {
  dir: string;
  start(command: string, signal: 'pass' | 'keep'): { t: TmuxTerminal; out: string };
  hangUp(t: TmuxTerminal, out: string, afterHangUp?: () => unknown): Promise<Ended>;
} {
  const { open } = tuiTerminals();
  const recorder = join(process.cwd(), 'test', 'e2e', 'exit-recorder.mjs');
  const dir = tempDirForTests('execscope-hangup-');
  let started = 0;
  const start = (command: string, signal: 'pass' | 'keep') => {
    const out = join(dir, `ended-${started++}.json`);
    const recorderCommand = `exec ${process.execPath} ${recorder} ${out} ${signal} sh -c '${command}' 3<&0 </dev/null >/dev/null 2>&1`;
    return { t: open(['sh', '-c', recorderCommand], 120, 40, true), out };
  };
  /**
   * Hangs the terminal up and waits for the command's end, and for its session to empty: throws,
   * naming what is left, if something stays running in it. `afterHangUp` runs once the command has
   * lost its terminal (its controlling terminal is gone), or has already ended (it may notice first).
   */
  const hangUp = async (t: TmuxTerminal, out: string, afterHangUp?: () => unknown) => {
    const session = t.panePid();
    const command = t.programPid();
    t.kill();
    if (afterHangUp) {
      await until(() => (controllingTerminal(command) ?? 0) === 0, `process ${command} losing its terminal to the hang-up`, LOOK);
      await afterHangUp();
    }
    const ended = await until(() => existsSync(out) && (JSON.parse(readFileSync(out, 'utf8')) as Ended), 'the command ending', LOOK);
    await until(() => sessionProcesses(session).length === 0, () => `the session emptied; left: ${sessionProcesses(session).join(' · ')}`, { ...LOOK, timeoutMs: 10_000 });
    return ended;
  };
  return { dir, start, hangUp };
}

/** A process's controlling terminal (tty_nr of /proc/PID/stat): 0 once its terminal hung up; undefined when it is gone. */
function controllingTerminal(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);
  } catch {
    return undefined;
  }
}
