/**
 * Captured bytes rendered as a terminal would lay them out, with nothing able to act on the
 * user's terminal. Line breaks, carriage returns, backspaces and tabs move the cursor as they
 * would on a terminal; every other control character and every escape sequence is shown as
 * visible text (`␛[2J`, `␇`, `⟨U+009B⟩`) and marked so the UI can dim it. Invalid UTF-8 is
 * shown byte by byte as `\xNN`. Everything here is hostile input: the output is always plain
 * printable text.
 */

export type SpanKind = 'text' | 'control' | 'invalid';

export interface TextSpan {
  text: string;
  kind: SpanKind;
}

/**
 * One rendered line: runs of plain text, neutralised controls and invalid bytes. `continues` marks a
 * row that a longer line filled and went on from (wrapped at `wrapAt`), not one a line break ended.
 */
export type TerminalLine = TextSpan[] & { continues?: true };

export interface TerminalTextOptions {
  /** Tab stops every this many columns. Default 8. */
  tabSize?: number;
  /** A line longer than this many cells continues on the next line, as a terminal wraps. Default 4096. */
  wrapAt?: number;
  /** Lines kept at most; the rest is dropped and a last line says so. Default 100 000. */
  maxLines?: number;
  /**
   * The terminal cells a character (or a stand-in such as `\xFF`, `⟨U+009B⟩`) takes, for tab stops,
   * wrapping and overprinting by cells as a terminal does: a wide character two, a combining mark
   * none. Default: one each (this module does not load the Unicode width tables; the TUI passes them).
   */
  cellsOf?: (text: string) => number;
}

const ESC = 0x1b;
const BEL = 0x07;
const DEL = 0x7f;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
/** Longest run treated as one escape sequence: a hostile unterminated OSC must not swallow the text. */
const MAX_SEQUENCE = 256;

/** Visible stand-in for a code point that must not reach the terminal, or null when it is safe to print. */
function neutralised(cp: number): string | null {
  if (cp < 0x20) return String.fromCharCode(0x2400 + cp); // control pictures ␀…␟ (␛ for ESC)
  if (cp === DEL) return '\u2421'; // ␡
  if (cp < 0x80) return null;
  if (
    cp <= 0x9f || // C1 controls: 0x9b is CSI, 0x9d OSC on terminals that honour 8-bit controls
    cp === 0x061c || // Arabic letter mark
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) || // bidi embeddings and overrides
    (cp >= 0x2066 && cp <= 0x2069) || // bidi isolates
    cp === 0x2028 ||
    cp === 0x2029 ||
    (cp >= 0xd800 && cp <= 0xdfff) || // lone surrogates (only in JS strings)
    invisibleAlone(cp)
  ) {
    return `⟨U+${cp.toString(16).toUpperCase().padStart(4, '0')}⟩`;
  }
  return null;
}

/**
 * Characters that take no cell and stand alone as a grapheme cluster (zero-width space, word joiner,
 * BOM, soft hyphen, Hangul fillers, tags outside a flag…): Ink gives every cluster at least one cell,
 * the terminal draws these in none (or, for some, one), so a row holding one no longer lines up with
 * the others, and a pod name can hide one. Shown as ⟨U+200B⟩ as the bidi controls are. Joiners and
 * marks that join the character before them (U+200C, U+200D, U+0300…) are not among them.
 */
function invisibleAlone(cp: number): boolean {
  if (cp < 0x2060) return cp === 0x00ad || cp === 0x115f || cp === 0x1160 || cp === 0x180e || cp === 0x200b;
  if (cp < 0x10000) return cp <= 0x2065 || (cp >= 0x206a && cp <= 0x206f) || cp === 0x3164 || cp === 0xfeff || cp === 0xffa0 || (cp >= 0xfff0 && cp <= 0xfffb);
  return (
    (cp >= 0x13430 && cp <= 0x1343f) ||
    (cp >= 0x1bca0 && cp <= 0x1bca3) ||
    (cp >= 0x1d173 && cp <= 0x1d17a) ||
    (cp >= 0xe0000 && cp <= 0xe001f) ||
    (cp >= 0xe0080 && cp <= 0xe00ff) ||
    (cp >= 0xe01f0 && cp <= 0xe0fff)
  );
}

/** Every line of a report made safe for a terminal (the report's edge: whatever field a line quotes). */
export function safeLines(text: string): string {
  return text.split('\n').map((line) => safeInline(line)).join('\n');
}

/**
 * JSON whose text is inert on a terminal too: JSON.stringify escapes C0 controls; C1 controls (an
 * 8-bit CSI is U+009B) and the bidi controls that reorder what is shown are escaped as well.
 * `indent` 0 gives one line (JSON lines).
 */
