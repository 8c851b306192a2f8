/**
 * One captured frame as the capture readers hand it to the link layer: where its bytes lie in the
 * reader's buffer, not a view of them (a view per packet was the largest allocation of the read
 * path, with the packet object itself). The object and the buffer are refilled for the next packet:
 * both are valid only during the onPacket call; copyPacket keeps one.
 */
export interface Packet {
  /** 1-based packet number, counted over the whole file as Wireshark does. */
  index: number;
  /** Nanoseconds since the capture origin (see CaptureInfo.originNs). May be negative for out-of-order timestamps. */
  ts: number;
  /** LINKTYPE_* value of the interface this packet was captured on. */
  linkType: number;
  /** pcapng interface id (global across sections); 0 for classic pcap. */
  interfaceId: number;
  /** The captured bytes are bytes[start, end). */
  bytes: Uint8Array;
  start: number;
  end: number;
  /** Length of the packet on the wire (may exceed the captured length when the snaplen cut it). */
  origLen: number;
  /** Offset in the (decompressed) capture byte stream of bytes[start], so the UI can re-read the packet later. */
  fileOffset: number;
}

/** A packet kept after the reader's call: its own copy of the captured bytes. */
export interface PacketCopy {
  index: number;
  ts: number;
  linkType: number;
  interfaceId: number;
  /** The captured bytes. */
  data: Uint8Array;
  origLen: number;
  fileOffset: number;
}

/** The captured bytes of `p`: a view, valid as long as the packet is. */
export function packetBytes(p: Packet): Uint8Array {
  return p.bytes.subarray(p.start, p.end);
}

/** `p` with its own copy of its bytes (or with `data`, bytes copied elsewhere). */
export function copyPacket(p: Packet, data: Uint8Array = p.bytes.slice(p.start, p.end)): PacketCopy {
  return { index: p.index, ts: p.ts, linkType: p.linkType, interfaceId: p.interfaceId, data, origLen: p.origLen, fileOffset: p.fileOffset };
}

export interface InterfaceInfo {
  id: number;
  linkType: number;
  name?: string;
  description?: string;
  snapLen: number;
}

export interface CaptureInfo {
  format: 'pcap' | 'pcapng';
  /** Absolute timestamp of the first packet, nanoseconds since the Unix epoch. */
  originNs: bigint | null;
}
