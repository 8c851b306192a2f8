import { parseHeaderBlock, quote, type HttpHeaders } from './http-head.js';
import { LineCollector, NEED_MORE, TOO_LONG } from './line-collector.js';
import type { BodyFraming } from './message-framing.js';

const LF = 0x0a;
const CR = 0x0d;
/** Go's net/http refuses chunk-size lines (with extensions) longer than this. */
const MAX_CHUNK_LINE_BYTES = 4096;
/** 13 hex digits stay below 2^53, so every accepted size is exact. */
const MAX_CHUNK_SIZE_DIGITS = 13;

type State = 'length' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'until-close' | 'done' | 'failed';

/**
 * Receives body bytes as ranges of the pushed buffer, so nothing is copied here. An object with a
 * method rather than a function: every open connection has a decoder each way, and a closure apiece
 * (with its context) cost ~100 bytes each of 10,000.
 */
export interface BodyPieceHandler {
  bodyPiece(data: Uint8Array, from: number, to: number): void;
}

/**
 * Delimits one message body (Content-Length, chunked with extensions and trailers, or until close) and
 * hands its payload bytes on as ranges of the input. One instance per direction, restarted per message.
 */
/** No trailers, no warnings about them: shared, so frozen. */
const NONE = Object.freeze([]) as never[];

export class HttpBodyDecoder {
  private state: State = 'done';
  /** Bytes left in the Content-Length body or the current chunk. */
  private remaining = 0;
  private sawCR = false;
  /**
   * Made for the first chunked body: every connection has a decoder each way, most never see a chunked
   * body, and 10,000 open connections held 40,000 idle collectors.
   */
  private chunkLineCollector: LineCollector | null = null;
  private trailerBlockCollector: LineCollector | null = null;
  /** Why decoding failed; set when `failed`. */
  error = '';
  /** The last chunked body's trailer fields and what was wrong with them (one shared empty list until a body has some). */
  trailers: HttpHeaders = NONE;
  trailerWarnings: string[] = NONE;

  constructor(
    private readonly onPiece: BodyPieceHandler,
    private readonly maxTrailerBytes: number,
  ) {}

  private get chunkLine(): LineCollector {
    return (this.chunkLineCollector ??= new LineCollector(MAX_CHUNK_LINE_BYTES, false));
  }

  private get trailerBlock(): LineCollector {
    return (this.trailerBlockCollector ??= new LineCollector(this.maxTrailerBytes, true));
  }

  get done(): boolean {
    return this.state === 'done';
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  get readsUntilClose(): boolean {
    return this.state === 'until-close';
  }

  /** Bytes still expected for a Content-Length body, or for the current chunk; undefined otherwise. */
  get expected(): number | undefined {
    return this.state === 'length' || this.state === 'chunk-data' ? this.remaining : undefined;
  }

  start(framing: BodyFraming): void {
    this.sawCR = false;
    this.error = '';
    this.trailers = NONE;
    this.trailerWarnings = NONE;
    this.chunkLineCollector?.reset();
    this.trailerBlockCollector?.reset();
    switch (framing.kind) {
      case 'none':
        this.state = 'done';
        break;
      case 'length':
        this.remaining = framing.length;
        this.state = framing.length === 0 ? 'done' : 'length';
        break;
      case 'chunked':
        this.state = 'chunk-size';
        break;
      case 'until-close':
        this.state = 'until-close';
        break;
    }
  }

  /** Consumes data[start..] until the body ends; returns the index just past the body's last byte (or data.length). */
  push(data: Uint8Array, start: number): number {
    let i = start;
    while (i < data.length) {
      switch (this.state) {
        case 'length':
        case 'chunk-data': {
          const n = Math.min(this.remaining, data.length - i);
          this.onPiece.bodyPiece(data, i, i + n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = this.state === 'length' ? 'done' : 'chunk-data-end';
          break;
        }
        case 'until-close':
          this.onPiece.bodyPiece(data, i, data.length);
          return data.length;
        case 'chunk-size':
          i = this.readChunkSize(data, i);
          break;
        case 'chunk-data-end':
          i = this.readChunkDataEnd(data, i);
          break;
        case 'trailers':
          i = this.readTrailers(data, i);
          break;
        case 'done':
        case 'failed':
          return i;
      }
    }
    return i;
  }

  /**
   * Accounts for `length` missing bytes. Returns true when they fall inside a stretch of known
   * length (so the framing stays in sync), false when the framing is lost (the decoder is then failed).
   */
  gap(length: number): boolean {
    if ((this.state === 'length' || this.state === 'chunk-data') && length <= this.remaining) {
      this.remaining -= length;
      if (this.remaining === 0) this.state = this.state === 'length' ? 'done' : 'chunk-data-end';
      return true;
    }
    if (this.state === 'until-close') return true;
    this.fail(
      this.state === 'length' || this.state === 'chunk-data'
        ? `${length} missing bytes run past the ${this.remaining} left in the ${this.state === 'length' ? 'body' : 'chunk'}`
        : `${length} missing bytes inside chunked framing`,
    );
    return false;
  }

  private readChunkSize(data: Uint8Array, i: number): number {
    const end = this.chunkLine.feed(data, i);
    if (end === NEED_MORE) return data.length;
    if (end === TOO_LONG) {
      this.fail(`chunk-size line longer than ${MAX_CHUNK_LINE_BYTES} bytes`);
      return data.length;
    }
    const line = this.chunkLine.bytes();
    const size = parseChunkSize(line);
    if (size === undefined) {
      this.fail(`malformed chunk-size line ${quote(String.fromCharCode(...line.subarray(0, 40)))}`);
      this.chunkLine.reset();
      return end;
    }
    this.chunkLine.reset();
    if (size === 0) {
      this.state = 'trailers';
    } else {
      this.remaining = size;
      this.state = 'chunk-data';
    }
    return end;
  }

  private readChunkDataEnd(data: Uint8Array, i: number): number {
    const b = data[i];
    if (b === CR && !this.sawCR) {
      this.sawCR = true;
      return i + 1;
    }
    if (b === LF) {
      this.sawCR = false;
      this.state = 'chunk-size';
      return i + 1;
    }
    this.fail('chunk data not followed by CRLF');
    return i;
  }

  private readTrailers(data: Uint8Array, i: number): number {
    const end = this.trailerBlock.feed(data, i);
    if (end === NEED_MORE) return data.length;
    if (end === TOO_LONG) {
      this.fail('chunked trailer section too long');
      return data.length;
    }
    const warnings: string[] = [];
    this.trailers = parseHeaderBlock(this.trailerBlock.bytes(), warnings);
    this.trailerWarnings = warnings;
    this.trailerBlock.reset();
    this.state = 'done';
    return end;
  }

  private fail(message: string): void {
    this.state = 'failed';
    this.error = message;
  }
}

/** Parses "1a2b[ ; ext...]\r\n"; undefined when malformed. */
function parseChunkSize(line: Uint8Array): number | undefined {
  let end = line.length;
  while (end > 0 && (line[end - 1] === LF || line[end - 1] === CR)) end--;
  const semicolon = line.subarray(0, end).indexOf(0x3b);
  if (semicolon !== -1) end = semicolon;
  while (end > 0 && (line[end - 1] === 0x20 || line[end - 1] === 0x09)) end--;
  if (end === 0 || end > MAX_CHUNK_SIZE_DIGITS) return undefined;
  let size = 0;
  for (let i = 0; i < end; i++) {
    const digit = hexValue(line[i]);
    if (digit < 0) return undefined;
    size = size * 16 + digit;
  }
  return size;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}
