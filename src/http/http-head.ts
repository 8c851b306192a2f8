import type { Field } from '../core/field.js';
import type { FrameOrigin } from '../core/origin.js';

/** Header fields in wire order with their original case; repeated fields stay separate entries. */
export type HttpHeaders = [name: string, value: string][];

export interface HttpRequestHead {
  method: string;
  /** The request-target exactly as sent (origin-form "/p?q", absolute-form "http://h/p", or authority-form). */
  target: string;
  /** Path part of the target, still percent-encoded; for absolute-form the path after the authority. */
  path: string;
  /** Query part of the target without the "?", still encoded; "" when absent. */
  query: string;
  /** "HTTP/1.1" or "HTTP/1.0". */
  version: string;
  headers: HttpHeaders;
  /** The head's bytes, request line to the empty line inclusive. */
  origin: FrameOrigin;
}

export interface HttpResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: HttpHeaders;
  origin: FrameOrigin;
}

export type HttpHead = HttpRequestHead | HttpResponseHead;

export type HeadParseResult<T> = { head: T; warnings: string[] } | { error: string };

/** A header's value, repeated fields joined with ", " (RFC 9110 §5.3); undefined when absent. Case-insensitive. */
export function header(head: { headers: HttpHeaders }, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const headers = head.headers;
  let joined: string | undefined;
  // Index loops here and in headerValues, not for-of with destructuring: both run several times a
  // request and are inlined into every caller TurboFan compiles once sessions number hundreds, and an
  // inlined iterator with its destructuring and exception paths made much of each such compile.
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0].toLowerCase() !== wanted) continue;
    const v = headers[i][1];
    joined = joined === undefined ? v : `${joined}, ${v}`;
  }
  return joined;
}

/**
 * Every value of a header, comma lists split and trimmed, empty elements dropped. Needed because
 * `X-Stream-Protocol-Version` arrives as one line per value and `Sec-WebSocket-Protocol` as a list.
 */
export function headerValues(head: { headers: HttpHeaders }, name: string): string[] {
  const wanted = name.toLowerCase();
  const headers = head.headers;
  const values: string[] = [];
  for (let i = 0; i < headers.length; i++) {
    if (headers[i][0].toLowerCase() !== wanted) continue;
    const parts = headers[i][1].split(',');
    for (let j = 0; j < parts.length; j++) {
      const trimmed = parts[j].trim();
      if (trimmed !== '') values.push(trimmed);
    }
  }
  return values;
}

/** Whether a request asks to switch protocols: `Connection: upgrade` plus an `Upgrade` header. */
export function isUpgradeRequest(req: HttpRequestHead): boolean {
  if (header(req, 'upgrade') === undefined) return false;
  const tokens = headerValues(req, 'connection');
  for (let i = 0; i < tokens.length; i++) if (tokens[i].toLowerCase() === 'upgrade') return true;
  return false;
}

const MAX_METHOD_LENGTH = 32;
const RESPONSE_PREFIX = 'HTTP/';
const SP = 0x20;

/** tchar (RFC 9110 §5.6.2), indexed by byte. */
const TOKEN_BYTES = (() => {
  const table = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") table[c.charCodeAt(0)] = 1;
  return table;
})();

function isTokenByte(b: number): boolean {
  return b < 128 && TOKEN_BYTES[b] === 1;
}

function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenByte(text.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** "HTTP/d.d" */
function isHttpVersion(text: string): boolean {
  return text.length === 8 && text.startsWith(RESPONSE_PREFIX) && isDigit(text.charCodeAt(5)) && text[6] === '.' && isDigit(text.charCodeAt(7));
}

/**
 * Early verdict on the first bytes of a message, so a TLS record or a capture that starts inside
 * upgraded data is recognised without waiting for a head's worth of bytes.
 * Returns true (could be HTTP), false (cannot be) or undefined (need more bytes).
 */
export function startLooksLikeHttp(kind: 'request' | 'response', bytes: Uint8Array): boolean | undefined {
  if (kind === 'response') {
    const n = Math.min(bytes.length, RESPONSE_PREFIX.length);
    for (let i = 0; i < n; i++) if (bytes[i] !== RESPONSE_PREFIX.charCodeAt(i)) return false;
    return n === RESPONSE_PREFIX.length ? true : undefined;
  }
  const n = Math.min(bytes.length, MAX_METHOD_LENGTH + 1);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === SP) return i > 0;
    if (!isTokenByte(b)) return false;
  }
  return n > MAX_METHOD_LENGTH ? false : undefined;
}

