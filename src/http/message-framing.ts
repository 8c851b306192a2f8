import { headerValues, type HttpRequestHead, type HttpResponseHead } from './http-head.js';

/** How a message body is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'until-close' };

export type FramingResult = { framing: BodyFraming; warning?: string } | { error: string };

/** Digits enough for any real body and still exact as a double. */
const MAX_CONTENT_LENGTH_DIGITS = 15;

export function requestBodyFraming(req: HttpRequestHead): FramingResult {
  const codings = headerValues(req, 'transfer-encoding');
  if (codings.length > 0) {
    // A request cannot be read until close, so a non-chunked final coding leaves no way to find its end.
    if (!isChunkedLast(codings)) return { error: `request Transfer-Encoding ${codings.join(', ')} does not end in chunked` };
    return { framing: { kind: 'chunked' }, warning: conflictWarning(req) };
  }
  return lengthFraming(req, { kind: 'none' });
}

/** `req` is the request the response answers, if known (a HEAD request's response has no body). */
export function responseBodyFraming(res: HttpResponseHead, req: HttpRequestHead | undefined): FramingResult {
  if (req?.method === 'HEAD' || (res.status >= 100 && res.status < 200) || res.status === 204 || res.status === 304) {
    return { framing: { kind: 'none' } };
  }
  const codings = headerValues(res, 'transfer-encoding');
  if (codings.length > 0) {
    return { framing: isChunkedLast(codings) ? { kind: 'chunked' } : { kind: 'until-close' }, warning: conflictWarning(res) };
  }
  return lengthFraming(res, { kind: 'until-close' });
}

function isChunkedLast(codings: string[]): boolean {
  return codings[codings.length - 1].toLowerCase() === 'chunked';
}

/** Both headers present is the classic request-smuggling shape; Transfer-Encoding wins (RFC 9112 §6.3). */
function conflictWarning(head: HttpRequestHead | HttpResponseHead): string | undefined {
  return headerValues(head, 'content-length').length > 0
    ? 'both Transfer-Encoding and Content-Length present; Content-Length ignored'
    : undefined;
}

function lengthFraming(head: HttpRequestHead | HttpResponseHead, otherwise: BodyFraming): FramingResult {
  const values = headerValues(head, 'content-length');
  if (values.length === 0) return { framing: otherwise };
  const first = values[0];
  if (values.some((v) => v !== first)) return { error: `conflicting Content-Length values ${values.join(', ')}` };
  if (first.length > MAX_CONTENT_LENGTH_DIGITS || !isDigits(first)) return { error: `invalid Content-Length ${JSON.stringify(first.slice(0, 40))}` };
  const length = Number(first);
  return { framing: length === 0 ? { kind: 'none' } : { kind: 'length', length } };
}

function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return text.length > 0;
}
