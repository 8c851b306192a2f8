/**
 * A protocol field as the Event pane shows and highlights it (Wireshark's discipline: every field
 * described once, by the protocol's own folder): `websocket.opcode`, "opcode", bytes 0–1, "2 (binary)".
 */
export interface Field {
  /** `protocol.name`, e.g. `websocket.opcode`, `spdy.stream_id`, `tcp.window`. */
  id: string;
  label: string;
  /** Byte offset in the unit the fields describe (a frame, a record, a segment). */
  offset: number;
  /** Bytes the field covers; bit fields cover the byte(s) they sit in. */
  length: number;
  /** Display value; plain text that may hold captured bytes (sanitise before printing). */
  value: string;
  /**
   * Where the field lies in a decoded form of the bytes, when it is not in them as such (a SPDY
   * header inside the inflated header block): `offset`/`length` then cover the encoded bytes that
   * carry it (the compressed block), and this range says where it is once decoded.
   */
  decoded?: { space: string; offset: number; length: number };
}

/** The result of parsing a header from a buffer that may not hold all of it yet. */
export const NEED_MORE = 0;
/** The bytes cannot be this protocol's header. */
export const INVALID = -1;
export type HeaderVerdict = typeof NEED_MORE | typeof INVALID;
