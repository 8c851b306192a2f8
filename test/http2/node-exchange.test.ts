/**
 * Decodes real HTTP/2 recorded between node:http2's client and server (nghttp2 underneath: Huffman
 * coding, dynamic table indexing, CONTINUATION, padding) and checks every request, response, trailer
 * and byte count against what the two ends themselves saw.
 */
import { HTTP2_BODY_PREVIEW_BYTES } from '../../src/http2/connection.js';
import { Http2FrameType } from '../../src/http2/frame.js';
import { type Chunk, concat, decodeChunks, expectSplitInvariant, Http2Recorder, http2Layer, stepsOf } from './h2-frames.js';
import { play, transcript } from '../kit/transcript.js';
import { FIXED_DATE, POD_JSON, type Recording, recordExchange, sha256, VERSION_JSON } from './node-recording.js';

const ECHO_BODY = 'stdin for the echo: '.repeat(50);
const BIG_VALUE = 'b'.repeat(40000);
const USER_AGENT = 'kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd';

const exchange = [
  { headers: { ':path': '/version', 'user-agent': USER_AGENT, accept: 'application/json, */*' } },
  { headers: { ':path': '/api/v1/namespaces/default/pods/web-0', 'user-agent': USER_AGENT, accept: 'application/json' } },
  { headers: { ':method': 'POST', ':path': '/echo', 'user-agent': USER_AGENT, 'content-type': 'text/plain' }, body: ECHO_BODY },
  { headers: { ':path': '/missing', 'user-agent': USER_AGENT } },
  { headers: { ':path': '/big-header', 'x-big': BIG_VALUE } },
];

function streamBytes(chunks: Chunk[], dir: Chunk['dir']): Uint8Array {
  return concat(...chunks.filter((c) => c.dir === dir).map((c) => c.bytes));
}

/** Checks a decode of `rec` against what node's client and server saw. */
function expectMatchesRecording(rec: Recording, sink: Http2Recorder): void {
  expect(sink.problemLines()).toEqual([]);
  const requests = sink.of('request');
  expect(requests.map((r) => [r.streamId, r.method, r.path, r.authority, r.scheme, r.endStream])).toEqual([
    [1, 'GET', '/version', rec.authority, 'http', true],
    [3, 'GET', '/api/v1/namespaces/default/pods/web-0', rec.authority, 'http', true],
    [5, 'POST', '/echo', rec.authority, 'http', false],
    [7, 'GET', '/missing', rec.authority, 'http', true],
    [9, 'GET', '/big-header', rec.authority, 'http', true],
  ]);
  for (const r of requests) expect(r.headers.map(([n, v]) => [n, v.length, sha256(v)])).toEqual(rec.requests.get(r.streamId)!.map(([n, v]) => [n, v.length, sha256(v)]));
  // (The 40 KB value is compared by name, so that a failure stays readable.)
  expect(requests[4]!.headers.map(([name, value]) => [name, value === BIG_VALUE ? 'BIG_VALUE' : value])).toEqual([
    [':path', '/big-header'],
    [':method', 'GET'],
    [':authority', rec.authority],
    [':scheme', 'http'],
    ['x-big', 'BIG_VALUE'],
  ]);

  const responses = sink.of('response');
  expect(responses.map((r) => [r.streamId, r.status, r.endStream])).toEqual([
    [1, 200, false],
    [3, 200, false],
    [5, 201, false],
    [7, 404, true],
    [9, 204, true],
  ]);
  responses.forEach((r, i) => expect(r.headers).toEqual(rec.results[i]!.response));
  expect(responses[0]!.headers).toEqual([
    [':status', '200'],
    ['content-type', 'application/json'],
    ['date', FIXED_DATE],
  ]);
  expect(responses[3]!.headers).toEqual([
    [':status', '404'],
    ['date', FIXED_DATE],
  ]);

  expect(sink.of('trailers').map(({ origin: _o, ...t }) => t)).toEqual([
    { dir: 's2c', streamId: 5, headers: [['x-checksum', sha256(ECHO_BODY)]] },
  ]);
  expect(rec.results[2]!.trailers).toEqual([['x-checksum', sha256(ECHO_BODY)]]);

  const data = sink.of('data');
  const bodyLength = (dir: string, streamId: number) =>
    data.filter((d) => d.dir === dir && d.streamId === streamId).reduce((n, d) => n + d.length, 0);
  const preview = (dir: string, streamId: number) =>
    Buffer.from(concat(...data.filter((d) => d.dir === dir && d.streamId === streamId && d.preview).map((d) => d.preview!))).toString('latin1');
  expect(bodyLength('s2c', 1)).toBe(VERSION_JSON.length);
  expect(preview('s2c', 1)).toBe(VERSION_JSON);
  expect(bodyLength('s2c', 3)).toBe(POD_JSON.length);
  expect(preview('s2c', 3)).toBe(POD_JSON.slice(0, HTTP2_BODY_PREVIEW_BYTES));
  expect(bodyLength('c2s', 5)).toBe(ECHO_BODY.length);
  expect(bodyLength('s2c', 5)).toBe(ECHO_BODY.length);
  expect(preview('c2s', 5)).toBe(ECHO_BODY);
  expect(rec.results.map((r) => r.body)).toEqual([VERSION_JSON, POD_JSON, ECHO_BODY, '', '']);

  const ends = sink.of('end').map((e) => `${e.dir} ${e.streamId} ${e.how}`);
  expect(ends.sort()).toEqual(
    [1, 3, 5, 7, 9].flatMap((id) => [`c2s ${id} end_stream`, `s2c ${id} end_stream`]).sort(),
  );

  // Origins point at the frames that carried each thing.
  const streams = { c2s: streamBytes(rec.chunks, 'c2s'), s2c: streamBytes(rec.chunks, 's2c') };
  for (const r of requests) expect(streams.c2s[r.origin.offset + 3]).toBe(Http2FrameType.HEADERS);
  for (const r of responses) expect(streams.s2c[r.origin.offset + 3]).toBe(Http2FrameType.HEADERS);
  for (const d of data) {
    const at = d.origin.offset;
    const s = streams[d.dir];
    expect(s[at + 3]).toBe(Http2FrameType.DATA);
    expect((s[at]! << 16) | (s[at + 1]! << 8) | s[at + 2]!).toBe(d.origin.length - 9);
    expect(d.origin.length).toBe(9 + d.length + d.padding + (s[at + 4]! & 0x8 ? 1 : 0));
  }
  // The 30 KB header block needed a CONTINUATION: the request's origin spans both frames.
  const big = requests[4]!.origin;
  expect(big.length).toBeGreaterThan(9 + 16384);
  expect(streams.c2s[big.offset + 9 + 16384 + 3]).toBe(Http2FrameType.CONTINUATION);
}

