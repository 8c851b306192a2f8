import { header, headerValues } from '../../src/http/http-connection.js';
import {
  chunkedBody,
  concat,
  enc,
  expectSplitInvariant,
  Feeder,
  httpRequest,
  httpResponse,
  HttpRecorder,
  spdyControlFrame,
  spdyDataFrame,
  spdyPing,
  text,
  wsFrame,
  type Step,
} from './http-test-kit.js';

const HOST: [string, string] = ['Host', '127.0.0.1:6443'];
const JSON_TYPE: [string, string] = ['Content-Type', 'application/json'];

function jsonResponse(body: string, status = 200, reason = 'OK'): Uint8Array {
  return httpResponse(status, reason, [JSON_TYPE, ['Content-Length', String(Buffer.byteLength(body))]], body);
}

const EXEC_TARGET = '/api/v1/namespaces/default/pods/demo-0/exec?command=echo&command=hello+from+spdy&container=main&stderr=true&stdout=true';
const WS_TARGET = '/api/v1/namespaces/default/pods/demo-0/exec?command=echo&command=hello+from+websocket&container=main&stderr=true&stdout=true';

const spdyUpgradeRequest = httpRequest('POST', EXEC_TARGET, [
  HOST,
  ['User-Agent', 'kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07'],
  ['Content-Length', '0'],
  ['Connection', 'Upgrade'],
  ['Upgrade', 'SPDY/3.1'],
  ['X-Stream-Protocol-Version', 'v5.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'v3.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'v2.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'channel.k8s.io'],
]);
const spdy101 = httpResponse(101, 'Switching Protocols', [
  ['Connection', 'Upgrade'],
  ['Upgrade', 'SPDY/3.1'],
  ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
]);
const wsUpgradeRequest = httpRequest('GET', WS_TARGET, [
  HOST,
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'iW+Kq/KZOuDwEAINlBYqmw=='],
  ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io'],
  ['Sec-WebSocket-Version', '13'],
  ['Upgrade', 'websocket'],
]);
const ws101 = httpResponse(101, 'Switching Protocols', [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Accept', 'obAkb484gPYL8d6gE4FQd665tis='],
  ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io'],
]);

// SPDY frames as the server and client send them right after the switch (SYN_REPLY with an empty header block is enough here).
const synReply = (id: number) => spdyControlFrame(2, 0, Uint8Array.of(0, 0, 0, id, 0, 0));
const synStream = (id: number) => spdyControlFrame(1, 0, Uint8Array.of(0, 0, 0, id, 0, 0, 0, 0, 0, 0));
const mask = Uint8Array.of(0x12, 0x34, 0x56, 0x78);

