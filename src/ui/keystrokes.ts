/**
 * A TTY session's stdin as the keys that were typed: what a terminal would have echoed is not in
 * stdin, so drawing it like a terminal (carriage returns overprinting) invents lines nobody saw.
 * Instead each key shows as itself: text as typed, Enter as ⏎ (ending the line), other control
 * keys named (⌃C, ⌫, ⇥, ↑, ⎋…). Everything else is neutralised as in any captured text.
 */
import cellWidth from '../report/cell-width.js';
import { safeInline, type TerminalLine, type TextSpan } from '../report/terminal-text.js';

/** Cursor and editing keys as terminals send them (CSI and SS3 forms). */
const SEQUENCES: Record<string, string> = {
  '\x1b[A': '↑',
  '\x1b[B': '↓',
  '\x1b[C': '→',
  '\x1b[D': '←',
  '\x1bOA': '↑',
  '\x1bOB': '↓',
  '\x1bOC': '→',
  '\x1bOD': '←',
  '\x1b[H': '⇱',
  '\x1b[F': '⇲',
  '\x1b[1~': '⇱',
  '\x1b[4~': '⇲',
  '\x1b[2~': '⎀',
  '\x1b[3~': '⌦',
  '\x1b[5~': '⇞',
  '\x1b[6~': '⇟',
  '\x1b[Z': '⇤',
};

const NAMED: Record<string, string> = { '\t': '⇥', '\x7f': '⌫', '\b': '⌫', '\x1b': '⎋', '\x00': '⌃@' };

/** One key at `text[i]`: its label, whether it ends the line, and how many characters it took. */
function keyAt(text: string, i: number): { label: string; kind: TextSpan['kind']; enter: boolean; length: number } {
  const c = text[i];
  if (c === '\r' || c === '\n') {
    // A terminal in raw mode sends CR for Enter; CR LF (a paste) is one Enter too.
    return { label: '⏎', kind: 'control', enter: true, length: c === '\r' && text[i + 1] === '\n' ? 2 : 1 };
  }
  if (c === '\x1b') {
    for (const [seq, label] of Object.entries(SEQUENCES)) if (text.startsWith(seq, i)) return { label, kind: 'control', enter: false, length: seq.length };
    // Another escape sequence shown whole and neutralised, so its bytes stay readable; Esc before a
    // printable key is Alt with that key (⎋x); Esc before anything else is the Esc key alone.
    const m = /^\x1b(\[[0-9;?]*[ -/]*[@-~]|O[ -~]|[ -~])?/.exec(text.slice(i, i + 32))!;
    const label = m[0].length === 1 ? '⎋' : m[0].length === 2 && m[0][1] !== '[' ? `⎋${m[0][1]}` : safeInline(m[0]);
    return { label, kind: 'control', enter: false, length: m[0].length };
  }
  if (NAMED[c]) return { label: NAMED[c], kind: 'control', enter: false, length: 1 };
  const code = c.charCodeAt(0);
  if (code < 0x20) return { label: `⌃${String.fromCharCode(code + 0x40)}`, kind: 'control', enter: false, length: 1 };
  let end = i + 1;
  while (end < text.length && text.charCodeAt(end) >= 0x20 && text[end] !== '\x7f') end++;
  return { label: safeInline(text.slice(i, end)), kind: 'text', enter: false, length: end - i };
}

/** Typed keys as lines (one per Enter), each at most `width` cells. */
export function keystrokeLines(bytes: Uint8Array | readonly Uint8Array[], width: number): TerminalLine[] {
  const decoder = new TextDecoder();
  const text = bytes instanceof Uint8Array ? decoder.decode(bytes) : bytes.map((b) => decoder.decode(b, { stream: true })).join('') + decoder.decode();
  const lines: TerminalLine[] = [];
  let line: TerminalLine = [];
  let used = 0;
  const put = (label: string, kind: TextSpan['kind']) => {
    for (const ch of kind === 'text' ? Array.from(label) : [label]) {
      const w = cellWidth(ch);
      if (used + w > width && used > 0) {
        line.continues = true;
        lines.push(line);
        line = [];
        used = 0;
      }
      const last = line[line.length - 1];
      if (last && last.kind === kind && kind === 'text') last.text += ch;
      else line.push({ text: ch, kind });
      used += w;
    }
  };
  for (let i = 0; i < text.length; ) {
    const key = keyAt(text, i);
    put(key.label, key.kind);
    if (key.enter) {
      lines.push(line);
      line = [];
      used = 0;
    }
    i += key.length;
  }
  if (line.length) lines.push(line);
  return lines;
}
