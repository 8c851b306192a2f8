import { Http2ConnectionDecoder, HTTP2_BODY_PREVIEW_BYTES, isHttp2Preface } from '../../src/http2/connection.js';
import { Http2Flag, Http2FrameType as T, Http2SettingId } from '../../src/http2/frame.js';
import { type HeaderField, HpackEncoder } from '../../src/http2/hpack.js';
import {
  byteByByte,
  type Chunk,
  concat,
  decodeChunks,
  EMPTY_SETTINGS,
  frame,
  frameHeader,
  PREFACE,
  Http2Recorder,
  expectSplitInvariant,
  SETTINGS_ACK,
  settingsPayload,
  u32,
} from './h2-frames.js';
import { randomFromSeed } from '../kit/random.js';

const { END_STREAM, END_HEADERS, PADDED, PRIORITY, ACK } = Http2Flag;
const enc = new HpackEncoder({ huffman: true });
const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

const requestFields: HeaderField[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/api/v1/namespaces/default/pods/web-0'],
  [':authority', '10.0.0.1:6443'],
  ['accept', 'application/json'],
  ['user-agent', 'kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd'],
];
const responseFields: HeaderField[] = [
  [':status', '200'],
  ['content-type', 'application/json'],
  ['audit-id', '0f1e2d3c'],
];

/** Both connection openings: client preface + SETTINGS, server SETTINGS + ACK, client ACK. */
function openings(serverSettings: [number, number][] = [[Http2SettingId.MAX_CONCURRENT_STREAMS, 250]]): Chunk[] {
  return [
    { dir: 'c2s', bytes: concat(PREFACE, frame(T.SETTINGS, 0, 0, settingsPayload([[Http2SettingId.ENABLE_PUSH, 0]]))) },
    { dir: 's2c', bytes: concat(frame(T.SETTINGS, 0, 0, settingsPayload(serverSettings)), SETTINGS_ACK) },
    { dir: 'c2s', bytes: SETTINGS_ACK },
  ];
}

function problems(chunks: Chunk[]): string[] {
  return decodeChunks(chunks).problemLines();
}

describe('isHttp2Preface', () => {
  it('recognises the preface and prefixes of it from 4 bytes on', () => {
    expect(isHttp2Preface(PREFACE)).toBe(true);
    expect(isHttp2Preface(concat(PREFACE, EMPTY_SETTINGS))).toBe(true);
    expect(isHttp2Preface(text('PRI '))).toBe(true);
    expect(isHttp2Preface(text('PRI * HTTP/2.0\r\n'))).toBe(true);
    expect(isHttp2Preface(text('PRI'))).toBe(false);
    expect(isHttp2Preface(text('POST /api HTTP/1.1\r\n'))).toBe(false);
    expect(isHttp2Preface(text('PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n'))).toBe(false);
    expect(isHttp2Preface(new Uint8Array(0))).toBe(false);
  });
});