describe('keep-alive: kubectl discovery on one connection', () => {
  const version = '{"major":"1","minor":"32","gitVersion":"v1.32.4"}';
  const apiList = '{"kind":"APIVersions","versions":["v1"]}';
  const steps: Step[] = [
    { dir: 'c2s', data: httpRequest('GET', '/version?timeout=5s', [HOST, ['User-Agent', 'kubectl-dispatcher/v1.0 (linux/amd64)'], ['Accept-Encoding', 'gzip']]) },
    { dir: 's2c', data: jsonResponse(version) },
    { dir: 'c2s', data: httpRequest('GET', '/api?timeout=32s', [HOST]) },
    { dir: 's2c', data: jsonResponse(apiList) },
    { dir: 'c2s', data: httpRequest('GET', '/apis?timeout=32s', [HOST]) },
    { dir: 's2c', data: httpResponse(200, 'OK', [JSON_TYPE, ['Transfer-Encoding', 'chunked']], chunkedBody(['{"kind":"APIGroupList",', '"groups":[]}'])) },
    { dir: 'c2s', data: httpRequest('GET', '/api/v1?timeout=32s', [HOST]) },
    { dir: 's2c', data: jsonResponse('{"kind":"APIResourceList"}') },
    { dir: 'c2s', data: httpRequest('GET', '/api/v1/namespaces/default/pods/demo-0', [HOST]) },
    { dir: 's2c', data: jsonResponse('{"kind":"Pod"}') },
  ];
  const expected = [
    ['request', 'GET', '/version?timeout=5s'],
    ['complete', 'c2s', 'GET /version?timeout=5s', '', 0, '', ''],
    ['response', 200, '/version?timeout=5s'],
    ['complete', 's2c', '200', version, version.length, version, ''],
    ['request', 'GET', '/api?timeout=32s'],
    ['complete', 'c2s', 'GET /api?timeout=32s', '', 0, '', ''],
    ['response', 200, '/api?timeout=32s'],
    ['complete', 's2c', '200', apiList, apiList.length, apiList, ''],
    ['request', 'GET', '/apis?timeout=32s'],
    ['complete', 'c2s', 'GET /apis?timeout=32s', '', 0, '', ''],
    ['response', 200, '/apis?timeout=32s'],
    ['complete', 's2c', '200', '{"kind":"APIGroupList","groups":[]}', 35, '{"kind":"APIGroupList","groups":[]}', ''],
    ['request', 'GET', '/api/v1?timeout=32s'],
    ['complete', 'c2s', 'GET /api/v1?timeout=32s', '', 0, '', ''],
    ['response', 200, '/api/v1?timeout=32s'],
    ['complete', 's2c', '200', '{"kind":"APIResourceList"}', 26, '{"kind":"APIResourceList"}', ''],
    ['request', 'GET', '/api/v1/namespaces/default/pods/demo-0'],
    ['complete', 'c2s', 'GET /api/v1/namespaces/default/pods/demo-0', '', 0, '', ''],
    ['response', 200, '/api/v1/namespaces/default/pods/demo-0'],
    ['complete', 's2c', '200', '{"kind":"Pod"}', 14, '{"kind":"Pod"}', ''],
  ];

  it('parses every request and response in order, split at every byte', () => {
    expect(expectSplitInvariant(steps).log).toEqual(expected);
  });

  it('gives heads exact origins and headers in wire order', () => {
    const { recorder: sink } = new Feeder().run(steps);
    const first = sink.requests[0];
    expect(first).toMatchObject({ method: 'GET', target: '/version?timeout=5s', path: '/version', query: 'timeout=5s', version: 'HTTP/1.1' });
    expect(first.headers).toEqual([HOST, ['User-Agent', 'kubectl-dispatcher/v1.0 (linux/amd64)'], ['Accept-Encoding', 'gzip']]);
    expect(first.origin).toEqual({ offset: 0, length: steps[0].dir && (steps[0] as { data: Uint8Array }).data.length, packet: 1, ts: 1000, lastPacket: 1, lastTs: 1000 });
    const second = sink.requests[1];
    expect(second.origin.offset).toBe((steps[0] as { data: Uint8Array }).data.length);
    expect(second.origin.packet).toBe(3);
    const res = sink.responses[0];
    const headLength = text((steps[1] as { data: Uint8Array }).data).indexOf('\r\n\r\n') + 4;
    expect(res.origin).toEqual({ offset: 0, length: headLength, packet: 2, ts: 2000, lastPacket: 2, lastTs: 2000 });
    expect(sink.completions[1].origin).toEqual({ offset: 0, length: (steps[1] as { data: Uint8Array }).data.length, packet: 2, ts: 2000, lastPacket: 2, lastTs: 2000 });
  });

  it('tracks the packet of a head’s last byte when it spans pushes', () => {
    const req = httpRequest('GET', '/api', [HOST]);
    const feeder = new Feeder().push('c2s', req.subarray(0, 10)).push('c2s', req.subarray(10, 20)).push('c2s', req.subarray(20));
    expect(feeder.recorder.requests[0].origin).toEqual({ offset: 0, length: req.length, packet: 1, ts: 1000, lastPacket: 3, lastTs: 3000 });
  });
});

describe('pipelining', () => {
  it('matches responses to requests in order, with HEAD and 204/304 bodiless', () => {
    const requests = concat(
      httpRequest('GET', '/a', [HOST]),
      httpRequest('HEAD', '/b', [HOST]),
      httpRequest('GET', '/c', [HOST]),
      httpRequest('GET', '/d', [HOST]),
      httpRequest('POST', '/e', [HOST, ['Content-Length', '3']], 'xyz'),
    );
    const responses = concat(
      httpResponse(200, 'OK', [['Content-Length', '5']], 'hello'),
      httpResponse(200, 'OK', [['Content-Length', '100']]), // HEAD: the length describes a GET, no body follows
      httpResponse(204, 'No Content', [['Content-Length', '7']]),
      httpResponse(304, 'Not Modified', []),
      httpResponse(201, 'Created', [['Content-Length', '2']], 'ok'),
    );
    const result = expectSplitInvariant([
      { dir: 'c2s', data: requests },
      { dir: 's2c', data: responses },
    ]);
    expect(result.log.filter((e) => e[0] !== 'complete' || e[1] === 's2c')).toEqual([
      ['request', 'GET', '/a'],
      ['request', 'HEAD', '/b'],
      ['request', 'GET', '/c'],
      ['request', 'GET', '/d'],
      ['request', 'POST', '/e'],
      ['response', 200, '/a'],
      ['complete', 's2c', '200', 'hello', 5, 'hello', ''],
      ['response', 200, '/b'],
      ['complete', 's2c', '200', '', 0, '', ''],
      ['response', 204, '/c'],
      ['complete', 's2c', '204', '', 0, '', ''],
      ['response', 304, '/d'],
      ['complete', 's2c', '304', '', 0, '', ''],
      ['response', 201, '/e'],
      ['complete', 's2c', '201', 'ok', 2, 'ok', ''],
    ]);
    expect(result.log).toContainEqual(['complete', 'c2s', 'POST /e', 'xyz', 3, 'xyz', '']);
  });

  it('reports a response that matches no request', () => {
    const sink = new Feeder()
      .push('c2s', httpRequest('GET', '/a', [HOST]))
      .push('s2c', concat(httpResponse(200, 'OK', [['Content-Length', '0']]), httpResponse(200, 'OK', [['Content-Length', '0']]))).recorder;
    expect(sink.log).toEqual([
      ['request', 'GET', '/a'],
      ['complete', 'c2s', 'GET /a', '', 0, '', ''],
      ['response', 200, '/a'],
      ['complete', 's2c', '200', '', 0, '', ''],
      ['problem', 'response 200 matches no request'],
      ['response', 200, undefined],
      ['complete', 's2c', '200', '', 0, '', ''],
    ]);
  });
});

