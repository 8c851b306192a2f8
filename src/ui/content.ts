/** What the Content pane can show for a session: each payload stream as one continuous text. */
import type { ExecSession, StreamRecord } from '../model/session.js';
import { formatBytes } from '../report/format.js';
import { safeInline } from '../report/terminal-text.js';

const CONTENT_ORDER = ['stdout', 'stderr', 'stdin'];

function rank(name: string): number {
  const i = CONTENT_ORDER.indexOf(name);
  return i < 0 ? CONTENT_ORDER.length + (name === 'error' ? 1 : 0) : i;
}

/** stdout, stderr, stdin, port-forward data, then the error stream; resize is not content. */
export function contentStreams(s: ExecSession): StreamRecord[] {
  return s.streams.filter((r) => r.name !== 'resize').sort((a, b) => rank(a.name) - rank(b.name) || a.id - b.id);
}

/**
 * "stdout · 21 B", with how much is shown when the stream is longer than its kept head (`loaded`:
 * bytes read back from the capture, when they were).
 */
export function contentLabel(r: StreamRecord, loaded: number | null = null): string {
  const shown = loaded ?? r.headBytes;
  const kept = r.bytes > shown ? ` · first ${formatBytes(shown)} ${loaded === null ? 'kept' : 'shown'}` : '';
  return `${safeInline(r.name)} · ${formatBytes(r.bytes)}${kept}`;
}

/** The kept head as one buffer (the hex view needs contiguous bytes). */
export function headBuffer(r: StreamRecord): Uint8Array {
  if (r.head.length === 1) return r.head[0];
  const out = new Uint8Array(r.headBytes);
  let at = 0;
  for (const h of r.head) {
    out.set(h.subarray(0, out.length - at), at);
    at += h.length;
    if (at >= out.length) break;
  }
  return out;
}