export function terminalSafeJson(value: unknown, indent: 2 | 0 = 2): string {
  return escapeJsonControls(JSON.stringify(value, null, indent));
}

/** JSON text with its C1 and bidi controls escaped (\u009b, \u202e): still the same JSON value. */
export function escapeJsonControls(json: string): string {
  // Every character escaped is beyond ASCII: text that is all ASCII (nearly every report), told by its
  // UTF-8 length at a tenth of the search's cost, is returned as it is (kubectl-ws-64k's 265 KB
  // report: the search's 2.4 M instructions, 1.5 M net).
  if (Buffer.byteLength(json, 'utf8') === json.length) return json;
  return json.replace(/[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * How many of `bytes`, the first bytes of a longer run, end on a character boundary: a character the
 * cut split (its lead byte and fewer of the bytes that follow it than it needs) is left out, so a
 * preview of valid text does not end in U+FFFD; ill-formed bytes are kept (shown as such).
 */
export function utf8CutLength(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const lead = bytes[n - back]!;
    if (lead >= 0x80 && lead <= 0xbf) continue;
    const needs = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (needs <= back) return n;
    // WHATWG's bounds on the second byte (as Utf8Reader): past them the bytes are ill-formed, not cut.
    const second = back >= 2 ? bytes[n - back + 1]! : -1;
    const lower = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const upper = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    return second === -1 || (second >= lower && second <= upper) ? n - back : n;
  }
  return n;
}

/** One-line field from a capture (argv, pod name, header value, Status message): controls made visible. */
export function safeInline(text: string, maxLength = Infinity): string {
  // Most lines need nothing: one pass that builds nothing says so (the text report of 2000 sessions
  // spent ~4% of its CPU building every line again a code point at a time).
  if (text.length <= maxLength && printableAsIs(text)) return text;
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (out.length >= maxLength) return out.slice(0, Math.max(0, maxLength - 1)).join('') + '…';
    out.push(neutralised(cp) ?? String.fromCodePoint(cp));
  }
  return out.join('');
}

/** No code unit of `text` is neutralised (a surrogate, even half of a valid pair, sends it the long way). */
function printableAsIs(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 || c >= DEL) && neutralised(c) !== null) return false;
  }
  return true;
}

type ParserState = 'ground' | 'escape' | 'escape-intermediate' | 'csi' | 'string' | 'string-escape';

/**
 * The screen being drawn: finished lines and the current line as cells, with a cursor column. A
 * character of several cells fills its first cell, the others hold '' (so a row's text is its cells
 * joined); a character of none joins the one before it, as a terminal draws a combining mark.
 */
class TerminalCanvas {
  readonly lines: TerminalLine[] = [];
  private cells: string[] = [];
  private kinds: SpanKind[] = [];
  /** Per cell: the cells of the character starting there, 0 on the cells it covers after its first. */
  private widths: number[] = [];
  private col = 0;
  private truncated = false;

  constructor(
    private readonly tabSize: number,
    private readonly wrapAt: number,
    private readonly maxLines: number,
    private readonly cellsOf: ((text: string) => number) | null,
  ) {}

  put(text: string, kind: SpanKind): void {
    const code = text.length === 1 ? text.charCodeAt(0) : 0;
    if (this.cellsOf === null || (code >= 0x20 && code < 0x7f)) return this.putNarrow(text, kind);
    const w = this.cellsOf(text);
    if (w === 1) return this.putNarrow(text, kind);
    if (w === 0 && this.join(text)) return;
    // A character that does not fit in what is left of the row starts the next one, as a wide one does on a terminal.
    const cells = Math.max(1, Math.min(w, this.wrapAt));
    if (this.col + cells > this.wrapAt) this.newline(true);
    while (this.cells.length < this.col) this.fill(this.cells.length, ' ', 'text', 1);
    for (let c = this.col; c < this.col + cells; c++) this.blank(c);
    this.fill(this.col, text, kind, cells);
    for (let c = 1; c < cells; c++) this.fill(this.col + c, '', kind, 0);
    this.col += cells;
  }

  /** A character of one cell: the common case, kept short. */
  private putNarrow(text: string, kind: SpanKind): void {
    if (this.col >= this.wrapAt) this.newline(true);
    while (this.cells.length < this.col) this.fill(this.cells.length, ' ', 'text', 1);
    if (this.col < this.cells.length) this.blank(this.col);
    this.fill(this.col++, text, kind, 1);
  }

