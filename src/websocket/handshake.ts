/**
 * The opening handshake (RFC 6455 §4): the Sec-WebSocket-Accept a server owes the client's key, and
 * what an observer can check of a 101 against its request. The lab's servers answer with
 * webSocketAccept; the pipeline checks every upgrade it sees with checkWebSocketHandshake.
 */
import type { Problem } from '../core/problem.js';
import { parsePerMessageDeflate } from './permessage-deflate.js';
import { webSocketProblem } from './problems.js';

/** RFC 6455 §1.3: the GUID every server appends to the client's key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** base64(SHA-1(key + GUID)): the only Sec-WebSocket-Accept a server may answer `key` with. */
export function webSocketAccept(key: string): string {
  return Buffer.from(sha1(Buffer.from(key.trim() + WEBSOCKET_GUID, 'utf8'))).toString('base64');
}

/**
 * A message padded to whole blocks and the message schedule, reused by every digest: a key and the GUID
 * fit two blocks (60 bytes for the 24 characters of a base64 16-byte key), and each typed array over 64
 * bytes is a separate allocation outside V8's heap (~1 µs, and a tracked buffer for the collector),
 * two of them each WebSocket session checked. Digests run one at a time to completion.
 */
const paddedScratch = new Uint8Array(128);
const paddedScratchView = new DataView(paddedScratch.buffer);
const schedule = new Int32Array(80);

/**
 * SHA-1 (FIPS 180-4) of `message`. Checking an upgrade's accept key is all the analyzer hashes with
 * SHA-1, and loading Node's crypto for it cost each run with a WebSocket upgrade (kubectl's exec)
 * ~15 M instructions of its start (callgrind, `node -e "require('node:crypto')"` against `node -e
 * 0`), against ~0.1 M for the one block here.
 */
function sha1(message: Uint8Array): Uint8Array {
  // The message, a 1 bit, zeros, and its length in bits as 64 bits: a whole number of 64-byte blocks.
  const size = Math.ceil((message.length + 9) / 64) * 64;
  const fits = size <= paddedScratch.length;
  const padded = fits ? paddedScratch.fill(0, 0, size) : new Uint8Array(size);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = fits ? paddedScratchView : new DataView(padded.buffer);
  const bits = message.length * 8;
  view.setUint32(size - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(size - 4, bits >>> 0);
  const h = Int32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0);
  const w = schedule;
  for (let block = 0; block < size; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(block + 4 * i);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    for (let i = 0; i < 80; i++) {
      let f: number;
      if (i < 20) f = ((b & c) | (~b & d)) + 0x5a827999;
      else if (i < 40) f = (b ^ c ^ d) + 0x6ed9eba1;
      else if (i < 60) f = ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc;
      else f = (b ^ c ^ d) + 0xca62c1d6;
      // Sums of a few 32-bit values stay exact in a double; | 0 takes them modulo 2^32.
      const t = (((a << 5) | (a >>> 27)) + f + e + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
  }
  const digest = new Uint8Array(20);
  const out = new DataView(digest.buffer);
  for (let i = 0; i < 5; i++) out.setInt32(4 * i, h[i]!);
  return digest;
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