describe('bodies', () => {
  it('decodes chunked bodies with extensions, upper-case sizes and trailers, split at every byte', () => {
    const body = chunkedBody(['Wiki', 'pedia in\r\n\r\nchunks.', 'x'.repeat(300)], {
      extension: ';name="va;lue";n2=v2',
      upperHex: true,
      trailers: [['Expires', 'Wed, 21 Oct 2015 07:28:00 GMT'], ['X-Checksum', 'abc']],
    });
    const payload = `Wikipedia in\r\n\r\nchunks.${'x'.repeat(300)}`;
    const result = expectSplitInvariant([
      { dir: 'c2s', data: httpRequest('GET', '/w', [HOST]) },
      { dir: 's2c', data: concat(httpResponse(200, 'OK', [['Transfer-Encoding', 'chunked']], body), httpResponse(200, 'OK', [['Content-Length', '1']], '!')) },
    ]);
    expect(result.log.filter((e) => e[1] === 's2c')).toEqual([
      ['complete', 's2c', '200', payload, payload.length, payload, 'Expires=Wed, 21 Oct 2015 07:28:00 GMT;X-Checksum=abc'],
      ['complete', 's2c', '200', '!', 1, '!', ''],
    ]);
  });

  it('accepts a chunked request body and a bare-LF chunk terminator', () => {
    const body = enc('3\nabc\n0\n\n');
    const result = expectSplitInvariant([
      { dir: 'c2s', data: concat(httpRequest('POST', '/p', [HOST, ['Transfer-Encoding', 'gzip, chunked']], body), httpRequest('GET', '/q', [HOST])) },
    ]);
    expect(result.log).toEqual([
      ['request', 'POST', '/p'],
      ['complete', 'c2s', 'POST /p', 'abc', 3, 'abc', ''],
      ['request', 'GET', '/q'],
      ['complete', 'c2s', 'GET /q', '', 0, '', ''],
    ]);
  });

  it('reads a response without a length until the connection ends', () => {
    const result = expectSplitInvariant([
      { dir: 'c2s', data: httpRequest('GET', '/old', [HOST]) },
      { dir: 's2c', data: httpResponse(200, 'OK', [['Connection', 'close']], 'part one, ', 'HTTP/1.0') },
      { dir: 's2c', data: enc('part two') },
    ]);
    expect(result.log.slice(2)).toEqual([
      ['response', 200, '/old'],
      ['complete', 's2c', '200', 'part one, part two', 18, 'part one, part two', ''],
    ]);
  });

  it('keeps only the first bytes of a large body but counts and streams all of it', () => {
    const big = 'b'.repeat(100_000);
    const feeder = new Feeder(new HttpRecorder(), { maxBodyExcerptBytes: 1000 })
      .push('c2s', httpRequest('GET', '/big', [HOST]))
      .push('s2c', httpResponse(200, 'OK', [['Transfer-Encoding', 'chunked']], chunkedBody([big.slice(0, 60_000), big.slice(60_000)])));
    const done = feeder.recorder.completions[1];
    expect(done.bodyLength).toBe(100_000);
    expect(text(done.body)).toBe('b'.repeat(1000));
    expect(feeder.recorder.log[3][5]).toBe(big);
  });

  it('completes a Content-Length body that ends exactly at a push boundary and one that shares a push with the next head', () => {
    const feeder = new Feeder()
      .push('c2s', httpRequest('POST', '/1', [HOST, ['Content-Length', '4']]))
      .push('c2s', enc('abcd'))
      .push('c2s', concat(httpRequest('POST', '/2', [HOST, ['Content-Length', '2']], 'ef'), httpRequest('GET', '/3', [HOST])));
    expect(feeder.recorder.log).toEqual([
      ['request', 'POST', '/1'],
      ['complete', 'c2s', 'POST /1', 'abcd', 4, 'abcd', ''],
      ['request', 'POST', '/2'],
      ['complete', 'c2s', 'POST /2', 'ef', 2, 'ef', ''],
      ['request', 'GET', '/3'],
      ['complete', 'c2s', 'GET /3', '', 0, '', ''],
    ]);
    expect(feeder.recorder.completions[0].origin).toMatchObject({ offset: 0, packet: 1, lastPacket: 2 });
  });
});

describe('1xx interim responses', () => {
  it('reports 100 Continue and 103 Early Hints without consuming the request', () => {
    const result = expectSplitInvariant([
      { dir: 'c2s', data: httpRequest('POST', '/upload', [HOST, ['Expect', '100-continue'], ['Content-Length', '5']]) },
      { dir: 's2c', data: httpResponse(100, 'Continue', []) },
      { dir: 'c2s', data: enc('12345') },
      { dir: 's2c', data: concat(httpResponse(103, 'Early Hints', [['Link', '</s.css>; rel=preload']]), jsonResponse('{}')) },
    ]);
    expect(result.log).toEqual([
      ['request', 'POST', '/upload'],
      ['response', 100, '/upload'],
      ['complete', 'c2s', 'POST /upload', '12345', 5, '12345', ''],
      ['response', 103, '/upload'],
      ['response', 200, '/upload'],
      ['complete', 's2c', '200', '{}', 2, '{}', ''],
    ]);
  });
});

