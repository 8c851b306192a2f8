/** Real TLS 1.3 between node:tls peers on loopback, recorded by a relay, decrypted from the key log. */
import { EC_CERT, EC_KEY } from '../helpers/tls-certs.js';
import { decode, keyLogOf } from '../helpers/tls-decode.js';
import { RecordingTlsServer, type TlsConversation } from '../helpers/tls-loopback.js';

const WHERE = '127.0.0.1:5000→127.0.0.1:6443';
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

let server: RecordingTlsServer;
beforeAll(async () => {
  server = await RecordingTlsServer.start({ key: EC_KEY, cert: EC_CERT, ALPNProtocols: ['h2', 'http/1.1'] });
});
afterAll(() => server.close());

const REQUEST = ['GET /api/v1/namespaces/default/pods/demo-0/exec?command=sh HTTP/1.1\r\n', 'Host: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n', 'x'.repeat(40000)];
const RESPONSE = ['HTTP/1.1 101 Switching Protocols\r\n', 'Upgrade: websocket\r\n\r\n', '\x82\x01\x01'];

function converse(client: Parameters<RecordingTlsServer['converse']>[0]['client']): Promise<TlsConversation> {
  return server.converse({ client: { servername: 'kubernetes.default', ...client }, clientMessages: REQUEST, serverMessages: RESPONSE });
}

/** The ServerHello randoms, read from the recorded bytes themselves (record header 5 + message header 4 + version 2). */
function serverHelloRandoms(conv: TlsConversation): string[] {
  const s2c = Buffer.concat(conv.chunks.filter((c) => c.dir === 's2c').map((c) => c.data));
  const randoms: string[] = [];
  for (let at = 0; at + 5 <= s2c.length; at += 5 + s2c.readUInt16BE(at + 3)) {
    if (s2c[at] === 22 && s2c[at + 5] === 2) randoms.push(s2c.subarray(at + 11, at + 43).toString('hex'));
  }
  return randoms;
}

describe.each([
  ['TLS_AES_128_GCM_SHA256'],
  ['TLS_AES_256_GCM_SHA384'],
  ['TLS_CHACHA20_POLY1305_SHA256'],
])('%s', (suite) => {
  let conv: TlsConversation;
  beforeAll(async () => {
    conv = await converse({ ciphers: suite, ALPNProtocols: ['http/1.1'] });
  });

  test('decrypts both directions exactly', () => {
    expect(conv.protocol).toBe('TLSv1.3');
    const sink = decode(conv.chunks, keyLogOf(conv.keylog));
    expect(sink.problems).toEqual([]);
    expect(sink.plaintext('c2s').equals(conv.clientSent)).toBe(true);
    expect(sink.plaintext('s2c').equals(conv.serverSent)).toBe(true);
    expect(sink.info).toEqual({
      keysFound: true,
      clientRandom: expect.stringMatching(/^[0-9a-f]{64}$/),
      sni: 'kubernetes.default',
      alpnOffered: ['http/1.1'],
      version: 'TLS 1.3',
      cipherSuite: suite,
      resumed: false,
      alpn: 'http/1.1',
    });
  });

  test('splitting the records at every byte changes nothing', () => {
    const whole = decode(conv.chunks, keyLogOf(conv.keylog));
    const bytes = decode(conv.chunks, keyLogOf(conv.keylog), 'bytes');
    expect(bytes.problems).toEqual([]);
    expect(bytes.plaintext('c2s').equals(conv.clientSent)).toBe(true);
    expect(bytes.plaintext('s2c').equals(conv.serverSent)).toBe(true);
    for (const dir of ['c2s', 's2c'] as const) {
      // Same records; only the packets a record spans differ (every byte is its own push).
      const strip = (r: (typeof whole.records)['c2s'][number]) => ({ ...r, origin: { offset: r.origin.offset, length: r.origin.length } });
      expect(bytes.records[dir].map(strip)).toEqual(whole.records[dir].map(strip));
    }
  });
});

