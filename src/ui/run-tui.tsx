/**
 * Runs the TUI on a terminal: the IO edge of the UI. Starts loading, redraws the growing model at
 * most every throttleMs, and puts the terminal back (alternate screen, cursor) however it ends,
 * unless the terminal hangs up: then the process ends by SIGHUP (see endOnHangUp).
 * Without a terminal on both ends it loads, prints one frame and answers with an exit code.
 */
import { isatty } from 'node:tty';
import { render, renderToString } from 'ink';
import { modelExitStatus } from '../report/exit-status.js';
import type { CaptureModel } from '../model/session.js';
import { App, type LoadState } from './App.js';
import { ErrorBoundary } from './ErrorBoundary.js';
import type { EventInspector } from './event-layers.js';
import type { ContentReader } from '../pipeline/capture-content-reader.js';
import type { StreamSaver } from '../pipeline/stream-extract.js';
import { safeInline } from '../report/terminal-text.js';
import { applyColorEnv } from './theme.js';
import { MOUSE_OFF, MOUSE_ON } from './mouse.js';
import { useLayoutEffect, type ReactNode } from 'react';

export type LoadProgress = (model: CaptureModel, bytesRead: number, totalBytes: number | null) => void;

export interface RunTuiOptions {
  /** What is being opened (shown in the title and messages). */
  path: string;
  /** A line the title keeps whole (the tap's `export KUBECONFIG=…`). */
  note?: string;
  /** The input grows while it is shown (a pipe, a tap): the status bar says live, not loading. */
  live?: boolean;
  /** Starts the pipeline; calls onProgress with the growing model. */
  load: (onProgress: LoadProgress) => Promise<CaptureModel>;
  inspector?: EventInspector;
  contentReader?: ContentReader;
  /** Writes a stream or an event's bytes to a file (S); without one, S says saving needs the capture. */
  saver?: StreamSaver;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** Minimum time between redraws while loading. Default 100 ms. */
  throttleMs?: number;
  /**
   * What must still be done when the terminal hangs up, before the process ends by SIGHUP (the tap
   * completes its recording, live stops tcpdump). There is no terminal by then: it writes to none.
   */
  onHangUp?: () => Promise<void> | void;
}

const ENTER_ALT_SCREEN = '\x1b[?1049h';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';

/**
 * Mouse reporting for as long as the TUI is mounted, and `restore` (mouse off, the main screen back)
 * when it is unmounted. Ink unmounts on exit, on Ctrl-C and, through signal-exit, when the process
 * is killed (SIGTERM), where no 'exit' event follows (the signal is raised again); on SIGHUP
 * endOnHangUp unmounts it while the terminal is still there. A layout effect's cleanup runs within
 * that unmount, so the terminal is put back however the TUI ends (Ink shows the cursor in the same
 * unmount).
 */
function TerminalModes({ stdout, restore, children }: { stdout: NodeJS.WriteStream; restore: () => void; children: ReactNode }) {
  useLayoutEffect(() => {
    stdout.write(MOUSE_ON);
    return restore;
  }, [stdout, restore]);
  return <>{children}</>;
}

/** Whether the terminal behind `stream` is still there: a hung-up terminal fails every ioctl, isatty's too. */
function terminalPresent(stream: NodeJS.WriteStream): boolean {
  const fd = (stream as { fd?: unknown }).fd;
  return typeof fd === 'number' && isatty(fd);
}

/**
 * The terminal hung up (its window closed, its ssh connection dropped): the kernel sends the session's
 * leader SIGHUP, which reaches this process only if the leader passes it on (a login shell does), and
 * the keyboard's reads end or fail with EIO, as writes do, in any order. On the first of these the
 * process ends by SIGHUP, as a hung-up program does: its parent sees the signal (a shell reports 129),
 * and reads, the pipeline and the worker threads stop with it. It must not exit the way `q` does:
 * Node's exit puts the terminal modes of its stdio back (ResetStdio in node.cc), asserts that this
 * worked, and on a hung-up terminal (tcsetattr fails with EIO) aborts; the abort's backtrace faults
 * in turn, the SIGSEGV in libgcc_s this replaces. Ink's own ways out lead there: its 'beforeExit'
 * unmount, when the ended keyboard was the last thing keeping the event loop alive before the
 * signal was read, writes the last frame, fails with EIO, and the unhandled 'error' exits with 1.
 *
 * A SIGHUP sent with kill leaves the terminal in place: it is put back first, as on `q`. Then
 * `finish` (RunTuiOptions.onHangUp) runs; until it is done the listeners stay, so a second SIGHUP
 * does not cut it short.
 */
