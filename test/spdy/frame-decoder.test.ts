import { SpdyFrameDecoder, type SpdyControlFrame } from '../../src/spdy/frame-decoder.js';
import { SpdyFrameEncoder } from '../../src/spdy/frame-encoder.js';
import { Recorder, clientSide, concat, decodeSplit, origin, text } from './collect.js';
import { randomFromSeed } from '../kit/random.js';
import { whole } from '../helpers/byte-range.js';

const frames = clientSide();
const wire = concat(frames);
const starts = frames.map((_, k) => frames.slice(0, k).reduce((n, f) => n + f.length, 0));

function decoder(opts?: ConstructorParameters<typeof SpdyFrameDecoder>[1]): { d: SpdyFrameDecoder; rec: Recorder } {
  const rec = new Recorder();
  return { d: new SpdyFrameDecoder(rec.sink, opts), rec };
}

/** Printable text that zlib cannot shrink much (from a fixed seed, so the test is repeatable). */
function incompressible(n: number): string {
  const random = randomFromSeed(12345);
  let out = '';
  for (let k = 0; k < n; k++) out += String.fromCharCode(33 + Math.floor(random() * 90));
  return out;
}

describe('SpdyFrameDecoder: every frame type', () => {
  const rec = decodeSplit(wire, []);
  const byType = (t: string) => rec.controls.filter((f) => f.type === t);

  test('no problems, frames in order', () => {
    expect(rec.problems).toEqual([]);
    expect(rec.events.map((e) => JSON.parse(e).type)).toEqual([
      'SYN_STREAM', 'SYN_STREAM', 'SYN_STREAM', 'DATA', 'PING', 'DATA', 'SETTINGS', 'WINDOW_UPDATE', 'HEADERS', 'RST_STREAM', 'GOAWAY',
    ]);
  });

  test('SYN_STREAM fields, headers through the shared zlib context, origins', () => {
    const syn = byType('SYN_STREAM') as Extract<SpdyControlFrame, { type: 'SYN_STREAM' }>[];
    expect(syn.map((f) => [f.streamId, f.associatedId, f.priority, f.slot, f.fin, f.unidirectional, f.version, f.flags])).toEqual([
      [1, 0, 0, 0, false, false, 3, 0],
      [3, 0, 0, 0, false, false, 3, 0],
      [5, 0, 2, 0, false, false, 3, 0],
    ]);
    expect(syn.map((f) => ({ ...f.headers }))).toEqual([
      { streamtype: ['error'] },
      { streamtype: ['stdin'] },
      { streamtype: ['stdout'], 'x-multi': ['a', 'b'] },
    ]);
    expect(syn.map((f) => f.origin)).toEqual(
      [0, 1, 2].map((k) => ({ offset: starts[k], length: frames[k]!.length, packet: 1, ts: 1000, lastPacket: 1, lastTs: 1000 })),
    );
    expect(syn[0]!.length).toBe(frames[0]!.length - 8);
  });

  test('DATA frames, including an empty FIN-only frame as one piece', () => {
    const data = rec.events.filter((e) => e.includes('"DATA"')).map((e) => JSON.parse(e));
    expect(data).toEqual([
      { type: 'DATA', streamId: 3, flags: 0, fin: false, data: 'hello\n', origin: { offset: starts[3], length: 14 } },
      { type: 'DATA', streamId: 3, flags: 1, fin: true, data: '', origin: { offset: starts[5], length: 8 } },
    ]);
    const empty = rec.pieces.filter((p) => p.frameLength === 0);
    expect(empty.map((p) => [p.first, p.last, p.fin, p.origin.offset, p.origin.length])).toEqual([[true, true, true, starts[5]! + 8, 0]]);
  });

  test('PING, SETTINGS, WINDOW_UPDATE, HEADERS, RST_STREAM, GOAWAY fields', () => {
    const pick = (f: SpdyControlFrame) => {
      const { origin: _o, version: _v, length: _l, ...rest } = f;
      return rest.type === 'HEADERS' ? { ...rest, headers: { ...rest.headers } } : rest;
    };
    expect(rec.controls.slice(3).map(pick)).toEqual([
      { type: 'PING', id: 1, flags: 0 },
      { type: 'SETTINGS', clear: true, flags: 1, settings: [{ id: 7, flags: 0, value: 1 << 20 }, { id: 4, flags: 1, value: 100 }] },
      { type: 'WINDOW_UPDATE', streamId: 5, delta: 1000, flags: 0 },
      { type: 'HEADERS', streamId: 5, fin: true, flags: 1, headers: { trailer: ['x'] } },
      { type: 'RST_STREAM', streamId: 5, status: 5, statusName: 'CANCEL', flags: 0 },
      { type: 'GOAWAY', lastGoodStreamId: 0, status: 0, statusName: 'OK', flags: 0 },
    ]);
  });

  test('status names per spdystream types.go', () => {
    const e = new SpdyFrameEncoder();
    const statuses = [...Array(13).keys()];
    const r = decodeSplit(concat([...statuses.map((s) => e.rstStream(1, s)), ...[0, 1, 2, 3].map((s) => e.goAway(7, s))]), []);
    expect(r.controls.map((f) => (f.type === 'RST_STREAM' || f.type === 'GOAWAY' ? f.statusName : f.type))).toEqual([
      'UNKNOWN(0)', 'PROTOCOL_ERROR', 'INVALID_STREAM', 'REFUSED_STREAM', 'UNSUPPORTED_VERSION', 'CANCEL', 'INTERNAL_ERROR',
      'FLOW_CONTROL_ERROR', 'STREAM_IN_USE', 'STREAM_ALREADY_CLOSED', 'INVALID_CREDENTIALS', 'FRAME_TOO_LARGE', 'UNKNOWN(12)',
      'OK', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'UNKNOWN(3)',
    ]);
  });
});

