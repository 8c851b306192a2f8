import { CarrierLogBudget, logCarrier, newCarrierLog } from '../../src/core/carrier-log.js';
import { modelLayers, streamOf, streamSlice } from '../../src/ui/event-layers.js';
import { bytesPerRow, highlightRow, hexRows } from '../../src/ui/hex-view.js';
import { buildLanes } from '../../src/ui/timeline-lanes.js';
import { captureModel, connection, data, origin, session, spdyEchoSession, stream, tlsSummary, wsEchoSession } from '../helpers/model-builders.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** A record log of whole records: [plaintext bytes, TCP offset, TCP length] each. */
function carrierLog(...records: [number, number, number][]) {
  const log = newCarrierLog();
  const budget = new CarrierLogBudget(1 << 10);
  for (const [plaintext, offset, length] of records) logCarrier(log, budget, plaintext, offset, length, true);
  return log;
}

describe('modelLayers', () => {
  it('port-forward tunnelled in WebSocket: SPDY frames at offsets of the tunnelled stream, not TCP ones', () => {
    const s = session({ id: 1, kind: 'portforward', transport: 'websocket', protocol: 'SPDY/3.1+portforward.k8s.io', connectionId: 2 });
    const dataStream = stream(s, 'data:80:0', 3);
    data(dataStream, 's2c', 'HTTP/1.1 200 OK\r\n', origin(120, 25, 14, 2e6));
    const model = captureModel({ sessions: [s] });
    const layers = modelLayers(model, s, dataStream.events[0]);
    expect(layers.map((l) => [l.kind, l.title])).toEqual([
      ['stream', 'data:80:0 · SPDY stream 3'],
      ['frame', 'SPDY DATA frame in the WebSocket tunnel'],
      ['http', 'HTTP/1.1 upgrade · GET → 101 SPDY/3.1+portforward.k8s.io'],
      ['tcp', expect.stringMatching(/^TCP /)],
      ['packet', 'packet 14'],
    ]);
    expect(layers[1].range).toEqual({ space: 'tunnelled SPDY s2c', start: 120, end: 145 });
    expect(layers[3].range).toBeNull();
    expect(layers[3].lines).toEqual(['connection 2 · the SPDY bytes travel in WebSocket binary messages']);
  });

  it('a WebSocket stdout data event: stream, frame, HTTP, TCP, packet', () => {
    const s = wsEchoSession();
    const model = captureModel({ sessions: [s] });
    const ev = s.streams[0].events[1];
    const layers = modelLayers(model, s, ev);
    expect(layers.map((l) => [l.kind, l.title])).toEqual([
      ['stream', 'stdout · channel 1'],
      ['frame', 'WebSocket binary message'],
      ['http', 'HTTP/1.1 upgrade · GET → 101 v5.channel.k8s.io'],
      ['tcp', 'TCP 127.0.0.1:18102 → 127.0.0.1:43542'],
      ['packet', 'packet 33'],
    ]);
    expect(layers[0].lines).toEqual(['data 21 B at +1.55 ms · 127.0.0.1:18102 → 127.0.0.1:43542', 'stream bytes 0–20 of 21 B']);
    expect(layers[0].range).toEqual({ space: 'stdout stream', start: 0, end: 21 });
    expect(new TextDecoder().decode(layers[0].bytes!)).toBe('hello from websocket\n');
    expect(layers[0].highlight).toEqual({ start: 0, end: 21 });
    expect(layers[1].lines).toEqual(['TCP s2c bytes 175–198 (24 B)']);
    expect(layers[1].range).toEqual({ space: 'TCP s2c', start: 175, end: 199 });
    expect(layers[2].lines).toEqual(['exec default/demo-0 [main] echo "hello from websocket"', s.target, 'offered v5.channel.k8s.io']);
    expect(layers[4].lines).toEqual(['packet 33 · 2026-11-22T01:42:55.099376Z (+121.3 ms)', 'link type EN10MB']);
  });

  it('a SPDY frame spanning packets, and a control event', () => {
    const s = spdyEchoSession();
    const model = captureModel({ sessions: [s] });
    const dataEv = s.streams[1].events[2];
    const layers = modelLayers(model, s, dataEv);
    expect(layers[0].title).toBe('stdout · SPDY stream 3');
    expect(layers[1].title).toBe('SPDY DATA frame');
    expect(layers[4].title).toBe('packets 77–80');
    expect(layers[4].lines.slice(0, 2)).toEqual([
      'packet 77 · first byte · 2026-11-22T01:42:55.071886Z (+93.8 ms)',
      'packet 80 · last byte · 2026-11-22T01:42:55.072065Z (+94.0 ms)',
    ]);
    const halfClose = s.streams[1].events[4];
    expect(modelLayers(model, s, halfClose)[1].title).toBe('SPDY DATA frame with FIN');
    const goaway = s.control[2];
    const g = modelLayers(model, s, goaway);
    expect(g.map((l) => l.kind)).toEqual(['frame', 'http', 'tcp', 'packet']);
    expect(g[0]).toMatchObject({ title: 'SPDY GOAWAY frame', lines: ['GOAWAY last-good 5 OK', 'at +5.29 ms · 127.0.0.1:18100 → 127.0.0.1:38284', 'TCP s2c bytes 288–303 (16 B)'] });
  });

  it('over TLS: a TLS layer, and offsets that count decrypted bytes', () => {
    const s = wsEchoSession();
    const model = captureModel({
      sessions: [s],
      connections: [
        connection({
          id: 4,
          protocol: 'websocket',
          tls: tlsSummary({
            sni: 'kubernetes',
            alpn: 'http/1.1',
            // The server's decrypted stream: 175 bytes in earlier records, then the message's 24 in the record at 4000.
            plaintextCarriers: { c2s: newCarrierLog(), s2c: carrierLog([175, 3000, 900], [24, 4000, 41], [43, 4046, 60]) },
            records: [
              { dir: 's2c', ts: 121.308e6, offset: 4000, length: 41, type: 'application_data', decrypted: true, plaintext: 24 },
              { dir: 'c2s', ts: 121.308e6, offset: 900, length: 30, type: 'application_data', decrypted: true, plaintext: 13 },
              { dir: 's2c', ts: 121.769e6, offset: 4046, length: 60, type: 'application_data', decrypted: true, plaintext: 43 },
            ],
          }),
        }),
      ],
    });
    const layers = modelLayers(model, s, s.streams[0].events[1]);
    expect(layers.map((l) => l.kind)).toEqual(['stream', 'frame', 'tls', 'http', 'tcp', 'packet']);
    expect(layers[1].range).toEqual({ space: 'TLS plaintext s2c', start: 175, end: 199 });
    expect(layers[2]).toMatchObject({
      title: 'TLS 1.3 application data',
      lines: [
        'decrypted with the key log · SNI kubernetes · ALPN http/1.1 · TLS_AES_128_GCM_SHA256',
        'held by the record at TCP s2c bytes 4000–4040 (41 B)',
        'their bytes and packets need the capture re-read',
      ],
    });
    expect(layers[4]).toMatchObject({ lines: ['connection 4 (TLS)'], range: null });
  });

  it('the request in the upgrade lane is an HTTP layer', () => {
    const s = wsEchoSession();
    const [upgrade] = buildLanes(s, [s]);
    const layers = modelLayers(captureModel(), s, upgrade.items[0].event);
    expect(layers.map((l) => [l.kind, l.title])).toEqual([
      ['http', 'HTTP/1.1 request head'],
      ['tcp', 'TCP 127.0.0.1:43542 → 127.0.0.1:18102'],
      ['packet', 'packet 27'],
    ]);
  });

  it('payload beyond the kept head has no bytes and says so', () => {
    const s = session();
    const out = stream(s, 'stdout', 1);
    data(out, 's2c', 'abc', origin(0, 6, 2, 1));
    out.head = [];
    out.headBytes = 0;
    const layers = modelLayers(captureModel(), s, out.events[0]);
    expect(layers[0].bytes).toBeNull();
    expect(layers[0].lines).toContain('payload beyond the kept head: bytes need the capture re-read');
  });

  it('streamOf finds the stream by event identity', () => {
    const s = spdyEchoSession();
    expect(streamOf(s, s.streams[2].events[0])).toBe(s.streams[2]);
    expect(streamOf(s, s.control[0])).toBeNull();
  });
});