const decoder = new TextDecoder();

/**
 * The lines of a head as one decoded string walked with indexOf: heads are parsed for every request
 * of every connection, so no per-line arrays or regular expressions here.
 */
class HeadLines {
  private readonly text: string;
  private pos = 0;

  constructor(bytes: Uint8Array) {
    this.text = decoder.decode(bytes);
  }

  /** The next line without its LF or CRLF; undefined at the end. */
  next(): string | undefined {
    const { text } = this;
    if (this.pos >= text.length) return undefined;
    let end = text.indexOf('\n', this.pos);
    if (end === -1) end = text.length;
    const stop = end > this.pos && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
    const line = text.slice(this.pos, stop);
    this.pos = end + 1;
    return line;
  }
}

export function parseRequestHead(bytes: Uint8Array, origin: FrameOrigin): HeadParseResult<HttpRequestHead> {
  const lines = new HeadLines(bytes);
  const first = lines.next() ?? '';
  const sp1 = first.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : first.indexOf(' ', sp1 + 1);
  if (sp2 === -1 || first.indexOf(' ', sp2 + 1) !== -1) return { error: `malformed request line ${quote(first)}` };
  const method = first.slice(0, sp1);
  const target = first.slice(sp1 + 1, sp2);
  const version = first.slice(sp2 + 1);
  if (!isToken(method)) return { error: `malformed request method ${quote(method)}` };
  if (!isHttpVersion(version)) return { error: `not an HTTP/1.x request line ${quote(first)}` };
  if (target === '') return { error: 'empty request target' };
  const warnings: string[] = [];
  const headers = parseHeaderLines(lines, warnings);
  const { path, query } = splitTarget(target);
  return { head: { method, target, path, query, version, headers, origin }, warnings };
}

export function parseResponseHead(bytes: Uint8Array, origin: FrameOrigin): HeadParseResult<HttpResponseHead> {
  const lines = new HeadLines(bytes);
  const first = lines.next() ?? '';
  const sp1 = first.indexOf(' ');
  const version = sp1 === -1 ? first : first.slice(0, sp1);
  if (!isHttpVersion(version)) return { error: `malformed status line ${quote(first)}` };
  const sp2 = first.indexOf(' ', sp1 + 1);
  const codeEnd = sp2 === -1 ? first.length : sp2;
  const c = sp1 + 1;
  if (sp1 === -1 || codeEnd - c !== 3 || !isDigit(first.charCodeAt(c)) || !isDigit(first.charCodeAt(c + 1)) || !isDigit(first.charCodeAt(c + 2))) {
    return { error: `malformed status code in ${quote(first)}` };
  }
  const status = Number(first.slice(c, codeEnd));
  const reason = sp2 === -1 ? '' : first.slice(sp2 + 1);
  const warnings: string[] = [];
  const headers = parseHeaderLines(lines, warnings);
  return { head: { version, status, reason, headers, origin }, warnings };
}

/** Parses "name: value" lines (a chunked trailer section). */
export function parseHeaderBlock(bytes: Uint8Array, warnings: string[]): HttpHeaders {
  return parseHeaderLines(new HeadLines(bytes), warnings);
}

