/**
 * The SPDY/3.1 frame header, described once: frame-type names, the header parser, which control
 * frames have a header block or a fixed size, the plausibility test used to find frame starts
 * (resynchronising after a gap, a capture that starts mid-connection) and the Event pane's fields.
 */
import { NEED_MORE, type Field, type HeaderVerdict } from '../core/field.js';
import { SPDY_FRAME_HEADER_BYTES, SPDY_VERSION, SpdyFlag, SpdyFrameType } from './frame.js';
import { nameValueBlockFields } from './header-block.js';

const TYPE_NAMES: Record<number, string> = {
  [SpdyFrameType.SYN_STREAM]: 'SYN_STREAM',
  [SpdyFrameType.SYN_REPLY]: 'SYN_REPLY',
  [SpdyFrameType.RST_STREAM]: 'RST_STREAM',
  [SpdyFrameType.SETTINGS]: 'SETTINGS',
  [SpdyFrameType.PING]: 'PING',
  [SpdyFrameType.GOAWAY]: 'GOAWAY',
  [SpdyFrameType.HEADERS]: 'HEADERS',
  [SpdyFrameType.WINDOW_UPDATE]: 'WINDOW_UPDATE',
};

export function isKnownControlType(type: number): boolean {
  return TYPE_NAMES[type] !== undefined;
}

export function spdyControlTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `control type ${type}`;
}

/** Bytes before a SYN_STREAM / SYN_REPLY / HEADERS header block; 0 for types without one. */
export function headerBlockStart(type: number): number {
  if (type === SpdyFrameType.SYN_STREAM) return 10;
  if (type === SpdyFrameType.SYN_REPLY || type === SpdyFrameType.HEADERS) return 4;
  return 0;
}

/** Exact payload length spdystream reads for fixed-size control frames; 0 for variable ones. */
export function fixedLength(type: number): number {
  if (type === SpdyFrameType.PING) return 4;
  if (type === SpdyFrameType.RST_STREAM || type === SpdyFrameType.GOAWAY || type === SpdyFrameType.WINDOW_UPDATE) return 8;
  return 0;
}

