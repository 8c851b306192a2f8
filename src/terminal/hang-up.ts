/**
 * How a command ends when its terminal hangs up (its window closed, its ssh connection dropped): it
 * does what Ctrl-C would have it do (its stop), then ends by SIGHUP, as a hung-up program does. The
 * TUI (ui/run-tui.tsx), `tap`, `live --json-lines`, `lab` (and its scenarios), `analyze`, `diagnose`,
 * `keys`, `extract` and `export` use it; IO code.
 *
 * The kernel sends the session's leader SIGHUP, which reaches the command only if the leader passes
 * it on (a login shell does); the terminal's reads end or fail with EIO, and so do its writes, in any
 * order. Each of these is the hang-up, and only the first acts. The command must not exit normally
 * afterwards: Node's exit puts the terminal modes of its stdio back (ResetStdio in node.cc), asserts
 * that this worked, and on a hung-up terminal (tcsetattr fails with EIO) aborts, and the abort's
 * backtrace faults in turn (SIGSEGV in libgcc_s). Ending by SIGHUP runs no exit handler: the parent
 * sees the signal (a shell reports 129), and reads, pipelines and worker threads stop with it.
 *
 * A command that neither reads nor writes its terminal and gets no SIGHUP (the leader does not pass
 * it on) would learn of the hang-up only at its exit, and crash there: the watch looks at its
 * terminals every TERMINAL_CHECK_MS, and endByHangUpAtExit turns any normal exit after a hang-up
 * into the SIGHUP.
 */
import { fstatSync } from 'node:fs';
import { nodeTty } from '../core/node-modules.js';

/** How often a watch asks whether its terminals are still there: one ioctl per terminal, and the hang-up is noticed within it. */
const TERMINAL_CHECK_MS = 250;

export interface HangUpWatch {
  /** EIO on any of these (the terminal's writes, or reads) is the hang-up; the first is the one `leave` puts back. */
  streams: (NodeJS.ReadStream | NodeJS.WriteStream)[];
  /** A keyboard read in raw mode, where no key ends the input: its end is the hang-up. */
  keyboard?: NodeJS.ReadStream;
  /**
   * Run at once, before `stop`: `present` says whether the terminal is still there (a SIGHUP sent with
   * kill leaves it in place, to be put back as on `q`; a hung-up terminal fails every ioctl).
   */
  leave?: (present: boolean) => void;
  /** What Ctrl-C would have done (close connections, complete the recording, stop children); there is no terminal to write to. */
  stop?: () => Promise<void> | void;
}

/**
 * Whether `fd` may be a terminal, told without node:tty (it loads net and its streams, ~15 M
 * instructions): a character device other than the memory devices of major 1 (/dev/null, /dev/zero,
 * /dev/urandom), where reports and benchmarks often go.
 */
export function mayBeTerminal(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isCharacterDevice() && ((stat.rdev >> 8) & 0xfff) !== 1;
  } catch {
    return false;
  }
}

function fdOf(stream: NodeJS.ReadStream | NodeJS.WriteStream | undefined): number | undefined {
  const fd = (stream as { fd?: unknown } | undefined)?.fd;
  return typeof fd === 'number' ? fd : undefined;
}

/** Whether the terminal behind `stream` is still there: a hung-up terminal fails every ioctl, isatty's too. */
function terminalPresent(stream: NodeJS.ReadStream | NodeJS.WriteStream | undefined): boolean {
  const fd = fdOf(stream);
  return fd !== undefined && nodeTty().isatty(fd);
}

/** Ends the process by SIGHUP at once: with no listener left, the signal's default action ends it before kill returns. */
function raiseHangUp(): void {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
}

/**
 * For the whole process, called once at start: an exit after the terminal of stdin, stdout or stderr
 * hung up (a command that finished its work without writing to it, say `extract -o FILE`) ends by
 * SIGHUP instead, before Node's exit tries to put that terminal back and aborts. Only a run with a
 * character device on its stdio asks node:tty: at start, which of them are terminals (a printer or
 * /dev/net/tun is not, and never hangs up), and at exit whether those still are.
 */
export function endByHangUpAtExit(): void {
  const devices = [0, 1, 2].filter(mayBeTerminal);
  if (devices.length === 0) return;
  const terminals = devices.filter((fd) => nodeTty().isatty(fd));
  if (terminals.length === 0) return;
  process.on('exit', () => {
    if (!terminals.every((fd) => nodeTty().isatty(fd))) raiseHangUp();
  });
}

/**
 * Watches for the hang-up until the returned function is called (after a hang-up it keeps watching:
 * the process is about to end, and an unheard EIO would end it by an exception). Until `stop` is done the SIGHUP
 * listener stays, so a second SIGHUP does not cut it short; then every SIGHUP listener goes (signal-exit's
 * for Ink too: it would run Ink's exit handlers, which write) and SIGHUP is raised: with none left its
 * default action ends the process before kill returns.
 */
export function endOnHangUp(watch: HangUpWatch): () => void {
  let hungUp = false;
  const hangUp = () => {
    if (hungUp) return;
    hungUp = true;
    clearInterval(checking);
    void (async () => {
      try {
        watch.leave?.(terminalPresent(watch.streams[0]));
        await watch.stop?.();
      } finally {
        raiseHangUp();
      }
    })();
  };
  // Unref'd: the checks never keep the process alive. None without a terminal (a report to a file).
  const terminals = [...watch.streams, ...(watch.keyboard ? [watch.keyboard] : [])].filter((stream) => mayBeTerminal(fdOf(stream) ?? -1) && terminalPresent(stream));
  const check = () => {
    if (terminals.some((stream) => !terminalPresent(stream))) hangUp();
  };
  const checking = terminals.length ? setInterval(check, TERMINAL_CHECK_MS).unref() : undefined;
  const listeners = watch.streams.map((stream) => {
    const failed = (err: NodeJS.ErrnoException) => {
      // After the hang-up, later writes fail too (on a stream destroyed by the first failure): nothing to report them to.
      if (hungUp) return;
      if (err.code === 'EIO') return hangUp();
      // Any other error (EPIPE of `analyze | head`) goes where it went without this listener: to the
      // stream's other listeners (a writer waiting for 'drain' reports it in one line), else thrown.
      if (stream.listenerCount('error') === 1) throw err;
    };
    stream.on('error', failed);
    return { stream, failed };
  });
  process.on('SIGHUP', hangUp);
  watch.keyboard?.on('end', hangUp);
  return () => {
    if (hungUp) return;
    clearInterval(checking);
    process.removeListener('SIGHUP', hangUp);
    watch.keyboard?.removeListener('end', hangUp);
    for (const { stream, failed } of listeners) stream.removeListener('error', failed);
  };
}

/**
 * What a command returns once it finds that the hang-up came while it started: the watch's stop
 * stops what was started and ends the process by SIGHUP; the command has nothing left to do.
 */
export function endedByHangUp(): Promise<never> {
  return new Promise(() => undefined);
}
