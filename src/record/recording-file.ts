/**
 * Opening the files a recording writes: the recording itself and a key log beside it. IO code.
 *
 * A FIFO (`mkfifo`, a reader such as `execscope live -r FIFO` started later) is the one output whose
 * open waits: opened for writing the ordinary way, it blocks the thread until a reader comes, and a
 * Ctrl-C, SIGTERM or hang-up meanwhile is not even heard. So a FIFO is first looked for a reader
 * without waiting (O_NONBLOCK, which fails with ENXIO while there is none), every POLL_MS, with the
 * event loop free between looks; `abort` ends that wait (and only that one). The recording and the
 * key log are both opened so.
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync } from 'node:fs';

/** How often a FIFO is looked at for a reader: a reader that comes waits at most this long. */
const POLL_MS = 50;

/** Opens `path` to write a recording (truncated, mode 0600: recordings hold what went over the wire). */
export function openRecordingFileSync(path: string): number {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600); // an existing file keeps its mode through open(): set it
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** What a start that opens its outputs may wait for: a FIFO's reader. */
export interface ReaderWait {
  /** Abandons the wait: the open rejects with its reason. */
  abort?: AbortSignal;
  /** Told once when the open of `path` starts to wait for a reader. */
  onWaiting?(path: string): void;
}

/**
 * openRecordingFileSync (or, with `append`, an append to `path`, created 0600), except that a FIFO
 * without a reader is waited on with the thread free.
 */
export async function openOutputFile(path: string, opts: ReaderWait & { append?: boolean } = {}): Promise<number> {
  const open = () => (opts.append ? openSync(path, 'a', 0o600) : openRecordingFileSync(path));
  let waiting = false;
  for (;;) {
    let probe: number;
    try {
      // Without O_CREAT: a path that is not there yet is a plain file to make.
      probe = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') break;
      // Only this wait is abandoned: a start that would not wait goes on (its stop then undoes it whole).
      opts.abort?.throwIfAborted();
      if (!waiting) opts.onWaiting?.(path);
      waiting = true;
      await pause(POLL_MS, opts.abort);
      continue;
    }
    let isFifo: boolean;
    try {
      isFifo = fstatSync(probe).isFIFO();
    } catch (err) {
      closeSync(probe);
      throw err;
    }
    if (!isFifo) {
      closeSync(probe);
      break;
    }
    // A reader is there, and the probe keeps the FIFO open for writing: the ordinary open, whose
    // writes wait for the reader instead of failing with EAGAIN, returns at once.
    try {
      return open();
    } finally {
      closeSync(probe);
    }
  }
  return open();
}

function pause(ms: number, abort: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abort!.reason);
    };
    const timer = setTimeout(() => {
      abort?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    abort?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A key log written through one descriptor held for the whole run. Opened and closed for each line, a
 * FIFO's reader saw the end of its input after the first line (or after the start's open, before any)
 * and went away; the next line's open then waited for a reader that never came, holding the thread:
 * the tap or the lab stopped relaying at the next TLS handshake. A write that fails (the reader gone:
 * EPIPE, a full disk) ends the key log, said once through `onWriteError`; the connections go on.
 */
export class KeyLogFile {
  private constructor(
    private fd: number | null,
    private readonly onWriteError: (err: Error) => void,
  ) {}

  /**
   * `append`: the lines go after what the file holds (created 0600); else the file is truncated and
   * made 0600 as a recording is. A FIFO's reader is waited for as a recording's (openOutputFile).
   */
  static async open(path: string, opts: ReaderWait & { append: boolean }, onWriteError: (err: Error) => void = () => undefined): Promise<KeyLogFile> {
    return new KeyLogFile(await openOutputFile(path, opts), onWriteError);
  }

  write(line: string): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, line);
    } catch (err) {
      this.close();
      this.onWriteError(err as Error);
    }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }
}
