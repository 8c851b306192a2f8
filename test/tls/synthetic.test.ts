/** Hand-built TLS for what node:tls peers cannot produce: KeyUpdate, 0-RTT, padding, hostile bytes. */
import { decode, keyLogOf } from '../helpers/tls-decode.js';
import { clientHello, handshakeMessage, record, serverHello, SyntheticTls13 } from '../helpers/tls-synthetic.js';
import { isTlsClientHello } from '../../src/tls/record-decoder.js';

const WHERE = '127.0.0.1:5000→127.0.0.1:6443';

describe('KeyUpdate', () => {
  test.each([0x1301, 0x1302, 0x1303])('suite %s: both sides update, repeatedly, and keep decrypting', (suite) => {
    const conn = new SyntheticTls13(suite)
      .send('c2s', 'before ')
      .send('s2c', 'one ')
      .keyUpdate('c2s', true)
      .send('c2s', 'after first update ')
      .keyUpdate('s2c', false)
      .send('s2c', 'two ')
      .keyUpdate('c2s', false)
      .keyUpdate('c2s', false)
      .send('c2s', 'after third update');
    const sink = decode(conn.chunks, keyLogOf(conn.keylog()));
    expect(sink.problems).toEqual([]);
    expect(sink.plaintext('c2s').toString()).toBe('before after first update after third update');
    expect(sink.plaintext('s2c').toString()).toBe('one two ');
    const c2sApp = sink.records.c2s.filter((r) => r.decrypted).slice(1); // after the client's Finished
    expect(c2sApp.map((r) => [r.seq, r.innerTypeName, r.handshake])).toEqual([
      [0, 'application_data', undefined],
      [1, 'handshake', ['key_update (update_requested)']],
      [0, 'application_data', undefined],
      [1, 'handshake', ['key_update']],
      [0, 'handshake', ['key_update']],
      [0, 'application_data', undefined],
    ]);
  });

  test('a KeyUpdate record delivered one byte at a time still installs the next key', () => {
    const conn = new SyntheticTls13().keyUpdate('s2c', false).send('s2c', 'after');
    const sink = decode(conn.chunks, keyLogOf(conn.keylog()), 'bytes');
    expect(sink.problems).toEqual([]);
    expect(sink.plaintext('s2c').toString()).toBe('after');
  });
});

test('encrypted handshake messages spanning records, and several in one record', () => {
  for (const flightRecords of [1, 2, 5, 40]) {
    const conn = new SyntheticTls13(0x1301, { alpn: 'h2', flightRecords }).send('s2c', 'data');
    const sink = decode(conn.chunks, keyLogOf(conn.keylog()));
    expect(sink.problems).toEqual([]);
    expect(sink.info?.alpn).toBe('h2');
    expect(sink.plaintext('s2c').toString()).toBe('data');
    const names = sink.records.s2c.filter((r) => r.innerTypeName === 'handshake').flatMap((r) => r.handshake ?? []);
    expect(names).toEqual(['encrypted_extensions', 'certificate', 'certificate_verify', 'finished']);
  }
});

test('TLS 1.3 padding is removed and zero-length application data passes nothing up', () => {
  const conn = new SyntheticTls13().send('s2c', 'padded', 200).send('s2c', '', 5).send('s2c', '!');
  const sink = decode(conn.chunks, keyLogOf(conn.keylog()));
  expect(sink.problems).toEqual([]);
  expect(sink.pieces.s2c.map((p) => p.data.toString())).toEqual(['padded', '!']);
  const app = sink.records.s2c.filter((r) => r.innerTypeName === 'application_data');
  expect(app.map((r) => [r.length, r.plaintextLength])).toEqual([
    [6 + 1 + 200 + 16, 6],
    [0 + 1 + 5 + 16, 0],
    [1 + 1 + 16, 1],
  ]);
  expect(sink.pieces.s2c[1].origin.offset).toBe(6);
});

