/**
 * What a WebSocket or HTTP/2 connection carried, frame by frame, whatever the application on top: the
 * frames and messages of any WebSocket, the frames and streams of any HTTP/2 connection (gRPC calls'
 * names and status included). Plain data, built by the pipeline, read by the reports and the TUI.
 *
 * Bounded: each list keeps its first entries (the start of a connection is where handshakes, refusals
 * and protocol errors are), while the capture's listing budget lasts (pipeline/traffic-budget.ts),
 * counts everything, and says how many entries it dropped.
 */
import type { CarrierLog } from '../core/carrier-log.js';
import type { Direction, FrameOrigin } from '../core/origin.js';

/** Entries kept per list and connection. */
export const TRAFFIC_ENTRIES_KEPT = 1000;
/** Bytes of each WebSocket message (after inflating) kept for previews. */
export const MESSAGE_HEAD_BYTES = 96;

export interface WebSocketFrameEntry {
  dir: Direction;
  /** 'text', 'binary', 'continuation', 'close', 'ping', 'pong' or 'reserved opcode 0x3'. */
  opcode: string;
  fin: boolean;
  /** RSV1: the message is compressed (permessage-deflate), on its first frame. */
  rsv1: boolean;
  masked: boolean;
  /** Payload length as the header declares it. */
  length: number;
  /** Close frames: the status code and reason they carried. */
  closeCode?: number;
  closeReason?: string;
  origin: FrameOrigin;
}

export interface WebSocketMessageEntry {
  dir: Direction;
  /** 'text' or 'binary'. */
  opcode: string;
  /** 1 when unfragmented. */
  frames: number;
  /** Payload bytes, inflated when compressed. */
  bytes: number;
  compressed: boolean;
  /** The message's last frame arrived (a message can be cut by the capture's end or a gap). */
  complete: boolean;
  /** Its first MESSAGE_HEAD_BYTES bytes. */
  head: Uint8Array;
  /** Bytes lost inside it (TCP gaps). */
  lost: number;
  /** First byte of the first frame to the last byte seen. */
  origin: FrameOrigin;
}

export interface WebSocketClose {
  code: number | null;
  reason: string;
  ts: number;
  packet: number;
}

export interface WebSocketTraffic {
  /** The path of the upgrade request. */
  target: string;
  /** Negotiated subprotocol ('' when none). */
  subprotocol: string;
  /** Sec-WebSocket-Extensions of the 101 ('' when none). */
  extensions: string;
  /** permessage-deflate as negotiated, null when it was not. */
  deflate: { serverMaxWindowBits: number | null; clientMaxWindowBits: number | null; serverNoContextTakeover: boolean; clientNoContextTakeover: boolean } | null;
  /** The exec session the frames carry (a `*.channel.k8s.io` connection); its streams hold the messages. */
  sessionId: number | null;
  frames: WebSocketFrameEntry[];
  framesDropped: number;
  /** Frames per direction and opcode name, all of them. */
  frameCounts: Record<Direction, Record<string, number>>;
  messages: WebSocketMessageEntry[];
  messagesDropped: number;
  /** The Close frame each side sent, if it did. */
  close: Record<Direction, WebSocketClose | null>;
  /**
   * A connection tunnelled in the binary messages (kubectl port-forward's SPDY): which bytes of the
   * direction's (decrypted) stream, payload bytes of which frames, carried each tunnelled byte.
   */
  tunnelCarriers?: Record<Direction, CarrierLog>;
}

export interface Http2FrameEntry {
  dir: Direction;
  /** 'HEADERS', 'CONTINUATION', 'GOAWAY', … or 'type 0x10'. */
  type: string;
  /** The flags set, by name: 'END_STREAM|END_HEADERS', '' for none. */
  flags: string;
  streamId: number;
  /** Payload length. */
  length: number;
  origin: FrameOrigin;
}

export interface Http2StreamEntry {
  id: number;
  method: string;
  path: string;
  authority: string;
  /** The final :status, null while none came. */
  status: number | null;
  contentType: string;
  /** DATA payload bytes each way. */
  dataBytes: Record<Direction, number>;
  /** HEADERS, CONTINUATION and PUSH_PROMISE frames of the stream. */
  headerFrames: number;
  /** END_STREAM each way. */
  ended: Record<Direction, boolean>;
  /** RST_STREAM: who sent it and its error code name. */
  reset: { dir: Direction; error: string } | null;
  /** gRPC calls: the status and message of their trailers (or trailers-only response). */
  grpc: { status: number | null; statusName: string | null; message: string | null } | null;
  startTs: number;
  endTs: number | null;
}

export interface Http2GoAway {
  dir: Direction;
  lastStreamId: number;
  error: string;
  /** Debug data (first bytes), as sent. */
  debug: string;
  ts: number;
  packet: number;
}

export interface Http2Traffic {
  frames: Http2FrameEntry[];
  framesDropped: number;
  /** Frames per direction and type name, all of them. */
  frameCounts: Record<Direction, Record<string, number>>;
  streams: Http2StreamEntry[];
  streamsDropped: number;
  goaways: Http2GoAway[];
  goawaysDropped: number;
}
