/** What the Content pane can show for a session: each payload stream as one continuous text. */
import type { ExecSession, StreamRecord } from '../model/session.js';
import { formatBytes } from '../report/format.js';
import { renderTerminalLines, safeInline, type TerminalLine } from '../report/terminal-text.js';
import { keystrokeLines } from './keystrokes.js';

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

/** The error stream's Status object, indented one field a line; null when the bytes are not JSON. */
function prettyStatus(bytes: Uint8Array | readonly Uint8Array[]): Uint8Array | null {
  const decoder = new TextDecoder();
  const text = bytes instanceof Uint8Array ? decoder.decode(bytes) : bytes.map((b) => decoder.decode(b, { stream: true })).join('') + decoder.decode();
  try {
    return new TextEncoder().encode(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    return null;
  }
}

/**
 * Lines of `r` (its bytes `bytes`) for a pane `width` cells wide, long lines wrapped: a TTY
 * session's stdin as the keys typed, the error stream's Status JSON indented, anything else as a
 * terminal would have shown it.
 */
export function contentLines(s: ExecSession, r: StreamRecord, bytes: Uint8Array | readonly Uint8Array[], width: number): TerminalLine[] {
  const wrapAt = Math.max(1, width);
  if (s.tty && r.name === 'stdin') return keystrokeLines(bytes, wrapAt);
  const status = r.name === 'error' ? prettyStatus(bytes) : null;
  return renderTerminalLines(status ?? bytes, { wrapAt });
}
