import { contentLines, findInLines } from '../../src/ui/content.js';
import cellWidth from '../../src/report/cell-width.js';
import { renderTerminalLines } from '../../src/report/terminal-text.js';
import { keystrokeLines } from '../../src/ui/keystrokes.js';
import { data, origin, session, stream } from '../helpers/model-builders.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (lines: ReturnType<typeof keystrokeLines>) => lines.map((l) => l.map((s) => s.text).join(''));

describe('TTY stdin as keystrokes', () => {
  it('shows what was typed, Enter as ⏎ ending the line, never overprinted', () => {
    expect(text(keystrokeLines(bytes('echo typed-in-tty\rstty size\rexit\r'), 80))).toEqual(['echo typed-in-tty⏎', 'stty size⏎', 'exit⏎']);
  });

  it('names control and cursor keys and marks them', () => {
    const lines = keystrokeLines(bytes('ls\t\x7f\x03\x1b[A\x1bOB\x1b[3~\x1b\x04\r\n'), 80);
    expect(text(lines)).toEqual(['ls⇥⌫⌃C↑↓⌦⎋⌃D⏎']);
    expect(lines[0][0]).toEqual({ text: 'ls', kind: 'text' });
    expect(lines[0].slice(1).every((s) => s.kind === 'control')).toBe(true);
  });

  it('neutralises other escape sequences and wraps at the width in cells', () => {
    expect(text(keystrokeLines(bytes('a\x1b[2Jb\x1bx'), 80))).toEqual(['a␛[2Jb⎋x']);
    expect(text(keystrokeLines(bytes('日本語日本語'), 5))).toEqual(['日本', '語日', '本語']);
    expect(text(keystrokeLines([bytes('ab\xe6'.replace('\xe6', '')), new Uint8Array([0xe6, 0x97]), new Uint8Array([0xa5])], 80))).toEqual(['ab日']);
  });
});

describe('contentLines', () => {
  it('a TTY session’s stdin as keys, a non-TTY stdin like a terminal, the Status indented, long lines wrapped', () => {
    const tty = session({ tty: true });
    const stdin = stream(tty, 'stdin', 0);
    data(stdin, 'c2s', 'echo typed-in-tty\rstty size\rexit\r', origin(0, 10, 1, 0));
    expect(text(contentLines(tty, stdin, stdin.head, 80))).toEqual(['echo typed-in-tty⏎', 'stty size⏎', 'exit⏎']);
    // Without a TTY the same bytes are what a program read: drawn like a terminal.
    expect(text(contentLines(session(), stdin, stdin.head, 80))).toEqual(['exit sized-in-tty']);

    const s = session();
    const error = stream(s, 'error', 3);
    data(error, 's2c', '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code"}', origin(0, 10, 1, 0));
    expect(text(contentLines(s, error, error.head, 40))).toEqual([
      '{',
      '  "metadata": {},',
      '  "status": "Failure",',
      '  "message": "command terminated with no',
      'n-zero exit code"',
      '}',
    ]);
    const out = stream(s, 'stdout', 1);
    data(out, 's2c', 'x'.repeat(25), origin(0, 10, 1, 0));
    expect(text(contentLines(s, out, out.head, 10))).toEqual(['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxx']);
  });
});

