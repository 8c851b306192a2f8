/**
 * Cuts one direction's TCP byte stream into TLS records (5-byte header: type, version, length).
 * A record inside one pushed chunk is passed as a view of it; only records that span chunks are
 * copied, into one scratch buffer of the maximum record size, so memory stays bounded.
 */
import type { Field } from '../core/field.js';
import type { FrameOrigin, StreamOrigin } from '../core/origin.js';
import { ContentType, contentTypeName, handshakeTypeName, tlsVersionName } from './tls-names.js';

export const RECORD_HEADER = 5;
/** RFC 5246 §6.2.3: TLSCiphertext.length ≤ 2^14 + 2048. */
export const MAX_TLS12_CIPHERTEXT = 2 ** 14 + 2048;
/** RFC 8446 §5.2: TLSCiphertext.length ≤ 2^14 + 256. */
export const MAX_TLS13_CIPHERTEXT = 2 ** 14 + 256;

/**
 * The length of the record whose 5-byte header is at b[at] (header included), or -1 when it cannot
 * be one: content type 20–24, version 3.0–3.4, a length within TLS 1.2's limit. Needs 5 bytes.
 */
export function plausibleTlsRecord(b: Uint8Array, at: number): number {
  if (b.length - at < RECORD_HEADER) return -1;
  const length = (b[at + 3] << 8) | b[at + 4];
  if (b[at] < 20 || b[at] > 24 || b[at + 1] !== 3 || b[at + 2] > 4 || length === 0 || length > MAX_TLS12_CIPHERTEXT) return -1;
  return RECORD_HEADER + length;
}

/** The content type of a whole record (its first byte). */
export function recordContentType(record: Uint8Array): number {
  return record[0];
}

/** Handshake messages the Event pane lists of one record. */
const MAX_HANDSHAKE_FIELDS = 32;

/**
 * The Event pane's fields of one record (header included, offsets from its first byte): content
 * type, version, length, and, for a handshake record its direction sent before its ChangeCipherSpec
 * (`handshakeVisible`; after it the messages are encrypted), each handshake message's type and
 * length as far as the record holds their headers. Wireshark's field names.
 */
export function tlsRecordFields(record: Uint8Array, handshakeVisible: boolean): Field[] {
  if (record.length < RECORD_HEADER) return [];
  const type = record[0];
  const version = (record[1] << 8) | record[2];
  const length = (record[3] << 8) | record[4];
  const fields: Field[] = [
    { id: 'tls.record.content_type', label: 'content type', offset: 0, length: 1, value: `${type} (${contentTypeName(type)})` },
    { id: 'tls.record.version', label: 'version', offset: 1, length: 2, value: `0x${version.toString(16).padStart(4, '0')} (${tlsVersionName(version)})` },
    { id: 'tls.record.length', label: 'length', offset: 3, length: 2, value: String(length) },
  ];
  const end = Math.min(record.length, RECORD_HEADER + length);
  if (type === ContentType.handshake && handshakeVisible) {
    for (let at = RECORD_HEADER, n = 0; at + 4 <= end && n < MAX_HANDSHAKE_FIELDS; n++) {
      const messageLength = (record[at + 1] << 16) | (record[at + 2] << 8) | record[at + 3];
      fields.push({ id: 'tls.handshake.type', label: 'handshake type', offset: at, length: 1, value: `${record[at]} (${handshakeTypeName(record[at])})` });
      fields.push({ id: 'tls.handshake.length', label: 'handshake length', offset: at + 1, length: 3, value: String(messageLength) });
      at += 4 + messageLength;
    }
  } else if (type === ContentType.applicationData) {
    fields.push({ id: 'tls.app_data', label: 'encrypted application data', offset: RECORD_HEADER, length: end - RECORD_HEADER, value: `${length} bytes` });
  }
  return fields;
}

/** record is the whole record, header included; it is only valid during the call. */
export type RecordHandler = (record: Uint8Array, origin: FrameOrigin) => void;

export class TlsRecordFramer {
  /** Largest record body accepted; lowered once TLS 1.3 is negotiated. */
  maxLength = MAX_TLS12_CIPHERTEXT;
  private scratch: Uint8Array | null = null;
  private filled = 0;
  private headerKnown = false;
  private needed = RECORD_HEADER;
  private startOffset = 0;
  private startPacket = 0;
  private startTs = 0;
  private stopped = false;

  constructor(
    private readonly onRecord: RecordHandler,
    /** Not a TLS record (or too long): framing is lost, the framer stops. */
    private readonly onError: (message: string, offset: number) => void,
  ) {}

  /** Bytes of a record not yet complete. */
  get partial(): { have: number; need: number } | null {
    return this.filled > 0 ? { have: this.filled, need: this.headerKnown ? this.needed : RECORD_HEADER } : null;
  }

  stop(): void {
    this.stopped = true;
    this.filled = 0;
    this.scratch = null;
  }

  push(data: Uint8Array, origin: StreamOrigin): void {
    let pos = 0;
    while (pos < data.length && !this.stopped) {
      if (this.filled === 0) {
        const available = data.length - pos;
        this.headerKnown = available >= RECORD_HEADER;
        if (this.headerKnown) {
          const length = this.checkHeader(data, pos, origin.offset + pos);
          if (length < 0) return;
          if (available >= RECORD_HEADER + length) {
            const { packet, ts } = origin;
            const end = pos + RECORD_HEADER + length;
            this.onRecord(data.subarray(pos, end), { offset: origin.offset + pos, length: end - pos, packet, ts, lastPacket: packet, lastTs: ts });
            pos = end;
            continue;
          }
          this.needed = RECORD_HEADER + length;
        } else {
          this.needed = RECORD_HEADER;
        }
        this.startOffset = origin.offset + pos;
        this.startPacket = origin.packet;
        this.startTs = origin.ts;
        this.scratch ??= new Uint8Array(RECORD_HEADER + MAX_TLS12_CIPHERTEXT);
      }
      const scratch = this.scratch as Uint8Array;
      const n = Math.min(this.needed - this.filled, data.length - pos);
      scratch.set(data.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (!this.headerKnown && this.filled === RECORD_HEADER) {
        const length = this.checkHeader(scratch, 0, this.startOffset);
        if (length < 0) return;
        this.headerKnown = true;
        this.needed = RECORD_HEADER + length;
      }
      if (this.headerKnown && this.filled === this.needed) {
        this.filled = 0;
        const recordOrigin: FrameOrigin = {
          offset: this.startOffset,
          length: this.needed,
          packet: this.startPacket,
          ts: this.startTs,
          lastPacket: origin.packet,
          lastTs: origin.ts,
        };
        this.onRecord(scratch.subarray(0, this.needed), recordOrigin);
      }
    }
  }

  /** Returns the body length, or -1 after reporting why this is not a TLS record. */
  private checkHeader(bytes: Uint8Array, at: number, offset: number): number {
    const type = bytes[at];
    const length = (bytes[at + 3] << 8) | bytes[at + 4];
    let error: string | null = null;
    if (type < 20 || type > 24) error = `content type ${type} is not a TLS record type`;
    else if (bytes[at + 1] !== 3 || bytes[at + 2] > 4) error = `record version ${bytes[at + 1]}.${bytes[at + 2]} is not TLS`;
    else if (length > this.maxLength) error = `record of ${length} bytes exceeds the ${this.maxLength}-byte limit`;
    if (error === null) return length;
    this.stop();
    this.onError(`${error}; TLS record framing lost, the rest of this direction is not decoded`, offset);
    return -1;
  }
}