describe('HTTP/2 recorded from node:http2 over loopback (h2c through a recording relay)', () => {
  let plain: Recording;
  let padded: Recording;
  let short: Recording;

  beforeAll(async () => {
    plain = await recordExchange(exchange);
    padded = await recordExchange(exchange, true);
    short = await recordExchange([{ headers: { ':path': '/version', 'user-agent': USER_AGENT } }]);
  });

  it('decodes every request, response, trailer and body as both ends saw them', () => {
    expectMatchesRecording(plain, decodeChunks(plain.chunks));
    const controls = decodeChunks(plain.chunks).of('control');
    expect(controls[0]).toMatchObject({ dir: 'c2s', type: 'SETTINGS', ack: false });
    expect(controls.filter((c) => c.type === 'SETTINGS' && c.ack).map((c) => c.dir).sort()).toEqual(['c2s', 's2c']);
    expect(controls.some((c) => c.type === 'GOAWAY' && c.dir === 'c2s')).toBe(true);
  });

  it('decodes the padded variant (PADDING_STRATEGY_MAX on both ends) the same way', () => {
    const sink = decodeChunks(padded.chunks);
    expectMatchesRecording(padded, sink);
    expect(sink.of('data').some((d) => d.padding > 0)).toBe(true);
    // Requests went out in PADDED HEADERS frames, except the 30 KB one that fills its frames to the brim.
    const padFlags = sink.of('request').map((r) => streamBytes(padded.chunks, 'c2s')[r.origin.offset + 4]! & 0x8);
    expect(padFlags).toEqual([8, 8, 8, 8, 0]);
  });

  it('decodes the recording fed one byte at a time exactly as fed in recorded chunks', () => {
    const expected = transcript(decodeChunks(plain.chunks));
    const sink = play(http2Layer, stepsOf(plain.chunks), 'bytewise', new Http2Recorder());
    expect(transcript(sink)).toEqual(expected);
    expectMatchesRecording(plain, sink);
  });

  it('decodes a short recorded exchange identically when split at every offset', () => {
    const baseline = expectSplitInvariant(short.chunks);
    expect(baseline.problemLines()).toEqual([]);
    expect(baseline.of('request').map((r) => [r.method, r.path, r.headers])).toEqual([['GET', '/version', short.requests.get(1)]]);
    expect(baseline.of('response').map((r) => [r.status, r.headers])).toEqual([[200, short.results[0]!.response]]);
    expect(short.chunks.reduce((n, c) => n + c.bytes.length, 0)).toBeGreaterThan(150);
  });
});
