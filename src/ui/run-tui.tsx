/**
 * Runs the TUI on a terminal: the IO edge of the UI. Starts loading, redraws the growing model at
 * most every throttleMs, and puts the terminal back (alternate screen, cursor) however it ends,
 * unless the terminal hangs up: then the process ends by SIGHUP (terminal/hang-up.ts). Ink's own ways
 * out would crash there: its 'beforeExit' unmount, when the ended keyboard was the last thing keeping
 * the event loop alive before the signal was read, writes the last frame, fails with EIO, and the
 * unhandled 'error' exits with 1, into Node's failing ResetStdio.
 * Without a terminal on both ends it loads, prints one frame and answers with an exit code.
 */
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
import { endOnHangUp } from '../terminal/hang-up.js';

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
  const unwatch = endOnHangUp({
    streams: [stdout, stdin, stderr],
    keyboard: stdin,
    leave: (present) => {
      // No frame is drawn while onHangUp runs: there is no terminal to draw on.
      closed = true;
      if (timer) clearTimeout(timer);
      if (present) {
        instance?.unmount();
        restore();
      }
    },
    stop: opts.onHangUp,
  });
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
    unwatch();
  }
}
