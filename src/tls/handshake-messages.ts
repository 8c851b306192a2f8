/**
 * The handshake message fields the analyzer needs (RFC 8446 §4, RFC 5246 §7.4, RFC 5077): who the
 * client wanted (SNI, ALPN, versions), what the server chose, and what identifies a session.
 * Parsers take the message body (after the 4-byte header), copy what they keep, and throw
 * MalformedHandshake on anything that does not fit its length fields.
 */

export class MalformedHandshake extends Error {}

class ByteReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  u8(): number {
    return this.take(1)[0];
  }

  u16(): number {
    const b = this.take(2);
    return (b[0] << 8) | b[1];
  }

  u32(): number {
    const b = this.take(4);
    return b[0] * 0x1000000 + ((b[1] << 16) | (b[2] << 8) | b[3]);
  }

  take(n: number): Uint8Array {
    if (n > this.remaining) throw new MalformedHandshake(`field of ${n} bytes overruns the message (${this.remaining} left)`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  rest(): Uint8Array {
    return this.take(this.remaining);
  }

  vector8(): ByteReader {
    return new ByteReader(this.take(this.u8()));
  }

  vector16(): ByteReader {
    return new ByteReader(this.take(this.u16()));
  }
}

const Extension = {
  serverName: 0,
  alpn: 16,
  sessionTicket: 35,
  preSharedKey: 41,
  earlyData: 42,
  supportedVersions: 43,
} as const;

/** ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest"), as RFC 8446 §4.1.3 spells it out. */
export const HELLO_RETRY_REQUEST_RANDOM: Uint8Array = Uint8Array.from([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

export interface ClientHello {
  random: Uint8Array;
  sessionId: Uint8Array;
  sni?: string;
  alpn?: string[];
  /** RFC 5077 ticket offered for TLS 1.2 resumption (empty when the client only asks for one). */
  sessionTicket?: Uint8Array;
  earlyData: boolean;
}

export interface ServerHello {
  legacyVersion: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuite: number;
  /** From supported_versions: 0x0304 for TLS 1.3. */
  selectedVersion?: number;
  alpn?: string;
  /** TLS 1.3 PSK (resumption) accepted. */
  pskAccepted: boolean;
  helloRetryRequest: boolean;
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

function forEachExtension(r: ByteReader, visit: (type: number, data: ByteReader) => void): void {
  if (r.remaining === 0) return; // extensions are optional before TLS 1.3
  const list = r.vector16();
  while (list.remaining > 0) {
    const type = list.u16();
    visit(type, list.vector16());
  }
}

function alpnList(data: ByteReader): string[] {
  const list = data.vector16();
  const names: string[] = [];
  while (list.remaining > 0) names.push(text(list.take(list.u8())));
  return names;
}

function serverName(data: ByteReader): string | undefined {
  const list = data.vector16();
  while (list.remaining > 0) {
    const type = list.u8();
    const name = list.take(list.u16());
    if (type === 0) return text(name);
  }
  return undefined;
}

export function parseClientHello(body: Uint8Array): ClientHello {
  const r = new ByteReader(body);
  r.u16(); // legacy_version: the real offer is in supported_versions
  const random = r.take(32).slice();
  const hello: ClientHello = { random, sessionId: r.vector8().rest().slice(), earlyData: false };
  r.vector16(); // cipher suites
  r.vector8(); // compression methods
  forEachExtension(r, (type, data) => {
    switch (type) {
      case Extension.serverName:
        hello.sni = serverName(data);
        break;
      case Extension.alpn:
        hello.alpn = alpnList(data);
        break;
      case Extension.sessionTicket:
        hello.sessionTicket = data.rest().slice();
        break;
      case Extension.earlyData:
        hello.earlyData = true;
        break;
    }
  });
  return hello;
}

export function parseServerHello(body: Uint8Array): ServerHello {
  const r = new ByteReader(body);
  const legacyVersion = r.u16();
  const random = r.take(32).slice();
  const hello: ServerHello = {
    legacyVersion,
    random,
    sessionId: r.vector8().rest().slice(),
    cipherSuite: r.u16(),
    pskAccepted: false,
    helloRetryRequest: Buffer.compare(random, HELLO_RETRY_REQUEST_RANDOM) === 0,
  };
  r.u8(); // compression method
  forEachExtension(r, (type, data) => {
    switch (type) {
      case Extension.supportedVersions:
        hello.selectedVersion = data.u16();
        break;
      case Extension.alpn:
        hello.alpn = alpnList(data)[0];
        break;
      case Extension.preSharedKey:
        hello.pskAccepted = true;
        break;
    }
  });
  return hello;
}

/** TLS 1.3 EncryptedExtensions: where the server's ALPN choice is, encrypted. */
export function parseEncryptedExtensions(body: Uint8Array): { alpn?: string; earlyData: boolean } {
  const result: { alpn?: string; earlyData: boolean } = { earlyData: false };
  forEachExtension(new ByteReader(body), (type, data) => {
    if (type === Extension.alpn) result.alpn = alpnList(data)[0];
    else if (type === Extension.earlyData) result.earlyData = true;
  });
  return result;
}

/** TLS 1.2 NewSessionTicket (RFC 5077 §3.3): lifetime hint, then the ticket. */
export function parseTls12NewSessionTicket(body: Uint8Array): Uint8Array {
  const r = new ByteReader(body);
  r.u32();
  return r.vector16().rest().slice();
}

/** KeyUpdate (RFC 8446 §4.6.3): whether the sender asks the peer to update too. */
export function parseKeyUpdate(body: Uint8Array): { updateRequested: boolean } {
  const request = new ByteReader(body).u8();
  if (request > 1) throw new MalformedHandshake(`KeyUpdate request_update ${request} is neither 0 nor 1`);
  return { updateRequested: request === 1 };
}