describe('upgrade to SPDY', () => {
  const serverFrames = concat(synReply(1), synReply(3), spdyDataFrame(3, 0, enc('hello from spdy\n')));
  const clientFrames = concat(synStream(1), synStream(3), synStream(5));

  it('hands over the bytes that share a segment with the 101, exactly', () => {
    const result = expectSplitInvariant([
      { dir: 'c2s', data: spdyUpgradeRequest },
      { dir: 's2c', data: concat(spdy101, serverFrames) },
      { dir: 'c2s', data: clientFrames },
      { dir: 's2c', data: spdyPing(1) },
    ]);
    expect(result.log).toEqual([
      ['request', 'POST', EXEC_TARGET],
      ['complete', 'c2s', `POST ${EXEC_TARGET}`, '', 0, '', ''],
      ['response', 101, EXEC_TARGET],
      ['complete', 's2c', '101', '', 0, '', ''],
      ['upgrade', EXEC_TARGET, 101],
    ]);
    expect(result.upgradedText).toEqual({ c2s: text(clientFrames), s2c: text(concat(serverFrames, spdyPing(1))) });
  });

  it('gives the first upgraded piece the offset and packet right after the 101 head', () => {
    const feeder = new Feeder().push('c2s', spdyUpgradeRequest).push('s2c', concat(spdy101, serverFrames));
    expect(feeder.recorder.upgradedPieces).toEqual([
      { dir: 's2c', data: serverFrames, origin: { offset: spdy101.length, length: serverFrames.length, packet: 2, ts: 2000 } },
    ]);
    expect(feeder.recorder.upgradedPieces[0].data.subarray(0, 4)).toEqual(Uint8Array.of(0x80, 0x03, 0x00, 0x02));
  });

  it('passes upgraded pushes through as the very same views', () => {
    const seen: Uint8Array[] = [];
    const feeder = new Feeder(new HttpRecorder({ observe: { onUpgradedData: (_dir, data) => void seen.push(data) } })).push('c2s', spdyUpgradeRequest).push('s2c', spdy101);
    const frame = spdyPing(7);
    feeder.parser.push('s2c', frame, { offset: spdy101.length, length: frame.length, packet: 9, ts: 9 });
    expect(seen[0]).toBe(frame);
  });

  it('holds what the client sends before the answer and releases it, in order, before the server’s bytes', () => {
    const feeder = new Feeder()
      .push('c2s', concat(spdyUpgradeRequest, synStream(1)))
      .push('c2s', synStream(3))
      .push('s2c', concat(spdy101, synReply(1)));
    const pieces = feeder.recorder.upgradedPieces.map((p) => [p.dir, text(p.data), p.origin]);
    expect(pieces).toEqual([
      ['c2s', text(synStream(1)), { offset: spdyUpgradeRequest.length, length: synStream(1).length, packet: 1, ts: 1000 }],
      ['c2s', text(synStream(3)), { offset: spdyUpgradeRequest.length + synStream(1).length, length: synStream(3).length, packet: 2, ts: 2000 }],
      ['s2c', text(synReply(1)), { offset: spdy101.length, length: synReply(1).length, packet: 3, ts: 3000 }],
    ]);
    expect(feeder.recorder.log.at(-1)).toEqual(['upgrade', EXEC_TARGET, 101]);
    expect(feeder.recorder.problems).toEqual([]);
  });

  it('exposes the offered and negotiated versions through header helpers', () => {
    const { recorder: sink } = new Feeder().push('c2s', spdyUpgradeRequest).push('s2c', spdy101);
    expect(headerValues(sink.requests[0], 'x-stream-protocol-version')).toEqual([
      'v5.channel.k8s.io',
      'v4.channel.k8s.io',
      'v3.channel.k8s.io',
      'v2.channel.k8s.io',
      'channel.k8s.io',
    ]);
    expect(header(sink.requests[0], 'X-STREAM-PROTOCOL-VERSION')).toBe(
      'v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io',
    );
    expect(header(sink.responses[0], 'x-stream-protocol-version')).toBe('v4.channel.k8s.io');
    expect(header(sink.responses[0], 'sec-websocket-protocol')).toBeUndefined();
  });
});

