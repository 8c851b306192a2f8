/**
 * Hand-built TLS for cases real Node peers cannot produce (KeyUpdate, 0-RTT, hostile bytes):
 * handshake message encoders and a TLS 1.3 record sealer. The sealer derives its keys with its own
 * small HKDF so the decoder's key schedule is checked against something it does not share.
 */
import { createCipheriv, createHmac } from 'node:crypto';

const u8 = (n: number): number[] => [n & 0xff];
const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

export function vector8(bytes: Uint8Array | number[]): Buffer {
  return Buffer.from([...u8(bytes.length), ...bytes]);
}

export function vector16(bytes: Uint8Array | number[]): Buffer {
  return Buffer.from([...u16(bytes.length), ...bytes]);
}

export function extension(type: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(u16(type)), vector16(data)]);
}

export function handshakeMessage(type: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([type, ...u24(body.length)]), body]);
}

export function record(type: number, fragment: Uint8Array, version = 0x0303): Buffer {
  return Buffer.concat([Buffer.from([type, ...u16(version), ...u16(fragment.length)]), fragment]);
}

const alpnExtension = (names: string[]): Buffer =>
  extension(16, vector16(Buffer.concat(names.map((n) => vector8(Buffer.from(n))))));

export interface ClientHelloFields {
  random: Uint8Array;
  sessionId?: Uint8Array;
  suites?: number[];
  sni?: string;
  alpn?: string[];
  versions?: number[];
  keyShareGroups?: number[];
  earlyData?: boolean;
  ticket?: Uint8Array;
}

export function clientHello(f: ClientHelloFields): Buffer {
  const exts: Buffer[] = [];
  if (f.sni !== undefined) {
    const name = Buffer.from(f.sni);
    exts.push(extension(0, vector16(Buffer.concat([Buffer.from([0]), vector16(name)]))));
  }
  if (f.alpn) exts.push(alpnExtension(f.alpn));
  if (f.ticket) exts.push(extension(35, f.ticket));
  if (f.earlyData) exts.push(extension(42, new Uint8Array(0)));
  if (f.versions) exts.push(extension(43, vector8(f.versions.flatMap(u16))));
  if (f.keyShareGroups) {
    const shares = f.keyShareGroups.map((g) => Buffer.concat([Buffer.from(u16(g)), vector16(new Uint8Array(32).fill(g & 0xff))]));
    exts.push(extension(51, vector16(Buffer.concat(shares))));
  }
  const body = Buffer.concat([
    Buffer.from(u16(0x0303)),
    f.random,
    vector8(f.sessionId ?? new Uint8Array(0)),
    vector16((f.suites ?? [0x1301]).flatMap(u16)),
    vector8([0]),
    vector16(Buffer.concat(exts)),
  ]);
  return handshakeMessage(1, body);
}

export interface ServerHelloFields {
  random: Uint8Array;
  sessionId?: Uint8Array;
  suite: number;
  /** supported_versions value; omitted for TLS 1.2. */
  version?: number;
  keyShareGroup?: number;
  alpn?: string;
  psk?: boolean;
}

export function serverHello(f: ServerHelloFields): Buffer {
  const exts: Buffer[] = [];
  if (f.version !== undefined) exts.push(extension(43, Buffer.from(u16(f.version))));
  if (f.keyShareGroup !== undefined) exts.push(extension(51, Buffer.concat([Buffer.from(u16(f.keyShareGroup)), vector16(new Uint8Array(32))])));
  if (f.alpn) exts.push(alpnExtension([f.alpn]));
  if (f.psk) exts.push(extension(41, Buffer.from(u16(0))));
  const body = Buffer.concat([
    Buffer.from(u16(0x0303)),
    f.random,
    vector8(f.sessionId ?? new Uint8Array(0)),
    Buffer.from(u16(f.suite)),
    Buffer.from([0]),
    vector16(Buffer.concat(exts)),
  ]);
  return handshakeMessage(2, body);
}

export function encryptedExtensions(alpn?: string): Buffer {
  return handshakeMessage(8, vector16(alpn ? alpnExtension([alpn]) : new Uint8Array(0)));
}

/** One-block HKDF-Expand-Label (every output here is at most one hash long). */
function expandLabel(hash: 'sha256' | 'sha384', secret: Uint8Array, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.from(u16(length)), vector8(full), vector8([])]);
  return createHmac(hash, secret).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length);
}

