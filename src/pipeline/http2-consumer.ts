/** HTTP/2 (kubectl's discovery and pod GETs over TLS with ALPN h2): listed, never exec. */
import { Http2ConnectionDecoder } from '../http2/connection.js';
import type { ConnectionScope } from './connection-scope.js';
import type { StreamConsumer } from './stream-consumer.js';
import { relocate } from '../core/problem.js';

export function http2Consumer(scope: ConnectionScope): StreamConsumer {
  const { record, ctx } = scope;
  const byStream = new Map<number, number>();
  return new Http2ConnectionDecoder({
    onRequest: (r) => {
      byStream.set(r.streamId, record.requests.length);
      record.requests.push({ method: r.method, target: r.path, status: null, ts: r.origin.ts });
    },
    onResponse: (r) => {
      const i = byStream.get(r.streamId);
      if (i !== undefined && r.status >= 200) record.requests[i].status = r.status;
    },
    onTrailers() {},
    onData() {},
    onStreamEnd() {},
    onControl() {},
    onProblem: (p) => ctx.warn(relocate(p, scope.where, { connection: scope.record.id })),
  });
}