describe('upgrade to WebSocket', () => {
  const serverFrames = concat(wsFrame(2, Uint8Array.of(1, ...enc('hello from websocket\n'))), wsFrame(2, Uint8Array.of(3, ...enc('{"metadata":{},"status":"Success"}'))));
  const clientFrames = concat(wsFrame(2, Uint8Array.of(255, 0), mask), wsFrame(8, Uint8Array.of(0x03, 0xe8), mask));

  it('hands over WebSocket frames that share a segment with the 101, split at every byte', () => {
    const result = expectSplitInvariant([
      { dir: 'c2s', data: wsUpgradeRequest },
      { dir: 's2c', data: concat(ws101, serverFrames) },
      { dir: 'c2s', data: clientFrames },
    ]);
    expect(result.log.slice(-1)).toEqual([['upgrade', WS_TARGET, 101]]);
    expect(result.upgradedText).toEqual({ c2s: text(clientFrames), s2c: text(serverFrames) });
    expect(result.upgradedText.s2c.charCodeAt(0)).toBe(0x82);
  });

  it('splits a comma-listed Sec-WebSocket-Protocol', () => {
    const req = httpRequest('GET', WS_TARGET, [['Connection', 'keep-alive, Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io, v4.channel.k8s.io,base64.channel.k8s.io']]);
    const { recorder: sink } = new Feeder().push('c2s', req).push('s2c', ws101);
    expect(headerValues(sink.requests[0], 'sec-websocket-protocol')).toEqual(['v5.channel.k8s.io', 'v4.channel.k8s.io', 'base64.channel.k8s.io']);
    expect(sink.log.at(-1)).toEqual(['upgrade', WS_TARGET, 101]);
    expect(sink.problems).toEqual([]);
  });
});

describe('refused upgrade', () => {
  const status = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"demo-0\\" is forbidden","reason":"Forbidden","details":{"name":"demo-0","kind":"pods"},"code":403}';
  const refusal = httpResponse(403, 'Forbidden', [['Content-Type', 'application/json'], ['Content-Length', String(status.length)]], status);

  it('keeps the Status body and parses the next request on the same connection', () => {
    const result = expectSplitInvariant([
      { dir: 'c2s', data: wsUpgradeRequest },
      { dir: 's2c', data: refusal },
      { dir: 'c2s', data: spdyUpgradeRequest },
      { dir: 's2c', data: concat(spdy101, synReply(1)) },
    ]);
    expect(result.log).toEqual([
      ['request', 'GET', WS_TARGET],
      ['complete', 'c2s', `GET ${WS_TARGET}`, '', 0, '', ''],
      ['response', 403, WS_TARGET],
      ['complete', 's2c', '403', status, status.length, status, ''],
      ['request', 'POST', EXEC_TARGET],
      ['complete', 'c2s', `POST ${EXEC_TARGET}`, '', 0, '', ''],
      ['response', 101, EXEC_TARGET],
      ['complete', 's2c', '101', '', 0, '', ''],
      ['upgrade', EXEC_TARGET, 101],
    ]);
    expect(result.upgradedText).toEqual({ c2s: '', s2c: text(synReply(1)) });
  });

  it('parses requests the client sent before the refusal arrived, with their own origins', () => {
    const next = httpRequest('GET', '/version', [HOST]);
    const feeder = new Feeder().push('c2s', concat(wsUpgradeRequest, next.subarray(0, 7))).push('c2s', next.subarray(7)).push('s2c', refusal);
    expect(feeder.recorder.log.slice(2, 5)).toEqual([
      ['response', 403, WS_TARGET],
      ['request', 'GET', '/version'],
      ['complete', 'c2s', 'GET /version', '', 0, '', ''],
    ]);
    expect(feeder.recorder.requests[1].origin).toEqual({ offset: wsUpgradeRequest.length, length: next.length, packet: 1, ts: 1000, lastPacket: 2, lastTs: 2000 });
    expect(feeder.recorder.problems).toEqual([]);
  });
});

describe('switching oddities', () => {
  it('switches on a 101 that answers no upgrade request, with a problem', () => {
    const feeder = new Feeder().push('c2s', httpRequest('GET', '/x', [HOST])).push('s2c', concat(spdy101, spdyPing(1))).push('c2s', spdyPing(2));
    expect(feeder.recorder.log.slice(2)).toEqual([
      ['response', 101, '/x'],
      ['problem', '101 Switching Protocols without an upgrade request'],
      ['complete', 's2c', '101', '', 0, '', ''],
      ['upgrade', '/x', 101],
    ]);
    expect(feeder.recorder.upgraded).toEqual({ c2s: [...spdyPing(2)], s2c: [...spdyPing(1)] });
  });

  it('tunnels after a 2xx answer to CONNECT', () => {
    const hello = Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5);
    const feeder = new Feeder()
      .push('c2s', concat(httpRequest('CONNECT', 'apiserver:6443', [['Host', 'apiserver:6443']]), hello))
      .push('s2c', httpResponse(200, 'Connection established', []));
    expect(feeder.recorder.log.slice(-2)).toEqual([
      ['complete', 's2c', '200', '', 0, '', ''],
      ['upgrade', 'apiserver:6443', 200],
    ]);
    expect(feeder.recorder.requests[0]).toMatchObject({ path: 'apiserver:6443', query: '' });
    expect(feeder.recorder.upgraded.c2s).toEqual([...hello]);
  });

  it('bounds the bytes held before the answer and reports the rest as a gap after the switch', () => {
    const frames = concat(synStream(1), synStream(3));
    const feeder = new Feeder(new HttpRecorder(), { maxHeldBytes: 20 }).push('c2s', concat(spdyUpgradeRequest, frames)).push('s2c', spdy101);
    expect(feeder.recorder.upgraded.c2s).toEqual([...frames.subarray(0, 20)]);
    expect(feeder.recorder.log).toContainEqual(['problem', 'client sent more than 20 bytes before the upgrade was answered; the rest is dropped']);
    expect(feeder.recorder.log.at(-1)).toEqual(['upgraded-gap', 'c2s', spdyUpgradeRequest.length + 20, frames.length - 20]);
  });

  it('reports an upgrade request that is never answered', () => {
    const feeder = new Feeder().push('c2s', concat(spdyUpgradeRequest, synStream(1))).end();
    expect(feeder.recorder.log.at(-1)).toEqual(['problem', `upgrade request never answered; ${synStream(1).length} bytes the client sent after it are dropped`]);
  });
});

