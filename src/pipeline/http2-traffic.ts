/**
 * Any HTTP/2 connection into the model: its frames (type, flags, stream, length), its streams (method,
 * path, status, DATA bytes, END_STREAM, RST_STREAM, and for gRPC calls their status and message) and
 * its GOAWAYs, on `record.http2`. Fed by http2Consumer from the HTTP/2 and gRPC layers' events.
 */
import type { Direction } from '../core/origin.js';
import type { GrpcCall } from '../grpc/grpc-calls.js';
import type { Http2Control, Http2Data, Http2FrameSeen, Http2Request, Http2Response, Http2StreamEnd } from '../http2/connection.js';
import { Http2FrameType, http2FlagNames, http2FrameTypeName } from '../http2/frame.js';
import { HPACK_UNKNOWN } from '../http2/hpack.js';
import { TRAFFIC_ENTRIES_KEPT, type Http2StreamEntry, type Http2Traffic } from '../model/connection-traffic.js';
import type { ConnectionRecord } from '../model/session.js';
import type { TrafficListingBudget } from './traffic-budget.js';

/** Frame types that belong to a stream's own exchange (WINDOW_UPDATE and PRIORITY do not open one). */
const STREAM_FRAMES = new Set<number>([Http2FrameType.DATA, Http2FrameType.HEADERS, Http2FrameType.CONTINUATION, Http2FrameType.RST_STREAM]);
const HEADER_FRAMES = new Set<number>([Http2FrameType.HEADERS, Http2FrameType.CONTINUATION, Http2FrameType.PUSH_PROMISE]);
/** Debug data of a GOAWAY kept for listing. */
const GOAWAY_DEBUG_SHOWN = 200;

const known = (value: string) => (value === HPACK_UNKNOWN ? '?' : value);

export class Http2TrafficRecorder {
  readonly traffic: Http2Traffic = { frames: [], framesDropped: 0, frameCounts: { c2s: {}, s2c: {} }, streams: [], streamsDropped: 0, goaways: [], goawaysDropped: 0 };
  /** The kept streams by id (at most TRAFFIC_ENTRIES_KEPT). */
  private readonly byId = new Map<number, Http2StreamEntry>();
  /** The highest server-initiated (even) and client-initiated (odd) stream id not kept. */
  private readonly highestDropped = [0, 0];

  /** `upgradedFrom`: the HTTP/1.1 request an `Upgrade: h2c` turned into stream 1. */
  constructor(
    private readonly record: ConnectionRecord,
    private readonly budget: TrafficListingBudget,
    upgradedFrom?: { method: string; target: string; ts: number; packet: number },
  ) {
    record.http2 = this.traffic;
    if (!upgradedFrom) return;
    // The upgrade request was the client's whole side of stream 1 (RFC 7540 §3.2: half-closed at once).
    const s = this.stream(1, upgradedFrom.ts, upgradedFrom.packet);
    if (s) Object.assign(s, { method: upgradedFrom.method, path: upgradedFrom.target, ended: { c2s: true, s2c: false } });
  }

  frame(f: Http2FrameSeen): void {
    const t = this.traffic;
    const type = http2FrameTypeName(f.type);
    const counts = t.frameCounts[f.dir];
    counts[type] = (counts[type] ?? 0) + 1;
    if (t.frames.length < TRAFFIC_ENTRIES_KEPT && this.budget.take(this.record.id, f.origin.packet)) t.frames.push({ dir: f.dir, type, flags: http2FlagNames(f.type, f.flags), streamId: f.streamId, length: f.length, origin: f.origin });
    else t.framesDropped++;
    if (f.streamId === 0 || !STREAM_FRAMES.has(f.type) && f.type !== Http2FrameType.PUSH_PROMISE) return;
    const s = STREAM_FRAMES.has(f.type) ? this.stream(f.streamId, f.origin.ts, f.origin.packet) : this.byId.get(f.streamId);
    if (s && HEADER_FRAMES.has(f.type)) s.headerFrames++;
  }

  request(r: Http2Request): void {
    const s = this.stream(r.streamId, r.origin.ts, r.origin.packet);
    if (!s) return;
    s.method = known(r.method);
    s.path = known(r.path);
    s.authority = known(r.authority);
    for (const [name, value] of r.headers) if (name === 'content-type') s.contentType = known(value);
  }

  response(r: Http2Response): void {
    const s = this.byId.get(r.streamId);
    if (s && r.status >= 200) s.status = r.status;
  }

  data(d: Http2Data): void {
    const s = this.byId.get(d.streamId);
    if (s) s.dataBytes[d.dir] += d.length;
  }

  streamEnd(e: Http2StreamEnd): void {
    const s = this.byId.get(e.streamId);
    if (!s) return;
    if (e.how === 'rst') {
      s.reset ??= { dir: e.dir, error: e.errorName ?? 'UNKNOWN' };
      s.endTs ??= e.origin.lastTs;
      return;
    }
    s.ended[e.dir] = true;
    const other: Direction = e.dir === 'c2s' ? 's2c' : 'c2s';
    if (s.ended[other]) s.endTs ??= e.origin.lastTs;
  }

  control(c: Http2Control): void {
    if (c.type !== 'GOAWAY') return;
    if (this.traffic.goaways.length >= TRAFFIC_ENTRIES_KEPT || !this.budget.take(this.record.id, c.origin.packet)) {
      this.traffic.goawaysDropped++;
      return;
    }
    this.traffic.goaways.push({ dir: c.dir, lastStreamId: c.lastStreamId, error: c.errorName, debug: c.debugData.slice(0, GOAWAY_DEBUG_SHOWN), ts: c.origin.lastTs, packet: c.origin.packet });
  }

  /** A gRPC call started on a stream: the connection is gRPC. */
  grpcStart(call: GrpcCall): void {
    this.record.protocol = 'grpc';
    const s = this.byId.get(call.streamId);
    if (s) s.grpc = { status: null, statusName: null, message: null };
  }

  grpcEnd(call: GrpcCall): void {
    const s = this.byId.get(call.streamId);
    if (s) s.grpc = { status: call.status, statusName: call.statusName, message: call.message };
  }

  /**
   * The stream's entry, made on its first frame; undefined once TRAFFIC_ENTRIES_KEPT streams are
   * listed or the capture's budget is spent (neither comes back: a stream not kept stays so).
   */
  private stream(id: number, ts: number, packet: number): Http2StreamEntry | undefined {
    let s = this.byId.get(id);
    if (s) return s;
    if (this.byId.size >= TRAFFIC_ENTRIES_KEPT || !this.budget.take(this.record.id, packet)) {
      // Stream ids only grow per initiator (RFC 9113 §5.1.1): a new highest id is a new stream, counted once.
      const initiator = id % 2;
      if (id > this.highestDropped[initiator]) {
        this.highestDropped[initiator] = id;
        this.traffic.streamsDropped++;
      }
      return undefined;
    }
    s = { id, method: '', path: '', authority: '', status: null, contentType: '', dataBytes: { c2s: 0, s2c: 0 }, headerFrames: 0, ended: { c2s: false, s2c: false }, reset: null, grpc: null, startTs: ts, endTs: null };
    this.byId.set(id, s);
    this.traffic.streams.push(s);
    return s;
  }
}
