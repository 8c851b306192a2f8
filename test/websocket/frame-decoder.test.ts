import { WebSocketFrameDecoder } from '../../src/websocket/frame-decoder.js';
import { Opcode } from '../../src/websocket/frame-header.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { maskInPlace } from '../../src/websocket/mask.js';
import { FrameRecorder, bytes, latin1, origin, pushSplit } from './recorders.js';
import { whole } from '../helpers/byte-range.js';

const KEY = 0xa1b2c3d4;
const client = new WebSocketFrameEncoder({ client: true, maskKeys: () => KEY });
const server = new WebSocketFrameEncoder({ client: false });

function decoder(expectMasked: boolean, opts: { plausible?: (op: number, b: number) => boolean } = {}, rec = new FrameRecorder()) {
  const dec = new WebSocketFrameDecoder(rec.sink, { expectMasked, plausibleFirstPayloadByte: opts.plausible });
  return { rec, dec };
}

function payloadOf(n: number, seed = 1): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
}

describe('WebSocketFrameDecoder: frame forms', () => {
  it('RFC 6455 §5.7 examples', () => {
    const { rec, dec } = decoder(false);
    dec.push(...whole(bytes([0x81, 0x05], 'Hello', [0x01, 0x03], 'Hel', [0x80, 0x02], 'lo', [0x89, 0x05], 'Hello')), origin(0, 21));
    expect(rec.frames()).toEqual([
      { opcode: 1, fin: true, payload: 'Hello' },
      { opcode: 1, fin: false, payload: 'Hel' },
      { opcode: 0, fin: true, payload: 'lo' },
      { opcode: 9, fin: true, payload: 'Hello' },
    ]);
    const masked = decoder(true);
    masked.dec.push(...whole(bytes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])), origin(0, 11));
    expect(masked.rec.frames()).toEqual([{ opcode: 1, fin: true, payload: 'Hello' }]);
    expect(masked.rec.events[0]).toMatchObject({ ev: 'start', h: { masked: true, maskKey: 0x37fa213d, headerLength: 6 } });
    expect(rec.problems).toEqual([]);
    expect(masked.rec.problems).toEqual([]);
  });

  it.each([0, 1, 125, 126, 127, 1000, 65535, 65536, 70000])('payload length %i, masked and unmasked, all opcodes', (n) => {
    for (const masked of [true, false]) {
      const enc = masked ? client : server;
      const ops = n <= 125 ? [Opcode.Text, Opcode.Binary, Opcode.Ping, Opcode.Pong] : [Opcode.Text, Opcode.Binary];
      const payload = payloadOf(n);
      const stream = bytes(...ops.map((op) => enc.frame(op, payload)));
      const { rec, dec } = decoder(masked);
      dec.push(stream, 0, stream.length, origin(100, stream.length, 7, 42));
      expect(rec.problems).toEqual([]);
      const frames = rec.frames();
      expect(frames.map((f) => f.opcode)).toEqual(ops);
      for (const f of frames) expect(f.payload).toBe(latin1(payload));
      const headerLength = (n < 126 ? 2 : n < 65536 ? 4 : 10) + (masked ? 4 : 0);
      const start = rec.events.find((e) => e.ev === 'start')!;
      expect(start).toMatchObject({ ev: 'start', h: { payloadLength: n, headerLength, masked, origin: { offset: 100, length: headerLength, packet: 7, ts: 42 } } });
      const end = rec.events.find((e) => e.ev === 'end')!;
      expect(end).toMatchObject({ frame: { offset: 100, length: headerLength + n, packet: 7, ts: 42, lastPacket: 7, lastTs: 42 } });
    }
  });

  it('close frame with code, rsv1 flag passes through when allowed', () => {
    const rec = new FrameRecorder();
    const dec = new WebSocketFrameDecoder(rec.sink, { expectMasked: false, rsv1Allowed: true });
    dec.push(...whole(bytes(server.frame(Opcode.Binary, bytes('x'), { rsv1: true }), server.close(1000, 'bye'))), origin(0, 10));
    expect(rec.problems).toEqual([]);
    expect(rec.events[0]).toMatchObject({ h: { rsv1: true, opcode: 2 } });
    expect(rec.frames()[1]).toEqual({ opcode: 8, fin: true, payload: '\x03\xe8bye' });
  });

  it('decodes the same at every split point and one byte at a time, and never mutates the input', () => {
    const stream = bytes(
      client.frame(Opcode.Binary, payloadOf(300, 3)),
      client.frame(Opcode.Text, payloadOf(5, 4), { fin: false }),
      client.ping(bytes('p')),
      client.frame(Opcode.Continuation, payloadOf(70000, 5)),
      client.frame(Opcode.Binary, new Uint8Array(0)),
      client.close(1000),
    );
    const pristine = stream.slice();
    const reference = decoder(true);
    reference.dec.push(stream, 0, stream.length, origin(0, stream.length));
    const expected = reference.rec.frames();
    expect(expected.map((f) => f.opcode)).toEqual([2, 1, 9, 0, 2, 8]);
    for (let cut = 1; cut < stream.length; cut += cut < 400 ? 1 : 997) {
      const { rec, dec } = decoder(true);
      pushSplit((d, o) => dec.push(d, 0, d.length, o), stream, [cut]);
      expect(rec.frames()).toEqual(expected);
      expect(rec.problems).toEqual([]);
    }
    const small = stream.subarray(0, 400);
    const { rec, dec } = decoder(true);
    pushSplit((d, o) => dec.push(d, 0, d.length, o), small, Array.from({ length: small.length }, (_, i) => i));
    const bySingleBytes = rec.frames();
    expect(bySingleBytes[0]).toEqual(expected[0]);
    // Frame origins name the packets (one byte per packet here) of the first and last byte.
    const firstEnd = rec.events.find((e) => e.ev === 'end')!;
    expect(firstEnd).toMatchObject({ frame: { offset: 0, length: 308, packet: 1, lastPacket: 308 } });
    expect(stream).toEqual(pristine);
  });
});