describe('not HTTP', () => {
  const clientHello = Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03);

  it('recognises TLS from its first byte in either direction', () => {
    const feeder = new Feeder().push('c2s', clientHello.subarray(0, 1)).push('s2c', Uint8Array.of(0x16, 0x03, 0x03)).push('c2s', enc('GET / HTTP/1.1\r\n\r\n'));
    expect(feeder.recorder.log).toEqual([
      ['not-http', 'c2s', 'does not start like an HTTP/1.x request'],
      ['not-http', 's2c', 'does not start like an HTTP/1.x response'],
    ]);
  });

  it('recognises a capture that starts inside SPDY or WebSocket traffic', () => {
    expect(new Feeder().push('c2s', synStream(5)).push('s2c', spdyPing(1)).recorder.log.map((e) => e[0])).toEqual(['not-http', 'not-http']);
    expect(new Feeder().push('c2s', wsFrame(2, enc('\x00ls\n'), mask)).recorder.log).toEqual([['not-http', 'c2s', 'does not start like an HTTP/1.x request']]);
  });

  it('recognises text that is not a request line once the head ends', () => {
    expect(new Feeder().push('c2s', enc('hello big world\r\n\r\n')).recorder.log).toEqual([['not-http', 'c2s', 'not an HTTP/1.x request line "hello big world"']]);
    expect(new Feeder().push('c2s', enc('hello world\r\n\r\n')).recorder.log).toEqual([['not-http', 'c2s', 'malformed request line "hello world"']]);
    expect(new Feeder().push('s2c', enc('HTTP/1.1 abc\r\n\r\n')).recorder.log).toEqual([['not-http', 's2c', 'malformed status code in "HTTP/1.1 abc"']]);
  });

  it('reports through onProblem when the sink has no onNotHttp', () => {
    const feeder = new Feeder(new HttpRecorder({ notHttp: false })).push('c2s', clientHello);
    expect(feeder.recorder.problems).toMatchObject([{ code: 'http.not-http', direction: 'c2s', offset: 0, where: 'c2s offset 0', message: 'not HTTP/1.x: does not start like an HTTP/1.x request' }]);
  });

  it('treats garbage after good messages as a broken stream, not as "not HTTP"', () => {
    const feeder = new Feeder(new HttpRecorder(), { label: '10.0.0.1:5000→10.0.0.2:6443' })
      .push('c2s', concat(httpRequest('GET', '/a', [HOST]), enc('\x00\x01garbage')))
      .push('c2s', httpRequest('GET', '/b', [HOST]));
    expect(feeder.recorder.log.slice(2)).toEqual([['problem', 'does not start like an HTTP/1.x request; HTTP parsing of this direction stops']]);
    expect(feeder.recorder.problems[0].where).toBe(`10.0.0.1:5000→10.0.0.2:6443 c2s offset ${httpRequest('GET', '/a', [HOST]).length}`);
  });
});

