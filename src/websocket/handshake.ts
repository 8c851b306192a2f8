/**
 * The opening handshake (RFC 6455 §4): the Sec-WebSocket-Accept a server owes the client's key, and
 * what an observer can check of a 101 against its request. The lab's servers answer with
 * webSocketAccept; the pipeline checks every upgrade it sees with checkWebSocketHandshake.
 */
import { nodeCrypto } from '../core/node-modules.js';
import type { Problem } from '../core/problem.js';
import { parsePerMessageDeflate } from './permessage-deflate.js';
import { webSocketProblem } from './problems.js';

/** RFC 6455 §1.3: the GUID every server appends to the client's key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** base64(SHA-1(key + GUID)): the only Sec-WebSocket-Accept a server may answer `key` with. */
export function webSocketAccept(key: string): string {
  return nodeCrypto().createHash('sha1').update(key.trim() + WEBSOCKET_GUID).digest('base64');
}

export interface WebSocketHandshake {
  /** Sec-WebSocket-Key of the request. */
  key: string | undefined;
  /** Sec-WebSocket-Protocol values the client offered. */
  offeredProtocols: string[];
  /** Sec-WebSocket-Accept of the 101. */
  accept: string | undefined;
  /** Sec-WebSocket-Protocol of the 101 ('' when none). */
  protocol: string;
  /** Sec-WebSocket-Extensions of the 101. */
  extensions: string | undefined;
}

/** permessage-deflate window sizes are 8 to 15 bits (RFC 7692 §7.1.2). */
function badWindowBits(bits: number | undefined): boolean {
  return bits !== undefined && !(Number.isInteger(bits) && bits >= 8 && bits <= 15);
}

/**
 * What the 101 got wrong: an Accept that does not answer the key (a client must fail the connection,
 * RFC 6455 §4.1), a subprotocol the client never offered, a permessage-deflate window out of range.
 * The bytes that follow are decoded all the same: the capture shows what was sent.
 */
export function checkWebSocketHandshake(h: WebSocketHandshake): Problem[] {
  const problems: Problem[] = [];
  if (h.key !== undefined) {
    const expected = webSocketAccept(h.key);
    if (h.accept === undefined) problems.push(webSocketProblem('handshake', 'the 101 has no Sec-WebSocket-Accept (a client must fail the connection, RFC 6455 §4.1)'));
    else if (h.accept.trim() !== expected) problems.push(webSocketProblem('handshake', `Sec-WebSocket-Accept "${h.accept}" does not answer the client's key (expected "${expected}", RFC 6455 §4.2.2)`));
  }
  if (h.protocol && !h.offeredProtocols.includes(h.protocol)) {
    problems.push(webSocketProblem('handshake', `the 101 selects subprotocol "${h.protocol}", which the client did not offer`));
  }
  const deflate = parsePerMessageDeflate(h.extensions);
  if (deflate && (badWindowBits(deflate.serverMaxWindowBits) || badWindowBits(deflate.clientMaxWindowBits))) {
    problems.push(webSocketProblem('handshake', `permessage-deflate window bits out of range 8–15 in "${h.extensions}" (RFC 7692 §7.1.2)`));
  }
  return problems;
}
