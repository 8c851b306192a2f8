/**
 * Any WebSocket connection into the model: its frames (opcode, FIN, RSV1, mask, length, close code and
 * reason) and messages (fragments, size, compression, a bounded head) on `record.websocket`. An exec
 * connection (`*.channel.k8s.io`) lists its frames here and its messages as the session's streams; any
 * other WebSocket is decoded by webSocketConsumer and lists both here.
 */
import { appended, noEntries } from '../core/appended.js';
import { logCarrier, newCarrierLog, type CarrierLogBudget } from '../core/carrier-log.js';
import type { Direction, StreamOrigin } from '../core/origin.js';
import { relocate } from '../core/problem.js';
import { MESSAGE_HEAD_BYTES, TRAFFIC_ENTRIES_KEPT, type WebSocketFrameEntry, type WebSocketMessageEntry, type WebSocketTraffic } from '../model/connection-traffic.js';
import { WebSocketConnectionDecoder } from '../websocket/connection-decoder.js';
import { Opcode, opcodeName } from '../websocket/frame-header.js';
import { checkWebSocketHandshake, type WebSocketHandshake } from '../websocket/handshake.js';
import type { WebSocketControlEvent, WebSocketFrameEvent, WebSocketMessageData, WebSocketMessageLoss, WebSocketMessageSink } from '../websocket/message-assembler.js';
import { parsePerMessageDeflate } from '../websocket/permessage-deflate.js';
import type { ConnectionScope } from './connection-scope.js';
import { sharedText } from './shared-texts.js';
import type { StreamConsumer } from './stream-consumer.js';
import type { TrafficListingBudget } from './traffic-budget.js';

export class WebSocketTrafficRecorder {
  readonly traffic: WebSocketTraffic;
  /**
   * The last frame kept per direction (a Close's code and reason arrive just after its frame), and
   * each direction's frame counts in the traffic record: fields of the recorder rather than objects
   * it reaches through, since every frame comes here and with thousands of connections interleaving
   * each object on the way is mostly a fetch from outside the CPU cache.
   */
  private lastC2sFrame: WebSocketFrameEntry | null = null;
  private lastS2cFrame: WebSocketFrameEntry | null = null;
  private readonly c2sCounts: Record<string, number>;
  private readonly s2cCounts: Record<string, number>;
  /** The message in progress per direction; null when none, or when it was not kept. */
  private readonly message: Record<Direction, WebSocketMessageEntry | null> = { c2s: null, s2c: null };
  private readonly budget: TrafficListingBudget;
  private readonly carrierBudget: CarrierLogBudget;
  private readonly connection: number;

  /**
   * `response`: where the 101 is, which the handshake's problems point at; they go to `warn` (the
   * session's warnings for an exec connection).
   */
  constructor(scope: ConnectionScope, target: string, handshake: WebSocketHandshake, response: StreamOrigin, sessionId: number | null, warn = scope.ctx.warn.bind(scope.ctx)) {
    this.budget = scope.ctx.trafficBudget;
    this.carrierBudget = scope.ctx.carrierBudget;
    this.connection = scope.record.id;
    const deflate = parsePerMessageDeflate(handshake.extensions);
    this.traffic = {
      target,
      // Shared texts: a slice of the 101's head kept that head alive, ~220 bytes of every open connection.
      subprotocol: sharedText(handshake.protocol),
      extensions: sharedText(handshake.extensions ?? ''),
      deflate: deflate && {
        serverMaxWindowBits: deflate.serverMaxWindowBits ?? null,
        clientMaxWindowBits: deflate.clientMaxWindowBits ?? null,
        serverNoContextTakeover: deflate.serverNoContextTakeover,
        clientNoContextTakeover: deflate.clientNoContextTakeover,
      },
      sessionId,
      // Shared frozen lists until their first entry (`appended`): a push to an empty list reserves 17
      // slots (~150 bytes of every open WebSocket), and an exec session's messages are its streams'.
      frames: noEntries(),
      framesDropped: 0,
      frameCounts: { c2s: {}, s2c: {} },
      messages: noEntries(),
      messagesDropped: 0,
      close: { c2s: null, s2c: null },
    };
    this.c2sCounts = this.traffic.frameCounts.c2s;
    this.s2cCounts = this.traffic.frameCounts.s2c;
    scope.record.websocket = this.traffic;
    const at = { connection: scope.record.id, direction: 's2c' as const, offset: response.offset, packet: response.packet };
    for (const p of checkWebSocketHandshake(handshake)) warn(relocate(p, scope.where, at));
  }

  frame(ev: WebSocketFrameEvent): void {
    const t = this.traffic;
    // Every frame comes here: nothing is indexed by ev.dir or by an opcode's name, since a keyed access
    // whose property name changes (c2s, s2c; binary, close) goes megamorphic.
    const c2s = ev.dir === 'c2s';
    countFrame(c2s ? this.c2sCounts : this.s2cCounts, ev.opcode);
    // A spent budget first: then the frame list is not fetched.
    const kept = !this.budget.exhausted && t.frames.length < TRAFFIC_ENTRIES_KEPT && this.budget.take(this.connection, ev.origin.packet);
    // Counted on every frame, kept or not: a branch of its own, first taken when the list fills
    // (after 1,000 frames, mid-capture), threw away the optimized code of the whole frame path
    // around it (the assembler's, the channel protocol's, the exec session's) for a recompile.
    t.framesDropped += kept ? 0 : 1;
    const entry = kept ? this.entry(ev) : null;
    if (c2s) this.lastC2sFrame = entry;
    else this.lastS2cFrame = entry;
  }