test('records of a TLS 1.3 connection: types, sequence numbers, handshake messages, origins', async () => {
  const conv = await converse({ ALPNProtocols: ['h2', 'http/1.1'] });
  const sink = decode(conv.chunks, keyLogOf(conv.keylog));
  expect(sink.info?.alpn).toBe('h2');
  expect(sink.info?.alpnOffered).toEqual(['h2', 'http/1.1']);
  const s2c = sink.records.s2c;
  expect(s2c.slice(0, 6).map((r) => [r.contentTypeName, r.encrypted, r.decrypted, r.seq, r.innerTypeName, r.handshake])).toEqual([
    ['handshake', false, false, null, undefined, ['server_hello']],
    ['change_cipher_spec', false, false, null, undefined, undefined],
    ['application_data', true, true, 0, 'handshake', ['encrypted_extensions']],
    ['application_data', true, true, 1, 'handshake', ['certificate']],
    ['application_data', true, true, 2, 'handshake', ['certificate_verify']],
    ['application_data', true, true, 3, 'handshake', ['finished']],
  ]);
  // After Finished the application key starts again at sequence number 0.
  const appRecords = s2c.slice(6);
  expect(appRecords.map((r) => r.seq)).toEqual(appRecords.map((_, i) => i));
  expect(appRecords.at(-1)?.alerts).toEqual([{ level: 1, description: 0, levelName: 'warning', descriptionName: 'close_notify' }]);
  for (const dir of ['c2s', 's2c'] as const) {
    // Records tile the TCP stream exactly.
    const total = conv.chunks.filter((c) => c.dir === dir).reduce((n, c) => n + c.data.length, 0);
    let offset = 0;
    for (const r of sink.records[dir]) {
      expect(r.origin.offset).toBe(offset);
      expect(r.origin.length).toBe(r.length + 5);
      expect(r.origin.lastPacket).toBeGreaterThanOrEqual(r.origin.packet);
      offset += r.origin.length;
    }
    expect(offset).toBe(total);
    // Plaintext pieces tile the plaintext stream, each naming the record that carried it.
    let plain = 0;
    for (const piece of sink.pieces[dir]) {
      expect(piece.origin.offset).toBe(plain);
      expect(piece.origin.length).toBe(piece.data.length);
      expect(piece.origin.packet).toBe(piece.record.origin.lastPacket);
      expect(piece.origin.ts).toBe(piece.record.origin.lastTs);
      const rec = sink.records[dir].find((r) => r.origin.offset === piece.record.origin.offset);
      expect(rec?.seq).toBe(piece.record.seq);
      expect(rec?.plaintextLength).toBe(piece.data.length);
      plain += piece.data.length;
    }
  }
  // The 40000-byte write needs several records of at most 2^14 bytes of plaintext.
  expect(sink.pieces.c2s.filter((p) => p.data.length === 16384).length).toBeGreaterThanOrEqual(2);
});

test('HelloRetryRequest: the second ClientHello and ServerHello are followed', async () => {
  // The client's one key share is X25519; a server that only takes P-256 asks again.
  const p256Only = await RecordingTlsServer.start({ key: EC_KEY, cert: EC_CERT, ecdhCurve: 'P-256' });
  const conv = await p256Only.converse({ client: { ecdhCurve: 'X25519:P-256' }, clientMessages: REQUEST, serverMessages: RESPONSE });
  await p256Only.close();
  expect(serverHelloRandoms(conv)[0]).toBe(HRR_RANDOM);
  expect(serverHelloRandoms(conv)).toHaveLength(2);
  const sink = decode(conv.chunks, keyLogOf(conv.keylog));
  expect(sink.problems).toEqual([]);
  expect(sink.info).toMatchObject({ helloRetryRequest: true, version: 'TLS 1.3', keysFound: true });
  expect(sink.records.c2s.filter((r) => r.handshake?.includes('client_hello'))).toHaveLength(2);
  expect(sink.plaintext('c2s').equals(conv.clientSent)).toBe(true);
  expect(sink.plaintext('s2c').equals(conv.serverSent)).toBe(true);
});