describe('Http2ConnectionDecoder: a request and its response', () => {
  const reqFrame = frame(T.HEADERS, END_HEADERS | END_STREAM, 1, enc.encode(requestFields));
  const respFrame = frame(T.HEADERS, END_HEADERS, 1, enc.encode(responseFields));
  const data1 = frame(T.DATA, 0, 1, text('{"kind":'));
  const data2 = frame(T.DATA, END_STREAM, 1, text('"Pod"}'));
  const ping = frame(T.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
  const pong = frame(T.PING, ACK, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
  const goaway = frame(T.GOAWAY, 0, 0, [...u32(1), ...u32(0), ...text('bye')]);
  const chunks: Chunk[] = [
    ...openings(),
    { dir: 'c2s', bytes: concat(reqFrame, ping) },
    { dir: 's2c', bytes: concat(respFrame, data1) },
    { dir: 's2c', bytes: concat(data2, pong) },
    { dir: 'c2s', bytes: goaway },
  ];
  const c2sSettingsEnd = PREFACE.length + 9 + 6;
  const reqOffset = c2sSettingsEnd + 9;

  it('emits the request, response, data, ends and control frames with exact origins', () => {
    const sink = decodeChunks(chunks);
    expect(sink.problemLines()).toEqual([]);
    expect(sink.events.map((e) => e.kind)).toEqual([
      'control', // c2s SETTINGS
      'control', // s2c SETTINGS
      'control', // s2c ACK
      'control', // c2s ACK
      'request',
      'end',
      'control', // PING
      'response',
      'data',
      'data',
      'end',
      'control', // PING ACK
      'control', // GOAWAY
    ]);
    expect(sink.of('request')).toEqual([
      {
        streamId: 1,
        method: 'GET',
        path: '/api/v1/namespaces/default/pods/web-0',
        authority: '10.0.0.1:6443',
        scheme: 'https',
        headers: requestFields,
        endStream: true,
        origin: { offset: reqOffset, length: reqFrame.length, packet: 4, ts: 4000, lastPacket: 4, lastTs: 4000 },
      },
    ]);
    expect(sink.of('response')).toEqual([
      {
        streamId: 1,
        status: 200,
        headers: responseFields,
        endStream: false,
        origin: { offset: 9 + 6 + 9, length: respFrame.length, packet: 5, ts: 5000, lastPacket: 5, lastTs: 5000 },
      },
    ]);
    const s2cDataOffset = 9 + 6 + 9 + respFrame.length;
    expect(sink.of('data')).toEqual([
      {
        dir: 's2c',
        streamId: 1,
        length: 8,
        padding: 0,
        endStream: false,
        preview: text('{"kind":'),
        origin: { offset: s2cDataOffset, length: 17, packet: 5, ts: 5000, lastPacket: 5, lastTs: 5000 },
      },
      {
        dir: 's2c',
        streamId: 1,
        length: 6,
        padding: 0,
        endStream: true,
        preview: text('"Pod"}'),
        origin: { offset: s2cDataOffset + 17, length: 15, packet: 6, ts: 6000, lastPacket: 6, lastTs: 6000 },
      },
    ]);
    expect(sink.of('end').map(({ origin: _o, ...e }) => e)).toEqual([
      { dir: 'c2s', streamId: 1, how: 'end_stream' },
      { dir: 's2c', streamId: 1, how: 'end_stream' },
    ]);
    const controls = sink.of('control').map(({ origin: _o, ...c }) => c);
    expect(controls).toEqual([
      { dir: 'c2s', type: 'SETTINGS', ack: false, settings: [{ id: 2, name: 'ENABLE_PUSH', value: 0 }] },
      { dir: 's2c', type: 'SETTINGS', ack: false, settings: [{ id: 3, name: 'MAX_CONCURRENT_STREAMS', value: 250 }] },
      { dir: 's2c', type: 'SETTINGS', ack: true, settings: [] },
      { dir: 'c2s', type: 'SETTINGS', ack: true, settings: [] },
      { dir: 'c2s', type: 'PING', ack: false, opaque: '0102030405060708' },
      { dir: 's2c', type: 'PING', ack: true, opaque: '0102030405060708' },
      { dir: 'c2s', type: 'GOAWAY', lastStreamId: 1, errorCode: 0, errorName: 'NO_ERROR', debugData: 'bye', debugLength: 3 },
    ]);
    expect(sink.of('control')[0]!.origin).toEqual({ offset: PREFACE.length, length: 15, packet: 1, ts: 1000, lastPacket: 1, lastTs: 1000 });
  });

  it('decodes the same whatever the chunking: split at every offset, and byte by byte', () => {
    expectSplitInvariant(chunks);
    // Fed a byte per packet, a frame spans one packet per byte.
    const sink = decodeChunks(byteByByte(chunks));
    const request = sink.of('request')[0]!;
    expect(request.origin.lastPacket - request.origin.packet).toBe(reqFrame.length - 1);
  });

  it('reports where a frame that straddles chunks began and ended', () => {
    const split = reqOffset - c2sSettingsEnd + 4; // cut inside the request's HEADERS frame
    const c2s = chunks[3]!.bytes;
    const sink = decodeChunks([
      ...chunks.slice(0, 3),
      { dir: 'c2s', bytes: c2s.subarray(0, split) },
      { dir: 's2c', bytes: new Uint8Array(0) },
      { dir: 'c2s', bytes: c2s.subarray(split) },
    ]);
    expect(sink.of('request')[0]!.origin).toEqual({ offset: reqOffset, length: reqFrame.length, packet: 4, ts: 4000, lastPacket: 6, lastTs: 6000 });
  });
});

describe('Http2ConnectionDecoder: header blocks', () => {
  const block = enc.encode(requestFields);

  it('assembles HEADERS + CONTINUATION frames into one request whose origin spans them', () => {
    const a = block.subarray(0, 10);
    const b = block.subarray(10, 20);
    const c = block.subarray(20);
    const frames = [frame(T.HEADERS, END_STREAM, 3, a), frame(T.CONTINUATION, 0, 3, b), frame(T.CONTINUATION, END_HEADERS, 3, c)];
    const sink = decodeChunks([...openings(), { dir: 'c2s', bytes: concat(...frames) }]);
    expect(sink.problemLines()).toEqual([]);
    const [request] = sink.of('request');
    expect(request!.headers).toEqual(requestFields);
    expect(request!.endStream).toBe(true);
    expect(request!.origin.offset).toBe(PREFACE.length + 15 + 9);
    expect(request!.origin.length).toBe(27 + block.length);
    expect(sink.of('end')).toHaveLength(1);
  });

  it('skips padding and priority fields of HEADERS', () => {
    const payload = [7, ...u32(0x80000001), 15, ...block, ...new Uint8Array(7)];
    const sink = decodeChunks([...openings(), { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | PADDED | PRIORITY, 3, payload) }]);
    expect(sink.problemLines()).toEqual([]);
    expect(sink.of('request')[0]!.headers).toEqual(requestFields);
  });

  it('stops the direction when HEADERS padding exceeds the payload', () => {
    const bad = frame(T.HEADERS, END_HEADERS | PADDED, 3, [200, ...block]);
    const sink = decodeChunks([...openings(), { dir: 'c2s', bytes: concat(bad, frame(T.HEADERS, END_HEADERS, 5, block)) }]);
    expect(sink.problemLines()).toEqual([`c2s offset ${PREFACE.length + 24}: HEADERS padding and fields exceed the ${block.length + 1}-byte frame`]);
    expect(sink.of('request')).toEqual([]);
  });

  it('reports trailers, interim responses and responses without :status', () => {
    const frames: Chunk[] = [
      ...openings(),
      { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS, 1, enc.encode([[':method', 'POST'], [':path', '/x']])) },
      { dir: 'c2s', bytes: frame(T.DATA, 0, 1, text('body')) },
      { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 1, enc.encode([['x-checksum', 'abc']])) },
      { dir: 's2c', bytes: frame(T.HEADERS, END_HEADERS, 1, enc.encode([[':status', '103'], ['link', '</a>']])) },
      { dir: 's2c', bytes: frame(T.HEADERS, END_HEADERS, 1, enc.encode([[':status', '201']])) },
      { dir: 's2c', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 1, enc.encode([['grpc-status', '0']])) },
      { dir: 's2c', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 3, enc.encode([['x-no-status', '1']])) },
    ];
    const sink = decodeChunks(frames);
    expect(sink.of('request').map((r) => [r.method, r.path, r.endStream])).toEqual([['POST', '/x', false]]);
    expect(sink.of('trailers').map(({ origin: _o, ...t }) => t)).toEqual([
      { dir: 'c2s', streamId: 1, headers: [['x-checksum', 'abc']] },
      { dir: 's2c', streamId: 1, headers: [['grpc-status', '0']] },
    ]);
    expect(sink.of('response').map((r) => [r.streamId, r.status, r.endStream])).toEqual([
      [1, 103, false],
      [1, 201, false],
      [3, 0, true],
    ]);
    expect(sink.of('end').map((e) => [e.dir, e.streamId, e.how])).toEqual([
      ['c2s', 1, 'end_stream'],
      ['s2c', 1, 'end_stream'],
      ['s2c', 3, 'end_stream'],
    ]);
    expect(sink.problemLines()).toEqual([expect.stringMatching(/^s2c offset \d+: response on stream 3 with :status null$/)]);
  });

  it('lists a server push as a request promised by its stream', () => {
    const promise = frame(T.PUSH_PROMISE, END_HEADERS | PADDED, 1, [2, ...u32(2), ...enc.encode([[':method', 'GET'], [':path', '/pushed']]), 0, 0]);
    const sink = decodeChunks([
      ...openings(),
      { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 1, enc.encode([[':method', 'GET'], [':path', '/']])) },
      { dir: 's2c', bytes: concat(promise, frame(T.HEADERS, END_HEADERS | END_STREAM, 2, enc.encode([[':status', '200']]))) },
    ]);
    expect(sink.problemLines()).toEqual([]);
    expect(sink.of('request').map((r) => [r.streamId, r.path, r.promisedBy])).toEqual([
      [1, '/', undefined],
      [2, '/pushed', 1],
    ]);
    expect(sink.of('response').map((r) => [r.streamId, r.status])).toEqual([[2, 200]]);
  });
});