describe('SpdyFrameDecoder: split points', () => {
  const whole = decodeSplit(wire, []);

  test('1-byte pushes give the same frames, with per-byte packets in the origins', () => {
    const cuts = [...Array(wire.length - 1).keys()].map((k) => k + 1);
    const r = decodeSplit(wire, cuts);
    expect(r.problems).toEqual([]);
    expect(r.events).toEqual(whole.events);
    // A frame starts in the packet of its first byte and completes in the packet of its last.
    const ping = r.controls.find((f) => f.type === 'PING')!;
    expect(ping.origin).toEqual({ offset: starts[4], length: 12, packet: starts[4]! + 1, ts: (starts[4]! + 1) * 1000, lastPacket: starts[4]! + 12, lastTs: (starts[4]! + 12) * 1000 });
    // "hello\n" arrives in six 1-byte pieces.
    const hello = r.pieces.filter((p) => p.streamId === 3 && p.frameLength === 6);
    expect(hello.map((p) => [p.first, p.last, p.origin.length])).toEqual([
      [true, false, 1], [false, false, 1], [false, false, 1], [false, false, 1], [false, false, 1], [false, true, 1],
    ]);
  });

  test('every 2-way split gives the same frames', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      const r = decodeSplit(wire, [cut]);
      if (r.problems.length || r.events.join('\n') !== whole.events.join('\n')) {
        throw new Error(`split at ${cut}: ${JSON.stringify(r.problems)}`);
      }
    }
  });

  test('every 3-way split around each frame boundary gives the same frames', () => {
    for (const s of starts.slice(1)) {
      for (let a = s - 9; a <= s + 1; a++) {
        for (let b = a + 1; b <= s + 9; b++) {
          const r = decodeSplit(wire, [a, b]);
          expect(r.events).toEqual(whole.events);
        }
      }
    }
  });
});

