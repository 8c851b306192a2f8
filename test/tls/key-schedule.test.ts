import { hkdfExpandLabel, tls12Prf, tls12RecordKeys, tls13NextTrafficSecret, tls13RecordKeys } from '../../src/tls/key-schedule.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s/g, ''), 'hex');

test('TLS 1.3 handshake keys of RFC 8448 §3 (simple 1-RTT handshake)', () => {
  const serverHandshakeSecret = bytes('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38');
  const keys = tls13RecordKeys('aes-128-gcm', 'sha256', serverHandshakeSecret);
  expect(hex(keys.key)).toBe('3fce516009c21727d0f2e4e86ee403bc');
  expect(hex(keys.iv)).toBe('5d313eb2671276ee13000b30');
});

test('HKDF-Expand-Label longer than one hash block', () => {
  const secret = Buffer.alloc(32, 9);
  const long = hkdfExpandLabel('sha256', secret, 'key', new Uint8Array(0), 80);
  expect(long).toHaveLength(80);
  // The label encodes the length, so a shorter output is not a prefix of a longer one.
  expect(hex(hkdfExpandLabel('sha256', secret, 'key', new Uint8Array(0), 32))).not.toBe(hex(long.subarray(0, 32)));
});

test('KeyUpdate: next secret = HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)', () => {
  const secret = Buffer.alloc(48, 3);
  expect(hex(tls13NextTrafficSecret('sha384', secret))).toBe(hex(hkdfExpandLabel('sha384', secret, 'traffic upd', new Uint8Array(0), 48)));
  expect(tls13NextTrafficSecret('sha256', Buffer.alloc(32, 3))).toHaveLength(32);
});

test('TLS 1.2 PRF with SHA-256 (the published P_SHA256 test vector)', () => {
  const out = tls12Prf('sha256', bytes('9bbe436ba940f017b17652849a71db35'), 'test label', bytes('a0ba9f936cda311827a6f796ffd5198c'), 100);
  expect(hex(out)).toBe(
    'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
  );
});

test('TLS 1.2 key block layout: client key, server key, client IV, server IV (no MAC keys for AEAD)', () => {
  const master = Buffer.alloc(48, 1);
  const client = Buffer.alloc(32, 2);
  const server = Buffer.alloc(32, 3);
  const block = tls12Prf('sha384', master, 'key expansion', Buffer.concat([server, client]), 2 * 32 + 2 * 4);
  const gcm = tls12RecordKeys('aes-256-gcm', 'sha384', master, client, server);
  expect(hex(gcm.client.key)).toBe(hex(block.subarray(0, 32)));
  expect(hex(gcm.server.key)).toBe(hex(block.subarray(32, 64)));
  expect(hex(gcm.client.iv)).toBe(hex(block.subarray(64, 68)));
  expect(hex(gcm.server.iv)).toBe(hex(block.subarray(68, 72)));
  const chacha = tls12RecordKeys('chacha20-poly1305', 'sha256', master, client, server);
  expect(chacha.client.iv).toHaveLength(12);
  expect(chacha.server.iv).toHaveLength(12);
});