describe('Http2ConnectionDecoder: DATA', () => {
  it('counts padded DATA without the padding and previews the first 4 KiB of each direction of a stream', () => {
    const body = Uint8Array.from({ length: 10000 }, (_, i) => i & 0xff);
    const frames: Uint8Array[] = [frame(T.HEADERS, END_HEADERS, 1, enc.encode([[':method', 'PUT'], [':path', '/p']]))];
    for (let at = 0; at < body.length; at += 3000) {
      const piece = body.subarray(at, at + 3000);
      const last = at + 3000 >= body.length;
      frames.push(frame(T.DATA, PADDED | (last ? END_STREAM : 0), 1, [10, ...piece, ...new Uint8Array(10)]));
    }
    const sink = decodeChunks([...openings(), { dir: 'c2s', bytes: concat(...frames) }]);
    expect(sink.problemLines()).toEqual([]);
    const data = sink.of('data');
    expect(data.map((d) => [d.length, d.padding, d.endStream, d.preview?.length])).toEqual([
      [3000, 10, false, 3000],
      [3000, 10, false, HTTP2_BODY_PREVIEW_BYTES - 3000],
      [3000, 10, false, undefined],
      [1000, 10, true, undefined],
    ]);
    expect(concat(data[0]!.preview!, data[1]!.preview!)).toEqual(body.subarray(0, HTTP2_BODY_PREVIEW_BYTES));
    expect(data[1]!.origin.length).toBe(9 + 3011);
  });

  it('reports DATA whose padding exceeds the frame and carries on with the next frame', () => {
    const sink = decodeChunks([
      ...openings(),
      { dir: 'c2s', bytes: concat(frame(T.DATA, PADDED, 1, [9, 1, 2, 3]), frame(T.DATA, END_STREAM, 1, [4, 5])) },
    ]);
    expect(sink.problemLines()).toEqual([`c2s offset ${PREFACE.length + 24}: DATA padding of 9 bytes exceeds the 4-byte frame`]);
    expect(sink.of('data').map((d) => [d.length, d.endStream])).toEqual([[2, true]]);
  });

  it('handles empty DATA frames with and without padding', () => {
    const sink = decodeChunks([
      ...openings(),
      { dir: 'c2s', bytes: concat(frame(T.DATA, PADDED, 1, [2, 0, 0]), frame(T.DATA, PADDED, 1, [0]), frame(T.DATA, END_STREAM, 1)) },
    ]);
    expect(sink.problemLines()).toEqual([]);
    expect(sink.of('data').map((d) => [d.length, d.padding, d.endStream])).toEqual([
      [0, 2, false],
      [0, 0, false],
      [0, 0, true],
    ]);
  });
});