export type Tls13Suite = { aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305'; hash: 'sha256' | 'sha384' };

/** Seals TLS 1.3 records under one traffic secret, with KeyUpdate as the RFC defines it. */
export class Tls13Sealer {
  private seq = 0;
  private key!: Buffer;
  private iv!: Buffer;

  constructor(
    private readonly suite: Tls13Suite,
    private secret: Uint8Array,
  ) {
    this.install();
  }

  seal(innerType: number, content: Uint8Array, padding = 0): Buffer {
    const inner = Buffer.concat([content, Buffer.from([innerType]), Buffer.alloc(padding)]);
    const header = Buffer.from([23, 3, 3, ...u16(inner.length + 16)]);
    const nonce = Buffer.from(this.iv);
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(BigInt(this.seq++));
    for (let i = 0; i < 8; i++) nonce[4 + i] ^= seq[i];
    const cipher = createCipheriv(this.suite.aead as 'aes-128-gcm', this.key, nonce, { authTagLength: 16 });
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
    return Buffer.concat([header, body]);
  }

  /** The sender's own update after sending KeyUpdate. */
  update(): void {
    this.secret = expandLabel(this.suite.hash, this.secret, 'traffic upd', this.suite.hash === 'sha256' ? 32 : 48);
    this.seq = 0;
    this.install();
  }

  private install(): void {
    this.key = expandLabel(this.suite.hash, this.secret, 'key', this.suite.aead === 'aes-128-gcm' ? 16 : 32);
    this.iv = expandLabel(this.suite.hash, this.secret, 'iv', 12);
  }
}

export const TLS13_SUITES: Record<number, Tls13Suite> = {
  0x1301: { aead: 'aes-128-gcm', hash: 'sha256' },
  0x1302: { aead: 'aes-256-gcm', hash: 'sha384' },
  0x1303: { aead: 'chacha20-poly1305', hash: 'sha256' },
};

type Dir = 'c2s' | 's2c';

/**
 * A TLS 1.3 connection written record by record: plaintext hellos, the server's and client's
 * encrypted handshake flights under the handshake secrets, then application records.
 */
export class SyntheticTls13 {
  readonly chunks: { dir: Dir; data: Buffer }[] = [];
  readonly clientRandom = Buffer.alloc(32, 0xc1);
  readonly secrets: Record<string, Buffer>;
  private readonly sealers: Record<Dir, Tls13Sealer>;
  private readonly suite: Tls13Suite;

  constructor(
    suiteId = 0x1301,
    opts: { earlyData?: Buffer[]; alpn?: string; flightRecords?: number } = {},
  ) {
    this.suite = TLS13_SUITES[suiteId];
    const len = this.suite.hash === 'sha256' ? 32 : 48;
    this.secrets = {
      CLIENT_HANDSHAKE_TRAFFIC_SECRET: Buffer.alloc(len, 0x11),
      SERVER_HANDSHAKE_TRAFFIC_SECRET: Buffer.alloc(len, 0x22),
      CLIENT_TRAFFIC_SECRET_0: Buffer.alloc(len, 0x33),
      SERVER_TRAFFIC_SECRET_0: Buffer.alloc(len, 0x44),
    };
    const hello = clientHello({
      random: this.clientRandom,
      suites: [suiteId],
      sni: 'synthetic.test',
      alpn: ['h2'],
      versions: [0x0304],
      keyShareGroups: [29],
      earlyData: !!opts.earlyData,
    });
    this.raw('c2s', record(22, hello, 0x0301));
    const early = new Tls13Sealer(this.suite, Buffer.alloc(len, 0x55));
    for (const data of opts.earlyData ?? []) this.raw('c2s', early.seal(23, data));
    const helloReply = serverHello({ random: Buffer.alloc(32, 0x5e), suite: suiteId, version: 0x0304, keyShareGroup: 29 });
    this.raw('s2c', Buffer.concat([record(22, helloReply), record(20, Buffer.from([1]))]));
    // EncryptedExtensions, Certificate, CertificateVerify, Finished: cut into `flightRecords` records.
    const serverHs = new Tls13Sealer(this.suite, this.secrets.SERVER_HANDSHAKE_TRAFFIC_SECRET);
    const flight = Buffer.concat([
      encryptedExtensions(opts.alpn),
      handshakeMessage(11, Buffer.alloc(300, 0xce)),
      handshakeMessage(15, Buffer.alloc(72, 0xcf)),
      handshakeMessage(20, Buffer.alloc(len, 0xf1)),
    ]);
    const pieces = opts.flightRecords ?? 1;
    const step = Math.ceil(flight.length / pieces);
    for (let at = 0; at < flight.length; at += step) this.raw('s2c', serverHs.seal(22, flight.subarray(at, at + step)));
    const clientHs = new Tls13Sealer(this.suite, this.secrets.CLIENT_HANDSHAKE_TRAFFIC_SECRET);
    const clientFinished = clientHs.seal(22, handshakeMessage(20, Buffer.alloc(len, 0xf2)));
    this.raw('c2s', Buffer.concat([record(20, Buffer.from([1])), clientFinished]));
    this.sealers = {
      c2s: new Tls13Sealer(this.suite, this.secrets.CLIENT_TRAFFIC_SECRET_0),
      s2c: new Tls13Sealer(this.suite, this.secrets.SERVER_TRAFFIC_SECRET_0),
    };
  }

  raw(dir: Dir, data: Buffer): this {
    this.chunks.push({ dir, data });
    return this;
  }

  /** Application data, optionally padded (TLS 1.3 record padding). */
  send(dir: Dir, text: string, padding = 0): this {
    return this.raw(dir, this.seal(dir, 23, Buffer.from(text), padding));
  }

  seal(dir: Dir, innerType: number, content: Buffer, padding = 0): Buffer {
    return this.sealers[dir].seal(innerType, content, padding);
  }

  keyUpdate(dir: Dir, updateRequested: boolean): this {
    this.raw(dir, this.seal(dir, 22, handshakeMessage(24, Buffer.from([updateRequested ? 1 : 0]))));
    this.sealers[dir].update();
    return this;
  }

  keylog(labels = Object.keys(this.secrets)): string {
    const random = this.clientRandom.toString('hex');
    return labels.map((l) => `${l} ${random} ${this.secrets[l].toString('hex')}\n`).join('');
  }
}
