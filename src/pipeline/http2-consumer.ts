/**
 * HTTP/2: every request is listed (kubectl's discovery over TLS with ALPN h2); gRPC calls are followed
 * as calls (grpc/) and, on the CRI, decoded (cri/): see grpc-calls-recorder.ts.
 */
import { Http2ConnectionDecoder } from '../http2/connection.js';
import { HPACK_UNKNOWN } from '../http2/hpack.js';
import type { ConnectionScope } from './connection-scope.js';
import type { StreamConsumer } from './stream-consumer.js';
import { relocate } from '../core/problem.js';
import { GrpcCallTracker } from '../grpc/grpc-calls.js';
import { grpcCallsRecorder } from './grpc-calls-recorder.js';

/** `joinedMidConnection`: the bytes start at a frame boundary after the preface (see Http2ConnectionDecoder). */
export function http2Consumer(scope: ConnectionScope, options: { joinedMidConnection?: boolean } = {}): StreamConsumer {
  const { record, ctx } = scope;
  const byStream = new Map<number, number>();
  const grpc = new GrpcCallTracker(grpcCallsRecorder(scope), scope.where, options);
  const decoder = new Http2ConnectionDecoder({
    onRequest: (r) => {
      byStream.set(r.streamId, record.requests.length);
      record.requests.push({ method: r.method === HPACK_UNKNOWN ? '?' : r.method, target: r.path === HPACK_UNKNOWN ? '?' : r.path, status: null, ts: r.origin.ts });
      grpc.request(r);
    },
    onResponse: (r) => {
      const i = byStream.get(r.streamId);
      if (i !== undefined && r.status >= 200) record.requests[i].status = r.status;
      grpc.response(r);
    },
    onTrailers: (t) => grpc.trailers(t),
    onData() {},
    onDataBytes: (dir, streamId, bytes, ts) => grpc.data(dir, streamId, bytes, ts),
    onStreamEnd: (e) => grpc.streamEnd(e),
    onControl() {},
    onProblem: (p) => ctx.warn(relocate(p, scope.where, { connection: scope.record.id })),
  }, options);
  return {
    push: (dir, data, origin) => decoder.push(dir, data, origin),
    gap: (dir, offset, length) => decoder.gap(dir, offset, length),
    end: () => {
      decoder.end();
      grpc.end();
    },
  };
}