describe('findInLines', () => {
  it('finds a match a wrap splits over rows, as the one line it is, and says where it starts and ends', () => {
    // "needle" starts at column 7 of a line wrapped at 10 columns: "…needle…" spans rows 0 and 1.
    const lines = renderTerminalLines(bytes('haystacneedlestack and another NEEDLE here\nneedle'), { wrapAt: 10 });
    expect(text(lines)).toEqual(['haystacnee', 'dlestack a', 'nd another', ' NEEDLE he', 're', 'needle']);
    expect(findInLines(lines, 'needle')).toEqual([
      { row: 0, start: 7, endRow: 1, end: 3 },
      { row: 3, start: 1, endRow: 3, end: 7 },
      { row: 5, start: 0, endRow: 5, end: 6 },
    ]);
    // Over three rows, and ending exactly at a row's end.
    expect(findInLines(lines, 'nee' + 'dlestack and')).toEqual([{ row: 0, start: 7, endRow: 2, end: 2 }]);
    expect(findInLines(lines, 'stack a')).toEqual([{ row: 1, start: 3, endRow: 1, end: 10 }]);
  });

  it('never joins rows a line break ended, even a row that fills the width', () => {
    const lines = renderTerminalLines(bytes('0123456789\nabc'), { wrapAt: 10 });
    expect(text(lines)).toEqual(['0123456789', 'abc']);
    expect(findInLines(lines, '9a')).toEqual([]);
    // A TTY's typed keys wrap the same way.
    const keys = keystrokeLines(bytes('echo 0123456789\r'), 8);
    expect(text(keys)).toEqual(['echo 012', '3456789⏎']);
    expect(findInLines(keys, '0123')).toEqual([{ row: 0, start: 5, endRow: 1, end: 1 }]);
  });
});

describe('Content rows fit the pane in terminal cells', () => {
  const cells = (lines: ReturnType<typeof contentLines>) => text(lines).map((l) => cellWidth(l));
  const rendered = (chunk: Uint8Array, width: number) => {
    const s = session();
    const r = stream(s, 'stdout', 1);
    data(r, 's2c', chunk, origin(0, 10, 1, 0));
    return contentLines(s, r, r.head, width);
  };

  it('wraps wide characters, invalid bytes and named controls by the cells they take, losing nothing', () => {
    // 中 takes two cells, \xFF four, ⟨U+009B⟩ eight: counted as one cell each, a row ran past the pane and Ink cut it.
    const wide = rendered(bytes('中文宽字符'.repeat(6) + ' tail'), 20);
    expect(text(wide)).toEqual(['中文宽字符中文宽字符', '中文宽字符中文宽字符', '中文宽字符中文宽字符', ' tail']);
    const binary = rendered(new Uint8Array([...Array(30).fill(0xff), 0x0a, ...Array(6).fill(0xc2), 0x9b, 0x41]), 20);
    expect(cells(binary).every((w) => w <= 20)).toBe(true);
    expect(text(binary).join('').replace(/\\xFF/g, 'F')).toBe('F'.repeat(30) + '\\xC2'.repeat(5) + '⟨U+009B⟩A');
    for (const width of [1, 2, 3, 7, 80]) expect(cells(rendered(bytes('a中b😀c\t中\x1b[2J'.repeat(9)), width)).every((w) => w <= Math.max(width, 2))).toBe(true);
  });

  it('puts a tab stop and an overprinted wide character where a terminal does', () => {
    // "中" is two cells: the tab after it goes to column 8, not 9 as if it took one.
    expect(text(rendered(bytes('中中中\tx'), 80))).toEqual(['中中中  x']);
    // A carriage return and one narrow character over half of a wide one: the rest of it is blank.
    expect(text(rendered(bytes('中文\rab\rx'), 80))).toEqual(['xb文']);
    expect(text(rendered(bytes('中文\r a'), 80))).toEqual([' a文']);
    expect(text(rendered(bytes('ab中\rx'), 80))).toEqual(['xb中']);
    expect(text(rendered(bytes('abcd\r中'), 80))).toEqual(['中cd']);
    expect(text(rendered(bytes('a中b\r 文'), 80))).toEqual([' 文b']);
    expect(text(rendered(bytes('a中b\r  文'), 80))).toEqual(['  文']);
  });

  it('keeps combining marks and joined emoji with their character', () => {
    expect(text(rendered(bytes('e\u0301'.repeat(12)), 10))).toEqual(['e\u0301'.repeat(10), 'e\u0301'.repeat(2)]);
    expect(text(rendered(bytes('👩\u200d👩\u200d👧x'), 80))).toEqual(['👩\u200d👩\u200d👧x']);
    expect(cells(rendered(bytes('☺\uFE0F'.repeat(30)), 9)).every((w) => w <= 9)).toBe(true);
  });
});