describe('SpdyFrameDecoder: hostile and odd input', () => {
  const e = new SpdyFrameEncoder();

  test('wrong version: problem, frame skipped by its length, next frame decodes', () => {
    const bad = e.ping(9);
    bad[1] = 2;
    const r = decodeSplit(concat([bad, e.ping(11)]), []);
    expect(r.controls.map((f) => f.type === 'PING' && f.id)).toEqual([11]);
    expect(r.problems).toMatchObject([{ where: 'spdy offset 0', message: 'control frame with version 2 (expected 3), type 6: skipped 4 bytes' }]);
  });

  test('unknown control type: reported as UNKNOWN after its payload, next frame decodes', () => {
    const unknown = new Uint8Array([0x80, 3, 0, 10, 0, 0, 0, 3, 1, 2, 3]);
    const r = decodeSplit(concat([unknown, e.ping(1)]), [9]);
    expect(r.controls.map((f) => [f.type, f.type === 'UNKNOWN' ? f.frameType : 0, f.origin.lastPacket])).toEqual([
      ['UNKNOWN', 10, 2],
      ['PING', 0, 2],
    ]);
    expect(r.problems).toEqual([]);
  });

  test('fixed-size frame with a wrong length: parsed, reported, framing kept', () => {
    const long = concat([new Uint8Array([0x80, 3, 0, 6, 0, 0, 0, 8, 0, 0, 0, 7, 9, 9, 9, 9])]);
    const r = decodeSplit(concat([long, e.ping(3)]), []);
    expect(r.controls.map((f) => f.type === 'PING' && f.id)).toEqual([7, 3]);
    expect(r.problems.map((p) => p.message)).toEqual(['PING payload of 8 bytes (expected 4); spdystream would lose framing']);
    const short = decodeSplit(concat([new Uint8Array([0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1]), e.ping(3)]), []);
    expect(short.controls.map((f) => f.type)).toEqual(['PING']);
    expect(short.problems.map((p) => p.message)).toEqual(['RST_STREAM payload of 4 bytes is too short (expected 8)']);
  });

  test('SETTINGS whose count disagrees with its length', () => {
    const s = e.settings([{ id: 7, value: 5 }]);
    s[11] = 200; // count 200, room for 1
    const r = decodeSplit(s, []);
    expect(r.controls).toHaveLength(1);
    expect(r.controls[0]!.type === 'SETTINGS' && r.controls[0]!.settings).toEqual([{ id: 7, flags: 0, value: 5 }]);
    expect(r.problems.map((p) => p.message)).toEqual(['SETTINGS claims 200 entries in a 12-byte payload']);
  });

  test('control frame over maxControlFrameBytes is skipped without buffering', () => {
    const big = e.settings(Array.from({ length: 100 }, (_, k) => ({ id: k, value: k })));
    const r = decodeSplit(concat([big, e.ping(1)]), [], { maxControlFrameBytes: 100 });
    expect(r.controls.map((f) => f.type)).toEqual(['PING']);
    expect(r.problems.map((p) => p.message)).toEqual(['SETTINGS of 804 bytes exceeds 100: skipped']);
  });

  test('oversized header block: frame kept with null headers, context lost, one later problem', () => {
    const c = new SpdyFrameEncoder();
    const big = c.synStream(1, { streamtype: 'error', junk: incompressible(5000) });
    const next = c.synStream(3, { streamtype: 'stdout' });
    const third = c.synStream(5, { streamtype: 'stderr' });
    const r = decodeSplit(concat([big, next, third, c.ping(1)]), [100], { maxHeaderBlockBytes: 1000 });
    expect(r.controls.map((f) => [f.type, f.type === 'SYN_STREAM' ? f.streamId : 0, f.type === 'SYN_STREAM' ? f.headers : 0])).toEqual([
      ['SYN_STREAM', 1, null],
      ['SYN_STREAM', 3, null],
      ['SYN_STREAM', 5, null],
      ['PING', 0, 0],
    ]);
    expect(r.controls[0]!.origin).toMatchObject({ offset: 0, length: big.length, packet: 1, lastPacket: 2 });
    expect(r.problems.map((p) => p.message)).toEqual([
      `SYN_STREAM header block of ${big.length - 18} bytes exceeds 1000: skipped`,
      `SYN_STREAM: header block not decoded: a ${big.length - 18}-byte header block at offset 0 was too large to decode; headers of this direction are unavailable from here on`,
    ]);
  });

  test('data frame pieces: a 16 MiB - 1 DATA frame arrives in pieces that are ranges of the pushed bytes, without copies or views', () => {
    const payload = new Uint8Array(0xffffff);
    for (let k = 0; k < payload.length; k += 4096) payload[k] = k & 0xff;
    const frame = e.data(7, payload, { fin: true });
    const pieces: { bytes: Uint8Array; start: number; length: number; first: boolean; last: boolean }[] = [];
    let sum = 0;
    const d = new SpdyFrameDecoder({
      onControl: () => {
        throw new Error('no control frames expected');
      },
      onData: (p) => {
        pieces.push({ bytes: p.bytes, start: p.start, length: p.end - p.start, first: p.first, last: p.last });
        // The payload's bytes at multiples of 4096 (the piece starts at frame byte p.start, payload byte p.start - 8).
        for (let k = p.start; k < p.end; k++) if ((k - 8) % 4096 === 0) sum += p.bytes[k]!;
      },
      onProblem: (p) => {
        throw new Error(p.message);
      },
    });
    const chunk = 65536;
    for (let at = 0, n = 1; at < frame.length; at += chunk, n++) {
      d.push(frame, at, Math.min(at + chunk, frame.length), origin(at, Math.min(chunk, frame.length - at), n));
    }
    d.end();
    expect(pieces).toHaveLength(Math.ceil(frame.length / chunk));
    expect(pieces.every((p) => p.bytes === frame)).toBe(true);
    expect(pieces[0]).toMatchObject({ start: 8, length: chunk - 8, first: true, last: false });
    expect(pieces.at(-1)).toMatchObject({ last: true, first: false });
    expect(pieces.reduce((n, p) => n + p.length, 0)).toBe(0xffffff);
    let expected = 0;
    for (let k = 0; k < payload.length; k += 4096) expected += k & 0xff;
    expect(sum).toBe(expected);
  });

  test('end() inside a frame reports what was cut off', () => {
    const ping = e.ping(1);
    const { d, rec } = decoder();
    d.push(...whole(ping.subarray(0, 5)), origin(0, 5, 1));
    d.end();
    expect(rec.problems.map((p) => p.message)).toEqual(['stream ends inside a frame header (5 of 8 bytes)']);
    const data = e.data(3, text('abcdef'));
    const r2 = decoder();
    r2.d.push(...whole(data.subarray(0, 10)), origin(0, 10, 1));
    r2.d.end();
    expect(r2.rec.problems.map((p) => p.message)).toEqual(['stream ends inside a DATA (stream 3) frame: 4 of its 6 payload bytes missing']);
  });

  test('the stream may start at any offset (SPDY begins after the HTTP 101)', () => {
    const { d, rec } = decoder();
    d.push(wire, 0, wire.length, origin(1234, wire.length, 9));
    d.end();
    expect(rec.problems).toEqual([]);
    expect(rec.controls[0]!.origin.offset).toBe(1234);
  });

  test('retransmitted bytes (offset before the expected one) are not decoded twice', () => {
    const { d, rec } = decoder();
    d.push(...whole(wire.subarray(0, 30)), origin(0, 30, 1));
    d.push(...whole(wire.subarray(20, 60)), origin(20, 40, 2));
    d.push(...whole(wire.subarray(40)), origin(40, wire.length - 40, 3));
    d.end();
    expect(rec.problems).toEqual([]);
    expect(rec.events).toEqual(decodeSplit(wire, []).events);
  });
});

