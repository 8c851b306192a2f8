/**
 * Where a decoded thing came from. Every layer passes these upward so the UI can show, for any byte,
 * the frame, the TCP stream range and the packets that carried it.
 *
 * Times are nanoseconds since the capture origin (the first packet's timestamp, kept exactly as a
 * bigint by the capture reader): epoch nanoseconds do not fit a double, offsets do for 104 days.
 */
export type Direction = 'c2s' | 's2c';

/**
 * The time a per-connection object's time field starts at: zero as a double (-0 is never one of V8's
 * small integers). Times pass 2^31 ns 2.1 s into a capture; a field that began at 0 was laid out for
 * small integers until then, and re-laying it out migrated every live object of its class one at a
 * time (~15,000 instructions each: the TCP halves, frame decoders and message assemblers of every
 * open connection) and deoptimised the code that read it. -0 equals 0 in every sum and comparison.
 */
export const ZERO_TS = -0;

/** A range of bytes in one direction of a TCP connection, with the packet that delivered its first byte. */
export interface StreamOrigin {
  /** Offset of the first byte in the direction's byte stream (0 = first payload byte after the SYN). */
  offset: number;
  length: number;
  /** 1-based packet number (as Wireshark counts) that carried the first byte. */
  packet: number;
  /** Nanoseconds since capture origin of that packet. */
  ts: number;
}

/** Thrown (or reported) when input cannot be decoded any further: truncated or corrupt capture. */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly where: string,
  ) {
    super(`${message} (${where})`);
    this.name = 'DecodeError';
  }
}

/** A decoded unit (HTTP head, SPDY frame, WebSocket frame) spanning one or more packets. */
export interface FrameOrigin extends StreamOrigin {
  /** Packet number and time of the packet that carried the unit's last byte: the unit is complete then. */
  lastPacket: number;
  lastTs: number;
}
