/**
 * Blanks credentials out of the copy of a connection's bytes that a tap records (never out of the
 * bytes it relays). Every credential byte becomes `*`, so lengths, offsets and TCP sequence numbers in
 * the recording stay true and every frame still parses.
 *
 * HTTP/1.x is followed message by message with the http layer's head parser and body framing:
 * `Authorization` and `Proxy-Authorization` values (the scheme word is kept: `Bearer ****`),
 * `Cookie`, `Set-Cookie`, docker's `X-Registry-Auth`/`X-Registry-Config`, and the bearer token
 * Kubernetes accepts inside `Sec-WebSocket-Protocol` (`base64url.bearer.authorization.k8s.io.…`). A
 * head is held until it is complete (at most 64 KiB); what a client sends after an upgrade request
 * is held until the answer says whether it is upgraded data or a next request. Anything that is not
 * HTTP/1.x (TLS, HTTP/2, gRPC, upgraded streams) passes as it is.
 *
 * Known secrets (a kubeconfig's token, say) are blanked wherever they appear, in any protocol; a
 * chunk's tail is held only while it could be the start of one. Held bytes keep their place: what the
 * other side sends meanwhile is recorded after them, so the recording keeps the order the tap relayed
 * in (a SPDY SYN_STREAM whose last byte happened to start the token was once recorded after its
 * SYN_REPLY, and the session decoded with a stream the client had not opened). Sans-IO: fed bytes,
 * returns the bytes to record, in order.
 */
import { HttpBodyDecoder, type BodyPieceHandler } from '../http/body-decoder.js';
import { isUpgradeRequest, parseRequestHead, parseResponseHead, startLooksLikeHttp, type HttpRequestHead } from '../http/http-head.js';
import { LineCollector, NEED_MORE, TOO_LONG } from '../http/line-collector.js';
import { requestBodyFraming, responseBodyFraming } from '../http/message-framing.js';
import type { Direction, FrameOrigin } from '../core/origin.js';

/**
 * A copy the redactor may blank in place. The relayed chunks are Buffers, whose slice() is a view, and
 * the head collector hands back a view of the chunk when a head arrives whole: blanking such a view
 * would blank the bytes the tap forwards.
 */
const copyOf = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

export interface RecordedPiece {
  dir: Direction;
  bytes: Uint8Array;
}

const FILLER = 0x2a; // '*'
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_TRAILER_BYTES = 64 * 1024;
/** Client bytes held after an upgrade request while its answer is awaited. */
const MAX_HELD_BYTES = 1024 * 1024;
/** Bytes decided behind a secret's possible start: past this the start is recorded blanked, so memory stays bounded. */
const MAX_BYTES_BEHIND_SECRET_START = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;

/** Header fields whose whole value is a credential; those marked true keep their leading scheme word. */
const SECRET_FIELDS = new Map<string, boolean>([
  ['authorization', true],
  ['proxy-authorization', true],
  ['cookie', false],
  ['set-cookie', false],
  ['x-registry-auth', false],
  ['x-registry-config', false],
]);
const WEBSOCKET_BEARER_PREFIX = 'base64url.bearer.authorization.k8s.io.';
const NO_ORIGIN: FrameOrigin = { offset: 0, length: 0, packet: 0, ts: 0, lastPacket: 0, lastTs: 0 };

type Mode = 'message' | 'body' | 'held' | 'opaque';

/** The decoder only finds where a body ends here: its bytes are forwarded as they came. */
const IGNORED_PIECES: BodyPieceHandler = { bodyPiece() {} };

class Side {
  mode: Mode = 'message';
  readonly head = new LineCollector(MAX_HEAD_BYTES, true);
  readonly body = new HttpBodyDecoder(IGNORED_PIECES, MAX_TRAILER_BYTES);
  /** The message just read was an upgrade request: after its body the client waits for the answer. */
  upgradeRequested = false;
  held: Uint8Array[] = [];
  heldBytes = 0;
  constructor(readonly dir: Direction) {}
}

