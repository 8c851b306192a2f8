/**
 * Raw HTTP/1.1 responses written straight onto a socket (after node:http handed it over for an
 * upgrade), laid out as Go's net/http writes them: sorted header fields, then Date and Content-Length.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';

const REASONS: Record<number, string> = {
  101: 'Switching Protocols',
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

/** The full response head and body as bytes. `headers` in the order given (callers pass them sorted). */
export function httpResponse(status: number, headers: [string, string][], body = ''): Buffer {
  const lines = [`HTTP/1.1 ${status} ${reasonPhrase(status)}`];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (status !== 101) {
    lines.push(`Date: ${new Date().toUTCString()}`);
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

/** The 101 of a SPDY upgrade (httpstream/spdy UpgradeResponse) with the negotiated protocol. */
export function spdySwitchingProtocols(protocol: string): Buffer {
  return httpResponse(101, [
    ['Connection', 'Upgrade'],
    ['Upgrade', 'SPDY/3.1'],
    ['X-Stream-Protocol-Version', protocol],
  ]);
}

/** Go's http.Error: plain text with a trailing newline. */
export function textError(status: number, message: string): Buffer {
  return httpResponse(
    status,
    [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['X-Content-Type-Options', 'nosniff'],
    ],
    `${message}\n`,
  );
}

/** An API error: a Status JSON body. */
export function statusError(status: number, statusJson: string): Buffer {
  return httpResponse(status, [['Content-Type', 'application/json']], statusJson);
}

/** Writes a refusal and closes the connection once it is flushed. */
export function refuse(socket: Duplex, response: Buffer): void {
  socket.end(response);
}

/** All values of a request header, comma lists split (Go reads repeated header lines as a list). */
export function headerList(headers: IncomingHttpHeaders, name: string): string[] {
  const raw = headers[name.toLowerCase()];
  if (raw === undefined) return [];
  const values = Array.isArray(raw) ? raw : [raw];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** Whether a comma-separated header contains `token` (case-insensitive), as Go's httpguts does. */
export function headerHasToken(headers: IncomingHttpHeaders, name: string, token: string): boolean {
  return headerList(headers, name).some((v) => v.toLowerCase() === token.toLowerCase());
}
