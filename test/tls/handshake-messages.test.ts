import { createHash } from 'node:crypto';
import {
  HELLO_RETRY_REQUEST_RANDOM,
  MalformedHandshake,
  parseClientHello,
  parseEncryptedExtensions,
  parseKeyUpdate,
  parseServerHello,
  parseTls12NewSessionTicket,
} from '../../src/tls/handshake-messages.js';
import { clientHello, encryptedExtensions, extension, handshakeMessage, serverHello, vector16 } from '../helpers/tls-synthetic.js';

const body = (message: Buffer): Buffer => message.subarray(4);

test('ClientHello: random, session id, SNI, ALPN offer, ticket, early data', () => {
  const hello = parseClientHello(
    body(
      clientHello({
        random: Buffer.alloc(32, 9),
        sessionId: Buffer.alloc(32, 8),
        suites: [0x1301, 0xc02f],
        sni: 'api.example',
        alpn: ['h2', 'http/1.1'],
        versions: [0x0304, 0x0303],
        keyShareGroups: [29, 23],
        earlyData: true,
        ticket: Buffer.from('ticket'),
      }),
    ),
  );
  expect(hello).toEqual({
    random: new Uint8Array(32).fill(9),
    sessionId: new Uint8Array(32).fill(8),
    sni: 'api.example',
    alpn: ['h2', 'http/1.1'],
    sessionTicket: new Uint8Array(Buffer.from('ticket')),
    earlyData: true,
  });
});

test('ClientHello without extensions (as before TLS 1.2 extensions were common)', () => {
  const full = body(clientHello({ random: Buffer.alloc(32, 1) }));
  const bare = full.subarray(0, full.length - 2); // drop the empty extensions vector
  expect(parseClientHello(bare)).toEqual({ random: new Uint8Array(32).fill(1), sessionId: new Uint8Array(0), earlyData: false });
});

test('ServerHello: version from supported_versions, suite, ALPN, PSK, HelloRetryRequest', () => {
  expect(parseServerHello(body(serverHello({ random: Buffer.alloc(32, 2), sessionId: Buffer.alloc(4, 3), suite: 0x1302, version: 0x0304, keyShareGroup: 29, psk: true })))).toEqual({
    legacyVersion: 0x0303,
    random: new Uint8Array(32).fill(2),
    sessionId: new Uint8Array(4).fill(3),
    cipherSuite: 0x1302,
    selectedVersion: 0x0304,
    pskAccepted: true,
    helloRetryRequest: false,
  });
  const tls12 = parseServerHello(body(serverHello({ random: Buffer.alloc(32, 2), suite: 0xc02f, alpn: 'h2' })));
  expect(tls12.selectedVersion).toBeUndefined();
  expect(tls12).toMatchObject({ alpn: 'h2', helloRetryRequest: false });
  const hrr = parseServerHello(body(serverHello({ random: Buffer.from(HELLO_RETRY_REQUEST_RANDOM), suite: 0x1301, version: 0x0304, keyShareGroup: 23 })));
  expect(hrr.helloRetryRequest).toBe(true);
  expect(Buffer.from(HELLO_RETRY_REQUEST_RANDOM).toString('hex')).toBe('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');
  expect(HELLO_RETRY_REQUEST_RANDOM).toEqual(createHash('sha256').update('HelloRetryRequest').digest());
});

test('EncryptedExtensions, NewSessionTicket (TLS 1.2), KeyUpdate', () => {
  expect(parseEncryptedExtensions(body(encryptedExtensions('h2')))).toEqual({ alpn: 'h2', earlyData: false });
  expect(parseEncryptedExtensions(body(handshakeMessage(8, vector16(extension(42, Buffer.alloc(0))))))).toEqual({ earlyData: true });
  expect(parseTls12NewSessionTicket(Buffer.concat([Buffer.from([0, 0, 0x1c, 0x20]), vector16(Buffer.from('opaque'))]))).toEqual(new Uint8Array(Buffer.from('opaque')));
  expect(parseKeyUpdate(Buffer.from([1]))).toEqual({ updateRequested: true });
  expect(parseKeyUpdate(Buffer.from([0]))).toEqual({ updateRequested: false });
  expect(() => parseKeyUpdate(Buffer.from([2]))).toThrow(MalformedHandshake);
  expect(() => parseKeyUpdate(Buffer.alloc(0))).toThrow(MalformedHandshake);
});

test('length fields that overrun the message throw MalformedHandshake', () => {
  const sh = body(serverHello({ random: Buffer.alloc(32), suite: 0x1301, version: 0x0304 }));
  for (let n = 0; n < sh.length; n++) {
    // Cut right after the compression method it is an extension-less ServerHello.
    if (n === 2 + 32 + 1 + 2 + 1) continue;
    expect(() => parseServerHello(sh.subarray(0, n))).toThrow(MalformedHandshake);
  }
  const lying = Buffer.from(sh);
  lying[2 + 32] = 200; // session id length beyond the message
  expect(() => parseServerHello(lying)).toThrow('field of 200 bytes overruns the message');
});
