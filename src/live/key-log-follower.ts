/**
 * Key-log files followed while a live capture is read: lines appended after the start (by
 * SSLKEYLOGFILE, a lab, the kubectl tap's --keylog) decrypt the connections that arrive after them.
 * What was appended is read when the TLS decoder misses a secret (so a server's secrets, written
 * before its ServerHello leaves, are there in time) and every quarter second. IO code.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TlsKeyLog } from '../tls/key-log.js';

const POLL_MS = 250;

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
  keys.onMiss = readNew;
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
