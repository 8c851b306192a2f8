/**
 * HTTP/2 frame constants and names (RFC 9113 §4.1, §6, §7, §11), shared by the decoder, tests and views.
 */

/** Every frame starts with a 9-byte header: 24-bit length, type, flags, 31-bit stream id. */
export const HTTP2_FRAME_HEADER_BYTES = 9;
/** SETTINGS_MAX_FRAME_SIZE until a peer says otherwise, and its smallest legal value. */
export const HTTP2_DEFAULT_MAX_FRAME_SIZE = 16384;
/** Largest legal SETTINGS_MAX_FRAME_SIZE: the 24-bit length field's limit, just under 16 MiB. */
export const HTTP2_MAX_FRAME_SIZE_LIMIT = 0xffffff;

/** The client connection preface: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 §3.4). */
export const HTTP2_CLIENT_PREFACE: Uint8Array = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export const Http2FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Http2Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const Http2SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  /** RFC 8441 (extended CONNECT). */
  ENABLE_CONNECT_PROTOCOL: 0x8,
  /** RFC 9218. */
  NO_RFC7540_PRIORITIES: 0x9,
} as const;

export const Http2ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** A name lookup for one of the tables above; unknown values read UNKNOWN(0x…). */
function namer(table: Record<string, number>): (value: number) => string {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(table)) names.set(value, name);
  return (value) => names.get(value) ?? `UNKNOWN(0x${value.toString(16)})`;
}

export const http2FrameTypeName = namer(Http2FrameType);
export const http2SettingName = namer(Http2SettingId);
export const http2ErrorName = namer(Http2ErrorCode);

/** The flags a frame of `type` defines, by name and joined with '|' ('' when none is set); undefined bits as 0x… (RFC 9113 §6). */
export function http2FlagNames(type: number, flags: number): string {
  const defined: [number, string][] =
    type === Http2FrameType.DATA
      ? [[Http2Flag.END_STREAM, 'END_STREAM'], [Http2Flag.PADDED, 'PADDED']]
      : type === Http2FrameType.HEADERS
        ? [[Http2Flag.END_STREAM, 'END_STREAM'], [Http2Flag.END_HEADERS, 'END_HEADERS'], [Http2Flag.PADDED, 'PADDED'], [Http2Flag.PRIORITY, 'PRIORITY']]
        : type === Http2FrameType.PUSH_PROMISE
          ? [[Http2Flag.END_HEADERS, 'END_HEADERS'], [Http2Flag.PADDED, 'PADDED']]
          : type === Http2FrameType.CONTINUATION
            ? [[Http2Flag.END_HEADERS, 'END_HEADERS']]
            : type === Http2FrameType.SETTINGS || type === Http2FrameType.PING
              ? [[Http2Flag.ACK, 'ACK']]
              : [];
  const names: string[] = [];
  let rest = flags;
  for (const [bit, name] of defined) {
    if (flags & bit) names.push(name);
    rest &= ~bit;
  }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

/** Frame types that always (SETTINGS, PING, GOAWAY) or never (the others) travel on stream 0; WINDOW_UPDATE does both. */
const CONNECTION_FRAMES = new Set<number>([Http2FrameType.SETTINGS, Http2FrameType.PING, Http2FrameType.GOAWAY]);

/**
 * For finding frame boundaries in a connection picked up midway: the frame whose header is at `at`,
 * if its fields are consistent (a known type on the right kind of stream, the reserved bit clear, a
 * length within the default maximum, fixed lengths for SETTINGS/PING/WINDOW_UPDATE/RST_STREAM),
 * as its total length; null otherwise. `distinctive`: a control frame random bytes rarely mimic.
 */
export function probeHttp2Frame(b: Uint8Array, at: number): { length: number; distinctive: boolean } | null {
  if (at + HTTP2_FRAME_HEADER_BYTES > b.length) return null;
  const length = (b[at] << 16) | (b[at + 1] << 8) | b[at + 2];
  const type = b[at + 3];
  const stream = ((b[at + 5] << 24) | (b[at + 6] << 16) | (b[at + 7] << 8) | b[at + 8]) >>> 0;
  if (type > Http2FrameType.CONTINUATION || stream > 0x7fffffff || length > HTTP2_DEFAULT_MAX_FRAME_SIZE) return null;
  if (CONNECTION_FRAMES.has(type) !== (stream === 0) && type !== Http2FrameType.WINDOW_UPDATE) return null;
  if (type === Http2FrameType.SETTINGS && length % 6 !== 0) return null;
  if (type === Http2FrameType.PING && length !== 8) return null;
  if ((type === Http2FrameType.WINDOW_UPDATE || type === Http2FrameType.RST_STREAM) && length !== 4) return null;
  if (type === Http2FrameType.PRIORITY && length !== 5) return null;
  return { length: HTTP2_FRAME_HEADER_BYTES + length, distinctive: type !== Http2FrameType.DATA && type !== Http2FrameType.CONTINUATION };
}