describe('Http2ConnectionDecoder: stream ends and control frames', () => {
  it('reports RST_STREAM with its error name, WINDOW_UPDATE and PRIORITY', () => {
    const sink = decodeChunks([
      ...openings(),
      {
        dir: 'c2s',
        bytes: concat(
          frame(T.HEADERS, END_HEADERS, 1, enc.encode(requestFields)),
          frame(T.WINDOW_UPDATE, 0, 0, u32(65535)),
          frame(T.PRIORITY, 0, 1, [...u32(0x80000003), 255]),
          frame(T.RST_STREAM, 0, 1, u32(8)),
          frame(T.RST_STREAM, 0, 3, u32(0x42)),
        ),
      },
    ]);
    expect(sink.problemLines()).toEqual([]);
    expect(sink.of('end').map(({ origin: _o, ...e }) => e)).toEqual([
      { dir: 'c2s', streamId: 1, how: 'rst', errorCode: 8, errorName: 'CANCEL' },
      { dir: 'c2s', streamId: 3, how: 'rst', errorCode: 0x42, errorName: 'UNKNOWN(0x42)' },
    ]);
    expect(sink.of('control').slice(4).map(({ origin: _o, ...c }) => c)).toEqual([
      { dir: 'c2s', type: 'WINDOW_UPDATE', streamId: 0, increment: 65535 },
      { dir: 'c2s', type: 'PRIORITY', streamId: 1, dependsOn: 3, exclusive: true, weight: 256 },
    ]);
  });

  it('names every error code', () => {
    const names = [
      'NO_ERROR',
      'PROTOCOL_ERROR',
      'INTERNAL_ERROR',
      'FLOW_CONTROL_ERROR',
      'SETTINGS_TIMEOUT',
      'STREAM_CLOSED',
      'FRAME_SIZE_ERROR',
      'REFUSED_STREAM',
      'CANCEL',
      'COMPRESSION_ERROR',
      'CONNECT_ERROR',
      'ENHANCE_YOUR_CALM',
      'INADEQUATE_SECURITY',
      'HTTP_1_1_REQUIRED',
    ];
    const sink = decodeChunks([
      ...openings(),
      { dir: 's2c', bytes: concat(...names.map((_, code) => frame(T.GOAWAY, 0, 0, [...u32(0), ...u32(code)]))) },
    ]);
    expect(sink.of('control').flatMap((c) => (c.type === 'GOAWAY' ? [c.errorName] : []))).toEqual(names);
  });

  it('keeps 1 KiB of GOAWAY debug data and skips the rest', () => {
    const debug = new Uint8Array(5000).fill(0x41);
    const goaway = frame(T.GOAWAY, 0, 0, [...u32(7), ...u32(2), ...debug]);
    const sink = decodeChunks([
      ...openings([[Http2SettingId.MAX_FRAME_SIZE, 16384]]),
      { dir: 's2c', bytes: goaway.subarray(0, 100) },
      { dir: 's2c', bytes: goaway.subarray(100) },
      { dir: 's2c', bytes: frame(T.PING, 0, 0, new Uint8Array(8)) },
    ]);
    expect(sink.problemLines()).toEqual([]);
    const [goAway] = sink.of('control').filter((c) => c.type === 'GOAWAY');
    expect(goAway).toMatchObject({ lastStreamId: 7, errorName: 'INTERNAL_ERROR', debugData: 'A'.repeat(1024), debugLength: 5000 });
    expect(sink.of('control').at(-1)!.type).toBe('PING');
  });

  it('reports malformed control frames of trustworthy length and carries on', () => {
    const sink = decodeChunks([
      ...openings(),
      {
        dir: 'c2s',
        bytes: concat(
          frame(T.PING, 0, 0, [1, 2, 3]),
          frame(T.SETTINGS, 0, 0, [0, 1, 0]),
          frame(T.SETTINGS, ACK, 0, new Uint8Array(6)),
          frame(T.SETTINGS, 0, 1),
          frame(T.WINDOW_UPDATE, 0, 0, [0, 0]),
          frame(T.WINDOW_UPDATE, 0, 0, u32(0)),
          frame(T.RST_STREAM, 0, 0, u32(0)),
          frame(T.PRIORITY, 0, 1, [0]),
          frame(T.GOAWAY, 0, 0, [0]),
          frame(0x42, 0xff, 9, text('an extension frame')),
          frame(T.HEADERS, END_HEADERS | END_STREAM, 1, enc.encode(requestFields)),
        ),
      },
    ]);
    expect(sink.problemLines().map((p) => p.replace(/^c2s offset \d+: /, ''))).toEqual([
      'PING of 3 bytes, not 8',
      'SETTINGS payload of 3 bytes is not a multiple of 6',
      'SETTINGS ACK with 6 bytes of payload',
      'SETTINGS on stream 1',
      'WINDOW_UPDATE of 2 bytes, not 4',
      'WINDOW_UPDATE of 0 on stream 0',
      'RST_STREAM on stream 0',
      'PRIORITY of 1 bytes, not 5',
      'GOAWAY of 1 bytes, less than 8',
    ]);
    expect(sink.of('request').map((r) => r.path)).toEqual(['/api/v1/namespaces/default/pods/web-0']);
  });
});

