/**
 * Record keys from logged secrets: TLS 1.3 traffic secrets through HKDF-Expand-Label (RFC 8446 §7),
 * TLS 1.2 master secrets through the PRF key expansion (RFC 5246 §6.3, RFC 5288, RFC 7905).
 */
import { nodeCrypto } from '../core/node-modules.js';
import { aeadKeyLength, type CipherSuite, type AeadAlgorithm } from './cipher-suites.js';

export interface RecordKeys {
  key: Uint8Array;
  /** TLS 1.3 and ChaCha20: the 12-byte IV XORed with the sequence number; TLS 1.2 GCM: the 4-byte salt. */
  iv: Uint8Array;
}

const hashLength = (hash: CipherSuite['hash']): number => (hash === 'sha256' ? 32 : 48);

function hkdfExpand(hash: CipherSuite['hash'], prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let block: Uint8Array = new Uint8Array(0);
  for (let counter = 1, filled = 0; filled < length; counter++) {
    block = nodeCrypto().createHmac(hash, prk).update(block).update(info).update(Uint8Array.of(counter)).digest();
    out.set(block.subarray(0, length - filled), filled);
    filled += block.length;
  }
  return out;
}

export function hkdfExpandLabel(hash: CipherSuite['hash'], secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length);
  info[0] = length >> 8;
  info[1] = length & 0xff;
  info[2] = fullLabel.length;
  info.set(fullLabel, 3);
  info[3 + fullLabel.length] = context.length;
  info.set(context, 4 + fullLabel.length);
  return hkdfExpand(hash, secret, info, length);
}

export function tls13RecordKeys(aead: AeadAlgorithm, hash: CipherSuite['hash'], trafficSecret: Uint8Array): RecordKeys {
  const none = new Uint8Array(0);
  return {
    key: hkdfExpandLabel(hash, trafficSecret, 'key', none, aeadKeyLength(aead)),
    iv: hkdfExpandLabel(hash, trafficSecret, 'iv', none, 12),
  };
}

/** The traffic secret after a KeyUpdate (RFC 8446 §7.2). */
export function tls13NextTrafficSecret(hash: CipherSuite['hash'], trafficSecret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, trafficSecret, 'traffic upd', new Uint8Array(0), hashLength(hash));
}

/** P_hash of RFC 5246 §5 with the suite's hash (SHA-256 unless the suite says SHA384). */
export function tls12Prf(hash: CipherSuite['hash'], secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out = new Uint8Array(length);
  let a: Uint8Array = labelSeed;
  for (let filled = 0; filled < length; ) {
    a = nodeCrypto().createHmac(hash, secret).update(a).digest();
    const block = nodeCrypto().createHmac(hash, secret).update(a).update(labelSeed).digest();
    out.set(block.subarray(0, length - filled), filled);
    filled += block.length;
  }
  return out;
}

/** Client and server write keys of an AEAD suite: the key block has no MAC keys, then the keys, then the IVs. */
export function tls12RecordKeys(
  aead: AeadAlgorithm,
  hash: CipherSuite['hash'],
  masterSecret: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
): { client: RecordKeys; server: RecordKeys } {
  const keyLength = aeadKeyLength(aead);
  const ivLength = aead === 'chacha20-poly1305' ? 12 : 4;
  const seed = Buffer.concat([serverRandom, clientRandom]);
  const block = tls12Prf(hash, masterSecret, 'key expansion', seed, 2 * (keyLength + ivLength));
  return {
    client: { key: block.subarray(0, keyLength), iv: block.subarray(2 * keyLength, 2 * keyLength + ivLength) },
    server: { key: block.subarray(keyLength, 2 * keyLength), iv: block.subarray(2 * keyLength + ivLength) },
  };
}