export function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function u24(b: Uint8Array, at: number): number {
  return (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
}

export interface SpdyWireHeader {
  control: boolean;
  /** Control frames: the version (3) and type; DATA frames: 0. */
  version: number;
  type: number;
  /** DATA frames: the stream id; control frames: 0 (their stream id, if any, is in the payload). */
  streamId: number;
  flags: number;
  length: number;
}

/** Parses the 8-byte header at b[at..end); NEED_MORE until all of it is there. */
export function parseSpdyFrameHeader(b: Uint8Array, at: number, end = b.length): SpdyWireHeader | HeaderVerdict {
  if (end - at < SPDY_FRAME_HEADER_BYTES) return NEED_MORE;
  const control = (b[at] & 0x80) !== 0;
  return {
    control,
    version: control ? ((b[at] & 0x7f) << 8) | b[at + 1] : 0,
    type: control ? (b[at + 2] << 8) | b[at + 3] : 0,
    streamId: control ? 0 : u32(b, at) & 0x7fffffff,
    flags: b[at + 4],
    length: u24(b, at + 5),
  };
}

export interface SpdyPlausibility {
  /** Header blocks above this are not plausible. */
  maxHeaderBlockBytes: number;
  /** SETTINGS with more entries are not plausible. */
  maxSettings: number;
  /** Could a DATA frame carry this stream id (one seen opened, or any small id mid-connection)? */
  dataStream: (id: number) => boolean;
}

/** Could b[at..at+8) start a frame a SPDY/3.1 peer would send? Needs 8 bytes. */
export function plausibleSpdyFrame(b: Uint8Array, at: number, opts: SpdyPlausibility): boolean {
  const h = parseSpdyFrameHeader(b, at);
  if (h === NEED_MORE || h === -1) return false;
  const { flags, length } = h;
  if (h.control) {
    if (b[at] !== 0x80 || h.version !== SPDY_VERSION || b[at + 2] !== 0) return false;
    const fixed = fixedLength(h.type);
    if (fixed > 0) return flags === 0 && length === fixed;
    const blockStart = headerBlockStart(h.type);
    if (h.type === SpdyFrameType.SYN_STREAM) {
      return flags <= (SpdyFlag.FIN | SpdyFlag.UNIDIRECTIONAL) && length > blockStart && length - blockStart <= opts.maxHeaderBlockBytes;
    }
    if (blockStart > 0) return flags <= SpdyFlag.FIN && length > blockStart && length - blockStart <= opts.maxHeaderBlockBytes;
    if (h.type === SpdyFrameType.SETTINGS) {
      return flags <= SpdyFlag.SETTINGS_CLEAR && length >= 4 && (length - 4) % 8 === 0 && length <= 4 + 8 * opts.maxSettings;
    }
    return false;
  }
  if (flags > SpdyFlag.FIN || (length === 0 && flags === 0)) return false;
  return opts.dataStream(u32(b, at));
}

/**
 * The header's fields, offsets relative to the frame's first byte; [] when the header is incomplete.
 * With the frame's header block inflated (`inflated`, which takes the direction's earlier blocks:
 * the pipeline re-reads them), each of its headers follows the block, at its place in the inflated bytes.
 */
export function spdyFrameFields(b: Uint8Array, inflated: Uint8Array | null = null): Field[] {
  const h = parseSpdyFrameHeader(b, 0);
  if (h === NEED_MORE || h === -1) return [];
  const flagNames = [h.flags & SpdyFlag.FIN && 'FIN', h.control && h.type === SpdyFrameType.SYN_STREAM && h.flags & SpdyFlag.UNIDIRECTIONAL && 'UNIDIRECTIONAL'].filter(Boolean);
  const flags = `0x${h.flags.toString(16).padStart(2, '0')}${flagNames.length ? ` (${flagNames.join(' ')})` : ''}`;
  const fields: Field[] = h.control
    ? [
        { id: 'spdy.control', label: 'control bit', offset: 0, length: 1, value: 'set (control frame)' },
        { id: 'spdy.version', label: 'version', offset: 0, length: 2, value: String(h.version) },
        { id: 'spdy.type', label: 'type', offset: 2, length: 2, value: `${h.type} (${spdyControlTypeName(h.type)})` },
      ]
    : [
        { id: 'spdy.control', label: 'control bit', offset: 0, length: 1, value: 'clear (DATA frame)' },
        { id: 'spdy.stream_id', label: 'stream id', offset: 0, length: 4, value: String(h.streamId) },
      ];
  fields.push({ id: 'spdy.flags', label: 'flags', offset: 4, length: 1, value: flags });
  fields.push({ id: 'spdy.length', label: 'length', offset: 5, length: 3, value: String(h.length) });
  if (h.control && h.type === SpdyFrameType.SYN_STREAM && b.length >= 18) {
    fields.push({ id: 'spdy.stream_id', label: 'stream id', offset: 8, length: 4, value: String(u32(b, 8) & 0x7fffffff) });
    fields.push({ id: 'spdy.associated_id', label: 'associated stream id', offset: 12, length: 4, value: String(u32(b, 12) & 0x7fffffff) });
    fields.push({ id: 'spdy.priority', label: 'priority', offset: 16, length: 1, value: String(b[16] >> 5) });
  } else if (h.control && headerBlockStart(h.type) === 4 && b.length >= 12) {
    fields.push({ id: 'spdy.stream_id', label: 'stream id', offset: 8, length: 4, value: String(u32(b, 8) & 0x7fffffff) });
  }
  const block = h.control ? headerBlockStart(h.type) : 0;
  if (block > 0) {
    const compressed = { offset: 8 + block, length: Math.max(0, b.length - 8 - block) };
    fields.push({ id: 'spdy.header_block', label: 'header block (zlib)', ...compressed, value: `${h.length - block} bytes${inflated ? `, ${inflated.length} inflated` : ''}` });
    if (inflated) fields.push(...nameValueBlockFields(inflated, compressed));
  }
  else if (!h.control) fields.push({ id: 'spdy.data', label: 'data', offset: 8, length: Math.max(0, b.length - 8), value: `${h.length} bytes` });
  return fields;
}
