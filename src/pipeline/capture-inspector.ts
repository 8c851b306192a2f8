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
import type { Problem } from '../core/problem.js';
import { packetHeaderLayers, type HeaderLayer } from '../net/packet-fields.js';
import { isTcpAnalysis } from '../net/problems.js';
import { PacketDecoder } from '../net/packet-decoder.js';
import { TcpReassembler } from '../net/tcp-reassembly.js';
import type { TcpSegment } from '../net/tcp.js';

const MAX_PACKETS = 16;
const MAX_UNIT_BYTES = 1 << 20;
/** Packets of the unit's range kept while reading, until reassembly says which carried its bytes (it may deliver them later). */
const MAX_KEPT_PACKETS = 256;

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
  /** The frame's link, IP and TCP headers with their fields. */
  headers: HeaderLayer[];
  /** TCP analysis of the segment (retransmission, out-of-order, zero window…), as Wireshark's tcp.analysis flags. */
  analysis: Problem[];
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

interface KeptPacket {
  packet: Packet;
  payloadStart: number;
  tcp: Omit<TcpSegment, 'payload'>;
}

export function createCaptureInspector(path: string): CaptureInspector {
  return async ({ connectionId, dir, origin: o, innerOffsets }) => {
    const bytes = new Uint8Array(innerOffsets ? 0 : Math.min(o.length, MAX_UNIT_BYTES));
    const carriers = new Map<number, CarrierPacket>();
    const kept = new Map<number, KeptPacket>();
    const analysis = new Map<number, Problem[]>();
    let current: Packet | null = null;
    let done = false;
    // Reassembly names the packet that carried each piece (origin.packet): it may deliver a piece
    // after later packets when they were stored out of order.
    const keep = (packet: number, length: number, streamOffset: number) => {
      const k = kept.get(packet);
      if (!k || carriers.size >= MAX_PACKETS) return;
      const c = carriers.get(packet);
      if (c) c.payloadLength = Math.max(c.payloadLength, streamOffset + length - c.streamOffset);
      else carriers.set(packet, { ...k, payloadLength: length, streamOffset, headers: packetHeaderLayers(k.packet.linkType, k.packet.data), analysis: [] });
    };
    const tcp = new TcpReassembler(
      {
        onOpen() {},
        onData(conn, d, data, origin) {
          if (conn.id !== connectionId || d !== dir) return;
          if (innerOffsets) {
            if (origin.packet >= o.packet && origin.packet <= o.lastPacket) keep(origin.packet, data.length, origin.offset);
            return;
          }
          const a = Math.max(origin.offset, o.offset);
          const b = Math.min(origin.offset + data.length, o.offset + o.length);
          if (b <= a) return;
          if (a - o.offset < bytes.length) bytes.set(data.subarray(a - origin.offset, Math.min(b, o.offset + bytes.length) - origin.offset), a - o.offset);
          keep(origin.packet, data.length, origin.offset);
        },
        onGap() {},
        onClose() {},
        onEnd() {},
        onProblem(p) {
          if (p.connection !== connectionId || p.packet === undefined || !isTcpAnalysis(p.code)) return;
          if (p.packet < o.packet || p.packet > o.lastPacket) return;
          const list = analysis.get(p.packet) ?? [];
          list.push(p);
          analysis.set(p.packet, list);
        },
      },
      { analysisProblemsPerConnection: Infinity },
    );
    const packets = new PacketDecoder({
      onSegment(seg) {
        if (current && current.index >= o.packet && current.index <= o.lastPacket && kept.size < MAX_KEPT_PACKETS) {
          const { payload, ...fields } = seg;
          kept.set(current.index, { packet: { ...current, data: current.data.slice() }, payloadStart: payload.byteOffset - current.data.byteOffset, tcp: fields });
        }
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
    // Pieces still held back for segments stored out of order are delivered now.
    tcp.end();
    const found = [...carriers.values()].sort((x, y) => x.streamOffset - y.streamOffset);
    for (const c of found) c.analysis = analysis.get(c.packet.index) ?? [];
    return { bytes, carriers: found };
  };
}
