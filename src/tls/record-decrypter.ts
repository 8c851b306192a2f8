/**
 * Opens the AEAD-protected records of one direction under one key (RFC 8446 §5.2–5.3, RFC 5246
 * §6.2.3.3 with RFC 5288 for AES-GCM and RFC 7905 for ChaCha20-Poly1305). The sequence number is
 * implicit: it counts records opened since the key was installed, so a lost record breaks the rest.
 */
import type { DecipherChaCha20Poly1305, DecipherGCM, KeyObject } from 'node:crypto';
import { nodeCrypto } from '../core/node-modules.js';
import { AEAD_TAG_LENGTH, type AeadAlgorithm } from './cipher-suites.js';
import type { RecordKeys } from './key-schedule.js';

const HEADER = 5;
/** TLS 1.2 AES-GCM records start with the 8-byte explicit part of the nonce. */
const GCM_EXPLICIT_NONCE = 8;
const TWO_32 = 2 ** 32;

function aeadDecipher(aead: AeadAlgorithm, key: KeyObject, nonce: Uint8Array): DecipherGCM | DecipherChaCha20Poly1305 {
  return aead === 'chacha20-poly1305'
    ? nodeCrypto().createDecipheriv(aead, key, nonce, { authTagLength: AEAD_TAG_LENGTH })
    : nodeCrypto().createDecipheriv(aead, key, nonce, { authTagLength: AEAD_TAG_LENGTH });
}

export class RecordDecrypter {
  private seq = 0;
  private readonly key: KeyObject;
  /** Reused per record: createDecipheriv and setAAD copy what they are given. */
  private readonly nonce = new Uint8Array(12);
  private readonly tls12Aad = new Uint8Array(13);
  private readonly explicitNonce: number;

  constructor(
    private readonly aead: AeadAlgorithm,
    private readonly tls13: boolean,
    private readonly keys: RecordKeys,
  ) {
    this.key = nodeCrypto().createSecretKey(keys.key);
    this.explicitNonce = !tls13 && aead !== 'chacha20-poly1305' ? GCM_EXPLICIT_NONCE : 0;
    if (this.explicitNonce) this.nonce.set(keys.iv.subarray(0, 4));
  }

  /** Sequence number of the next record to open. */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * Opens one whole record (header included) and returns its plaintext — for TLS 1.3 still with the
   * inner content type and padding. Returns null when it does not authenticate (wrong key, wrong
   * sequence number, tampered or too short); only a record that opens consumes a sequence number.
   */
  open(record: Uint8Array): Uint8Array | null {
    const body = record.length - HEADER - this.explicitNonce - AEAD_TAG_LENGTH;
    if (body < 0) return null;
    if (this.explicitNonce) this.nonce.set(record.subarray(HEADER, HEADER + GCM_EXPLICIT_NONCE), 4);
    else this.xorSequenceIntoNonce();
    const decipher = aeadDecipher(this.aead, this.key, this.nonce);
    if (this.tls13) decipher.setAAD(record.subarray(0, HEADER), { plaintextLength: body });
    else decipher.setAAD(this.tls12AdditionalData(record, body), { plaintextLength: body });
    decipher.setAuthTag(record.subarray(record.length - AEAD_TAG_LENGTH));
    const plaintext = decipher.update(record.subarray(HEADER + this.explicitNonce, record.length - AEAD_TAG_LENGTH));
    try {
      decipher.final();
    } catch {
      return null;
    }
    this.seq++;
    return plaintext;
  }

  private xorSequenceIntoNonce(): void {
    const iv = this.keys.iv;
    const high = Math.floor(this.seq / TWO_32);
    const low = this.seq >>> 0;
    for (let i = 0; i < 4; i++) this.nonce[i] = iv[i];
    for (let i = 0; i < 4; i++) this.nonce[4 + i] = iv[4 + i] ^ ((high >>> (24 - 8 * i)) & 0xff);
    for (let i = 0; i < 4; i++) this.nonce[8 + i] = iv[8 + i] ^ ((low >>> (24 - 8 * i)) & 0xff);
  }

  /** seq_num(8) ‖ type ‖ version ‖ plaintext length. */
  private tls12AdditionalData(record: Uint8Array, plaintextLength: number): Uint8Array {
    const aad = this.tls12Aad;
    const high = Math.floor(this.seq / TWO_32);
    const low = this.seq >>> 0;
    for (let i = 0; i < 4; i++) aad[i] = (high >>> (24 - 8 * i)) & 0xff;
    for (let i = 0; i < 4; i++) aad[4 + i] = (low >>> (24 - 8 * i)) & 0xff;
    aad[8] = record[0];
    aad[9] = record[1];
    aad[10] = record[2];
    aad[11] = plaintextLength >> 8;
    aad[12] = plaintextLength & 0xff;
    return aad;
  }
}
