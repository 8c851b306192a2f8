/** Real TLS 1.2 between node:tls peers on loopback: ECDHE suites, ALPN, resumption, key problems. */
import { constants } from 'node:crypto';
import { EC_CERT, EC_KEY, RSA_CERT, RSA_KEY } from '../helpers/tls-certs.js';
import { ChunkFeeder, TlsRecorder, decode, keyLogOf } from '../helpers/tls-decode.js';
import { RecordingTlsServer, type TlsConversation } from '../helpers/tls-loopback.js';
import { TlsConnectionDecoder } from '../../src/tls/record-decoder.js';
import type { TlsKeyLog } from '../../src/tls/key-log.js';

const REQUEST = ['POST /api/v1/namespaces/default/pods/demo-0/exec HTTP/1.1\r\n', 'Upgrade: SPDY/3.1\r\n\r\n', 'y'.repeat(20000)];
const RESPONSE = ['HTTP/1.1 101 Switching Protocols\r\n', 'Upgrade: SPDY/3.1\r\n\r\n', '\x80\x03\x00\x02'];

function expectDecrypted(conv: TlsConversation, keys: TlsKeyLog): TlsRecorder {
  const sink = decode(conv.chunks, keys);
  expect(sink.problems).toEqual([]);
  expect(sink.plaintext('c2s').equals(conv.clientSent)).toBe(true);
  expect(sink.plaintext('s2c').equals(conv.serverSent)).toBe(true);
  return sink;
}

describe.each([
  ['RSA', RSA_KEY, RSA_CERT],
  ['ECDSA', EC_KEY, EC_CERT],
])('ECDHE-%s', (auth, key, cert) => {
  let server: RecordingTlsServer;
  beforeAll(async () => {
    server = await RecordingTlsServer.start({ key, cert, ALPNProtocols: ['http/1.1'] });
  });
  afterAll(() => server.close());

  test.each([
    ['AES128-GCM-SHA256', 'AES_128_GCM_SHA256'],
    ['AES256-GCM-SHA384', 'AES_256_GCM_SHA384'],
    ['CHACHA20-POLY1305', 'CHACHA20_POLY1305_SHA256'],
  ])('%s', async (openssl, iana) => {
    const conv = await server.converse({
      client: { maxVersion: 'TLSv1.2', ciphers: `ECDHE-${auth}-${openssl}`, ALPNProtocols: ['h2', 'http/1.1'], servername: 'kubelet.local' },
      clientMessages: REQUEST,
      serverMessages: RESPONSE,
    });
    expect(conv.protocol).toBe('TLSv1.2');
    const sink = expectDecrypted(conv, keyLogOf(conv.keylog));
    expect(sink.info).toEqual({
      keysFound: true,
      clientRandom: expect.stringMatching(/^[0-9a-f]{64}$/),
      sni: 'kubelet.local',
      alpnOffered: ['h2', 'http/1.1'],
      alpn: 'http/1.1', // in the clear in the TLS 1.2 ServerHello
      version: 'TLS 1.2',
      cipherSuite: `TLS_ECDHE_${auth}_WITH_${iana}`,
      resumed: false,
    });
    // Full handshake: the client's Finished is its record 0, application data follows; likewise the server.
    const c2sEncrypted = sink.records.c2s.filter((r) => r.encrypted);
    expect(c2sEncrypted[0]).toMatchObject({ contentTypeName: 'handshake', decrypted: true, seq: 0, handshake: ['finished'] });
    expect(c2sEncrypted.map((r) => r.seq)).toEqual(c2sEncrypted.map((_, i) => i));
    expect(sink.records.s2c.find((r) => r.handshake?.includes('server_hello_done'))?.encrypted).toBe(false);

    const bytes = decode(conv.chunks, keyLogOf(conv.keylog), 'bytes');
    expect(bytes.problems).toEqual([]);
    expect(bytes.plaintext('c2s').equals(conv.clientSent)).toBe(true);
    expect(bytes.plaintext('s2c').equals(conv.serverSent)).toBe(true);
  });
});

