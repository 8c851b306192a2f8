/**
 * Runs a command on a fresh pseudo-terminal without native node modules: a small python3 program
 * (standard library only) allocates the pty, makes it the command's controlling terminal, relays
 * its fd 0 → pty and pty → its fd 1, and applies "WIDTH HEIGHT\n" lines read on fd 3 as window sizes
 * (TIOCSWINSZ, which makes the kernel send SIGWINCH to the terminal's foreground process group).
 * It exits with the command's status once the pty is closed by every process holding it — so a
 * background job that keeps the terminal open keeps the session open, as in a real container.
 * Used by the lab's runtime for tty execs and by the lab's client runner to put kubectl on a terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const HELPER = String.raw`
import errno, fcntl, os, pty, select, signal, struct, sys, termios

def set_size(fd, cols, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

def main():
    args = sys.argv[1:]
    cols, rows = 80, 24
    if args[:1] == ['--size']:
        cols, rows, args = int(args[1]), int(args[2]), args[3:]
    master, slave = pty.openpty()
    set_size(slave, cols, rows)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.closerange(3, 256)
        try:
            os.execvp(args[0], args)
        except OSError as e:
            os.write(2, ('%s: %s\r\n' % (args[0], e.strerror)).encode())
            os._exit(127)
    os.close(slave)

    def stop(signum, frame):
        # Everything in the terminal's session, background jobs in their own groups included.
        victims = [pid]
        try:
            for name in os.listdir('/proc'):
                if name.isdigit() and int(name) != pid:
                    try:
                        if os.getsid(int(name)) == pid:
                            victims.append(int(name))
                    except OSError:
                        pass
        except OSError:
            pass
        for p in victims:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        os._exit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, stop)

    fcntl.fcntl(master, fcntl.F_SETFL, fcntl.fcntl(master, fcntl.F_GETFL) | os.O_NONBLOCK)
    try:
        os.fstat(3)
        control = 3
    except OSError:
        control = None
    stdin_open = True
    pending = b''
    control_buf = b''
    while True:
        readers = [master]
        if stdin_open and not pending:
            readers.append(0)
        if control is not None:
            readers.append(control)
        writers = [master] if pending else []
        r, w, _ = select.select(readers, writers, [])
        if master in w:
            try:
                pending = pending[os.write(master, pending):]
            except BlockingIOError:
                pass
        if 0 in r:
            data = os.read(0, 65536)
            if data:
                pending += data
            else:
                stdin_open = False
        if control in r:
            data = os.read(control, 4096)
            if not data:
                control = None
            control_buf += data
            while b'\n' in control_buf:
                line, control_buf = control_buf.split(b'\n', 1)
                parts = line.split()
                if len(parts) == 2:
                    set_size(master, int(parts[0]), int(parts[1]))
        if master in r:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b''
            if not data:
                break
            view = memoryview(data)
            while view:
                view = view[os.write(1, view):]
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))

main()
`;

export interface PtyOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Initial window size; default 80×24. */
  size?: { width: number; height: number };
}

/**
 * Spawns `argv` on a new pty. stdio: [0] keystrokes in, [1] terminal output, [2] the helper's own
 * errors, [3] window-size control (use resizePty). The child is a process-group leader (kill its
 * group to stop everything it started).
 */
export function spawnInPty(argv: readonly string[], opts: PtyOptions = {}): ChildProcess {
  const size = opts.size ? ['--size', String(opts.size.width), String(opts.size.height)] : [];
  return spawn('python3', ['-c', HELPER, ...size, ...argv], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
}

export function resizePty(child: ChildProcess, width: number, height: number): void {
  const control = child.stdio[3];
  if (control && 'write' in control && !control.destroyed) control.write(`${width} ${height}\n`);
}
