/** One captured frame as the capture readers hand it to the link layer. */
export interface Packet {
  /** 1-based packet number, counted over the whole file as Wireshark does. */
  index: number;
  /** Nanoseconds since the capture origin (see CaptureInfo.originNs). May be negative for out-of-order timestamps. */
  ts: number;
  /** LINKTYPE_* value of the interface this packet was captured on. */
  linkType: number;
  /** pcapng interface id (global across sections); 0 for classic pcap. */
  interfaceId: number;
  /** Captured bytes. A view into the reader's buffer: valid only during the onPacket callback; copy to keep. */
  data: Uint8Array;
  /** Length of the packet on the wire (may exceed data.length when the snaplen cut it). */
  origLen: number;
  /** Offset in the (decompressed) capture byte stream of data[0], so the UI can re-read the packet later. */
  fileOffset: number;
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
