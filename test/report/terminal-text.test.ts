import { renderTerminalLines, renderTerminalText, safeInline } from '../../src/report/terminal-text.js';
import cellWidth from '../../src/report/cell-width.js';

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => Uint8Array.from(b);

/** Nothing a terminal would act on: no C0 except none at all, no DEL, no C1, no bidi overrides. */
function assertInert(lines: string[]): void {
  for (const line of lines) {
    for (const ch of line) {
      const cp = ch.codePointAt(0)!;
      expect(cp >= 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp <= 0x9f)).toBe(true);
      expect([0x202e, 0x202d, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x2028, 0x2029]).not.toContain(cp);
    }
  }
}

/** Every way of cutting `data` into two chunks renders the same as the whole. */
function sameAtEverySplit(data: Uint8Array): string[] {
  const whole = renderTerminalText(data);
  for (let i = 0; i <= data.length; i++) {
    expect(renderTerminalText([data.subarray(0, i), data.subarray(i)])).toEqual(whole);
  }
  return whole;
}

describe('renderTerminalText: cursor movement', () => {
  it('splits lines at \\n and \\r\\n, keeps an unterminated last line', () => {
    expect(renderTerminalText(enc('a\nb\r\nc'))).toEqual(['a', 'b', 'c']);
    expect(renderTerminalText(enc('a\n'))).toEqual(['a']);
    expect(renderTerminalText(enc('a\n\nb'))).toEqual(['a', '', 'b']);
    expect(renderTerminalText(enc(''))).toEqual([]);
  });

  it('carriage return overwrites the line like a terminal', () => {
    expect(renderTerminalText(enc('10%\r20%\r30%\n'))).toEqual(['30%']);
    expect(renderTerminalText(enc('hello\rJ'))).toEqual(['Jello']);
    expect(renderTerminalText(enc('abc\r\r\rxy\n'))).toEqual(['xyc']);
  });

  it('backspace moves left and the next character overwrites; never before column 0', () => {
    expect(renderTerminalText(enc('ab\bc'))).toEqual(['ac']);
    expect(renderTerminalText(enc('\b\b\bx'))).toEqual(['x']);
    expect(renderTerminalText(enc('abc\b\b'))).toEqual(['abc']);
  });

  it('tab advances to the next stop, padding only when text follows', () => {
    expect(renderTerminalText(enc('a\tb'))).toEqual(['a       b']);
    expect(renderTerminalText(enc('12345678\tb'))).toEqual(['12345678        b']);
    expect(renderTerminalText(enc('a\tb'), { tabSize: 4 })).toEqual(['a   b']);
    expect(renderTerminalText(enc('abcdefghij\r\tX'))).toEqual(['abcdefghXj']);
  });

  it('the real tty transcript of ws-tty-resize renders as the user saw it', () => {
    const stdout = '# echo typed-in-tty\r\ntyped-in-tty\r\n# stty size\r\n40 120\r\n# exit\r\n';
    expect(renderTerminalText(enc(stdout))).toEqual(['# echo typed-in-tty', 'typed-in-tty', '# stty size', '40 120', '# exit']);
  });

  it('wraps very long lines and caps the number of lines', () => {
    expect(renderTerminalText(enc('abcdefg'), { wrapAt: 3 })).toEqual(['abc', 'def', 'g']);
    const many = renderTerminalText(enc('x\n'.repeat(10)), { maxLines: 3 });
    expect(many).toEqual(['x', 'x', 'x', '… more than 3 lines, the rest is not shown']);
  });
});

