/**
 * Reads back, from the capture file, the bytes under one decoded unit: the unit's exact bytes in its
 * TCP stream and each packet that carried them with its TCP header. The model keeps only origins
 * (offsets, packet numbers), so the capture is decoded again up to the unit's last packet. The
 * Event pane turns this into layers; the pipeline is the only place that re-reads a capture.
 */
import { readCaptureBytes } from '../capture/capture-source.js';
import { CaptureDecoder } from '../capture/capture-decoder.js';
import type { Packet } from '../capture/packet.js';
import type { Direction, FrameOrigin } from '../core/origin.js';
import { PacketDecoder } from '../net/packet-decoder.js';
import { TcpReassembler } from '../net/tcp-reassembly.js';
import type { TcpSegment } from '../net/tcp.js';

const MAX_PACKETS = 16;
const MAX_UNIT_BYTES = 1 << 20;

/** One packet carrying bytes of the unit. */
export interface CarrierPacket {
  /** A copy: the packet's bytes outlive the read. */
  packet: Packet;
  /** Where the TCP payload sits in the packet, and which stream bytes it held. */
  payloadStart: number;
  payloadLength: number;
  streamOffset: number;
  /** The TCP header fields of the segment (its payload view is dropped). */
  tcp: Omit<TcpSegment, 'payload'>;
}

export interface CapturedUnit {
  /** The unit's bytes (up to 1 MiB), empty when the offsets are not TCP offsets. */
  bytes: Uint8Array;
  /** At most 16 packets. */
  carriers: CarrierPacket[];
}

/** What to read back: a unit of a connection's direction. */
export interface UnitQuery {
  connectionId: number;
  dir: Direction;
  origin: FrameOrigin;
  /**
   * The origin's offsets are not TCP offsets (decrypted TLS bytes, bytes tunnelled in WebSocket):
   * the carriers are then the direction's packets between the first and last packet, and no bytes.
   */
  innerOffsets: boolean;
}

export type CaptureInspector = (query: UnitQuery) => Promise<CapturedUnit>;

export function createCaptureInspector(path: string): CaptureInspector {
  return async ({ connectionId, dir, origin: o, innerOffsets }) => {
    const bytes = new Uint8Array(innerOffsets ? 0 : Math.min(o.length, MAX_UNIT_BYTES));
    const carriers: CarrierPacket[] = [];
    let current: Packet | null = null;
    let segment: Omit<TcpSegment, 'payload'> | null = null;
    let payloadStart = 0;
    let done = false;
    const keep = (p: Packet, length: number, streamOffset: number) => {
      if (carriers.length < MAX_PACKETS && segment) carriers.push({ packet: { ...p, data: p.data.slice() }, payloadStart, payloadLength: length, streamOffset, tcp: segment });
    };
    const tcp = new TcpReassembler({
      onOpen() {},
      onData(conn, d, data, origin) {
        if (conn.id !== connectionId || d !== dir || !current) return;
        if (innerOffsets) {
          if (current.index >= o.packet) keep(current, data.length, origin.offset);
          return;
        }
        const a = Math.max(origin.offset, o.offset);
        const b = Math.min(origin.offset + data.length, o.offset + o.length);
        if (b <= a) return;
        if (a - o.offset < bytes.length) bytes.set(data.subarray(a - origin.offset, Math.min(b, o.offset + bytes.length) - origin.offset), a - o.offset);
        keep(current, data.length, origin.offset);
      },
      onGap() {},
      onClose() {},
      onEnd() {},
    });
    const packets = new PacketDecoder({
      onSegment(seg) {
        payloadStart = current ? seg.payload.byteOffset - current.data.byteOffset : 0;
        const { payload: _payload, ...fields } = seg;
        segment = fields;
        tcp.push(seg);
      },
    });
    const reader = new CaptureDecoder({
      onPacket(p) {
        if (done) return;
        current = p;
        packets.push(p);
        current = null;
        if (p.index >= o.lastPacket) done = true;
      },
    });
    for await (const chunk of readCaptureBytes(path)) {
      reader.push(chunk);
      if (done) break;
    }
    return { bytes, carriers };
  };
}