describe('hostile heads and bodies', () => {
  it('caps a head that never ends and ignores the rest of the direction', () => {
    const feeder = new Feeder().push('c2s', concat(httpRequest('GET', '/ok', [HOST]), enc('GET /')));
    const filler = new Uint8Array(1000).fill(0x61);
    for (let i = 0; i < 1000; i++) feeder.push('c2s', filler);
    feeder.push('c2s', enc('\r\n\r\n')).push('c2s', httpRequest('GET', '/later', [HOST]));
    expect(feeder.recorder.log.slice(2)).toEqual([['problem', 'HTTP head longer than 65536 bytes; HTTP parsing of this direction stops']]);
  });

  it('reports an over-long first head as not HTTP', () => {
    const feeder = new Feeder().push('c2s', concat(enc('GET /'), new Uint8Array(1 << 20).fill(0x61)));
    expect(feeder.recorder.log).toEqual([['not-http', 'c2s', 'HTTP head longer than 65536 bytes']]);
  });

  it('scans a head that arrives a byte at a time in linear time', () => {
    const value = 'v'.repeat(60_000);
    const req = httpRequest('GET', '/slow', [HOST, ['X-Long', value]]);
    const feeder = new Feeder();
    const started = Date.now();
    for (let i = 0; i < req.length; i++) feeder.push('c2s', req.subarray(i, i + 1));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(header(feeder.recorder.requests[0], 'x-long')).toBe(value);
  });

  it.each([
    ['zz\r\n', 'malformed chunk-size line "zz\\r\\n"'],
    ['-1\r\n', 'malformed chunk-size line "-1\\r\\n"'],
    ['\r\n', 'malformed chunk-size line "\\r\\n"'],
    ['12345678901234\r\n', 'malformed chunk-size line "12345678901234\\r\\n"'],
    [`1;${'e'.repeat(5000)}\r\n`, 'chunk-size line longer than 4096 bytes'],
    ['3\r\nabcX\r\n', 'chunk data not followed by CRLF'],
    [`0\r\n${'T: x\r\n'.repeat(20_000)}\r\n`, 'chunked trailer section too long'],
  ])('stops on chunked framing %#', (body, message) => {
    const feeder = new Feeder()
      .push('c2s', httpRequest('GET', '/c', [HOST]))
      .push('s2c', httpResponse(200, 'OK', [['Transfer-Encoding', 'chunked']], body))
      .push('s2c', httpResponse(200, 'OK', [['Content-Length', '0']]));
    expect(feeder.recorder.log.slice(2)).toEqual([['response', 200, '/c'], ['problem', message]]);
  });

  it.each([
    [[['Content-Length', 'abc']], 'invalid Content-Length "abc"; body length unknown'],
    [[['Content-Length', '5'], ['Content-Length', '6']], 'conflicting Content-Length values 5, 6; body length unknown'],
    [[['Content-Length', '1234567890123456']], 'invalid Content-Length "1234567890123456"; body length unknown'],
    [[['Transfer-Encoding', 'gzip']], 'request Transfer-Encoding gzip does not end in chunked; body length unknown'],
  ] as [[string, string][], string][])('stops on an unusable request length %#', (headers, message) => {
    const feeder = new Feeder().push('c2s', concat(httpRequest('POST', '/p', [HOST, ...headers]), httpRequest('GET', '/q', [HOST])));
    expect(feeder.recorder.log).toEqual([['request', 'POST', '/p'], ['problem', message]]);
  });

  it('accepts a repeated identical Content-Length and warns about Transfer-Encoding with Content-Length', () => {
    const feeder = new Feeder()
      .push('c2s', httpRequest('POST', '/p', [HOST, ['Content-Length', '2, 2']], 'ab'))
      .push('c2s', httpRequest('POST', '/q', [HOST, ['Content-Length', '99'], ['Transfer-Encoding', 'chunked']], chunkedBody(['cd'])));
    expect(feeder.recorder.log).toEqual([
      ['request', 'POST', '/p'],
      ['complete', 'c2s', 'POST /p', 'ab', 2, 'ab', ''],
      ['request', 'POST', '/q'],
      ['problem', 'both Transfer-Encoding and Content-Length present; Content-Length ignored'],
      ['complete', 'c2s', 'POST /q', 'cd', 2, 'cd', ''],
    ]);
  });

  it('skips malformed header lines with a bounded number of problems and folds continuation lines', () => {
    const head = enc(`GET /h HTTP/1.1\r\nHost: a\r\nX-Fold: one\r\n  two\r\n${'no colon here\r\n'.repeat(10)}Bad Name: v\r\n\r\n`);
    const feeder = new Feeder().push('c2s', head);
    expect(feeder.recorder.requests[0].headers).toEqual([['Host', 'a'], ['X-Fold', 'one two'], ['Bad Name', 'v']]);
    expect(feeder.recorder.problems.map((p) => p.message)).toEqual([
      'malformed header line skipped: "no colon here"',
      'malformed header line skipped: "no colon here"',
      'malformed header line skipped: "no colon here"',
      '8 more header problems not shown',
    ]);
  });

  it('tolerates blank lines between messages and bare LF line ends', () => {
    const feeder = new Feeder().push('c2s', enc('\r\n\r\nGET /a HTTP/1.1\nHost: x\n\n\r\nGET /b HTTP/1.1\r\n\r\n'));
    expect(feeder.recorder.log).toEqual([
      ['request', 'GET', '/a'],
      ['complete', 'c2s', 'GET /a', '', 0, '', ''],
      ['request', 'GET', '/b'],
      ['complete', 'c2s', 'GET /b', '', 0, '', ''],
    ]);
    expect(feeder.recorder.requests[0].headers).toEqual([['Host', 'x']]);
  });
});