describe('Http2ConnectionDecoder: SETTINGS limits', () => {
  const bigData = frame(T.DATA, 0, 1, new Uint8Array(20000));

  it('refuses frames above the default SETTINGS_MAX_FRAME_SIZE and accepts them once raised', () => {
    expect(problems([...openings(), { dir: 'c2s', bytes: bigData }])).toEqual([
      `c2s offset ${PREFACE.length + 24}: DATA frame of 20000 bytes exceeds SETTINGS_MAX_FRAME_SIZE 16384`,
    ]);
    expect(problems([...openings([[Http2SettingId.MAX_FRAME_SIZE, 32768]]), { dir: 'c2s', bytes: bigData }])).toEqual([]);
  });

  it('ignores an out-of-range SETTINGS_MAX_FRAME_SIZE', () => {
    expect(problems([...openings([[Http2SettingId.MAX_FRAME_SIZE, 100]]), { dir: 'c2s', bytes: bigData }])).toEqual([
      's2c offset 0: SETTINGS_MAX_FRAME_SIZE 100 out of range: ignored',
      `c2s offset ${PREFACE.length + 24}: DATA frame of 20000 bytes exceeds SETTINGS_MAX_FRAME_SIZE 16384`,
    ]);
  });

  it('lowers SETTINGS_HEADER_TABLE_SIZE only once acknowledged, then requires the size update', () => {
    const withIndexing = Uint8Array.of(0x40, 1, 0x61, 1, 0x62, 0x82, 0x84); // a: b (indexed), :method GET, :path /
    const reuse = Uint8Array.of(0xbe, 0x82, 0x84);
    const base: Chunk[] = [
      { dir: 'c2s', bytes: concat(PREFACE, EMPTY_SETTINGS, frame(T.HEADERS, END_HEADERS | END_STREAM, 1, withIndexing)) },
      { dir: 's2c', bytes: concat(EMPTY_SETTINGS, SETTINGS_ACK) },
      { dir: 'c2s', bytes: SETTINGS_ACK },
      // The server shrinks the client's table to 0.
      { dir: 's2c', bytes: frame(T.SETTINGS, 0, 0, settingsPayload([[Http2SettingId.HEADER_TABLE_SIZE, 0]])) },
      // Sent before the client read that SETTINGS: the old table still holds.
      { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 3, reuse) },
      { dir: 'c2s', bytes: SETTINGS_ACK },
    ];
    const compliant = decodeChunks([...base, { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 5, Uint8Array.of(0x20, 0x82, 0x84)) }]);
    expect(compliant.problemLines()).toEqual([]);
    expect(compliant.of('request').map((r) => r.headers)).toEqual([
      [['a', 'b'], [':method', 'GET'], [':path', '/']],
      [['a', 'b'], [':method', 'GET'], [':path', '/']],
      [[':method', 'GET'], [':path', '/']],
    ]);
    const offending = decodeChunks([...base, { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 5, reuse) }]);
    expect(offending.problemLines()).toEqual([
      expect.stringMatching(/^c2s offset \d+: HPACK: header block does not start with the dynamic table size update required by SETTINGS_HEADER_TABLE_SIZE 0$/),
    ]);
  });

  it('lets a sender use a raised SETTINGS_HEADER_TABLE_SIZE before its ACK', () => {
    const sink = decodeChunks([
      ...openings([[Http2SettingId.HEADER_TABLE_SIZE, 8192]]).slice(0, 1),
      { dir: 's2c', bytes: frame(T.SETTINGS, 0, 0, settingsPayload([[Http2SettingId.HEADER_TABLE_SIZE, 8192]])) },
      { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 1, Uint8Array.of(0x3f, 0xe1, 0x3f, 0x82, 0x84)) },
      { dir: 'c2s', bytes: SETTINGS_ACK },
    ]);
    expect(sink.problemLines()).toEqual([]);
    expect(sink.of('request')).toHaveLength(1);
  });

  it('stops a side that piles up unacknowledged SETTINGS', () => {
    const flood = concat(...new Array(17).fill(EMPTY_SETTINGS));
    expect(problems([{ dir: 'c2s', bytes: concat(PREFACE, EMPTY_SETTINGS) }, { dir: 's2c', bytes: flood }])).toEqual([
      `s2c offset ${16 * 9}: more than 16 SETTINGS frames without acknowledgement`,
    ]);
  });
});

