/**
 * Unix-socket captures by sockdump (mechpen/sockdump, and its Go port): classic pcap, link type 147
 * (USER0), one record per write on the socket. A record is a header, then the bytes written:
 *
 * - with the socket path (mechpen/sockdump since it prints paths): a 109-byte field, one length
 *   byte then 108 bytes of path (NUL-padded), then the peer's PID and the writer's PID as 8-byte
 *   big-endian integers;
 * - without it (older releases and the Go port): the two PIDs only (peer first, writer second).
 *
 * Writes between the same two processes on the same socket path make one byte stream per direction;
 * the side that writes first is taken as the client (gRPC and HTTP clients speak first). The streams
 * are handed on as the TCP reassembler hands on its connections, so everything above TCP (HTTP/2,
 * gRPC, HTTP/1.1, the exec protocols) decodes them unchanged. Sans-IO.
 */
import { packetBytes, type Packet } from '../capture/packet.js';
import type { Direction } from '../core/origin.js';
import { linkProblem } from './problems.js';
export { LINKTYPE_USER0 } from './link-layer.js';
import type { TcpConnection, TcpSink } from './tcp-reassembly.js';

const PATH_FIELD = 109;
const PID_FIELDS = 16;
/** PIDs above this are not PIDs (Linux's pid_max limit is 2^22). */
const MAX_PID = 1 << 22;
/** Unix-socket conversations followed at once. */
const MAX_STREAMS = 10_000;

export interface SockdumpRecord {
  /** The socket path, '' when the record format does not carry it. */
  path: string;
  writerPid: number;
  peerPid: number;
  /** Offset in the record of the first byte written. */
  dataOffset: number;
}

function pid(data: Uint8Array, at: number): number | null {
  const view = new DataView(data.buffer, data.byteOffset + at, 8);
  if (view.getUint32(0) !== 0) return null;
  const value = view.getUint32(4);
  return value < MAX_PID ? value : null;
}

/** The record's header, or null when the record is too short or its PIDs are not PIDs. */
export function parseSockdumpRecord(data: Uint8Array): SockdumpRecord | null {
  if (data.length >= PATH_FIELD + PID_FIELDS && data[0] <= PATH_FIELD - 1 && data.subarray(1 + data[0], PATH_FIELD).every((b) => b === 0)) {
    const peerPid = pid(data, PATH_FIELD);
    const writerPid = pid(data, PATH_FIELD + 8);
    if (peerPid !== null && writerPid !== null) {
      const path = new TextDecoder('utf-8', { fatal: false }).decode(data.subarray(1, 1 + data[0]));
      return { path, peerPid, writerPid, dataOffset: PATH_FIELD + PID_FIELDS };
    }
  }
  if (data.length < PID_FIELDS) return null;
  const peerPid = pid(data, 0);
  const writerPid = pid(data, 8);
  return peerPid === null || writerPid === null ? null : { path: '', peerPid, writerPid, dataOffset: PID_FIELDS };
}

interface UnixStream<R> {
  conn: TcpConnection;
  /** What the sink's onOpen returned for it. */
  own: R;
  clientPid: number;
  offset: Record<Direction, number>;
}

/** Turns sockdump records into per-conversation byte streams for the layers above TCP. */
export class SockdumpStreams<R = void> {
  private readonly streams = new Map<string, UnixStream<R>>();
  private nextId: () => number;
  private lastTs = 0;
  private reported = false;

  /** `nextId` numbers connections together with the TCP reassembler's, so ids stay unique. */
  constructor(
    private readonly sink: TcpSink<R>,
    nextId: () => number,
  ) {
    this.nextId = nextId;
  }

  push(p: Packet): void {
    const captured = packetBytes(p);
    const record = parseSockdumpRecord(captured);
    if (!record) {
      this.sink.onProblem?.(linkProblem('malformed', `${captured.length}-byte record is not a sockdump record (socket path, peer PID, writer PID)`, { where: `packet ${p.index}`, packet: p.index }));
      return;
    }
    if (p.origLen > captured.length && !this.reported) {
      this.reported = true;
      this.sink.onProblem?.(linkProblem('snaplen-cut', `sockdump cut a write to ${captured.length} of ${p.origLen} bytes (raise --seg-size): the rest is a gap`, { where: `packet ${p.index}`, packet: p.index }));
    }
    this.lastTs = Math.max(this.lastTs, p.ts);
    const [low, high] = record.writerPid < record.peerPid ? [record.writerPid, record.peerPid] : [record.peerPid, record.writerPid];
    const key = `${record.path}\0${low}\0${high}`;
    let s = this.streams.get(key);
    if (!s) {
      if (this.streams.size >= MAX_STREAMS) return;
      const where = record.path ? `unix:${record.path}` : 'unix';
      const conn: TcpConnection = {
        id: this.nextId(),
        client: `${where} pid ${record.writerPid}`,
        server: `${where} pid ${record.peerPid}`,
        firstPacket: p.index,
        startTs: p.ts,
        // A unix socket has no handshake to see: the capture may have started mid-conversation.
        sawHandshake: false,
      };
      s = { conn, own: this.sink.onOpen(conn), clientPid: record.writerPid, offset: { c2s: 0, s2c: 0 } };
      this.streams.set(key, s);
    }
    const dir: Direction = record.writerPid === s.clientPid ? 'c2s' : 's2c';
    const length = Math.max(captured.length - record.dataOffset, 0);
    const offset = s.offset[dir];
    if (length > 0) this.sink.onData(s.conn, dir, p.bytes, p.start + record.dataOffset, p.end, { offset, length, packet: p.index, ts: p.ts }, s.own);
    const written = p.origLen - record.dataOffset;
    if (written > length) this.sink.onGap(s.conn, dir, offset + length, written - length, p.index, p.ts, s.own);
    s.offset[dir] = offset + Math.max(written, length);
  }

  /** The capture ended: every conversation ends with it (a unix-socket capture shows no close). */
  end(): void {
    for (const s of this.streams.values()) this.sink.onEnd(s.conn, this.lastTs, s.own);
    this.streams.clear();
  }
}
