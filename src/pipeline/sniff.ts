/** Tells what a connection speaks from its first bytes in each direction. */
export type SniffedProtocol = 'http1' | 'http2' | 'tls' | 'spdy' | 'websocket' | 'unknown' | 'empty';

const METHODS = ['GET ', 'POST ', 'PUT ', 'DELETE ', 'HEAD ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE '];
const H2_PREFACE = 'PRI * HTTP/2.0';

function startsWithAscii(bytes: Uint8Array, text: string): boolean {
  const n = Math.min(bytes.length, text.length);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

function isTlsRecord(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] >= 0x14 && b[0] <= 0x17 && b[1] === 3 && b[2] <= 4;
}

function isSpdyControl(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x80 && b[1] === 3 && b[2] === 0 && b[3] >= 1 && b[3] <= 9;
}

/** A k8s channel message: FIN + binary opcode, masked from the client, channel byte 0–4 or 255. */
function isChannelFrame(b: Uint8Array, masked: boolean): boolean {
  if (b.length < 2 || b[0] !== 0x82 || (b[1] & 0x80) !== (masked ? 0x80 : 0)) return false;
  return true;
}

/**
 * null while undecided: a server may speak first (an HTTP/2 server's SETTINGS, a SPDY server's frames),
 * so only the client's bytes, an HTTP/1 status line or `final` settle it.
 */
export function sniffProtocol(c2s: Uint8Array, s2c: Uint8Array, final: boolean): SniffedProtocol | null {
  if (c2s.length === 0 && s2c.length === 0) return 'empty';
  if (c2s.length === 0 && !final && !startsWithAscii(s2c, 'HTTP/1.')) return null;
  if (startsWithAscii(c2s, H2_PREFACE)) return 'http2';
  if (METHODS.some((m) => startsWithAscii(c2s, m)) || startsWithAscii(s2c, 'HTTP/1.')) return 'http1';
  if (isTlsRecord(c2s) || isTlsRecord(s2c)) return 'tls';
  if (isSpdyControl(c2s) || isSpdyControl(s2c)) return 'spdy';
  if (isChannelFrame(c2s, true) || isChannelFrame(s2c, false)) return 'websocket';
  return 'unknown';
}

/** TLS and plaintext crossed on one connection: which way, and the server's first bytes as text. */
export interface CrossedProtocols {
  /** tls-to-plaintext: a ClientHello answered in plain HTTP; plaintext-to-tls: a plain request answered by TLS. */
  kind: 'tls-to-plaintext' | 'plaintext-to-tls';
  serverSaid: string;
}

/** From the first bytes of each direction: a TLS client at a plaintext server, or the reverse. */
export function crossedProtocols(c2s: Uint8Array | null, s2c: Uint8Array | null): CrossedProtocols | null {
  if (!c2s || !s2c) return null;
  if (c2s[0] === 0x16 && isTlsRecord(c2s) && startsWithAscii(s2c, 'HTTP/1.')) {
    const end = s2c.indexOf(0x0d);
    return { kind: 'tls-to-plaintext', serverSaid: Buffer.from(s2c.subarray(0, end > 0 ? end : s2c.length)).toString('latin1') };
  }
  if (METHODS.some((m) => startsWithAscii(c2s, m)) && isTlsRecord(s2c)) {
    return { kind: 'plaintext-to-tls', serverSaid: s2c[0] === 0x15 ? 'a TLS alert record' : `a TLS record (content type ${s2c[0]})` };
  }
  return null;
}