test('a record that is all padding is reported and passes nothing', () => {
  const conn = new SyntheticTls13();
  conn.raw('s2c', conn.seal('s2c', 0, Buffer.alloc(0), 10)).send('s2c', 'next');
  const sink = decode(conn.chunks, keyLogOf(conn.keylog()));
  expect(sink.problems.map((p) => p.message)).toEqual(['decrypted TLS 1.3 record has no inner content type']);
  expect(sink.plaintext('s2c').toString()).toBe('next');
});

test('encrypted alerts are named; a fatal one is a Problem', () => {
  const conn = new SyntheticTls13();
  conn.raw('s2c', conn.seal('s2c', 21, Buffer.from([2, 40])));
  conn.raw('c2s', conn.seal('c2s', 21, Buffer.from([1, 0])));
  const sink = decode(conn.chunks, keyLogOf(conn.keylog()));
  expect(sink.records.s2c.at(-1)?.alerts).toEqual([{ level: 2, description: 40, levelName: 'fatal', descriptionName: 'handshake_failure' }]);
  expect(sink.records.c2s.at(-1)?.alerts?.[0].descriptionName).toBe('close_notify');
  expect(sink.problems).toMatchObject([{ where: expect.stringMatching(/^127.0.0.1:5000→127.0.0.1:6443 s2c offset \d+$/), message: 'server sent TLS alert fatal handshake_failure (40)' }]);
});

test('a cleartext alert answering the ClientHello is read without keys', () => {
  const chunks = [
    { dir: 'c2s' as const, data: record(22, clientHello({ random: Buffer.alloc(32, 1), versions: [0x0304] })) },
    { dir: 's2c' as const, data: record(21, Buffer.from([2, 70])) },
  ];
  const sink = decode(chunks, keyLogOf(''));
  expect(sink.problems.map((p) => p.message)).toEqual(['server sent TLS alert fatal protocol_version (70)']);
  expect(sink.info).toEqual({ keysFound: null, clientRandom: '01'.repeat(32) });
});

test('0-RTT early data is listed, not decrypted, and does not count as wrong keys', () => {
  const conn = new SyntheticTls13(0x1301, { earlyData: [Buffer.from('early one'), Buffer.from('early two')] });
  // More early data in flight after the ServerHello reached the capture point.
  conn.chunks.splice(3, 0, { dir: 'c2s', data: conn.chunks[1].data });
  conn.send('c2s', 'real request');
  const sink = decode(conn.chunks, keyLogOf(conn.keylog()));
  expect(sink.problems.map((p) => p.message)).toEqual(['the client sent 0-RTT early data; it is listed but not decrypted']);
  expect(sink.plaintext('c2s').toString()).toBe('real request');
  expect(sink.records.c2s.filter((r) => r.contentType === 23 && !r.decrypted)).toHaveLength(3);
});

test('cleartext application data before any key exchange is never passed up', () => {
  const chunks = [
    { dir: 'c2s' as const, data: record(22, clientHello({ random: Buffer.alloc(32, 2) })) },
    { dir: 'c2s' as const, data: record(23, Buffer.from('GET / HTTP/1.1\r\n\r\n')) },
  ];
  const sink = decode(chunks, keyLogOf(''));
  expect(sink.pieces.c2s).toEqual([]);
  expect(sink.problems.map((p) => p.message)).toEqual(['application data record before encryption was negotiated; not passed on']);
});