describe('Http2ConnectionDecoder: hostile and broken input', () => {
  const start = PREFACE.length + 24;

  it('stops on a client that does not send the preface, and a server that does not start with SETTINGS', () => {
    expect(problems([{ dir: 'c2s', bytes: text('GET / HTTP/1.1\r\nHost: x\r\n\r\n') }])).toEqual(['c2s offset 0: not the HTTP/2 client preface']);
    expect(problems([{ dir: 'c2s', bytes: text('PRI * HTTP/2.0\r\n\r\nXX') }])).toEqual(['c2s offset 18: not the HTTP/2 client preface']);
    expect(problems([{ dir: 'c2s', bytes: concat(PREFACE, frame(T.PING, 0, 0, new Uint8Array(8))) }])).toEqual([
      'c2s offset 24: first frame is PING, not SETTINGS: not HTTP/2',
    ]);
    expect(problems([{ dir: 's2c', bytes: text('HTTP/1.1 400 Bad Request\r\n\r\n') }])).toEqual([
      's2c offset 0: first frame is UNKNOWN(0x50), not SETTINGS: not HTTP/2',
    ]);
  });

  it('stops on a huge frame length without allocating for it', () => {
    const sink = decodeChunks([...openings(), { dir: 'c2s', bytes: frameHeader(0xffffff, T.HEADERS, END_HEADERS, 1) }]);
    expect(sink.problemLines()).toEqual([`c2s offset ${start}: HEADERS frame of 16777215 bytes exceeds SETTINGS_MAX_FRAME_SIZE 16384`]);
  });

  it('streams a 16 MiB DATA frame allowed by SETTINGS without buffering it', () => {
    const sink = new Http2Recorder();
    const d = new Http2ConnectionDecoder(sink.sink);
    const o = (offset: number) => ({ offset, length: 0, packet: 1, ts: 0 });
    d.push('c2s', concat(PREFACE, EMPTY_SETTINGS), o(0));
    d.push('s2c', frame(T.SETTINGS, 0, 0, settingsPayload([[Http2SettingId.MAX_FRAME_SIZE, 0xffffff]])), o(0));
    d.push('c2s', frame(T.HEADERS, END_HEADERS, 1, enc.encode(requestFields)), o(33));
    const piece = new Uint8Array(1 << 20);
    let at = 33 + 9 + enc.encode(requestFields).length;
    d.push('c2s', frameHeader(0xffffff, T.DATA, END_STREAM, 1), o(at));
    at += 9;
    for (let left = 0xffffff; left > 0; left -= piece.length) {
      const bytes = piece.subarray(0, Math.min(left, piece.length));
      d.push('c2s', bytes, o(at));
      at += bytes.length;
    }
    d.end();
    expect(sink.problemLines()).toEqual([]);
    expect(sink.of('data').map((x) => [x.length, x.endStream, x.preview?.length])).toEqual([[0xffffff, true, HTTP2_BODY_PREVIEW_BYTES]]);
  });

  it('stops on a header block that grows past the cap through CONTINUATION frames', () => {
    const fill = new Uint8Array(16000);
    const frames = [frame(T.HEADERS, 0, 1, fill), ...[1, 2, 3, 4].map(() => frame(T.CONTINUATION, 0, 1, fill))];
    expect(problems([...openings(), { dir: 'c2s', bytes: concat(...frames) }])).toEqual([
      `c2s offset ${start}: header block of stream 1 exceeds 65536 bytes`,
    ]);
  });

  it('stops on a header bomb (a small block that expands past the header list cap)', () => {
    const big = Uint8Array.of(0x40, 1, 0x78, 0x7f, 0xa1, 0x1e, ...new Uint8Array(4000).fill(0x61));
    const sink = decodeChunks([
      ...openings(),
      { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 1, concat(Uint8Array.of(0x82, 0x84), big)) },
      { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 3, new Uint8Array(2000).fill(0xbe)) },
      { dir: 's2c', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, 1, enc.encode([[':status', '200']])) },
    ]);
    expect(sink.problemLines()).toEqual([expect.stringMatching(/^c2s offset \d+: HPACK: header list larger than 65536 bytes$/)]);
    expect(sink.of('request')).toHaveLength(1);
    // The other direction carries on.
    expect(sink.of('response')).toHaveLength(1);
  });

  it('stops on CONTINUATION out of place and on frames interleaved in a header block', () => {
    const block = enc.encode(requestFields);
    expect(problems([...openings(), { dir: 'c2s', bytes: frame(T.CONTINUATION, END_HEADERS, 1, block) }])).toEqual([
      `c2s offset ${start}: CONTINUATION on stream 1 without a header block to continue`,
    ]);
    const open = frame(T.HEADERS, 0, 1, block.subarray(0, 5));
    expect(problems([...openings(), { dir: 'c2s', bytes: concat(open, frame(T.CONTINUATION, END_HEADERS, 3, block.subarray(5))) }])).toEqual([
      `c2s offset ${start + open.length}: CONTINUATION on stream 3 without a header block to continue`,
    ]);
    expect(problems([...openings(), { dir: 'c2s', bytes: concat(open, frame(T.PING, 0, 0, new Uint8Array(8))) }])).toEqual([
      `c2s offset ${start + open.length}: PING frame inside the header block of stream 1`,
    ]);
  });

  it('stops on DATA or HEADERS on stream 0 and PUSH_PROMISE from the client', () => {
    expect(problems([...openings(), { dir: 'c2s', bytes: frame(T.DATA, 0, 0, [1]) }])).toEqual([`c2s offset ${start}: DATA on stream 0`]);
    expect(problems([...openings(), { dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS, 0, [0x82]) }])).toEqual([
      `c2s offset ${start}: HEADERS on stream 0`,
    ]);
    expect(problems([...openings(), { dir: 'c2s', bytes: frame(T.PUSH_PROMISE, END_HEADERS, 1, [...u32(2), 0x82]) }])).toEqual([
      `c2s offset ${start}: PUSH_PROMISE sent by the client`,
    ]);
  });

  it('stops tracking streams past 4096 open at once', () => {
    const frames: Uint8Array[] = [];
    for (let id = 1; id <= 2 * 4097; id += 2) frames.push(frame(T.HEADERS, END_HEADERS, id, [0x82, 0x84]));
    const sink = decodeChunks([...openings(), { dir: 'c2s', bytes: concat(...frames) }]);
    expect(sink.of('request')).toHaveLength(4096);
    expect(sink.problemLines()).toEqual([`c2s offset ${start + 4096 * 11}: more than 4096 streams open at once`]);
  });

  it('forgets streams once both directions ended, so long connections stay within the cap', () => {
    const chunks: Chunk[] = [...openings()];
    for (let id = 1; id <= 2 * 5000; id += 2) {
      chunks.push({ dir: 'c2s', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, id, [0x82, 0x84]) });
      chunks.push({ dir: 's2c', bytes: frame(T.HEADERS, END_HEADERS | END_STREAM, id, [0x88]) });
    }
    const sink = decodeChunks(chunks);
    expect(sink.problemLines()).toEqual([]);
    expect(sink.of('response')).toHaveLength(5000);
  });

  it('stops a direction at a gap and ignores what follows; the other direction carries on', () => {
    const sink = new Http2Recorder();
    const d = new Http2ConnectionDecoder(sink.sink);
    const o = (offset: number, packet: number) => ({ offset, length: 0, packet, ts: packet });
    d.push('c2s', concat(PREFACE, EMPTY_SETTINGS), o(0, 1));
    d.push('s2c', EMPTY_SETTINGS, o(0, 2));
    d.gap('c2s', 33, 100);
    d.push('c2s', frame(T.HEADERS, END_HEADERS, 1, [0x82, 0x84]), o(133, 3));
    d.push('s2c', frame(T.HEADERS, END_HEADERS | END_STREAM, 1, [0x88]), o(9, 4));
    d.gap('c2s', 200, 5);
    d.end();
    expect(sink.problemLines()).toEqual(['c2s offset 33: 100 bytes missing: HPACK state lost, HTTP/2 not decoded further in this direction']);
    expect(sink.of('request')).toEqual([]);
    expect(sink.of('response').map((r) => r.status)).toEqual([200]);
  });

  it('reports a connection that ends mid-frame, mid-header-block or mid-preface', () => {
    const block = enc.encode(requestFields);
    const headers = frame(T.HEADERS, END_HEADERS, 1, block);
    expect(problems([...openings(), { dir: 'c2s', bytes: headers.subarray(0, 5) }])).toEqual([`c2s offset ${start}: connection ended inside a frame header`]);
    expect(problems([...openings(), { dir: 'c2s', bytes: headers.subarray(0, 12) }])).toEqual([
      `c2s offset ${start}: connection ended inside a HEADERS frame of ${block.length} bytes`,
    ]);
    expect(problems([...openings(), { dir: 'c2s', bytes: frame(T.HEADERS, 0, 1, block) }])).toEqual([
      `c2s offset ${start}: connection ended inside the header block of stream 1`,
    ]);
    expect(problems([{ dir: 'c2s', bytes: PREFACE.subarray(0, 10) }])).toEqual(['c2s offset 10: connection ended inside the client preface']);
    expect(problems([...openings()])).toEqual([]);
  });

  it('stops a direction after 100 problems', () => {
    const badPings = concat(...new Array(150).fill(frame(T.PING, 0, 0, [1])));
    const sink = decodeChunks([
      ...openings(),
      { dir: 'c2s', bytes: concat(badPings, frame(T.HEADERS, END_HEADERS | END_STREAM, 1, enc.encode(requestFields))) },
    ]);
    const list = sink.problemLines();
    expect(list).toHaveLength(101);
    expect(list[99]).toBe(`c2s offset ${start + 99 * 10}: PING of 1 bytes, not 8`);
    expect(list[100]).toBe(`c2s offset ${start + 99 * 10}: 100 problems: HTTP/2 not decoded further in this direction`);
    expect(sink.of('request')).toEqual([]);
  });

  it('never throws on random bytes after a valid opening, whatever the chunking', () => {
    const rand = randomFromSeed(12345);
    const random = () => Math.floor(rand() * 0x8000);
    for (let run = 0; run < 300; run++) {
      const garbage = Uint8Array.from({ length: 1 + (random() % 600) }, () => random() & 0xff);
      // Frame-shaped garbage: small lengths, real types, so decoding goes past the frame header.
      garbage[0] = 0;
      garbage[1] = 0;
      garbage[3] = random() % 11;
      const dir = run % 2 === 0 ? 'c2s' : 's2c';
      const chunks: Chunk[] = [...openings(), { dir, bytes: garbage.subarray(0, 7) }, { dir, bytes: garbage.subarray(7) }];
      expect(() => decodeChunks(chunks)).not.toThrow();
    }
  });
});
