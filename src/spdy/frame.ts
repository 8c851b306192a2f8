/**
 * SPDY/3.1 frame shapes and constants shared by the decoder, the encoder and the session tracker,
 * as spoken by moby/spdystream (spdy/types.go).
 */
import type { FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { SpdyHeaders } from './header-block.js';

export const SPDY_VERSION = 3;
/** Every frame starts with an 8-byte header; lengths are 24-bit. */
export const SPDY_FRAME_HEADER_BYTES = 8;
export const SPDY_MAX_FRAME_PAYLOAD = 0xffffff;

export const SpdyFrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const SpdyFlag = {
  FIN: 0x01,
  UNIDIRECTIONAL: 0x02,
  SETTINGS_CLEAR: 0x01,
} as const;

export const SpdySettingId = {
  UPLOAD_BANDWIDTH: 1,
  DOWNLOAD_BANDWIDTH: 2,
  ROUND_TRIP_TIME: 3,
  MAX_CONCURRENT_STREAMS: 4,
  CURRENT_CWND: 5,
  DOWNLOAD_RETRANS_RATE: 6,
  INITIAL_WINDOW_SIZE: 7,
  CLIENT_CERTIFICATE_VECTOR_SIZE: 8,
} as const;

/** RST_STREAM status codes 1..11 (index = code - 1). */
const RST_STATUS_NAMES = [
  'PROTOCOL_ERROR',
  'INVALID_STREAM',
  'REFUSED_STREAM',
  'UNSUPPORTED_VERSION',
  'CANCEL',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'STREAM_IN_USE',
  'STREAM_ALREADY_CLOSED',
  'INVALID_CREDENTIALS',
  'FRAME_TOO_LARGE',
] as const;

export const SpdyRstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  INVALID_CREDENTIALS: 10,
  FRAME_TOO_LARGE: 11,
} as const;

const GOAWAY_STATUS_NAMES = ['OK', 'PROTOCOL_ERROR', 'INTERNAL_ERROR'] as const;

export const SpdyGoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

export function rstStatusName(status: number): string {
  return RST_STATUS_NAMES[status - 1] ?? `UNKNOWN(${status})`;
}

export function goAwayStatusName(status: number): string {
  return GOAWAY_STATUS_NAMES[status] ?? `UNKNOWN(${status})`;
}

export type SpdyControlFrame = (
  | {
      type: 'SYN_STREAM';
      streamId: number;
      associatedId: number;
      priority: number;
      slot: number;
      fin: boolean;
      unidirectional: boolean;
      headers: SpdyHeaders | null;
    }
  | { type: 'SYN_REPLY'; streamId: number; fin: boolean; headers: SpdyHeaders | null }
  | { type: 'RST_STREAM'; streamId: number; status: number; statusName: string }
  | { type: 'SETTINGS'; clear: boolean; settings: SpdySetting[] }
  | { type: 'PING'; id: number }
  | { type: 'GOAWAY'; lastGoodStreamId: number; status: number; statusName: string }
  | { type: 'HEADERS'; streamId: number; fin: boolean; headers: SpdyHeaders | null }
  | { type: 'WINDOW_UPDATE'; streamId: number; delta: number }
  | { type: 'UNKNOWN'; frameType: number }
) & {
  /** Version field of the frame header (always 3 here: other versions are reported and skipped). */
  version: number;
  flags: number;
  /** Payload length (excluding the 8-byte header). */
  length: number;
  /** The whole frame, header included. */
  origin: FrameOrigin;
};

export interface SpdySetting {
  id: number;
  flags: number;
  value: number;
}

/**
 * A piece of a DATA frame's payload. Pieces are delivered as bytes arrive, never buffered whole.
 * An empty DATA frame (e.g. FIN-only) is one piece with first = last = true and empty data.
 */
export interface SpdyDataPiece {
  streamId: number;
  flags: number;
  /** The frame's FIN flag, set on every piece of the frame. */
  fin: boolean;
  /** Payload length of the whole frame. */
  frameLength: number;
  /**
   * The piece is bytes[start, end): the caller's input where it lies (core/byte-range.ts), valid only
   * during the call; copy to keep.
   */
  bytes: Uint8Array;
  start: number;
  end: number;
  /** Where this piece lies in the direction's byte stream: like the piece, refilled for the next one. */
  origin: StreamOrigin;
  /** The whole frame (offset, length including the 8-byte header, first packet). lastPacket/lastTs are
   *  those of this piece, so they describe the frame's end only on the last piece. Refilled for every
   *  piece like the piece itself: copy to keep. */
  frame: FrameOrigin;
  first: boolean;
  last: boolean;
}

/** DATA payload bytes that a capture gap took away (the decoder skipped them and stayed in sync). */
export interface SpdyDataLoss {
  streamId: number;
  /** Offset of the lost range in the direction's byte stream. */
  offset: number;
  length: number;
  /** The DATA frame the bytes belonged to: valid only during the call, copy to keep. */
  frame: FrameOrigin;
}