/** Bytes in the order they were relayed; `bytes` is null while they may be the start of a known secret. */
interface OrderedPiece {
  dir: Direction;
  bytes: Uint8Array | null;
  length: number;
}

export class CredentialRedactor {
  private readonly c2s = new Side('c2s');
  private readonly s2c = new Side('s2c');
  /** Requests not yet answered with a final response, oldest first. */
  private readonly requests: HttpRequestHead[] = [];
  private readonly secrets: LiteralSecrets;
  private out: RecordedPiece[] = [];
  /** From the first piece held by the secret check on: the pieces of both directions in relay order. */
  private ordered: OrderedPiece[] = [];
  /** Bytes in `ordered` already decided, waiting for a held piece before them. */
  private decidedBehindHeld = 0;

  constructor(options: { secrets?: readonly string[] } = {}) {
    this.secrets = new LiteralSecrets(options.secrets ?? []);
  }

  /** Bytes `dir`'s sender sent; returns what to record now (possibly bytes held earlier, possibly nothing yet). */
  push(dir: Direction, bytes: Uint8Array): RecordedPiece[] {
    this.consume(this.side(dir), bytes);
    return this.take();
  }

  /** `dir`'s sender will send no more (FIN, RST, the tap stopping): everything held for it is returned. */
  finish(dir: Direction): RecordedPiece[] {
    const side = this.side(dir);
    if (side.mode === 'held') this.release(side, 'message');
    if (side.head.length > 0) {
      const partial = copyOf(side.head.bytes());
      side.head.reset();
      blankSecretFields(partial);
      this.emit(dir, partial);
    }
    side.mode = 'opaque';
    this.decide(dir, this.secrets.flush(dir));
    return this.take();
  }

