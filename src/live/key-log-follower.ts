/**
 * Key-log files followed while a live capture is read: lines appended after the start (by
 * SSLKEYLOGFILE, a lab, the kubectl tap's --keylog) decrypt the connections that arrive after them.
 * What was appended is read every quarter second and whenever the TLS decoder misses a secret.
 *
 * A secret can be logged just after the packet that needs it was captured (a server logs a TLS 1.3
 * client's application secret once it has read the client's Finished; a client logs its handshake
 * secrets once it has read the ServerHello), and a missed secret is lost for good. So a miss waits,
 * polling the files, up to MISS_WAIT_MS for the secret to appear — usually a millisecond or two —
 * and only then lets the decoder go on. The decoder runs on this thread, so the wait holds the
 * pipeline (never the capture program, whose output queues in the pipe). A client random whose
 * secret did not come in time is not waited for again: connections whose keys are not logged at
 * all cost one wait each. IO code.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TlsKeyLog } from '../tls/key-log.js';

const POLL_MS = 250;
/** Longest a missed secret is waited for, once per client random. */
export const MISS_WAIT_MS = 100;
const MISS_POLL_MS = 1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export interface FollowedKeyLogs {
  keys: TlsKeyLog;
  /** Problems found in the files (malformed lines), as text. */
  problems: string[];
  stop(): void;
}

export function followKeyLogs(paths: readonly string[]): FollowedKeyLogs {
  const keys = new TlsKeyLog();
  const problems: string[] = [];
  const files = paths.map((path) => ({ path, fd: openSync(path, 'r'), read: 0, partial: '' }));
  const readNew = () => {
    for (const file of files) {
      const size = fstatSync(file.fd).size;
      if (size <= file.read) continue;
      const buffer = Buffer.alloc(size - file.read);
      const n = readSync(file.fd, buffer, 0, buffer.length, file.read);
      file.read += n;
      const text = file.partial + buffer.subarray(0, n).toString('utf8');
      // A line still being written waits for its newline.
      const lastNewline = text.lastIndexOf('\n');
      file.partial = text.slice(lastNewline + 1);
      if (lastNewline < 0) continue;
      for (const p of keys.add(text.slice(0, lastNewline + 1), file.path).problems) problems.push(`${p.where}: ${p.message}`);
    }
  };
  readNew();
  const gaveUp = new Set<string>();
  // Without files there is nothing to wait for.
  if (files.length) keys.onMiss = (label, random) => {
    readNew();
    if (gaveUp.has(random)) return;
    const deadline = performance.now() + MISS_WAIT_MS;
    while (keys.lookup(label, random) === undefined) {
      if (performance.now() >= deadline) {
        gaveUp.add(random);
        return;
      }
      Atomics.wait(sleeper, 0, 0, MISS_POLL_MS); // a synchronous sleep: the decoder is waiting inside this call
      readNew();
    }
  };
  const timer = setInterval(readNew, POLL_MS);
  timer.unref();
  return {
    keys,
    problems,
    stop: () => {
      clearInterval(timer);
      keys.onMiss = null;
      for (const file of files) closeSync(file.fd);
    },
  };
}
