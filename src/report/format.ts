/** Small formatting helpers for the reports' and the TUI's one-line fields (terminal cell widths: terminal-cells.ts). */
import { formatDuration } from '../core/time.js';
import { safeInline } from './terminal-text.js';

/** "1 session", "2 sessions" */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "0 B", "812 B", "5.9 KiB", "1.00 GiB" */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** A time relative to some origin: "+213.4 ms", "-2.00 s". */
export function formatOffset(ns: number): string {
  return `${ns < 0 ? '-' : '+'}${formatDuration(Math.abs(ns))}`;
}

/** An argv as a shell would need it typed, every argument neutralised: sh -c "echo hi". */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map((a) => (a !== '' && /^[\w@%+=:,./-]+$/.test(a) ? a : `"${safeInline(a).replace(/(["\\$`])/g, '\\$1')}"`)).join(' ');
}

/** Words into lines of at most `width` characters (a longer word gets a line of its own, cut by the terminal). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
