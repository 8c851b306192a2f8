/**
 * The writing end of a FIFO, held by a test that feeds a command's stdin piece by piece. It is opened
 * read-write, so opening never waits for a reader and the reader sees no end until `end`, and written
 * through a libuv pipe, never by a synchronous write: Jest runs every file in one process, and a
 * writeSync of more than the pipe holds (64 KiB) blocks that process for good once the reader has
 * gone (session 14's CI hung so, in command-hangup's `analyze -` test, when analyze saw the hang-up
 * before the test wrote the rest of its capture).
 */
import { openSync } from 'node:fs';
import net from 'node:net';

export interface HeldFifo {
  write(bytes: Uint8Array): void;
  /** Writes `bytes`, then closes the writing end once they are in the pipe: the reader's end of input. */
  end(bytes: Uint8Array): void;
  /** Closes it now, whatever is unwritten (a test's `finally`). */
  close(): void;
}

export function holdFifo(path: string): HeldFifo {
  const pipe = new net.Socket({ fd: openSync(path, 'r+'), readable: false, writable: true });
  pipe.on('error', () => undefined); // a reader gone: what is unwritten stays so
  return {
    write: (bytes) => void pipe.write(bytes),
    end: (bytes) => void pipe.end(bytes),
    close: () => void pipe.destroy(),
  };
}
