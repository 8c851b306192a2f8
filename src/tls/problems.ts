import { defineProblems } from '../core/problem.js';

export type TlsProblemCode = Parameters<typeof tlsProblem>[0];

/** Problems of TLS records, handshakes and decryption (offsets are TCP stream offsets). */
export const tlsProblem = defineProblems('tls', {
  /** Lost bytes: record boundaries and sequence numbers are gone, the direction stops. */
  gap: 'error',
  'malformed-record': 'warning',
  'malformed-handshake': 'warning',
  truncated: 'warning',
  'no-client-hello': 'warning',
  'no-keys': 'note',
  'wrong-keys': 'error',
  'partial-keys': 'warning',
  /** A version or cipher suite execscope does not decrypt. */
  'not-decryptable': 'warning',
  'early-data': 'note',
  'cleartext-data': 'warning',
  alert: 'warning',
  'malformed-key-log': 'warning',
});