describe('streamSlice', () => {
  it('copies a range across head chunks', () => {
    const s = session();
    const r = stream(s, 'stdout', 1);
    for (const piece of ['abc', 'defg', 'h']) data(r, 's2c', piece, origin(0, 0, 1, 0));
    expect(new TextDecoder().decode(streamSlice(r, 2, 4)!)).toBe('cdef');
    expect(new TextDecoder().decode(streamSlice(r, 0, 8)!)).toBe('abcdefgh');
    expect(streamSlice(r, 7, 1)![0]).toBe(0x68);
    expect(streamSlice(r, 7, 2)).toBeNull();
    expect(streamSlice(r, 3, 0)).toEqual(new Uint8Array(0));
  });
});

describe('hexRows', () => {
  const text = (row: ReturnType<typeof hexRows>[number]) => row.hex.map((p) => p.text).join('');
  const ascii = (row: ReturnType<typeof hexRows>[number]) => row.ascii.map((p) => p.text).join('');

  it('brackets the highlighted bytes so the range reads without colour', () => {
    const bytes = enc('0123456789abcdefXYZ');
    const rows = hexRows(bytes, { start: 2, end: 5 }, 16);
    expect(rows).toHaveLength(2);
    expect(rows[0].offsetText).toBe('00000000');
    expect(text(rows[0])).toBe(' 30 31[32 33 34]35 36 37 38 39 61 62 63 64 65 66 ');
    expect(rows[0].hex.filter((p) => p.highlighted).map((p) => p.text)).toEqual(['32 33 34']);
    expect(ascii(rows[0])).toBe('0123456789abcdef');
    expect(rows[0].ascii.find((p) => p.highlighted)!.text).toBe('234');
    expect(text(rows[1])).toBe(' 58 59 5a' + '   '.repeat(13) + ' ');
  });

  it('a highlight running across rows and to the end of a short last row', () => {
    const bytes = enc('abcdefghij');
    const rows = hexRows(bytes, { start: 6, end: 10 }, 8);
    expect(text(rows[0])).toBe(' 61 62 63 64 65 66[67 68]');
    expect(text(rows[1])).toBe('[69 6a]' + ' '.repeat(18));
  });

  it('shows control bytes and non-ASCII as dots', () => {
    const [row] = hexRows(Uint8Array.from([0x1b, 0x5b, 0x32, 0x4a, 0x9b, 0x00, 0x7f, 0xff]), null, 8);
    expect(ascii(row)).toBe('.[2J....');
  });

  it('rows window, bytes per row by width, row of the highlight', () => {
    const bytes = new Uint8Array(100);
    expect(hexRows(bytes, null, 16, 2, 3).map((r) => r.offset)).toEqual([32, 48, 64]);
    expect(bytesPerRow(80)).toBe(16);
    expect(bytesPerRow(73)).toBe(8);
    expect(highlightRow({ start: 40, end: 50 }, 16)).toBe(2);
    expect(highlightRow(null, 16)).toBe(0);
  });
});