  private take(): RecordedPiece[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private side(dir: Direction): Side {
    return dir === 'c2s' ? this.c2s : this.s2c;
  }

  private emit(dir: Direction, bytes: Uint8Array): void {
    if (!bytes.length) return;
    if (!this.secrets.any) {
      this.out.push({ dir, bytes });
      return;
    }
    this.ordered.push({ dir, bytes: null, length: bytes.length });
    this.decide(dir, this.secrets.filter(dir, bytes));
  }

  /**
   * `decided`: the secret check's verdict on `dir`'s oldest undecided bytes (as long as they are or
   * shorter). It fills their places; what is decided from the front on is recorded.
   */
  private decide(dir: Direction, decided: Uint8Array): void {
    let at = 0;
    for (let i = 0; i < this.ordered.length && at < decided.length; i++) {
      const piece = this.ordered[i];
      if (piece.dir !== dir || piece.bytes) continue;
      const n = Math.min(piece.length, decided.length - at);
      if (n === piece.length) {
        piece.bytes = decided.subarray(at, at + n);
      } else {
        this.ordered.splice(i++, 0, { dir, bytes: decided.subarray(at, at + n), length: n });
        piece.length -= n;
      }
      this.decidedBehindHeld += n;
      at += n;
    }
    let released = 0;
    for (; released < this.ordered.length && this.ordered[released].bytes; released++) {
      const piece = this.ordered[released];
      this.decidedBehindHeld -= piece.length;
      if (piece.length) this.out.push({ dir: piece.dir, bytes: piece.bytes! });
    }
    this.ordered.splice(0, released);
    const held = this.ordered[0];
    if (held && this.decidedBehindHeld > MAX_BYTES_BEHIND_SECRET_START) this.decide(held.dir, this.secrets.blankHeld(held.dir));
  }

  private consume(side: Side, data: Uint8Array): void {
    let i = 0;
    while (i < data.length) {
      switch (side.mode) {
        case 'opaque':
          this.emit(side.dir, data.subarray(i));
          return;
        case 'held':
          if (side.heldBytes + data.length - i > MAX_HELD_BYTES) {
            this.release(side, 'opaque');
            continue;
          }
          side.held.push(copyOf(data.subarray(i)));
          side.heldBytes += data.length - i;
          return;
        case 'body': {
          const end = side.body.push(data, i);
          this.emit(side.dir, data.subarray(i, end));
          i = end;
          if (side.body.failed) side.mode = 'opaque';
          else if (side.body.done) this.messageDone(side);
          break;
        }
        case 'message':
          i = this.readHead(side, data, i);
          break;
      }
    }
  }

  private readHead(side: Side, data: Uint8Array, start: number): number {
    const end = side.head.feed(data, start);
    const collected = end === TOO_LONG ? concat(side.head.bytes(), data.subarray(start)) : side.head.bytes();
    const verdict = end === TOO_LONG ? false : startLooksLikeHttp(side.dir === 'c2s' ? 'request' : 'response', collected);
    if (verdict === false) {
      // Not HTTP/1.x (or a head too long to be one): recorded as it is from here on.
      const bytes = copyOf(collected);
      side.head.reset();
      side.mode = 'opaque';
      this.emit(side.dir, bytes);
      return end === TOO_LONG || end === NEED_MORE ? data.length : end;
    }
    if (end === NEED_MORE) return data.length;
    const head = copyOf(collected);
    side.head.reset();
    blankSecretFields(head);
    this.emit(side.dir, head);
    if (side.dir === 'c2s') this.request(side, head);
    else this.response(side, head);
    return end;
  }

  private request(side: Side, head: Uint8Array): void {
    const parsed = parseRequestHead(head, NO_ORIGIN);
    const framing = 'head' in parsed ? requestBodyFraming(parsed.head) : parsed;
    if (!('head' in parsed) || !('framing' in framing)) {
      side.mode = 'opaque';
      return;
    }
    this.requests.push(parsed.head);
    side.upgradeRequested = isUpgradeRequest(parsed.head) || parsed.head.method === 'CONNECT';
    side.body.start(framing.framing);
    side.mode = 'body';
    if (side.body.done) this.messageDone(side);
  }

  private response(side: Side, head: Uint8Array): void {
    const parsed = parseResponseHead(head, NO_ORIGIN);
    if (!('head' in parsed)) {
      side.mode = 'opaque';
      return;
    }
    const res = parsed.head;
    const req = this.requests[0];
    const switched = (res.status === 101 && req !== undefined && isUpgradeRequest(req)) || (req?.method === 'CONNECT' && res.status >= 200 && res.status < 300);
    if (switched) {
      // Both directions carry the new protocol from here: nothing more to parse.
      side.mode = 'opaque';
      this.requests.length = 0;
      this.release(this.c2s, 'opaque');
      return;
    }
    if (res.status >= 100 && res.status < 200) return; // interim: the final response follows
    this.requests.shift();
    if (req && (isUpgradeRequest(req) || req.method === 'CONNECT') && this.c2s.mode === 'held') this.release(this.c2s, 'message');
    const framing = responseBodyFraming(res, req);
    if (!('framing' in framing)) {
      side.mode = 'opaque';
      return;
    }
    side.body.start(framing.framing);
    side.mode = 'body';
    if (side.body.done) this.messageDone(side);
  }

  private messageDone(side: Side): void {
    side.mode = side.upgradeRequested ? 'held' : 'message';
    side.upgradeRequested = false;
  }

  /** Ends holding: the held bytes are read again in `mode`. */
  private release(side: Side, mode: Mode): void {
    const held = side.held;
    side.held = [];
    side.heldBytes = 0;
    side.mode = mode;
    for (const chunk of held) this.consume(side, chunk);
  }
}

/** Blanks the values of credential fields in an HTTP head (or the part of one that arrived), in place. */
export function blankSecretFields(head: Uint8Array): void {
  let lineStart = head.indexOf(LF) + 1; // the request or status line holds no field
  if (lineStart === 0) return;
  let inSecret: 'whole' | 'none' = 'none';
  while (lineStart < head.length) {
    let lineEnd = head.indexOf(LF, lineStart);
    if (lineEnd === -1) lineEnd = head.length;
    const valueEnd = lineEnd > lineStart && head[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    const first = head[lineStart];
    if (first === SP || first === HT) {
      // An obs-fold continuation belongs to the field above it.
      if (inSecret === 'whole') head.fill(FILLER, skipSpace(head, lineStart, valueEnd), valueEnd);
    } else {
      inSecret = 'none';
      const colon = head.indexOf(0x3a, lineStart);
      if (colon > lineStart && colon < valueEnd) {
        const name = latin1(head, lineStart, colon).trim().toLowerCase();
        const valueStart = skipSpace(head, colon + 1, valueEnd);
        const keepScheme = SECRET_FIELDS.get(name);
        if (keepScheme !== undefined) {
          inSecret = 'whole';
          let from = valueStart;
          if (keepScheme) {
            const space = head.indexOf(SP, valueStart);
            if (space !== -1 && space < valueEnd) from = skipSpace(head, space, valueEnd);
          }
          head.fill(FILLER, from, valueEnd);
        } else if (name === 'sec-websocket-protocol') {
          blankWebSocketBearer(head, valueStart, valueEnd);
        }
      }
    }
    lineStart = lineEnd + 1;
  }
}

function blankWebSocketBearer(head: Uint8Array, from: number, to: number): void {
  const value = latin1(head, from, to);
  let at = value.indexOf(WEBSOCKET_BEARER_PREFIX);
  while (at !== -1) {
    const tokenStart = at + WEBSOCKET_BEARER_PREFIX.length;
    let tokenEnd = value.indexOf(',', tokenStart);
    if (tokenEnd === -1) tokenEnd = value.length;
    head.fill(FILLER, from + tokenStart, from + value.slice(0, tokenEnd).trimEnd().length);
    at = value.indexOf(WEBSOCKET_BEARER_PREFIX, tokenEnd);
  }
}

function skipSpace(bytes: Uint8Array, from: number, to: number): number {
  while (from < to && (bytes[from] === SP || bytes[from] === HT)) from++;
  return from;
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Blanks known secret strings in a byte stream per direction. A chunk's tail that could be the start
 * of a secret is held back until the next chunk decides (or the direction ends).
 */
class LiteralSecrets {
  private readonly secrets: Buffer[];
  private readonly tail: Record<Direction, Buffer> = { c2s: Buffer.alloc(0), s2c: Buffer.alloc(0) };

  constructor(secrets: readonly string[]) {
    // Short strings would blank innocent bytes; a credential worth hiding is longer than this.
    this.secrets = [...new Set(secrets)].filter((s) => s.length >= 8).map((s) => Buffer.from(s));
  }

  get any(): boolean {
    return this.secrets.length > 0;
  }

  /** `bytes` checked, behind what was held: the decided part (a copy), the rest held. Lengths add up. */
  filter(dir: Direction, bytes: Uint8Array): Uint8Array {
    const held = this.tail[dir];
    const data = held.length ? Buffer.concat([held, bytes]) : Buffer.from(bytes);
    let copied = held.length > 0;
    let out = data;
    for (const secret of this.secrets) {
      for (let at = out.indexOf(secret); at !== -1; at = out.indexOf(secret, at + secret.length)) {
        if (!copied) {
          out = Buffer.from(out); // never write into the caller's (relayed) buffer
          copied = true;
        }
        out.fill(FILLER, at, at + secret.length);
      }
    }
    const keep = this.partialMatchLength(out);
    this.tail[dir] = Buffer.from(out.subarray(out.length - keep));
    return out.subarray(0, out.length - keep);
  }

  /** The direction ended: what was held is no secret (a whole one would have been blanked). */
  flush(dir: Direction): Uint8Array {
    const rest = this.tail[dir];
    this.tail[dir] = Buffer.alloc(0);
    return rest;
  }

  /** What was held, recorded as filler without waiting for the bytes that would decide it. */
  blankHeld(dir: Direction): Uint8Array {
    return this.flush(dir).fill(FILLER);
  }

  /** The longest tail of `data` that is a proper prefix of some secret. */
  private partialMatchLength(data: Buffer): number {
    let longest = 0;
    for (const secret of this.secrets) {
      for (let n = Math.min(secret.length - 1, data.length); n > longest; n--) {
        if (data[data.length - n] !== secret[0]) continue;
        if (data.subarray(data.length - n).equals(secret.subarray(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