describe('SpdyFrameDecoder: capture gaps', () => {
  const e = new SpdyFrameEncoder();
  const head = e.synStream(1, { streamtype: 'stdout' });
  const big = e.data(1, text('0123456789'.repeat(10)));
  const tailFrames = [e.ping(1), e.data(1, text('after')), e.ping(3)];
  const stream = concat([head, big, ...tailFrames]);
  const bigAt = head.length;

  test('gap inside a DATA payload: skipped in place, lost bytes reported, later frames decode', () => {
    const { d, rec } = decoder();
    const lostAt = bigAt + 8 + 20;
    d.push(...whole(stream.subarray(0, lostAt)), origin(0, lostAt, 1));
    d.gap(lostAt, 30);
    d.push(...whole(stream.subarray(lostAt + 30)), origin(lostAt + 30, stream.length - lostAt - 30, 2));
    d.end();
    expect(rec.events.slice(1)).toEqual([
      `lost 30 bytes of stream 1 at ${lostAt}`,
      JSON.stringify({
        type: 'DATA', streamId: 1, flags: 0, fin: false,
        data: '0123456789'.repeat(10).slice(0, 20) + '0123456789'.repeat(10).slice(50),
        origin: { offset: bigAt, length: 108 },
      }),
      ...decodeSplit(concat(tailFrames), []).events.map((ev) => ev.replace(/"offset":(\d+)/g, (_, n) => `"offset":${Number(n) + bigAt + 108}`)),
    ]);
    expect(rec.problems).toMatchObject([{ where: `spdy offset ${lostAt}`, message: `capture gap: 30 bytes of DATA for stream 1 lost (frame at offset ${bigAt})` }]);
  });

  test('gap ending exactly at the end of a DATA frame closes it with an empty last piece', () => {
    const { d, rec } = decoder();
    const lostAt = bigAt + 8 + 90;
    d.push(...whole(stream.subarray(0, lostAt)), origin(0, lostAt, 1));
    d.gap(lostAt, 10);
    d.push(...whole(stream.subarray(lostAt + 10)), origin(lostAt + 10, stream.length - lostAt - 10, 2));
    d.end();
    const last = rec.pieces.filter((p) => p.frameLength === 100).at(-1)!;
    expect([last.last, last.origin.offset, last.origin.length]).toEqual([true, lostAt + 10, 0]);
    expect(rec.controls.map((f) => f.type)).toEqual(['SYN_STREAM', 'PING', 'PING']);
    expect(rec.problems).toHaveLength(1);
  });

  test('gap across a frame header: resync finds the next frame and reports the skipped bytes', () => {
    const { d, rec } = decoder();
    const lostAt = bigAt + 4; // inside the DATA frame header
    d.push(...whole(stream.subarray(0, lostAt)), origin(0, lostAt, 1));
    d.gap(lostAt, 10);
    d.push(...whole(stream.subarray(lostAt + 10)), origin(lostAt + 10, stream.length - lostAt - 10, 2));
    d.end();
    const pingAt = bigAt + big.length;
    expect(rec.controls.map((f) => [f.type, f.origin.offset])).toEqual([
      ['SYN_STREAM', 0],
      ['PING', pingAt],
      ['PING', pingAt + 12 + 13],
    ]);
    expect(rec.events.filter((ev) => ev.includes('"DATA"')).map((ev) => JSON.parse(ev).data)).toEqual(['after']);
    expect(rec.problems).toMatchObject([
      {
        where: `spdy offset ${bigAt}`,
        message: `resynchronised at offset ${pingAt}: 10 bytes lost in the capture, ${big.length - 10} bytes skipped looking for a frame header`,
      },
    ]);
  });

  test('resync also finds a DATA frame of a stream seen before, across 1-byte pushes', () => {
    const s = concat([head, e.data(1, text('xxxxxxxx')), e.data(1, text('found'))]);
    const { d, rec } = decoder();
    d.push(...whole(s.subarray(0, head.length)), origin(0, head.length, 1));
    d.gap(head.length, 3);
    for (let k = head.length + 3; k < s.length; k++) d.push(...whole(s.subarray(k, k + 1)), origin(k, 1, k));
    d.end();
    expect(rec.events.filter((ev) => ev.includes('"DATA"')).map((ev) => JSON.parse(ev).data)).toEqual(['found']);
    expect(rec.problems.map((p) => p.message)).toEqual([
      `resynchronised at offset ${head.length + 16}: 3 bytes lost in the capture, 13 bytes skipped looking for a frame header`,
    ]);
  });

  test('after a resync, later header blocks are null with one problem (the lost bytes may have held one)', () => {
    const c = new SpdyFrameEncoder();
    const frames = [c.synStream(1, { streamtype: 'error' }), c.ping(1), c.synStream(3, { streamtype: 'stdout' }), c.synStream(5, { streamtype: 'stderr' })];
    const s = concat(frames);
    const { d, rec } = decoder();
    const lostAt = frames[0]!.length + 2;
    d.push(...whole(s.subarray(0, lostAt)), origin(0, lostAt, 1));
    d.gap(lostAt, 10);
    d.push(...whole(s.subarray(lostAt + 10)), origin(lostAt + 10, s.length - lostAt - 10, 2));
    d.end();
    expect(rec.controls.map((f) => (f.type === 'SYN_STREAM' ? [f.streamId, f.headers && { ...f.headers }] : f.type))).toEqual([
      [1, { streamtype: ['error'] }],
      [3, null],
      [5, null],
    ]);
    expect(rec.problems.map((p) => p.message)).toEqual([
      `resynchronised at offset ${frames[0]!.length + 12}: 10 bytes lost in the capture, 2 bytes skipped looking for a frame header`,
      `SYN_STREAM: header block not decoded: framing was lost at offset ${frames[0]!.length} and the lost bytes may have held a header block; headers of this direction are unavailable from here on`,
    ]);
  });

  test('gap inside a control frame: frame dropped, framing kept', () => {
    const s = concat([e.ping(1), e.ping(3), e.ping(5)]);
    const { d, rec } = decoder();
    d.push(...whole(s.subarray(0, 12 + 9)), origin(0, 21, 1));
    d.gap(21, 2);
    d.push(...whole(s.subarray(23)), origin(23, s.length - 23, 2));
    d.end();
    expect(rec.controls.map((f) => f.type === 'PING' && f.id)).toEqual([1, 5]);
    expect(rec.problems.map((p) => p.message)).toEqual(['capture gap: 2 bytes of the PING frame at offset 12 lost; frame dropped']);
  });

  test('a push beyond the expected offset is an implicit gap', () => {
    const { d, rec } = decoder();
    const lostAt = bigAt + 8 + 20;
    d.push(...whole(stream.subarray(0, lostAt)), origin(0, lostAt, 1));
    d.push(...whole(stream.subarray(lostAt + 30)), origin(lostAt + 30, stream.length - lostAt - 30, 2));
    d.end();
    expect(rec.events).toContain(`lost 30 bytes of stream 1 at ${lostAt}`);
    expect(rec.controls.map((f) => f.type)).toEqual(['SYN_STREAM', 'PING', 'PING']);
  });

  test('end() while resynchronising says how much was skipped', () => {
    const { d, rec } = decoder();
    d.push(...whole(stream.subarray(0, bigAt + 2)), origin(0, bigAt + 2, 1));
    d.gap(bigAt + 2, 5);
    d.push(...whole(new Uint8Array(20).fill(0xee)), origin(bigAt + 7, 20, 2));
    d.end();
    expect(rec.problems.map((p) => p.message)).toEqual([
      'stream ends while looking for a frame header: 5 bytes lost in the capture, 22 bytes skipped looking for a frame header',
    ]);
  });
});
