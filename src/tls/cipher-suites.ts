/**
 * Cipher suites by IANA id. Only AEAD suites with AES-GCM or ChaCha20-Poly1305 are decryptable
 * (that is all of TLS 1.3 in practice and every modern TLS 1.2 ECDHE suite); the others are named
 * so a connection that uses one can still be described.
 */
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

export interface CipherSuite {
  id: number;
  /** IANA name, e.g. TLS_AES_128_GCM_SHA256; "0xc0ff" when unknown. */
  name: string;
  /** Set when records protected by this suite can be decrypted. */
  aead?: AeadAlgorithm;
  /** Hash of the TLS 1.3 key schedule / TLS 1.2 PRF. */
  hash: 'sha256' | 'sha384';
}

export const AEAD_TAG_LENGTH = 16;

export function aeadKeyLength(aead: AeadAlgorithm): number {
  return aead === 'aes-128-gcm' ? 16 : 32;
}

const SUITES: CipherSuite[] = [
  { id: 0x1301, name: 'TLS_AES_128_GCM_SHA256', aead: 'aes-128-gcm', hash: 'sha256' },
  { id: 0x1302, name: 'TLS_AES_256_GCM_SHA384', aead: 'aes-256-gcm', hash: 'sha384' },
  { id: 0x1303, name: 'TLS_CHACHA20_POLY1305_SHA256', aead: 'chacha20-poly1305', hash: 'sha256' },
  { id: 0x1304, name: 'TLS_AES_128_CCM_SHA256', hash: 'sha256' },
  { id: 0x1305, name: 'TLS_AES_128_CCM_8_SHA256', hash: 'sha256' },
  { id: 0xc02b, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', aead: 'aes-128-gcm', hash: 'sha256' },
  { id: 0xc02c, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', aead: 'aes-256-gcm', hash: 'sha384' },
  { id: 0xc02f, name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', aead: 'aes-128-gcm', hash: 'sha256' },
  { id: 0xc030, name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', aead: 'aes-256-gcm', hash: 'sha384' },
  { id: 0xcca8, name: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', aead: 'chacha20-poly1305', hash: 'sha256' },
  { id: 0xcca9, name: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', aead: 'chacha20-poly1305', hash: 'sha256' },
  { id: 0xccaa, name: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', aead: 'chacha20-poly1305', hash: 'sha256' },
  { id: 0x009c, name: 'TLS_RSA_WITH_AES_128_GCM_SHA256', aead: 'aes-128-gcm', hash: 'sha256' },
  { id: 0x009d, name: 'TLS_RSA_WITH_AES_256_GCM_SHA384', aead: 'aes-256-gcm', hash: 'sha384' },
  { id: 0x009e, name: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', aead: 'aes-128-gcm', hash: 'sha256' },
  { id: 0x009f, name: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', aead: 'aes-256-gcm', hash: 'sha384' },
  { id: 0x002f, name: 'TLS_RSA_WITH_AES_128_CBC_SHA', hash: 'sha256' },
  { id: 0x0035, name: 'TLS_RSA_WITH_AES_256_CBC_SHA', hash: 'sha256' },
  { id: 0x003c, name: 'TLS_RSA_WITH_AES_128_CBC_SHA256', hash: 'sha256' },
  { id: 0x003d, name: 'TLS_RSA_WITH_AES_256_CBC_SHA256', hash: 'sha256' },
  { id: 0xc009, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', hash: 'sha256' },
  { id: 0xc00a, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', hash: 'sha256' },
  { id: 0xc013, name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', hash: 'sha256' },
  { id: 0xc014, name: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', hash: 'sha256' },
  { id: 0xc023, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', hash: 'sha256' },
  { id: 0xc024, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', hash: 'sha384' },
  { id: 0xc027, name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', hash: 'sha256' },
  { id: 0xc028, name: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', hash: 'sha384' },
];

const BY_ID = new Map(SUITES.map((s) => [s.id, s]));

export function cipherSuite(id: number): CipherSuite {
  return BY_ID.get(id) ?? { id, name: `0x${id.toString(16).padStart(4, '0')}`, hash: 'sha256' };
}
