/**
 * Tells what a connection speaks from its first bytes in each direction, asking each protocol's
 * folder (the HTTP/2 preface, a TLS record). Anything else that is not HTTP/1 is left to mid-stream
 * inference (midstream-consumer.ts), which weighs every framing against the bytes.
 */
import { isHttp2Preface } from '../http2/connection.js';
import { plausibleTlsRecord } from '../tls/record-framer.js';

export type SniffedProtocol = 'http1' | 'http2' | 'tls' | 'unknown' | 'empty';

const METHODS = ['GET ', 'POST ', 'PUT ', 'DELETE ', 'HEAD ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE '];

function startsWithAscii(bytes: Uint8Array, text: string): boolean {
  const n = Math.min(bytes.length, text.length);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * null while undecided: a server may speak first (an HTTP/2 server's SETTINGS, a SPDY server's frames),
 * so only the client's bytes, an HTTP/1 status line or `final` settle it.
 */
export function sniffProtocol(c2s: Uint8Array, s2c: Uint8Array, final: boolean): SniffedProtocol | null {
  if (c2s.length === 0 && s2c.length === 0) return 'empty';
  if (c2s.length === 0 && !final && !startsWithAscii(s2c, 'HTTP/1.')) return null;
  if (isHttp2Preface(c2s)) return 'http2';
  if (METHODS.some((m) => startsWithAscii(c2s, m)) || startsWithAscii(s2c, 'HTTP/1.')) return 'http1';
  if (plausibleTlsRecord(c2s, 0) > 0 || plausibleTlsRecord(s2c, 0) > 0) return 'tls';
  return 'unknown';
}

/** TLS and plaintext crossed on one connection: which way, and the server's first bytes as text. */
export interface CrossedProtocols {
  /** tls-to-plaintext: a ClientHello answered in plain HTTP; plaintext-to-tls: a plain request answered by TLS. */
  kind: 'tls-to-plaintext' | 'plaintext-to-tls';
  serverSaid: string;
}

/** What a client's first bytes begin, as far as telling crossed protocols needs: a TLS record, an HTTP request, or neither. */
export type ClientStart = 'tls' | 'http' | null;

export function clientStart(c2s: Uint8Array): ClientStart {
  if (c2s[0] === 0x16 && plausibleTlsRecord(c2s, 0) > 0) return 'tls';
  return METHODS.some((m) => startsWithAscii(c2s, m)) ? 'http' : null;
}

/**
 * From what the client's first bytes begin and the server's first bytes: a TLS client at a plaintext
 * server, or the reverse. (Only the client's start is kept, not its bytes: 10,000 connections are
 * open at once, and 64 bytes in their own buffer cost ~0.3 KB each.)
 */
export function crossedProtocols(client: ClientStart | undefined, s2c: Uint8Array | null): CrossedProtocols | null {
  if (client === undefined || !s2c) return null;
  if (client === 'tls' && startsWithAscii(s2c, 'HTTP/1.')) {
    const end = s2c.indexOf(0x0d);
    return { kind: 'tls-to-plaintext', serverSaid: Buffer.from(s2c.subarray(0, end > 0 ? end : s2c.length)).toString('latin1') };
  }
  if (client === 'http' && plausibleTlsRecord(s2c, 0) > 0) {
    return { kind: 'plaintext-to-tls', serverSaid: s2c[0] === 0x15 ? 'a TLS alert record' : `a TLS record (content type ${s2c[0]})` };
  }
  return null;
}