describe('hostile and broken input', () => {
  test('not TLS at all: one Problem, that direction stops', () => {
    const sink = decode([{ dir: 'c2s', data: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') }], keyLogOf(''));
    expect(sink.problems).toMatchObject([
      { where: `${WHERE} c2s offset 0`, message: 'content type 71 is not a TLS record type; TLS record framing lost, the rest of this direction is not decoded' },
    ]);
    expect(sink.records.c2s).toEqual([]);
  });

  test('a record longer than TLS allows is refused before buffering it', () => {
    const header = Buffer.from([23, 3, 3, 0xff, 0xff]);
    const sink = decode([{ dir: 's2c', data: header }], keyLogOf(''));
    expect(sink.problems.map((p) => p.message)).toEqual([
      'record of 65535 bytes exceeds the 18432-byte limit; TLS record framing lost, the rest of this direction is not decoded',
    ]);
  });

  test('TLS 1.3 lowers the limit to 2^14 + 256', () => {
    const conn = new SyntheticTls13();
    conn.raw('s2c', Buffer.concat([Buffer.from([23, 3, 3, 0x41, 0x01]), Buffer.alloc(16641)]));
    const sink = decode(conn.chunks, keyLogOf(conn.keylog()));
    expect(sink.problems.map((p) => p.message)).toEqual([
      'record of 16641 bytes exceeds the 16640-byte limit; TLS record framing lost, the rest of this direction is not decoded',
    ]);
  });

  test('a stream cut inside a record or a handshake message says so at end()', () => {
    const hello = record(22, clientHello({ random: Buffer.alloc(32, 3), sni: 'x' }));
    const firstHalf = record(22, hello.subarray(5, 20));
    const sink = decode(
      [
        { dir: 'c2s', data: firstHalf },
        { dir: 's2c', data: Buffer.from([22, 3, 3, 0, 50, 2]) },
      ],
      keyLogOf(''),
    );
    expect(sink.problems.map((p) => p.where + ': ' + p.message)).toEqual([
      `${WHERE} c2s: stream ends inside a handshake message (15 bytes)`,
      `${WHERE} s2c: stream ends inside a TLS record (6 of 55 bytes)`,
    ]);
  });

  test('a ClientHello truncated at any length is reported as malformed, never thrown', () => {
    const body = clientHello({ random: Buffer.alloc(32, 4), sni: 'host', alpn: ['h2'], versions: [0x0304], keyShareGroups: [29] }).subarray(4);
    // Cut right before the extensions it is a valid pre-TLS-1.3 ClientHello.
    const withoutExtensions = 2 + 32 + 1 + 2 + 2 + 1 + 1; // version, random, empty session id, one suite, one compression method
    for (let n = 0; n < body.length; n++) {
      const sink = decode([{ dir: 'c2s', data: record(22, handshakeMessage(1, body.subarray(0, n))) }], keyLogOf(''));
      if (n === withoutExtensions) {
        expect(sink.problems).toEqual([]);
        expect(sink.info?.clientRandom).toBe('04'.repeat(32));
      } else {
        expect(sink.problems).toHaveLength(1);
        expect(sink.problems[0].message).toMatch(/^malformed client_hello: /);
      }
    }
  });

  test('a huge handshake message is skipped without buffering, only its length is read', () => {
    const cert = handshakeMessage(11, Buffer.alloc(100000, 7));
    const chunks = [];
    for (let at = 0; at < cert.length; at += 16384) chunks.push({ dir: 's2c' as const, data: record(22, cert.subarray(at, at + 16384)) });
    const sink = decode(chunks, keyLogOf(''));
    expect(sink.problems).toEqual([]);
    expect(sink.records.s2c.at(-1)?.handshake).toEqual(['certificate']);
  });

  test('a ServerHello without a ClientHello cannot find keys', () => {
    const sink = decode([{ dir: 's2c', data: record(22, serverHello({ random: Buffer.alloc(32, 5), suite: 0x1301, version: 0x0304 })) }], keyLogOf(''));
    expect(sink.problems.map((p) => p.message)).toEqual(['ServerHello without a ClientHello: the client random is unknown, nothing can be decrypted']);
    expect(sink.info).toMatchObject({ version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256' });
  });

  test('TLS 1.2 without the ClientHello: ChangeCipherSpec and encrypted records pass undecrypted, never a crash', () => {
    const sink = decode(
      [
        { dir: 's2c', data: record(22, serverHello({ random: Buffer.alloc(32, 5), suite: 0xc02f })) },
        { dir: 'c2s', data: record(20, Buffer.from([1])) },
        { dir: 's2c', data: record(20, Buffer.from([1])) },
        { dir: 's2c', data: record(23, Buffer.alloc(40, 9)) },
      ],
      keyLogOf(''),
    );
    expect(sink.problems.map((p) => p.message)).toEqual(['ServerHello without a ClientHello: the client random is unknown, nothing can be decrypted']);
    expect(sink.plaintext('s2c').length).toBe(0);
  });
});

describe('suites and versions that are described but not decrypted', () => {
  const random = Buffer.alloc(32, 6);
  const hello = { dir: 'c2s' as const, data: record(22, clientHello({ random })) };
  const keys = keyLogOf(`CLIENT_RANDOM ${random.toString('hex')} ${'ab'.repeat(48)}\nCLIENT_TRAFFIC_SECRET_0 ${random.toString('hex')} ${'cd'.repeat(32)}`);

  test('TLS 1.2 CBC', () => {
    const chunks = [
      hello,
      { dir: 's2c' as const, data: Buffer.concat([record(22, serverHello({ random, suite: 0xc013 })), record(22, handshakeMessage(14, Buffer.alloc(0)))]) },
      { dir: 'c2s' as const, data: Buffer.concat([record(20, Buffer.from([1])), record(22, Buffer.alloc(64))]) },
    ];
    const sink = decode(chunks, keys);
    expect(sink.info).toMatchObject({ cipherSuite: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', keysFound: true, resumed: false });
    expect(sink.problems.map((p) => p.message)).toEqual([
      'cipher suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA is not decrypted (only AES-GCM and ChaCha20-Poly1305 suites are)',
    ]);
    expect(sink.records.c2s.at(-1)).toMatchObject({ encrypted: true, decrypted: false });
  });

  test('TLS 1.3 AES-CCM', () => {
    const sink = decode([hello, { dir: 's2c', data: record(22, serverHello({ random, suite: 0x1304, version: 0x0304 })) }], keys);
    expect(sink.problems.map((p) => p.message)).toEqual(['cipher suite TLS_AES_128_CCM_SHA256 is not decrypted (only AES-GCM and ChaCha20-Poly1305 suites are)']);
  });

  test('TLS 1.0', () => {
    const sh = serverHello({ random, suite: 0x002f });
    sh[5] = 1; // legacy_version 3.1
    const sink = decode([hello, { dir: 's2c', data: Buffer.concat([record(22, sh), record(20, Buffer.from([1])), record(22, Buffer.alloc(48))]) }], keys);
    expect(sink.info).toMatchObject({ version: 'TLS 1.0', cipherSuite: 'TLS_RSA_WITH_AES_128_CBC_SHA' });
    expect(sink.problems.map((p) => p.message)).toEqual(['TLS 1.0 is not decrypted (only TLS 1.2 and TLS 1.3 are)']);
  });
});

test('isTlsClientHello', () => {
  const hello = record(22, clientHello({ random: Buffer.alloc(32) }), 0x0301);
  expect(isTlsClientHello(hello.subarray(0, 6))).toBe(true);
  expect(isTlsClientHello(hello.subarray(0, 5))).toBe(false);
  expect(isTlsClientHello(record(22, serverHello({ random: Buffer.alloc(32), suite: 0x1301 })))).toBe(false);
  expect(isTlsClientHello(Buffer.from('GET / HTTP/1.1'))).toBe(false);
  expect(isTlsClientHello(Buffer.from([0x16, 0x03, 0x05, 0x00, 0x10, 0x01]))).toBe(false);
  expect(isTlsClientHello(Buffer.from([0x16, 0x03, 0x01, 0x50, 0x00, 0x01]))).toBe(false); // longer than a record may be
});
