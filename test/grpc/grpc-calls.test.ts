/**
 * The gRPC layer on HTTP/2 events: length-prefixed messages cut anywhere, the compressed flag with
 * grpc-encoding gzip, deadlines, trailers and trailers-only answers, resets, and hostile input
 * (oversize lengths, a stream ending inside a message, a compressed message that does not inflate).
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import { GRPC_MAX_KEPT_MESSAGE, GrpcCallTracker, grpcFrame, parseGrpcTimeout, type GrpcCall, type GrpcMessage } from '../../src/grpc/grpc-calls.js';
import type { Http2Request } from '../../src/http2/connection.js';
import type { Problem } from '../../src/core/problem.js';

const origin = (ts: number) => ({ offset: 0, length: 0, packet: 1, ts, lastPacket: 1, lastTs: ts });

function request(streamId: number, extra: [string, string][] = []): Http2Request {
  const path = '/runtime.v1.RuntimeService/Exec';
  const headers: [string, string][] = [[':method', 'POST'], [':path', path], ['content-type', 'application/grpc'], ['te', 'trailers'], ...extra];
  return { streamId, method: 'POST', path, authority: 'localhost', scheme: 'http', headers, endStream: false, origin: origin(10) };
}

const frame = grpcFrame;

function tracker() {
  const calls: GrpcCall[] = [];
  const ended: GrpcCall[] = [];
  const messages: GrpcMessage[] = [];
  const problems: Problem[] = [];
  const t = new GrpcCallTracker(
    { onCallStart: (c) => calls.push(c), onMessage: (_c, m) => messages.push(m), onCallEnd: (c) => ended.push(c), onProblem: (p) => problems.push(p) },
    'test',
  );
  return { t, calls, ended, messages, problems };
}

test('a unary call: messages split at every byte, deadline, trailers with a percent-encoded message', () => {
  const { t, calls, ended, messages, problems } = tracker();
  expect(t.request(request(1, [['grpc-timeout', '2000m'], ['user-agent', 'grpc-go/1.65.0']]))).toBe(true);
  const body = frame(new TextEncoder().encode('hello'));
  for (let i = 0; i < body.length; i++) t.data('c2s', 1, body.subarray(i, i + 1), 11 + i);
  t.response({ streamId: 1, status: 200, headers: [[':status', '200'], ['content-type', 'application/grpc']], endStream: false, origin: origin(30) });
  t.data('s2c', 1, Buffer.concat([frame(new Uint8Array([1, 2])), frame(new Uint8Array(0))]), 31);
  t.trailers({ dir: 's2c', streamId: 1, headers: [['grpc-status', '5'], ['grpc-message', 'container%20%22x%22 not found']], origin: origin(40) });
  expect(calls[0]).toMatchObject({ service: 'runtime.v1.RuntimeService', method: 'Exec', timeoutNs: 2e9, userAgent: 'grpc-go/1.65.0', startTs: 10 });
  expect(messages.map((m) => [m.dir, Buffer.from(m.bytes!).toString('latin1'), m.ts])).toEqual([
    ['c2s', 'hello', 20],
    ['s2c', '\x01\x02', 31],
    ['s2c', '', 31],
  ]);
  expect(ended[0]).toMatchObject({ status: 5, statusName: 'NOT_FOUND', message: 'container "x" not found', responseTs: 30, endTs: 40, messages: { c2s: 1, s2c: 2 } });
  expect(problems).toEqual([]);
});

test('gzip-compressed messages are inflated; a trailers-only answer ends the call', () => {
  const { t, ended, messages } = tracker();
  t.request(request(3, [['grpc-encoding', 'gzip']]));
  t.data('c2s', 3, frame(zlib.gzipSync(Buffer.from('abc'.repeat(100))), true), 11);
  t.response({ streamId: 3, status: 200, headers: [[':status', '200'], ['grpc-status', '12'], ['grpc-message', 'unknown method']], endStream: true, origin: origin(12) });
  expect(messages[0]).toMatchObject({ compressed: true });
  expect(Buffer.from(messages[0].bytes!).toString()).toBe('abc'.repeat(100));
  expect(ended[0]).toMatchObject({ status: 12, statusName: 'UNIMPLEMENTED', message: 'unknown method', endTs: 12 });
});

test('hostile input: a bad compressed message, an oversize length, a cut message and a reset are reported, not fatal', () => {
  const { t, ended, messages, problems } = tracker();
  t.request(request(1, [['grpc-encoding', 'gzip'], ['grpc-timeout', 'soon']]));
  t.data('c2s', 1, frame(new Uint8Array([1, 2, 3]), true), 11);
  const huge = new Uint8Array(5);
  new DataView(huge.buffer).setUint32(1, GRPC_MAX_KEPT_MESSAGE + 1);
  t.data('c2s', 1, huge, 12);
  t.data('c2s', 1, new Uint8Array(1000), 13);
  t.streamEnd({ dir: 'c2s', streamId: 1, how: 'rst', errorCode: 8, errorName: 'CANCEL', origin: origin(14) });
  expect(messages).toEqual([expect.objectContaining({ compressed: true, bytes: null })]);
  expect(ended[0]).toMatchObject({ reset: 'CANCEL', status: null, endTs: 14, timeoutNs: null });
  expect(problems.map((p) => p.message)).toEqual([
    'malformed grpc-timeout "soon"',
    expect.stringMatching(/^compressed gRPC message does not decompress/),
    'request ended inside a gRPC message (1005 bytes of it seen)',
  ]);
});

test('a call still open when the connection ends has no outcome; non-gRPC requests are not followed', () => {
  const { t, ended } = tracker();
  expect(t.request({ ...request(1), headers: [['content-type', 'application/json']] })).toBe(false);
  t.request(request(3));
  t.end();
  expect(ended).toEqual([expect.objectContaining({ streamId: 3, endTs: null, status: null })]);
});

test('grpc-timeout units', () => {
  expect([parseGrpcTimeout('1H'), parseGrpcTimeout('2M'), parseGrpcTimeout('3S'), parseGrpcTimeout('4m'), parseGrpcTimeout('5u'), parseGrpcTimeout('6n')]).toEqual([3600e9, 120e9, 3e9, 4e6, 5e3, 6]);
  expect(parseGrpcTimeout('123456789S')).toBeNull();
});

test('any byte stream fed in any cuts never throws and reports each complete message once', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 8 }), (bytes, cuts) => {
      const { t, messages } = tracker();
      t.request(request(1, [['grpc-encoding', 'gzip']]));
      const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
      let at = 0;
      for (const p of [...points, bytes.length]) {
        t.data('c2s', 1, bytes.subarray(at, p), 1);
        at = p;
      }
      t.end();
      for (const m of messages) expect(m.length).toBeLessThanOrEqual(bytes.length);
    }),
  );
});
