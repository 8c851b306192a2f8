/**
 * Reads back, from the capture file, the bytes under one decoded unit: the unit's exact bytes in its
 * TCP stream and each packet that carried them with its TCP header. The model keeps only origins
 * (offsets, packet numbers), so the capture is decoded again up to the unit's last packet. The
 * Event pane turns this into layers; the pipeline is the only place that re-reads a capture.
 * Over TLS the unit's offsets count decrypted bytes: given the key log the analysis used (its
 * secrets and the TLS 1.2 sessions it learnt), the connection is decrypted again by tls/'s decoder.
 */
import { readCaptureBytes } from '../capture/capture-source.js';
import { CaptureDecoder } from '../capture/capture-decoder.js';
import type { Packet } from '../capture/packet.js';
import type { Direction, FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { Problem } from '../core/problem.js';
import { packetHeaderLayers, type HeaderLayer } from '../net/packet-fields.js';
import { isTcpAnalysis } from '../net/problems.js';
import { PacketDecoder } from '../net/packet-decoder.js';
import { TcpReassembler } from '../net/tcp-reassembly.js';
import type { TcpSegment } from '../net/tcp.js';
import { SpdyFrameDecoder } from '../spdy/frame-decoder.js';
import type { TlsKeyLog } from '../tls/key-log.js';
import { TlsConnectionDecoder } from '../tls/record-decoder.js';
import { recordContentType, TlsRecordFramer } from '../tls/record-framer.js';
import { ContentType } from '../tls/tls-names.js';

const MAX_PACKETS = 16;
const MAX_UNIT_BYTES = 1 << 20;
/** Packets of the unit's range kept while reading, until reassembly says which carried its bytes (it may deliver them later). */
const MAX_KEPT_PACKETS = 256;
/** TLS records listed for one unit. */
const MAX_TLS_RECORDS = 16;

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

/** A TLS record of the unit's direction, as it crossed TCP. */
export interface CarriedTlsRecord {
  /** The whole record, header included (a copy). */
  bytes: Uint8Array;
  /** Its TCP offsets and the packets of its first and last byte. */
  origin: FrameOrigin;
  /** A ChangeCipherSpec came before it in its direction: its handshake messages, if any, are encrypted. */
  afterChangeCipherSpec: boolean;
}

export interface CapturedUnit {
  /**
   * The unit's bytes (up to 1 MiB): from the TCP stream, or over TLS from the decrypted stream; empty
   * for tunnelled units and over TLS when the connection was not decrypted (see `decrypted`).
   */
  bytes: Uint8Array;
  /** Over TLS: whether re-reading decrypted the unit's direction up to the unit's end. */
  decrypted: boolean;
  /** At most 16 packets. */
  carriers: CarrierPacket[];
  /** With `spdyFrom`: the unit's SPDY header block inflated, null when it could not be (no block, context lost). */
  inflatedHeaderBlock: Uint8Array | null;
  /** With `tlsRecords`: the records of the direction that ended in the unit's packets (at most 16). */
  tlsRecords: CarriedTlsRecord[];
  /** With `alsoPacket`: that packet, when it is not one of the carriers (its streamOffset is -1). */
  alsoPacket: CarrierPacket | null;
}

/** What to read back: a unit of a connection's direction. */
export interface UnitQuery {
  connectionId: number;
  dir: Direction;
  origin: FrameOrigin;
  /**
   * The origin's offsets count bytes tunnelled in WebSocket messages: the carriers are then the
   * direction's packets between the first and last packet, and no bytes.
   */
  innerOffsets: boolean;
  /**
   * The unit is a SPDY frame with a header block, and the direction's SPDY bytes start at this stream
   * offset (TCP, or decrypted TLS; after the upgrade's HTTP head): every earlier block of the
   * direction is inflated through the same zlib stream, then the unit's own.
   */
  spdyFrom?: number;
  /**
   * The connection is TLS and the origin's offsets count its decrypted bytes: list the direction's
   * records that ended in the unit's packets, decrypt with the inspector's key log for the bytes;
   * the carriers are the direction's packets between the first and last packet.
   */
  tls?: boolean;
  /** Also read this packet (a warning's, which may carry none of the unit's bytes) with its headers and TCP analysis. */
  alsoPacket?: number;
}

export type CaptureInspector = (query: UnitQuery) => Promise<CapturedUnit>;

interface KeptPacket {
  packet: Packet;
  payloadStart: number;
  tcp: Omit<TcpSegment, 'payload'>;
}

/** `keys`: the key log the analysis used (the same object: it holds the TLS 1.2 sessions resumed connections need). */
export function createCaptureInspector(path: string, keys: TlsKeyLog | null = null): CaptureInspector {
  return async ({ connectionId, dir, origin: o, innerOffsets, spdyFrom, tls = false, alsoPacket }) => {
    const lastPacket = Math.max(o.lastPacket, alsoPacket ?? 0);
    const analysed = (packet: number) => (packet >= o.packet && packet <= o.lastPacket) || packet === alsoPacket;
    let also: CarrierPacket | null = null;
    // TCP offsets locate the unit's packets; decrypted or tunnelled offsets do not.
    const tcpOffsets = !innerOffsets && !tls;
    const decrypting = tls && !innerOffsets && keys !== null;
    const bytes = new Uint8Array(tcpOffsets || decrypting ? Math.min(o.length, MAX_UNIT_BYTES) : 0);
    /** Where the decrypted stream of the unit's direction has reached. */
    let plaintextEnd = 0;
    const carriers = new Map<number, CarrierPacket>();
    const kept = new Map<number, KeptPacket>();
    const analysis = new Map<number, Problem[]>();
    let current: Packet | null = null;
    let done = false;
    let inflatedHeaderBlock: Uint8Array | null = null;
    const spdy =
      spdyFrom === undefined || !(tcpOffsets || decrypting)
        ? null
        : new SpdyFrameDecoder({
            onControl() {},
            onData() {},
            onProblem() {},
            onHeaderBlock(frameOffset, inflated) {
              if (frameOffset === o.offset) inflatedHeaderBlock = inflated.slice();
            },
          });
    const tlsRecords: CarriedTlsRecord[] = [];
    let changeCipherSpecSeen = false;
    const records = tls
      ? new TlsRecordFramer(
          (record, origin) => {
            if (origin.lastPacket >= o.packet && origin.lastPacket <= o.lastPacket && tlsRecords.length < MAX_TLS_RECORDS) {
              tlsRecords.push({ bytes: record.slice(), origin, afterChangeCipherSpec: changeCipherSpecSeen });
            }
            if (recordContentType(record) === ContentType.changeCipherSpec) changeCipherSpecSeen = true;
          },
          () => {},
        )
      : null;
    /** A piece of the direction's stream (TCP, or decrypted): the unit's part copied, SPDY blocks inflated. Says whether it held unit bytes. */
    const unitStream = (data: Uint8Array, origin: StreamOrigin): boolean => {
      if (spdy && spdyFrom !== undefined && origin.offset + data.length > spdyFrom) {
        const skip = Math.max(0, spdyFrom - origin.offset);
        spdy.push(data.subarray(skip), { ...origin, offset: origin.offset + skip, length: data.length - skip });
      }
      const a = Math.max(origin.offset, o.offset);
      const b = Math.min(origin.offset + data.length, o.offset + o.length);
      if (b <= a) return false;
      if (a - o.offset < bytes.length) bytes.set(data.subarray(a - origin.offset, Math.min(b, o.offset + bytes.length) - origin.offset), a - o.offset);
      return true;
    };
    const decrypter = decrypting
      ? new TlsConnectionDecoder(keys!, {
          onHandshakeInfo() {},
          onRecord() {},
          onPlaintext(d, data, origin) {
            if (d !== dir) return;
            unitStream(data, origin);
            plaintextEnd = origin.offset + data.length;
          },
          // What the analysis said of this connection is in its warnings already.
          onProblem() {},
        })
      : null;
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
          if (conn.id !== connectionId) return;
          // The handshake of both directions gives the keys.
          decrypter?.push(d, data, origin);
          if (d !== dir) return;
          records?.push(data, origin);
          if (!tcpOffsets) {
            if (origin.packet >= o.packet && origin.packet <= o.lastPacket) keep(origin.packet, data.length, origin.offset);
            return;
          }
          if (unitStream(data, origin)) keep(origin.packet, data.length, origin.offset);
        },
        onGap(conn, d, offset, length) {
          if (conn.id !== connectionId) return;
          decrypter?.gap(d, offset, length);
          if (d !== dir) return;
          // A record cut by lost bytes cannot be found again; SPDY says what the loss cost its header context.
          records?.stop();
          if (tcpOffsets && spdy && spdyFrom !== undefined && offset >= spdyFrom) spdy.gap(offset, length);
        },
        onClose() {},
        onEnd() {},
        onProblem(p) {
          if (p.connection !== connectionId || p.packet === undefined || !isTcpAnalysis(p.code)) return;
          if (!analysed(p.packet)) return;
          const list = analysis.get(p.packet) ?? [];
          list.push(p);
          analysis.set(p.packet, list);
        },
      },
      { analysisProblemsPerConnection: Infinity },
    );
    const packets = new PacketDecoder({
      onSegment(seg) {
        if (current && current.index === alsoPacket) {
          const { payload, ...fields } = seg;
          const packet = { ...current, data: current.data.slice() };
          also = { packet, payloadStart: payload.byteOffset - current.data.byteOffset, payloadLength: payload.length, streamOffset: -1, tcp: fields, headers: packetHeaderLayers(packet.linkType, packet.data), analysis: [] };
        }
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
        if (p.index >= lastPacket) done = true;
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
    const extra = also as CarrierPacket | null;
    if (extra) extra.analysis = analysis.get(extra.packet.index) ?? [];
    // Over TLS, bytes the keys did not reach are not the unit's: none are given.
    const decrypted = decrypting && plaintextEnd >= o.offset + o.length;
    return { bytes: tls && !decrypted ? new Uint8Array(0) : bytes, decrypted, carriers: found, inflatedHeaderBlock, tlsRecords, alsoPacket: extra && !carriers.has(extra.packet.index) ? extra : null };
  };
}