function parseHeaderLines(lines: HeadLines, warnings: string[]): HttpHeaders {
  const headers: HttpHeaders = [];
  for (let line = lines.next(); line !== undefined; line = lines.next()) {
    if (line === '') continue;
    const c0 = line.charCodeAt(0);
    if (c0 === SP || c0 === 0x09) {
      // obs-fold (RFC 9112 §5.2): a continuation of the previous field's value.
      const previous = headers[headers.length - 1];
      if (previous) previous[1] = `${previous[1]} ${line.trim()}`;
      else warnings.push(`header continuation line with no field before it: ${quote(line)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      warnings.push(`malformed header line skipped: ${quote(line)}`);
      continue;
    }
    const name = line.slice(0, colon);
    if (!isToken(name)) warnings.push(`invalid header field name ${quote(name)}`);
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  // An exact copy: a list grown by push reserves 17 slots, and an upgrade request's head is kept until its answer (10,000 open connections).
  return headers.length ? headers.slice() : headers;
}

/** Splits a request-target into its still-encoded path and query (absolute-form loses scheme and authority). */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  const scheme = rest.indexOf('://');
  if (scheme > 0 && rest[0] !== '/') {
    const pathStart = rest.indexOf('/', scheme + 3);
    const queryStart = rest.indexOf('?', scheme + 3);
    const end = pathStart === -1 ? queryStart : queryStart === -1 ? pathStart : Math.min(pathStart, queryStart);
    rest = end === -1 ? '/' : rest[end] === '?' ? `/${rest.slice(end)}` : rest.slice(end);
  }
  const q = rest.indexOf('?');
  return q === -1 ? { path: rest, query: '' } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/** A short printable rendering of untrusted text for problem messages. */
export function quote(text: string, max = 120): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(clipped);
}

/**
 * The fields of an HTTP/1.x head (offsets into `bytes`): the start line's parts, then one field per
 * header line (label: the header's name). Byte offsets, so a non-ASCII value does not shift them.
 */
export function httpHeadFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  const text = (from: number, to: number) => decoder.decode(bytes.subarray(from, to));
  let at = 0;
  for (let first = true; at < bytes.length; first = false) {
    let end = bytes.indexOf(0x0a, at);
    if (end === -1) end = bytes.length;
    const stop = end > at && bytes[end - 1] === 0x0d ? end - 1 : end;
    if (stop === at) {
      fields.push({ id: 'http.end_of_head', label: 'end of head', offset: at, length: end + 1 - at, value: 'empty line' });
      break;
    }
    if (first) fields.push(...startLineFields(bytes, at, stop, text));
    else {
      const colon = bytes.indexOf(0x3a, at);
      const name = colon > at && colon < stop ? text(at, colon) : '';
      fields.push({ id: 'http.header', label: name || 'line', offset: at, length: stop - at, value: (name ? text(colon + 1, stop) : text(at, stop)).trim() });
    }
    at = end + 1;
  }
  return fields;
}

function startLineFields(bytes: Uint8Array, at: number, stop: number, text: (from: number, to: number) => string): Field[] {
  const sp1 = bytes.indexOf(SP, at);
  const sp2 = sp1 === -1 || sp1 >= stop ? -1 : bytes.indexOf(SP, sp1 + 1);
  if (sp1 === -1 || sp1 >= stop) return [{ id: 'http.start_line', label: 'start line', offset: at, length: stop - at, value: text(at, stop) }];
  const secondEnd = sp2 === -1 || sp2 >= stop ? stop : sp2;
  const parts: [number, number][] = [[at, sp1], [sp1 + 1, secondEnd]];
  if (secondEnd < stop) parts.push([secondEnd + 1, stop]);
  const response = text(at, sp1).startsWith('HTTP/');
  const names = response ? [['http.response.version', 'version'], ['http.response.code', 'status code'], ['http.response.phrase', 'reason']] : [['http.request.method', 'method'], ['http.request.uri', 'target'], ['http.request.version', 'version']];
  return parts.map(([from, to], i) => ({ id: names[i][0], label: names[i][1], offset: from, length: to - from, value: text(from, to) }));
}