  /** A character of no cells joined to the one before the cursor; false when there is none. */
  private join(text: string): boolean {
    let at = this.col - 1;
    while (at > 0 && this.widths[at] === 0) at--;
    if (at < 0 || at >= this.cells.length) return false;
    const joined = this.cells[at] + text;
    const was = this.widths[at];
    const now = this.cellsOf!(joined);
    // A variation selector can make the character wider (☺ + U+FE0F); grown at the cursor, it takes its new cells.
    if (now <= was || at + was !== this.col) {
      this.cells[at] = joined;
      return true;
    }
    const kind = this.kinds[at];
    if (at + now > this.wrapAt && at > 0) {
      // No longer fits the row: it goes to the next one, as it would have had it been that wide to start with.
      if (at + was >= this.cells.length) this.cells.length = this.kinds.length = this.widths.length = at;
      else for (let c = at; c < at + was; c++) this.fill(c, ' ', 'text', 1);
      this.col = this.wrapAt;
      this.put(joined, kind);
      return true;
    }
    this.col = at;
    this.put(joined, kind);
    return true;
  }

  private fill(at: number, text: string, kind: SpanKind, width: number): void {
    this.cells[at] = text;
    this.kinds[at] = kind;
    this.widths[at] = width;
  }

  /** Cell `at` about to be written: a character of several cells it belongs to is erased whole, as a terminal erases a wide one half overwritten. */
  private blank(at: number): void {
    if (at >= this.cells.length) return;
    let first = at;
    while (first > 0 && this.widths[first] === 0) first--;
    const end = first + this.widths[first];
    if (end - first <= 1) return;
    for (let c = first; c < end; c++) this.fill(c, ' ', 'text', 1);
  }

  newline(wrapped = false): void {
    if (this.lines.length < this.maxLines) {
      const line = this.spans();
      if (wrapped) line.continues = true;
      this.lines.push(line);
    } else this.truncated = true;
    this.cells = [];
    this.kinds = [];
    this.widths = [];
    this.col = 0;
  }

  carriageReturn(): void {
    this.col = 0;
  }

  backspace(): void {
    if (this.col > 0) this.col--;
  }

  tab(): void {
    this.col = Math.min(this.wrapAt, (Math.floor(this.col / this.tabSize) + 1) * this.tabSize);
  }

  finish(): TerminalLine[] {
    if (this.cells.length > 0) this.newline();
    if (this.truncated) this.lines.push([{ text: `… more than ${this.maxLines} lines, the rest is not shown`, kind: 'control' }]);
    return this.lines;
  }

  private spans(): TerminalLine {
    const out: TerminalLine = [];
    for (let i = 0; i < this.cells.length; i++) {
      const last = out[out.length - 1];
      if (last && last.kind === this.kinds[i]) last.text += this.cells[i];
      else out.push({ text: this.cells[i], kind: this.kinds[i] });
    }
    return out;
  }
}

/**
 * Terminal control interpreter over decoded code points. Sequences are recognised only to know
 * how far they reach (so their text is shown dimmed as one piece); none is ever executed.
 */
class ControlInterpreter {
  private state: ParserState = 'ground';
  private sequenceLength = 0;

  constructor(private readonly canvas: TerminalCanvas) {}

  codePoint(cp: number): void {
    switch (this.state) {
      case 'ground':
        return this.ground(cp);
      case 'escape':
        return this.afterEscape(cp);
      case 'escape-intermediate':
        if (cp >= 0x20 && cp <= 0x2f) return this.sequenceChar(cp);
        if (cp >= 0x30 && cp <= 0x7e) return this.endSequence(cp);
        return this.abort(cp);
      case 'csi':
        if (cp >= 0x20 && cp <= 0x3f) return this.sequenceChar(cp);
        if (cp >= 0x40 && cp <= 0x7e) return this.endSequence(cp);
        return this.abort(cp);
      case 'string':
        if (cp === BEL || cp === C1_ST) return this.endSequence(cp);
        if (cp === ESC) {
          this.state = 'string-escape';
          return this.canvas.put(neutralised(cp)!, 'control');
        }
        if (cp < 0x20) return this.abort(cp);
        return this.sequenceChar(cp);
      case 'string-escape':
        if (cp === 0x5c) return this.endSequence(cp); // ESC \ is ST
        this.state = 'escape';
        return this.afterEscape(cp);
    }
  }

  /** A byte that is not valid UTF-8 ends any sequence and is shown as its value. */
  invalidByte(byte: number): void {
    this.state = 'ground';
    this.canvas.put(`\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`, 'invalid');
  }