describe.each([
  ['session tickets', false],
  ['session ids', true],
])('TLS 1.2 resumption with %s', (_, sessionIds) => {
  let first: TlsConversation;
  let second: TlsConversation;
  beforeAll(async () => {
    const server = await RecordingTlsServer.start(
      { key: EC_KEY, cert: EC_CERT, ...(sessionIds ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}) },
      sessionIds,
    );
    const script = { client: { maxVersion: 'TLSv1.2' as const }, clientMessages: REQUEST, serverMessages: RESPONSE };
    first = await server.converse(script);
    second = await server.converse({ ...script, client: { ...script.client, session: first.session } });
    await server.close();
  });

  test('the second connection resumed (abbreviated handshake, no ServerHelloDone)', () => {
    expect(first.reused).toBe(false);
    expect(second.reused).toBe(true);
    const sink = expectDecrypted(second, keyLogOf(second.keylog));
    expect(sink.info?.resumed).toBe(true);
    expect(sink.records.s2c.some((r) => r.handshake?.includes('server_hello_done'))).toBe(false);
    // The server finishes first in an abbreviated handshake.
    expect(sink.records.s2c.find((r) => r.encrypted)?.origin.packet).toBeLessThan(sink.records.c2s.find((r) => r.encrypted)?.origin.packet ?? 0);
  });

  test('a key log holding only the first connection still decrypts the resumed one', () => {
    const keys = keyLogOf(first.keylog); // one store, connections decoded in capture order
    expectDecrypted(first, keys);
    expect(keys.has(second.keylog.split(' ')[1])).toBe(false);
    const sink = expectDecrypted(second, keys);
    expect(sink.info).toMatchObject({ resumed: true, keysFound: true });
  });

  test('without the first connection decoded, the resumed one has no keys', () => {
    const sink = decode(second.chunks, keyLogOf(first.keylog));
    expect(sink.info).toMatchObject({ resumed: true, keysFound: false });
    expect(sink.problems).toHaveLength(1);
    expect(sink.problems[0].message).toMatch(/^no TLS keys for client random/);
  });
});

describe('TLS 1.2 key problems', () => {
  let conv: TlsConversation;
  beforeAll(async () => {
    const server = await RecordingTlsServer.start({ key: RSA_KEY, cert: RSA_CERT });
    conv = await server.converse({ client: { maxVersion: 'TLSv1.2' }, clientMessages: REQUEST, serverMessages: RESPONSE });
    await server.close();
  });

  test('no keys: records listed, nothing decrypted', () => {
    const sink = decode(conv.chunks, keyLogOf(''));
    expect(sink.info).toMatchObject({ version: 'TLS 1.2', keysFound: false, resumed: false });
    expect(sink.pieces.c2s.length + sink.pieces.s2c.length).toBe(0);
    expect(sink.problems).toHaveLength(1);
    const encrypted = sink.records.c2s.filter((r) => r.encrypted);
    expect(encrypted.length).toBeGreaterThan(2);
    expect(encrypted.every((r) => !r.decrypted && r.seq === null)).toBe(true);
  });

  test('wrong master secret: one Problem, nothing passed up', () => {
    const wrong = conv.keylog.replace(/[0-9a-f]{96}/, (m) => m.slice(0, 95) + (m.endsWith('0') ? '1' : '0'));
    const sink = decode(conv.chunks, keyLogOf(wrong));
    expect(sink.pieces.c2s.length + sink.pieces.s2c.length).toBe(0);
    expect(sink.problems).toHaveLength(1);
    expect(sink.problems[0].message).toContain('do not decrypt this connection (wrong or partial key log)');
    expect(sink.problems[0].message).toContain('record 0 of');
  });

  test('a gap stops that direction only, with a Problem saying why', () => {
    const sink = new TlsRecorder();
    const decoder = new TlsConnectionDecoder(keyLogOf(conv.keylog), sink.sink, { where: 'conn' });
    const feeder = new ChunkFeeder(decoder);
    // The client's last application data chunk is lost.
    const lost = conv.chunks.map((c) => c.dir === 'c2s' && c.data.length > 100).lastIndexOf(true);
    feeder.feed(conv.chunks.slice(0, lost));
    const plainBefore = sink.plaintext('c2s');
    const at = feeder.lose(conv.chunks[lost]);
    feeder.feed(conv.chunks.slice(lost + 1));
    decoder.end();
    expect(sink.problems).toMatchObject([
      {
        where: `conn c2s offset ${at}`,
        message: `${conv.chunks[lost].data.length} bytes missing: TLS record boundaries and the implicit record sequence numbers (part of every AEAD nonce) are lost, so the rest of c2s is neither framed nor decrypted`,
      },
    ]);
    expect(sink.plaintext('c2s').equals(plainBefore)).toBe(true);
    expect(conv.clientSent.subarray(0, plainBefore.length).equals(plainBefore)).toBe(true);
    expect(plainBefore.length).toBeLessThan(conv.clientSent.length);
    expect(sink.plaintext('s2c').equals(conv.serverSent)).toBe(true);
  });
});
