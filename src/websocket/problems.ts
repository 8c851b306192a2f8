import { defineProblems } from '../core/problem.js';

export type WebSocketProblemCode = Parameters<typeof webSocketProblem>[0];

/** Problems of WebSocket framing (RFC 6455, 7692) and the k8s channel protocols on top. */
export const webSocketProblem = defineProblems('websocket', {
  /** The 101 does not answer the request as RFC 6455 §4 and RFC 7692 require (Accept, subprotocol, window bits). */
  handshake: 'warning',
  'reserved-opcode': 'warning',
  /** RSV bits without the extension that defines them (RFC 6455 §5.2). */
  'rsv-unnegotiated': 'warning',
  'fragmented-control': 'warning',
  'control-too-long': 'warning',
  masking: 'warning',
  'non-minimal-length': 'note',
  truncated: 'warning',
  gap: 'warning',
  resync: 'warning',
  'after-end': 'warning',
  'after-close': 'warning',
  'orphan-continuation': 'warning',
  'abandoned-message': 'warning',
  'invalid-utf8': 'warning',
  inflate: 'error',
  'malformed-close': 'warning',
  // the k8s channel protocols (*.channel.k8s.io)
  'unknown-subprotocol': 'warning',
  'wrong-message-type': 'warning',
  'invalid-base64': 'warning',
  'unknown-channel': 'warning',
  'empty-message': 'warning',
  'channel-lost': 'warning',
  'malformed-close-signal': 'warning',
  'truncated-port-prefix': 'warning',
});