describe('gaps', () => {
  it('stays in sync across a gap inside a body of known length', () => {
    const feeder = new Feeder()
      .push('c2s', httpRequest('GET', '/g', [HOST]))
      .push('s2c', httpResponse(200, 'OK', [['Content-Length', '10']], 'abc'))
      .gap('s2c', 4)
      .push('s2c', concat(enc('xyz'), httpResponse(200, 'OK', [['Content-Length', '1']], '!')))
      .push('c2s', httpRequest('GET', '/h', [HOST]));
    expect(feeder.recorder.log.slice(2)).toEqual([
      ['response', 200, '/g'],
      ['problem', '4 bytes of a message body missing'],
      ['complete', 's2c', '200', 'abc', 10, 'abcxyz', ''],
      ['problem', 'response 200 matches no request'],
      ['response', 200, undefined],
      ['complete', 's2c', '200', '!', 1, '!', ''],
      ['request', 'GET', '/h'],
      ['complete', 'c2s', 'GET /h', '', 0, '', ''],
    ]);
  });

  it('stays in sync across a gap inside a chunk', () => {
    const feeder = new Feeder()
      .push('c2s', httpRequest('GET', '/g', [HOST]))
      .push('s2c', httpResponse(200, 'OK', [['Transfer-Encoding', 'chunked']], enc('a\r\n01')))
      .gap('s2c', 5)
      .push('s2c', enc('789\r\n0\r\n\r\n'));
    expect(feeder.recorder.log.slice(3)).toEqual([
      ['problem', '5 bytes of a message body missing'],
      ['complete', 's2c', '200', '01', 10, '01789', ''],
    ]);
  });

  it('completes a body that a gap ends', () => {
    const feeder = new Feeder().push('c2s', httpRequest('POST', '/g', [HOST, ['Content-Length', '6']], 'abc')).gap('c2s', 3);
    expect(feeder.recorder.log.slice(1)).toEqual([
      ['problem', '3 bytes of a message body missing'],
      ['complete', 'c2s', 'POST /g', 'abc', 6, 'abc', ''],
    ]);
    expect(feeder.recorder.completions[0].origin).toMatchObject({ offset: 0, length: feeder.recorder.requests[0].origin.length + 6 });
  });

  it('stops when a gap runs past the body or hits a head', () => {
    const past = new Feeder().push('c2s', httpRequest('POST', '/g', [HOST, ['Content-Length', '6']], 'abc')).gap('c2s', 10).push('c2s', httpRequest('GET', '/x', [HOST]));
    expect(past.recorder.log.slice(1)).toEqual([['problem', '10 missing bytes run past the 3 left in the body; HTTP cannot resynchronise']]);
    const head = new Feeder().push('c2s', enc('GET /a HT')).gap('c2s', 10).push('c2s', httpRequest('GET', '/x', [HOST]));
    expect(head.recorder.log).toEqual([['problem', '10 bytes missing outside a body of known length; HTTP cannot resynchronise']]);
    const chunkLine = new Feeder()
      .push('c2s', httpRequest('GET', '/g', [HOST]))
      .push('s2c', httpResponse(200, 'OK', [['Transfer-Encoding', 'chunked']], enc('1')))
      .gap('s2c', 2);
    expect(chunkLine.recorder.log.at(-1)).toEqual(['problem', '2 missing bytes inside chunked framing; HTTP cannot resynchronise']);
  });

  it('passes gaps in upgraded data on, and keeps them in order with held bytes', () => {
    const feeder = new Feeder()
      .push('c2s', concat(spdyUpgradeRequest, synStream(1)))
      .gap('c2s', 7)
      .push('c2s', synStream(3))
      .push('s2c', spdy101)
      .gap('s2c', 9);
    expect(feeder.recorder.log.slice(-3)).toEqual([
      ['upgrade', EXEC_TARGET, 101],
      ['upgraded-gap', 'c2s', spdyUpgradeRequest.length + synStream(1).length, 7],
      ['upgraded-gap', 's2c', spdy101.length, 9],
    ]);
    expect(feeder.recorder.upgraded.c2s).toEqual([...synStream(1), ...synStream(3)]);
    expect(feeder.recorder.originErrors).toEqual([]);
  });

  it('stops the client side when a refused upgrade leaves a gap in the held bytes', () => {
    const status = '{}';
    const feeder = new Feeder()
      .push('c2s', wsUpgradeRequest)
      .gap('c2s', 5)
      .push('s2c', httpResponse(400, 'Bad Request', [['Content-Length', '2']], status));
    expect(feeder.recorder.log.slice(2)).toEqual([
      ['response', 400, WS_TARGET],
      ['problem', '5 bytes missing outside a body of known length; HTTP cannot resynchronise'],
      ['complete', 's2c', '400', '{}', 2, '{}', ''],
    ]);
  });
});

describe('end of stream', () => {
  it('reports a message cut off inside its body or head', () => {
    const body = new Feeder().push('c2s', httpRequest('POST', '/p', [HOST, ['Content-Length', '10']], 'abc')).end('c2s');
    expect(body.recorder.log.at(-1)).toEqual(['problem', 'connection ended inside a message body after 3 bytes (7 more expected)']);
    const head = new Feeder().push('c2s', enc('GET /p HTTP/1.1\r\nHo')).end();
    expect(head.recorder.log).toEqual([['problem', 'connection ended inside an HTTP head (19 bytes)']]);
  });

  it('ends a read-until-close body only for the direction that ended', () => {
    const feeder = new Feeder().push('c2s', httpRequest('GET', '/x', [HOST])).push('s2c', httpResponse(200, 'OK', [], 'abc'));
    feeder.end('c2s');
    expect(feeder.recorder.completions.filter((c) => c.dir === 's2c')).toEqual([]);
    feeder.end('s2c');
    expect(feeder.recorder.log.at(-1)).toEqual(['complete', 's2c', '200', 'abc', 3, 'abc', '']);
  });
});