async function endOnHangUp(stdout: NodeJS.WriteStream, putBack: () => void, finish: (() => Promise<void> | void) | undefined): Promise<void> {
  if (terminalPresent(stdout)) putBack();
  try {
    await finish?.();
  } finally {
    // Every SIGHUP listener goes, signal-exit's for Ink too (it would run Ink's exit handlers, which
    // write): with none left the signal's default action ends the process before kill returns.
    process.removeAllListeners('SIGHUP');
    process.kill(process.pid, 'SIGHUP');
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** As `analyze` answers for the same input: 1 when it could not be read at all, else the model's status. */
function failureExit(model: CaptureModel | null, error: string | null): number {
  if (error !== null || model === null) return 1;
  return modelExitStatus(model);
}

/** Not a terminal: load everything, print one frame, report problems on stderr. */
async function runHeadless(opts: RunTuiOptions, stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): Promise<number> {
  let model: CaptureModel;
  try {
    model = await opts.load(() => {});
  } catch (err) {
    stderr.write(`execscope: cannot analyze ${safeInline(opts.path)}: ${safeInline(messageOf(err))}\n`);
    return 1;
  }
  const load: LoadState = { model, bytesRead: model.capture.bytesRead, totalBytes: model.capture.bytesRead, revision: 1, error: null };
  stdout.write(renderToString(<App path={opts.path} note={opts.note} load={load} />, { columns: stdout.columns || 80 }) + '\n');
  if (model.fatal) stderr.write(`execscope: ${safeInline(opts.path)}: ${safeInline(model.fatal.message)} (${safeInline(model.fatal.where)})\n`);
  return failureExit(model, null);
}

export async function runTui(opts: RunTuiOptions): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  applyColorEnv();
  if (!stdin.isTTY || !stdout.isTTY) return runHeadless(opts, stdout, stderr);

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stdout.write(MOUSE_OFF);
    stdout.write(LEAVE_ALT_SCREEN);
  };
  process.once('exit', restore);

  let instance: ReturnType<typeof render> | null = null;
  let state: LoadState = { model: null, bytesRead: 0, totalBytes: null, revision: 0, error: null };
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let hungUp = false;
  const hangUp = () => {
    // One hang-up comes as several reports (SIGHUP, the keyboard's end, failed writes).
    if (hungUp) return;
    hungUp = true;
    // No frame is drawn while onHangUp runs: there is no terminal to draw on.
    closed = true;
    if (timer) clearTimeout(timer);
    void endOnHangUp(
      stdout,
      () => {
        instance?.unmount();
        restore();
      },
      opts.onHangUp,
    );
  };
  const terminalError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO') throw err;
    hangUp();
  };
  process.on('SIGHUP', hangUp);
  // In raw mode no key ends the keyboard's input: only a hang-up does.
  stdin.on('end', hangUp);
  stdin.on('error', terminalError);
  stdout.on('error', terminalError);
  stderr.on('error', terminalError);
  stdout.write(ENTER_ALT_SCREEN);

  let internalError: string | null = null;
  const element = () => (
    <TerminalModes stdout={stdout} restore={restore}>
      <ErrorBoundary onError={(message) => (internalError = message)}>
        <App path={opts.path} note={opts.note} live={opts.live} load={state} inspector={opts.inspector} contentReader={opts.contentReader} saver={opts.saver} />
      </ErrorBoundary>
    </TerminalModes>
  );
  try {
    const drawn = render(element(), { stdin, stdout, stderr, exitOnCtrlC: true, patchConsole: true });
    instance = drawn;
    const redraw = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      drawn.rerender(element());
    };
    const update = (next: Partial<LoadState>, now: boolean) => {
      if (closed) return;
      state = { ...state, ...next, revision: state.revision + 1 };
      if (now) redraw();
      else timer ??= setTimeout(redraw, opts.throttleMs ?? 100);
    };
    // The first model is drawn at once, and the first one with sessions (a file's first is often its
    // header's alone): sessions listed while the rest loads. Later ones are throttled.
    let sessionsDrawn = false;
    opts
      .load((model, bytesRead, totalBytes) => {
        const firstSessions = !sessionsDrawn && model.sessions.length > 0;
        if (firstSessions) sessionsDrawn = true;
        update({ model, bytesRead, totalBytes }, state.model === null || firstSessions);
      })
      .then(
        (model) => update({ model, bytesRead: Math.max(state.bytesRead, model.capture.bytesRead) }, true),
        (err: unknown) => update({ error: messageOf(err) }, true),
      );
    await drawn.waitUntilExit();
    if (internalError !== null) {
      restore();
      stderr.write(`execscope: internal error: ${safeInline(internalError)}\n`);
      return 1;
    }
    return failureExit(state.model, state.error);
  } catch (err) {
    restore();
    stderr.write(`execscope: ${safeInline(messageOf(err))}\n`);
    return 1;
  } finally {
    closed = true;
    if (timer) clearTimeout(timer);
    restore();
    process.removeListener('exit', restore);
    process.removeListener('SIGHUP', hangUp);
    stdin.removeListener('end', hangUp);
    stdin.removeListener('error', terminalError);
    stdout.removeListener('error', terminalError);
    stderr.removeListener('error', terminalError);
  }
}