describe('renderTerminalText: hostile escape sequences are shown, never passed through', () => {
  it('clear screen and cursor moves (CSI) become visible text marked as control', () => {
    expect(renderTerminalText(enc('\x1b[2J\x1b[H\x1b[10;20Hhi'))).toEqual(['␛[2J␛[H␛[10;20Hhi']);
    const [line] = renderTerminalLines(enc('a\x1b[31mred\x1b[0m'));
    expect(line).toEqual([
      { text: 'a', kind: 'text' },
      { text: '␛[31m', kind: 'control' },
      { text: 'red', kind: 'text' },
      { text: '␛[0m', kind: 'control' },
    ]);
  });

  it('OSC title set with BEL or ST terminator', () => {
    const [bel] = renderTerminalLines(enc('\x1b]0;pwned\x07after'));
    expect(bel).toEqual([
      { text: '␛]0;pwned␇', kind: 'control' },
      { text: 'after', kind: 'text' },
    ]);
    const [st] = renderTerminalLines(enc('\x1b]2;t\x1b\\after'));
    expect(st).toEqual([
      { text: '␛]2;t␛\\', kind: 'control' },
      { text: 'after', kind: 'text' },
    ]);
    // OSC 52 clipboard write and OSC 8 hyperlink are just text too.
    expect(renderTerminalText(enc('\x1b]52;c;ZXZpbA==\x07'))).toEqual(['␛]52;c;ZXZpbA==␇']);
  });

  it('an unterminated OSC ends at a line break and at the length cap', () => {
    const lines = renderTerminalLines(enc('\x1b]0;never ends\nnext line'));
    expect(lines[1]).toEqual([{ text: 'next line', kind: 'text' }]);
    const long = renderTerminalLines(enc('\x1b]0;' + 'a'.repeat(400)))[0];
    expect(long[0].kind).toBe('control');
    expect(long[1].kind).toBe('text');
  });

  it('DCS, APC, PM and SOS strings', () => {
    expect(renderTerminalText(enc('\x1bPq#0;2;0;0;0\x1b\\ok'))).toEqual(['␛Pq#0;2;0;0;0␛\\ok']);
    expect(renderTerminalText(enc('\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\'))).toEqual(['␛_apc␛\\␛^pm␛\\␛Xsos␛\\']);
  });

  it('bracketed paste and single ESC x sequences', () => {
    expect(renderTerminalText(enc('\x1b[?2004h\x1b[200~rm -rf /\x1b[201~'))).toEqual(['␛[?2004h␛[200~rm -rf /␛[201~']);
    expect(renderTerminalText(enc('\x1bc\x1b7\x1b8\x1b(B\x1b#8'))).toEqual(['␛c␛7␛8␛(B␛#8']);
    const [line] = renderTerminalLines(enc('\x1bcX'));
    expect(line).toEqual([
      { text: '␛c', kind: 'control' },
      { text: 'X', kind: 'text' },
    ]);
  });

  it('8-bit CSI as a raw byte (invalid UTF-8) and as the C1 code point U+009B', () => {
    const [raw] = renderTerminalLines(bytes(0x9b, 0x32, 0x4a, 0x41));
    expect(raw).toEqual([
      { text: '\\x9B', kind: 'invalid' },
      { text: '2JA', kind: 'text' },
    ]);
    const [c1] = renderTerminalLines(bytes(0xc2, 0x9b, 0x32, 0x4a, 0x41));
    expect(c1).toEqual([
      { text: '⟨U+009B⟩2J', kind: 'control' },
      { text: 'A', kind: 'text' },
    ]);
    // C1 OSC (U+009D) terminated by C1 ST (U+009C).
    expect(renderTerminalText(bytes(0xc2, 0x9d, 0x30, 0x3b, 0x78, 0xc2, 0x9c, 0x41))).toEqual(['⟨U+009D⟩0;x⟨U+009C⟩A']);
    expect(renderTerminalText(bytes(0xc2, 0x85))).toEqual(['⟨U+0085⟩']);
  });

  it('other C0 controls, DEL and bidi overrides are shown as pictures', () => {
    expect(renderTerminalText(bytes(0x00, 0x07, 0x0b, 0x0c, 0x0e, 0x7f, 0x41))).toEqual(['␀␇␋␌␎␡A']);
    expect(renderTerminalText(enc('a\u202Eevil\u2066'))).toEqual(['a⟨U+202E⟩evil⟨U+2066⟩']);
  });

  it('a CSI interrupted by a control character or ESC', () => {
    expect(renderTerminalText(enc('\x1b[12\nx'))).toEqual(['␛[12', 'x']);
    expect(renderTerminalText(enc('\x1b[1\x1b[2Jx'))).toEqual(['␛[1␛[2Jx']);
    expect(renderTerminalText(enc('\x1b\x1b[Ax'))).toEqual(['␛␛[Ax']);
    expect(renderTerminalText(enc('\x1b'))).toEqual(['␛']);
  });

  it('a sequence behind a carriage return still cannot act: it is overwritten as text', () => {
    expect(renderTerminalText(enc('\x1b[2J\rab'))).toEqual(['ab2J']);
  });

  it('a soup of hostile input renders inert at every chunk split', () => {
    const soup = bytes(
      ...enc('\x1b[2J\x1b]0;t\x07\x1b[?1049h\x1bP+q\x1b\\\x1b[6n'),
      0x9b, 0x33, 0x31, 0x6d, 0xc2, 0x9b, 0x48, 0xc2, 0x9d, 0x07, 0x90, 0x1b, 0x5d, 0x07,
      ...enc('\u202e\u2028x\r\n\x08\x00\x7f'),
      0xe2, 0x82, // truncated UTF-8 at the end
    );
    const lines = sameAtEverySplit(soup);
    assertInert(lines);
    for (const line of lines) expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(lines).toHaveLength(2);
  });
});

describe('renderTerminalText: UTF-8', () => {
  it('decodes multi-byte characters split across chunks', () => {
    const data = enc('héllo → 世界 🎉\n');
    expect(sameAtEverySplit(data)).toEqual(['héllo → 世界 🎉']);
  });

  it('shows each invalid byte as \\xNN and resyncs', () => {
    expect(renderTerminalText(bytes(0x61, 0xff, 0x62))).toEqual(['a\\xFFb']);
    expect(renderTerminalText(bytes(0xc0, 0xaf))).toEqual(['\\xC0\\xAF']); // overlong '/'
    expect(renderTerminalText(bytes(0xe0, 0x80, 0xaf))).toEqual(['\\xE0\\x80\\xAF']); // overlong
    expect(renderTerminalText(bytes(0xed, 0xa0, 0x80))).toEqual(['\\xED\\xA0\\x80']); // surrogate
    expect(renderTerminalText(bytes(0xf4, 0x90, 0x80, 0x80))).toEqual(['\\xF4\\x90\\x80\\x80']); // > U+10FFFF
    expect(renderTerminalText(bytes(0xe2, 0x82, 0x41))).toEqual(['\\xE2\\x82A']); // truncated then ASCII
    expect(renderTerminalText(bytes(0xe2, 0x82))).toEqual(['\\xE2\\x82']); // truncated at the end
    const [line] = renderTerminalLines(bytes(0x80));
    expect(line).toEqual([{ text: '\\x80', kind: 'invalid' }]);
  });

  it('an invalid byte ends an escape sequence', () => {
    expect(renderTerminalLines(bytes(0x1b, 0x5b, 0xff, 0x41))[0]).toEqual([
      { text: '␛[', kind: 'control' },
      { text: '\\xFF', kind: 'invalid' },
      { text: 'A', kind: 'text' },
    ]);
  });
});

describe('safeInline', () => {
  it('keeps ordinary text, including non-ASCII', () => {
    expect(safeInline('demo-0')).toBe('demo-0');
    expect(safeInline('echo "hello from spdy" 世界 🎉')).toBe('echo "hello from spdy" 世界 🎉');
  });

  it('makes every control visible and keeps the field on one line', () => {
    expect(safeInline('a\nb\r\tc')).toBe('a␊b␍␉c');
    expect(safeInline('\x1b[2Jpod')).toBe('␛[2Jpod');
    expect(safeInline('\x1b]0;title\x07')).toBe('␛]0;title␇');
    expect(safeInline('x\u009b31m')).toBe('x⟨U+009B⟩31m');
    expect(safeInline('\u202egnp.exe')).toBe('⟨U+202E⟩gnp.exe');
    expect(safeInline('\x7f\x00')).toBe('␡␀');
    expect(safeInline('lone \ud800 surrogate')).toBe('lone ⟨U+D800⟩ surrogate');
  });

  it('shows characters that take no cell and stand alone (zero-width space, BOM, word joiner, soft hyphen, Hangul filler)', () => {
    // "demo-0" and "demo-0\u200b" looked the same, and Ink gave the invisible one a cell the terminal did not: the row shifted.
    expect(safeInline('demo-0\u200b')).toBe('demo-0⟨U+200B⟩');
    expect(safeInline('\ufeffa\u2060b\u00adc\u3164d\u{e0001}')).toBe('⟨U+FEFF⟩a⟨U+2060⟩b⟨U+00AD⟩c⟨U+3164⟩d⟨U+E0001⟩');
    expect(renderTerminalText(enc('x\u200by\ufeff'))).toEqual(['x⟨U+200B⟩y⟨U+FEFF⟩']);
    // What joins the character before it stays: accents, emoji sequences, ZWJ and ZWNJ between letters.
    expect(safeInline('e\u0301 👩\u200d👩\u200d👧 ☺\ufe0f 🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f} क\u200dष')).toBe('e\u0301 👩\u200d👩\u200d👧 ☺\ufe0f 🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f} क\u200dष');
  });

  it('lets no character through that makes a grapheme of no cells (Ink would give it one, the terminal none)', () => {
    const graphemes = new Intl.Segmenter();
    const noCells: string[] = [];
    const planes = [[0, 0xffff], [0x13430, 0x1343f], [0x1bca0, 0x1bca3], [0x1d173, 0x1d17a], [0xe0000, 0xe0fff]];
    for (const [from, to] of planes) {
      for (let c = from; c <= to; c++) {
        if (c >= 0xd800 && c <= 0xdfff) continue;
        for (const { segment } of graphemes.segment(safeInline(`a${String.fromCodePoint(c)}b`))) {
          if (cellWidth(segment) === 0) noCells.push(c.toString(16));
        }
      }
    }
    expect(noCells).toEqual([]);
  });

  it('returns a line that needs nothing as it is, and every code unit as the long way makes it', () => {
    // A NUL at the end sends a line the long way, code point by code point.
    const differing: number[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const line = `a${String.fromCharCode(c)}b`;
      if (safeInline(line) !== safeInline(`${line}\0`).slice(0, -1)) differing.push(c);
    }
    expect(differing).toEqual([]);
    expect(safeInline('pair 🎉 kept')).toBe(safeInline('pair 🎉 kept\0').slice(0, -1));
  });

  it('caps the length with an ellipsis, counting source characters', () => {
    expect(safeInline('abcdef', 4)).toBe('abc…');
    expect(safeInline('abcd', 4)).toBe('abcd');
    expect(safeInline('🎉🎉🎉', 2)).toBe('🎉…');
    expect(safeInline('\x1b\x1b\x1b', 2)).toBe('␛…');
  });
});
