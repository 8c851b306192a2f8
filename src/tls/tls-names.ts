/** Display names for TLS registry values (RFC 8446 §B, RFC 5246 §A, IANA TLS parameters). */

export const ContentType = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
  heartbeat: 24,
} as const;

export const HandshakeType = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  newSessionTicket: 4,
  endOfEarlyData: 5,
  encryptedExtensions: 8,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  clientKeyExchange: 16,
  finished: 20,
  keyUpdate: 24,
} as const;

const CONTENT_TYPE_NAMES: Record<number, string> = {
  20: 'change_cipher_spec',
  21: 'alert',
  22: 'handshake',
  23: 'application_data',
  24: 'heartbeat',
};

const HANDSHAKE_TYPE_NAMES: Record<number, string> = {
  0: 'hello_request',
  1: 'client_hello',
  2: 'server_hello',
  3: 'hello_verify_request',
  4: 'new_session_ticket',
  5: 'end_of_early_data',
  8: 'encrypted_extensions',
  11: 'certificate',
  12: 'server_key_exchange',
  13: 'certificate_request',
  14: 'server_hello_done',
  15: 'certificate_verify',
  16: 'client_key_exchange',
  20: 'finished',
  21: 'certificate_url',
  22: 'certificate_status',
  24: 'key_update',
  254: 'message_hash',
};

const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  111: 'certificate_unobtainable',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

function named(table: Record<number, string>, value: number): string {
  return table[value] ?? `unknown(${value})`;
}

export const contentTypeName = (type: number): string => named(CONTENT_TYPE_NAMES, type);
export const handshakeTypeName = (type: number): string => named(HANDSHAKE_TYPE_NAMES, type);
export const alertDescriptionName = (description: number): string => named(ALERT_NAMES, description);
export const alertLevelName = (level: number): string => (level === 1 ? 'warning' : level === 2 ? 'fatal' : `level(${level})`);

/** "TLS 1.2" for 0x0303, "SSL 3.0" for 0x0300; anything else as hex. */
export function tlsVersionName(version: number): string {
  if (version === 0x0300) return 'SSL 3.0';
  if (version >= 0x0301 && version <= 0x0304) return `TLS 1.${version - 0x0301}`;
  return `0x${version.toString(16).padStart(4, '0')}`;
}
