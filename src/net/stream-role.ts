/**
 * Telling client from server by the first bytes one side sends, for connections whose SYN was not
 * captured: only clients open with an HTTP request line, the HTTP/2 preface or a TLS ClientHello;
 * only servers with an HTTP status line or a TLS ServerHello.
 */

const encoder = new TextEncoder();
const CLIENT_OPENINGS = ['GET ', 'POST ', 'PUT ', 'PATCH ', 'DELETE ', 'HEAD ', 'OPTIONS ', 'CONNECT ', 'TRACE ', 'PRI * HTTP/2'].map((s) => encoder.encode(s));
const SERVER_OPENING = encoder.encode('HTTP/');

const TLS_HANDSHAKE_RECORD = 0x16;
const TLS_CLIENT_HELLO = 1;
const TLS_SERVER_HELLO = 2;

/** Which side would send `payload` as its first bytes, or null when they do not tell. */
export function senderRole(payload: Uint8Array): 'client' | 'server' | null {
  if (payload.length > 5 && payload[0] === TLS_HANDSHAKE_RECORD && payload[1] === 3) {
    if (payload[5] === TLS_CLIENT_HELLO) return 'client';
    if (payload[5] === TLS_SERVER_HELLO) return 'server';
    return null;
  }
  if (startsWith(payload, SERVER_OPENING)) return 'server';
  for (const opening of CLIENT_OPENINGS) if (startsWith(payload, opening)) return 'client';
  return null;
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}
