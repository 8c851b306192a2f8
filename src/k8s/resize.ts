import type { StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { k8sProblem, type K8sProblemCode } from './problems.js';

export interface TerminalSize {
  width: number;
  height: number;
}

export interface ResizeSink {
  /** `origin` is that of the piece whose bytes completed the object. */
  onResize(size: TerminalSize, origin: StreamOrigin): void;
  onProblem(problem: Problem): void;
}

/** `{"Width":65535,"Height":65535}` is 31 bytes; room for whitespace and unknown keys, not for abuse. */
const MAX_OBJECT_BYTES = 1024;
const MAX_UINT16 = 0xffff;

const OPEN = 0x7b;
const CLOSE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;

/**
 * - between: whitespace between objects
 * - object: inside an object that is being collected
 * - oversized: inside an object too long to collect; its end is still tracked to resynchronise
 * - junk: bytes that cannot start an object; skipped up to the next line or "{"
 */
type State = 'between' | 'object' | 'oversized' | 'junk';

const decoder = new TextDecoder();

/**
 * Decodes the resize stream (PROTOCOL.md 2.8): TerminalSize objects `{"Width":120,"Height":40}`, written
 * by Go's json.Encoder one per line, arriving in arbitrary pieces. Objects are delimited by their
 * braces rather than by newlines, since Go's json.Decoder on the server side reads them that way and
 * some clients send one object per WebSocket message without a newline.
 */
export class ResizeDecoder {
  private state: State = 'between';
  private readonly buf = new Uint8Array(MAX_OBJECT_BYTES);
  private len = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Bytes of the resize stream consumed so far, for problem locations. */
  private position = 0;
  private objectStart = 0;

  constructor(
    private readonly sink: ResizeSink,
    private readonly where = 'resize stream',
  ) {}

  push(data: Uint8Array, origin: StreamOrigin): void {
    for (let i = 0; i < data.length; i++) {
      const b = data[i];
      switch (this.state) {
        case 'between':
          if (b === OPEN) this.startObject(i);
          else if (!isWhitespace(b)) this.startJunk(i, b);
          break;
        case 'junk':
          if (b === OPEN) this.startObject(i);
          else if (b === LF) this.state = 'between';
          break;
        case 'object':
          if (this.len === MAX_OBJECT_BYTES) {
            this.problem('oversized-resize', this.objectStart, `resize object longer than ${MAX_OBJECT_BYTES} bytes skipped`);
            this.state = 'oversized';
          } else {
            this.buf[this.len++] = b;
          }
          if (this.track(b)) {
            if (this.state === 'object') this.finishObject(origin);
            this.state = 'between';
          }
          break;
        case 'oversized':
          if (this.track(b)) this.state = 'between';
          break;
      }
    }
    this.position += data.length;
  }

  /** The stream ended: an object still open is reported. */
  end(): void {
    if (this.state === 'object' || this.state === 'oversized') {
      this.problem('truncated-resize', this.objectStart, 'resize stream ended inside an object');
    }
    this.state = 'between';
    this.len = 0;
  }

  private startObject(i: number): void {
    this.state = 'object';
    this.objectStart = this.position + i;
    this.buf[0] = OPEN;
    this.len = 1;
    this.depth = 1;
    this.inString = false;
    this.escaped = false;
  }

  private startJunk(i: number, b: number): void {
    this.state = 'junk';
    this.problem('malformed-resize', this.position + i, `unexpected byte 0x${b.toString(16).padStart(2, '0')} where a resize object should start`);
  }

  /** Follows strings and nesting; true when the byte closed the outermost object. */
  private track(b: number): boolean {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (b === BACKSLASH) this.escaped = true;
      else if (b === QUOTE) this.inString = false;
      return false;
    }
    if (b === QUOTE) this.inString = true;
    else if (b === OPEN) this.depth++;
    else if (b === CLOSE) return --this.depth === 0;
    return false;
  }

  private finishObject(origin: StreamOrigin): void {
    const text = decoder.decode(this.buf.subarray(0, this.len));
    this.len = 0;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.problem('malformed-resize', this.objectStart, `malformed resize object ${JSON.stringify(text.slice(0, 80))}`);
      return;
    }
    const size = this.terminalSize(value as Record<string, unknown>, text);
    if (size !== undefined) this.sink.onResize(size, origin);
  }

  /** Go's encoding/json semantics for TerminalSize{Width, Height uint16}: keys match case-insensitively, missing keys stay 0. */
  private terminalSize(object: Record<string, unknown>, text: string): TerminalSize | undefined {
    const size: TerminalSize = { width: 0, height: 0 };
    const seen = { width: false, height: false };
    for (const [key, value] of Object.entries(object)) {
      const field = key.toLowerCase();
      if (field !== 'width' && field !== 'height') continue;
      if (value === null) continue;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_UINT16) {
        // The server's json.Decoder fails here and stops handling resizes for the session.
        this.problem('malformed-resize', this.objectStart, `resize ${key} ${JSON.stringify(value)} is not a uint16 in ${JSON.stringify(text.slice(0, 80))}`);
        return undefined;
      }
      size[field] = value;
      seen[field] = true;
    }
    if (!seen.width || !seen.height) {
      const missing = seen.width ? 'Height' : seen.height ? 'Width' : 'Width and Height';
      this.problem('malformed-resize', this.objectStart, `resize object without ${missing} (taken as 0): ${JSON.stringify(text.slice(0, 80))}`);
    }
    return size;
  }

  private problem(code: K8sProblemCode, position: number, message: string): void {
    this.sink.onProblem(k8sProblem(code, message, { where: `${this.where} byte ${position}` }));
  }
}

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}
