/**
 * HTTP/2: every request is listed (kubectl's discovery over TLS with ALPN h2), every frame and stream
 * recorded (http2-traffic.ts); gRPC calls are followed as calls (grpc/) and, on the CRI, decoded
 * (cri/): see grpc-calls-recorder.ts.
 */
import { Http2ConnectionDecoder } from '../http2/connection.js';
import { appended } from '../core/appended.js';
import { rangeView } from '../core/byte-range.js';
import { HPACK_UNKNOWN } from '../http2/hpack.js';
import type { ConnectionScope } from './connection-scope.js';
import type { StreamConsumer } from './stream-consumer.js';
import { relocate } from '../core/problem.js';
import { GrpcCallTracker, type GrpcSink } from '../grpc/grpc-calls.js';
import { grpcCallsRecorder } from './grpc-calls-recorder.js';
import { Http2TrafficRecorder } from './http2-traffic.js';

export interface Http2ConsumerOptions {
  /** The bytes start at a frame boundary after the preface (see Http2ConnectionDecoder). */
  joinedMidConnection?: boolean;
  /** An HTTP/1.1 `Upgrade: h2c` request became stream 1 (RFC 7540 §3.2). */
  upgradedFrom?: { method: string; target: string; ts: number; packet: number };
}

export function http2Consumer(scope: ConnectionScope, options: Http2ConsumerOptions = {}): StreamConsumer {
  const { record, ctx } = scope;
  const byStream = new Map<number, number>();
  const traffic = new Http2TrafficRecorder(record, ctx.trafficBudget, options.upgradedFrom);
  const calls = grpcCallsRecorder(scope);
  const grpcSink: GrpcSink = {
    ...calls,
    onCallStart(call) {
      traffic.grpcStart(call);
      calls.onCallStart(call);
    },
    onCallEnd(call) {
      traffic.grpcEnd(call);
      calls.onCallEnd(call);
    },
  };
  const grpc = new GrpcCallTracker(grpcSink, scope.where, options);
  const decoder = new Http2ConnectionDecoder({
    onRequest: (r) => {
      byStream.set(r.streamId, record.requests.length);
      record.requests = appended(record.requests, { method: r.method === HPACK_UNKNOWN ? '?' : r.method, target: r.path === HPACK_UNKNOWN ? '?' : r.path, status: null, ts: r.origin.ts });
      traffic.request(r);
      grpc.request(r);
    },
    onResponse: (r) => {
      const i = byStream.get(r.streamId);
      if (i !== undefined && r.status >= 200) record.requests[i].status = r.status;
      traffic.response(r);
      grpc.response(r);
    },
    onTrailers: (t) => grpc.trailers(t),
    onData: (d) => traffic.data(d),
    onDataBytes: (dir, streamId, bytes, ts) => grpc.data(dir, streamId, bytes, ts),
    onStreamEnd: (e) => {
      traffic.streamEnd(e);
      grpc.streamEnd(e);
    },
    onControl: (c) => traffic.control(c),
    onFrame: (f) => traffic.frame(f),
    onProblem: (p) => ctx.warn(relocate(p, scope.where, { connection: scope.record.id })),
  }, options);
  return {
    push: (dir, bytes, start, end, origin) => decoder.push(dir, rangeView(bytes, start, end), origin),
    gap: (dir, offset, length) => decoder.gap(dir, offset, length),
    end: () => {
      decoder.end();
      grpc.end();
    },
  };
}