  private ground(cp: number): void {
    const c = this.canvas;
    if (cp === 0x0a) return c.newline();
    if (cp === 0x0d) return c.carriageReturn();
    if (cp === 0x08) return c.backspace();
    if (cp === 0x09) return c.tab();
    const shown = neutralised(cp);
    if (shown === null) return c.put(String.fromCodePoint(cp), 'text');
    c.put(shown, 'control');
    this.sequenceLength = 0;
    if (cp === ESC) this.state = 'escape';
    else if (cp === C1_CSI) this.state = 'csi';
    else if (cp === 0x90 || cp === 0x98 || cp === 0x9d || cp === 0x9e || cp === 0x9f) this.state = 'string'; // DCS SOS OSC PM APC
  }

  private afterEscape(cp: number): void {
    if (cp === 0x5b) this.state = 'csi';
    else if (cp === 0x5d || cp === 0x50 || cp === 0x58 || cp === 0x5e || cp === 0x5f) this.state = 'string';
    else if (cp >= 0x20 && cp <= 0x2f) this.state = 'escape-intermediate';
    else if (cp >= 0x30 && cp <= 0x7e) return this.endSequence(cp);
    else if (cp === ESC) return this.canvas.put(neutralised(cp)!, 'control');
    else return this.abort(cp);
    this.canvas.put(String.fromCodePoint(cp), 'control');
  }

  private sequenceChar(cp: number): void {
    this.canvas.put(neutralised(cp) ?? String.fromCodePoint(cp), 'control');
    if (++this.sequenceLength >= MAX_SEQUENCE) this.state = 'ground';
  }

  private endSequence(cp: number): void {
    this.canvas.put(neutralised(cp) ?? String.fromCodePoint(cp), 'control');
    this.state = 'ground';
  }

  /** A character a sequence cannot contain: the sequence is over, the character counts on its own. */
  private abort(cp: number): void {
    this.state = 'ground';
    this.ground(cp);
  }
}

/**
 * UTF-8 decoding that survives chunk boundaries and reports each byte of an ill-formed sequence
 * (WHATWG's bounds on the second byte reject overlongs, surrogates and values above U+10FFFF).
 */
class Utf8Reader {
  private cp = 0;
  private needed = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private pending: number[] = [];

  constructor(private readonly out: ControlInterpreter) {}

  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.byte(bytes[i]);
  }

  end(): void {
    this.flushInvalid();
  }

  private byte(b: number): void {
    if (this.needed === 0) {
      if (b < 0x80) return this.out.codePoint(b);
      if (b >= 0xc2 && b <= 0xdf) this.start(b & 0x1f, 1, 0x80, 0xbf);
      else if (b >= 0xe0 && b <= 0xef) this.start(b & 0x0f, 2, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf);
      else if (b >= 0xf0 && b <= 0xf4) this.start(b & 0x07, 3, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf);
      else return this.out.invalidByte(b);
      this.pending.push(b);
      return;
    }
    if (b < this.lower || b > this.upper) {
      this.flushInvalid();
      return this.byte(b);
    }
    this.lower = 0x80;
    this.upper = 0xbf;
    this.cp = (this.cp << 6) | (b & 0x3f);
    this.pending.push(b);
    if (--this.needed === 0) {
      this.pending.length = 0;
      this.out.codePoint(this.cp);
    }
  }

  private start(bits: number, needed: number, lower: number, upper: number): void {
    this.cp = bits;
    this.needed = needed;
    this.lower = lower;
    this.upper = upper;
  }

  private flushInvalid(): void {
    for (const p of this.pending) this.out.invalidByte(p);
    this.pending.length = 0;
    this.needed = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}

/** Captured bytes (one buffer or the chunks of a stream, in order) as safe terminal lines with span kinds. */
export function renderTerminalLines(bytes: Uint8Array | readonly Uint8Array[], opts: TerminalTextOptions = {}): TerminalLine[] {
  const canvas = new TerminalCanvas(opts.tabSize ?? 8, opts.wrapAt ?? 4096, opts.maxLines ?? 100_000, opts.cellsOf ?? null);
  const reader = new Utf8Reader(new ControlInterpreter(canvas));
  if (bytes instanceof Uint8Array) reader.push(bytes);
  else for (const chunk of bytes) reader.push(chunk);
  reader.end();
  return canvas.finish();
}

/** Captured bytes as safe plain-text lines, rendered like a terminal (see renderTerminalLines). */
export function renderTerminalText(bytes: Uint8Array | readonly Uint8Array[], opts: TerminalTextOptions = {}): string[] {
  return renderTerminalLines(bytes, opts).map((line) => line.map((s) => s.text).join(''));
}