describe('key problems', () => {
  let conv: TlsConversation;
  beforeAll(async () => {
    conv = await converse({ ALPNProtocols: ['h2'] });
  });

  test('no keys: records and handshake facts only, one hint naming the connection', () => {
    const sink = decode(conv.chunks, keyLogOf(''));
    expect(sink.pieces.c2s).toEqual([]);
    expect(sink.pieces.s2c).toEqual([]);
    expect(sink.info).toMatchObject({ keysFound: false, version: 'TLS 1.3', sni: 'kubernetes.default', cipherSuite: 'TLS_AES_256_GCM_SHA384' });
    expect(sink.info?.alpn).toBeUndefined(); // it travels in the encrypted EncryptedExtensions
    expect(sink.problems).toHaveLength(1);
    expect(sink.problems[0].where).toBe(WHERE);
    expect(sink.problems[0].message).toContain(`no TLS keys for client random ${sink.info?.clientRandom}`);
    expect(sink.problems[0].message).toContain('SSLKEYLOGFILE');
    const encrypted = sink.records.s2c.filter((r) => r.encrypted);
    expect(encrypted.length).toBeGreaterThan(4);
    expect(encrypted.every((r) => !r.decrypted && r.seq === null)).toBe(true);
  });

  test('wrong keys: one Problem naming the connection, nothing passed up', () => {
    const wrong = conv.keylog.replace(/ ([0-9a-f]{64,96})$/gm, (_, secret: string) => ' ' + secret.replace(/^./, (c) => (c === '0' ? '1' : '0')));
    expect(wrong).not.toBe(conv.keylog);
    const sink = decode(conv.chunks, keyLogOf(wrong));
    expect(sink.pieces.c2s).toEqual([]);
    expect(sink.pieces.s2c).toEqual([]);
    expect(sink.info?.keysFound).toBe(true);
    expect(sink.problems).toHaveLength(1);
    expect(sink.problems[0].where).toMatch(/^127\.0\.0\.1:5000→127\.0\.0\.1:6443 (c2s|s2c) offset \d+$/);
    expect(sink.problems[0].message).toContain(`keys for client random ${sink.info?.clientRandom} do not decrypt this connection (wrong or partial key log)`);
  });

  test('handshake secrets only: ALPN is read, application data is not, the gap in the log is named', () => {
    const handshakeOnly = conv.keylog.split('\n').filter((l) => l.includes('HANDSHAKE')).join('\n');
    const sink = decode(conv.chunks, keyLogOf(handshakeOnly));
    expect(sink.info).toMatchObject({ alpn: 'h2', keysFound: true });
    expect(sink.pieces.c2s).toEqual([]);
    expect(sink.pieces.s2c).toEqual([]);
    expect(sink.problems).toHaveLength(1);
    // Each side reports its application secret missing when it switches to it; the first to switch names its own.
    expect(sink.problems[0].message).toMatch(/^partial key log for client random [0-9a-f]{64}: no (CLIENT|SERVER)_TRAFFIC_SECRET_0;/);
  });

  test('traffic secrets only: the application records are found and decrypted', () => {
    const trafficOnly = conv.keylog.split('\n').filter((l) => l.includes('_TRAFFIC_SECRET_0')).join('\n');
    const sink = decode(conv.chunks, keyLogOf(trafficOnly));
    expect(sink.plaintext('c2s').equals(conv.clientSent)).toBe(true);
    expect(sink.plaintext('s2c').equals(conv.serverSent)).toBe(true);
    expect(sink.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^partial key log .*no CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET/),
    ]);
    const handshake = sink.records.s2c.filter((r) => r.encrypted && !r.decrypted);
    expect(handshake).toHaveLength(4); // EncryptedExtensions, Certificate, CertificateVerify, Finished
  });

  test('several key log files add up', () => {
    const lines = conv.keylog.trim().split('\n');
    const sink = decode(conv.chunks, keyLogOf(lines.slice(0, 2).join('\n'), lines.slice(2).join('\r\n')));
    expect(sink.problems).toEqual([]);
    expect(sink.plaintext('c2s').equals(conv.clientSent)).toBe(true);
  });
});