  /** The frame's entry, added to the list. */
  private entry(ev: WebSocketFrameEvent): WebSocketFrameEntry {
    // A copy of the origin, not the decoder's: kept entries made V8 pretenure the decoder's allocation
    // site, and then every frame's origin, listed or not, was allocated in the old generation.
    const o = ev.origin;
    const origin = { offset: o.offset, length: o.length, packet: o.packet, ts: o.ts, lastPacket: o.lastPacket, lastTs: o.lastTs };
    const entry: WebSocketFrameEntry = { dir: ev.dir, opcode: opcodeName(ev.opcode), fin: ev.fin, rsv1: ev.rsv1, masked: ev.masked, length: ev.payloadLength, origin };
    this.traffic.frames = appended(this.traffic.frames, entry);
    return entry;
  }

  control(ev: WebSocketControlEvent): void {
    if (ev.kind !== 'close') return;
    const frame = ev.dir === 'c2s' ? this.lastC2sFrame : this.lastS2cFrame;
    if (frame?.origin.offset === ev.origin.offset) {
      if (ev.code !== undefined) frame.closeCode = ev.code;
      if (ev.reason) frame.closeReason = ev.reason;
    }
    this.traffic.close[ev.dir] ??= { code: ev.code ?? null, reason: ev.reason ?? '', ts: ev.origin.lastTs, packet: ev.origin.packet };
  }

  messageData(ev: WebSocketMessageData): void {
    const t = this.traffic;
    let m = this.message[ev.dir];
    if (ev.first) {
      m = null;
      if (t.messages.length < TRAFFIC_ENTRIES_KEPT && this.budget.take(this.connection, ev.message.packet)) {
        m = { dir: ev.dir, opcode: opcodeName(ev.opcode), frames: 1, bytes: 0, compressed: ev.compressed, complete: false, head: new Uint8Array(0), lost: 0, origin: { ...ev.message } };
        t.messages = appended(t.messages, m);
      } else t.messagesDropped++;
      this.message[ev.dir] = m;
    }
    if (!m) return;
    m.bytes += ev.end - ev.start;
    m.frames = ev.frames;
    // The entry's own origin (the assembler's is refilled for every piece), grown to this piece's end.
    const o = m.origin;
    o.length = ev.message.length;
    o.lastPacket = ev.message.lastPacket;
    o.lastTs = ev.message.lastTs;
    if (m.head.length < MESSAGE_HEAD_BYTES && ev.end > ev.start) {
      const take = ev.bytes.subarray(ev.start, Math.min(ev.end, ev.start + MESSAGE_HEAD_BYTES - m.head.length));
      const head = new Uint8Array(m.head.length + take.length);
      head.set(m.head);
      head.set(take, m.head.length);
      m.head = head;
    }
    if (ev.last) {
      m.complete = true;
      this.message[ev.dir] = null;
    }
  }

  /** A tunnel's bytes (kubectl port-forward's SPDY) and the frame payload bytes that carried them. */
  tunnel(dir: Direction, length: number, origin: StreamOrigin, compressed: boolean): void {
    const logs = (this.traffic.tunnelCarriers ??= { c2s: newCarrierLog(), s2c: newCarrierLog() });
    logCarrier(logs[dir], this.carrierBudget, length, origin.offset, origin.length, compressed);
  }

  tunnelGap(dir: Direction, length: number): void {
    const logs = (this.traffic.tunnelCarriers ??= { c2s: newCarrierLog(), s2c: newCarrierLog() });
    logCarrier(logs[dir], this.carrierBudget, length, 0, 0, false);
  }

  messageLost(ev: WebSocketMessageLoss): void {
    const m = this.message[ev.dir];
    if (m) m.lost += ev.length;
  }
}

/** counts[opcodeName(opcode)] += 1, the data opcodes through named properties (see frame()). */
function countFrame(counts: Record<string, number>, opcode: number): void {
  if (opcode === Opcode.Binary) counts.binary = (counts.binary ?? 0) + 1;
  else if (opcode === Opcode.Text) counts.text = (counts.text ?? 0) + 1;
  else {
    const name = opcodeName(opcode);
    counts[name] = (counts[name] ?? 0) + 1;
  }
}

/** A WebSocket that is not an exec session: both directions decoded, frames and messages recorded. */
export function webSocketConsumer(scope: ConnectionScope, target: string, handshake: WebSocketHandshake, response: StreamOrigin): StreamConsumer {
  const { ctx, record } = scope;
  const recorder = new WebSocketTrafficRecorder(scope, target, handshake, response, null);
  const sinkFor = (dir: Direction): WebSocketMessageSink => ({
    onMessageData: (ev) => recorder.messageData(ev),
    onMessageLost: (ev) => recorder.messageLost(ev),
    onControl: (ev) => recorder.control(ev),
    onFrame: (ev) => recorder.frame(ev),
    onProblem: (p) => ctx.warn(relocate(p, scope.where, { connection: record.id, direction: dir })),
  });
  const decoder = new WebSocketConnectionDecoder(sinkFor, { extensions: handshake.extensions });
  return {
    push: (dir, bytes, start, end, origin) => decoder.push(dir, bytes, start, end, origin),
    gap: (dir, offset, length) => decoder.gap(dir, offset, length),
    end: () => decoder.end(),
  };
}