describe('WebSocketFrameDecoder: protocol violations', () => {
  it('reports an unmasked client frame once and still decodes', () => {
    const { rec, dec } = decoder(true);
    const stream = bytes(server.frame(Opcode.Binary, bytes('a')), server.frame(Opcode.Binary, bytes('b')));
    dec.push(stream, 0, stream.length, origin(0, stream.length));
    expect(rec.frames().map((f) => f.payload)).toEqual(['a', 'b']);
    expect(rec.problems).toHaveLength(1);
    expect(rec.problems[0].message).toMatch(/client frame not masked/);
  });

  it('reports a masked server frame', () => {
    const { rec, dec } = decoder(false);
    dec.push(...whole(client.frame(Opcode.Binary, bytes('ab'))), origin(0, 8));
    expect(rec.frames()[0].payload).toBe('ab');
    expect(rec.problems.map((p) => p.message)).toEqual([expect.stringMatching(/server frame masked/)]);
  });

  it('reports reserved opcodes, RSV bits, fragmented and oversized control frames', () => {
    const { rec, dec } = decoder(false);
    const stream = bytes(
      [0x83, 0x01, 0x00], // reserved opcode 3
      [0xa2, 0x00], // RSV2
      [0xc2, 0x00], // RSV1 without extension
      [0x09, 0x00], // ping without FIN
      [0x89, 0x7e, 0x00, 0x80], // 128-byte ping
      new Uint8Array(128),
      [0x82, 0x7e, 0x00, 0x05, 1, 2, 3, 4, 5], // 16-bit form for a 5-byte length
      [0x82, 0x01, 0x09],
    );
    dec.push(stream, 0, stream.length, origin(0, stream.length));
    expect(rec.frames().map((f) => f.opcode)).toEqual([3, 2, 2, 9, 9, 2, 2]);
    expect(rec.frames()[6].payload).toBe('\x09');
    expect(rec.problems.map((p) => p.message)).toEqual([
      'reserved opcode 0x3',
      expect.stringMatching(/^RSV2\/RSV3 set/),
      expect.stringMatching(/^RSV1 set on a binary frame without a negotiated extension/),
      expect.stringMatching(/^fragmented ping frame/),
      'ping frame payload 128 bytes exceeds 125',
      'payload length 5 not minimally encoded (16-bit form)',
    ]);
    expect(rec.problems[1].where).toBe('s2c offset 3');
  });

  it('a 2^63 length is a protocol error: Problem, resync, nothing allocated', () => {
    const { rec, dec } = decoder(false);
    const next = server.frame(Opcode.Binary, bytes([1], 'after'));
    const stream = bytes([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0], next);
    const before = process.memoryUsage().arrayBuffers;
    dec.push(stream, 0, stream.length, origin(0, stream.length));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    expect(rec.problems.map((p) => p.message)).toEqual([
      'invalid 64-bit payload length: most significant bit set (RFC 6455 §5.2); resynchronising',
      'resynchronised on a plausible frame header after skipping 0 bytes',
    ]);
    expect(rec.events[0]).toEqual({ ev: 'syncLost', offset: 0 });
    expect(rec.frames()).toEqual([{ opcode: 2, fin: true, payload: '\x01after' }]);
  });

  it('a 2^62 length is beyond 2^53-1: reported as unrepresentable and skipped', () => {
    const { rec, dec } = decoder(false);
    dec.push(...whole(bytes([0x82, 0x7f, 0x40, 0, 0, 0, 0, 0, 0, 0], server.frame(Opcode.Binary, bytes([2])))), origin(0, 13));
    expect(rec.problems[0].message).toBe('implausible 64-bit payload length 4611686018427387904 (> 2^53-1); resynchronising');
    expect(rec.frames()).toEqual([{ opcode: 2, fin: true, payload: '\x02' }]);
  });

  it('a legal 2^40-byte frame streams in pieces with bounded memory', () => {
    let pieces = 0;
    let received = 0;
    let lastByteOk = true;
    // Payload counted, not recorded: 2^40 bytes must stream through.
    const handle = {
      onPayload: (piece: Uint8Array) => {
        pieces++;
        received += piece.length;
        lastByteOk &&= piece[piece.length - 1] === 0x5a;
      },
    };
    const { rec, dec } = decoder(true, {}, new FrameRecorder({ handle }));
    const { bytes: header, maskKey } = client.frameHeader(Opcode.Binary, 2 ** 40);
    expect(maskKey).toBe(KEY);
    dec.push(header, 0, header.length, origin(0, header.length));
    expect(rec.events[0]).toMatchObject({ ev: 'start', h: { payloadLength: 2 ** 40 } });
    const chunk = new Uint8Array(1 << 20);
    const before = process.memoryUsage().arrayBuffers;
    let offset = header.length;
    for (let k = 0; k < 256; k++) {
      // Plain payload is all 0x5a; mask at the chunk's payload position (chunks of odd length shift the phase).
      const n = chunk.length - (k % 3);
      const piece = chunk.subarray(0, n).fill(0x5a);
      maskInPlace(piece, KEY, offset - header.length);
      dec.push(piece, 0, piece.length, origin(offset, n, k + 2));
      offset += n;
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
    expect(received).toBe(offset - header.length);
    expect(pieces).toBeGreaterThanOrEqual(256);
    expect(lastByteOk).toBe(true);
    dec.end();
    expect(rec.problems.map((p) => p.message)).toEqual([
      `stream ended ${2 ** 40 - received} bytes before the end of a ${2 ** 40}-byte binary frame`,
    ]);
    expect(rec.events.at(-1)).toEqual({ ev: 'streamEnd' });
  });

  it('end() inside a header reports it', () => {
    const { rec, dec } = decoder(false);
    dec.push(...whole(bytes([0x82, 0x7e, 0x01])), origin(0, 3));
    dec.end();
    expect(rec.problems.map((p) => p.message)).toEqual(['stream ended inside a frame header (3 bytes)']);
  });
});

describe('WebSocketFrameDecoder: gaps', () => {
  const channelByte = (op: number, b: number) => op === Opcode.Binary && b <= 4;

  it('a gap inside a masked payload keeps sync and the unmask phase', () => {
    const payload = payloadOf(40, 9);
    const stream = bytes(client.frame(Opcode.Binary, payload), client.frame(Opcode.Binary, bytes([1], 'next')));
    const { rec, dec } = decoder(true);
    // Header 6 bytes; lose payload bytes 10..13 (3 bytes: phase shifts by 3).
    dec.push(...whole(stream.slice(0, 16)), origin(0, 16));
    dec.gap(16, 3);
    dec.push(...whole(stream.slice(19)), origin(19, stream.length - 19, 2));
    const got = rec.events.filter((e) => e.ev === 'payload').map((e) => (e as { data: string }).data);
    expect(got.slice(0, 2)).toEqual([latin1(payload.subarray(0, 10)), latin1(payload.subarray(13, 40))]);
    expect(rec.events.filter((e) => e.ev === 'lost')).toEqual([{ ev: 'lost', offset: 16, length: 3 }]);
    expect(rec.frames()[1]).toEqual({ opcode: 2, fin: true, payload: '\x01next' });
    expect(rec.problems.map((p) => p.message)).toEqual(['3 bytes of binary frame payload lost; framing kept']);
  });

  it('a gap that ends exactly at the end of a payload keeps sync', () => {
    const stream = bytes(server.frame(Opcode.Binary, payloadOf(10)), server.frame(Opcode.Binary, bytes([2, 7])));
    const { rec, dec } = decoder(false);
    dec.push(...whole(stream.slice(0, 5)), origin(0, 5));
    dec.gap(5, 7);
    dec.push(...whole(stream.slice(12)), origin(12, stream.length - 12));
    expect(rec.frames()).toEqual([
      { opcode: 2, fin: true, payload: latin1(payloadOf(10).subarray(0, 3)) },
      { opcode: 2, fin: true, payload: '\x02\x07' },
    ]);
    expect(rec.events.some((e) => e.ev === 'syncLost')).toBe(false);
  });

  it('a gap across a header resynchronises on the next plausible header and reports skipped bytes', () => {
    const frames = [
      client.frame(Opcode.Binary, bytes([1], 'aaaa')),
      client.frame(Opcode.Binary, bytes([1], 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')),
      client.frame(Opcode.Binary, bytes([2], 'cc')),
      client.ping(bytes('x')),
      client.frame(Opcode.Binary, bytes([0], 'dd')),
    ];
    const stream = bytes(...frames);
    const second = frames[0].length;
    const third = second + frames[1].length;
    for (const oneByteAtATime of [false, true]) {
      const { rec, dec } = decoder(true, { plausible: channelByte });
      dec.push(...whole(stream.slice(0, second - 2)), origin(0, second - 2));
      // Lose the end of frame 1 and the header of frame 2.
      const resume = second + 4;
      dec.gap(second - 2, resume - (second - 2));
      const rest = stream.slice(resume);
      if (oneByteAtATime) pushSplit((d, o) => dec.push(d, 0, d.length, o), rest, Array.from({ length: rest.length }, (_, i) => i), resume);
      else dec.push(rest, 0, rest.length, origin(resume, rest.length, 2));
      const frameList = rec.frames();
      expect(frameList.map((f) => f.payload)).toEqual(['\x01aa', '\x02cc', 'x', '\x00dd']);
      const messages = rec.problems.map((p) => p.message);
      expect(messages[0]).toBe('2 bytes of binary frame payload lost; framing kept');
      expect(messages[1]).toBe('4 bytes lost across a frame header; resynchronising');
      expect(messages[2]).toBe(`resynchronised on a plausible frame header after skipping ${third - resume} bytes`);
      expect(rec.problems[2].where).toBe(`c2s offset ${third}`);
      const startOfThird = rec.events.filter((e) => e.ev === 'start')[1];
      expect(startOfThird).toMatchObject({ h: { origin: { offset: third } } });
    }
  });

  it('an unannounced hole in push offsets is treated as a gap', () => {
    const stream = bytes(server.frame(Opcode.Binary, payloadOf(20)), server.frame(Opcode.Binary, bytes([1])));
    const { rec, dec } = decoder(false);
    dec.push(...whole(stream.slice(0, 6)), origin(1000, 6));
    dec.push(...whole(stream.slice(10)), origin(1010, stream.length - 10));
    expect(rec.events.filter((e) => e.ev === 'lost')).toEqual([{ ev: 'lost', offset: 1006, length: 4 }]);
    expect(rec.frames()[1].payload).toBe('\x01');
  });
});
