import { deflateRaw } from 'pako';
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';
import type { Direction } from '../../src/core/origin.js';
import { WebSocketFrameDecoder } from '../../src/websocket/frame-decoder.js';
import { Opcode } from '../../src/websocket/frame-header.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { PingPongTracker, WebSocketMessageAssembler } from '../../src/websocket/message-assembler.js';
import { parsePerMessageDeflate } from '../../src/websocket/permessage-deflate.js';
import { MessageRecorder, bytes, latin1, origin, pushSplit } from './recorders.js';
import { whole } from '../helpers/byte-range.js';

const client = new WebSocketFrameEncoder({ client: true, maskKeys: () => 0x01020304 });
const server = new WebSocketFrameEncoder({ client: false });

function pipeline(
  dir: Direction,
  opts: { deflate?: { noContextTakeover: boolean }; maxInflatedMessageBytes?: number; pings?: PingPongTracker } = {},
  rec = new MessageRecorder(),
) {
  const asm = new WebSocketMessageAssembler(rec.sink, { dir, ...opts });
  const dec = new WebSocketFrameDecoder(asm, { expectMasked: dir === 'c2s', rsv1Allowed: !!opts.deflate });
  return { rec, dec };
}

describe('WebSocketMessageAssembler: fragmentation', () => {
  it('reassembles fragments with interleaved control frames, pieces bracketed by first/last', () => {
    const stream = bytes(
      client.frame(Opcode.Text, bytes('Hel'), { fin: false }),
      client.ping(bytes('p1')),
      client.frame(Opcode.Continuation, bytes('lo, '), { fin: false }),
      client.pong(bytes('unsolicited')),
      client.frame(Opcode.Continuation, bytes('world')),
      client.frame(Opcode.Binary, bytes([0, 1, 2])),
      client.frame(Opcode.Binary, new Uint8Array(0)),
      client.frame(Opcode.Binary, bytes('ab'), { fin: false }),
      client.frame(Opcode.Continuation, new Uint8Array(0)),
    );
    for (const cut of [0, 3, 9, 17, 30]) {
      const { rec, dec } = pipeline('c2s');
      pushSplit((d, o) => dec.push(d, 0, d.length, o), stream, [cut]);
      expect(rec.problems).toEqual([]);
      expect(rec.messages()).toEqual([
        { opcode: Opcode.Text, data: 'Hello, world' },
        { opcode: Opcode.Binary, data: '\x00\x01\x02' },
        { opcode: Opcode.Binary, data: '' },
        { opcode: Opcode.Binary, data: 'ab' },
      ]);
      expect(rec.controls.map((c) => [c.kind, latin1(c.payload)])).toEqual([
        ['ping', 'p1'],
        ['pong', 'unsolicited'],
      ]);
      expect(rec.frames.map((f) => [f.opcode, f.fin, f.masked, f.maskKey])).toEqual([
        [1, false, true, 0x01020304],
        [9, true, true, 0x01020304],
        [0, false, true, 0x01020304],
        [10, true, true, 0x01020304],
        [0, true, true, 0x01020304],
        [2, true, true, 0x01020304],
        [2, true, true, 0x01020304],
        [2, false, true, 0x01020304],
        [0, true, true, 0x01020304],
      ]);
    }
  });

  it('the last piece of a whole message carries last=true and the message origin spans all its frames', () => {
    const { rec, dec } = pipeline('s2c');
    const a = server.frame(Opcode.Binary, bytes('abc'), { fin: false });
    const b = server.frame(Opcode.Continuation, bytes('de'));
    dec.push(a, 0, a.length, origin(50, a.length, 3, 300));
    dec.push(b, 0, b.length, origin(50 + a.length, b.length, 4, 400));
    expect(rec.data.map((d) => [d.data, d.first, d.last])).toEqual([
      ['abc', true, false],
      ['de', false, true],
    ]);
    expect(rec.data[1].message).toEqual({ offset: 50, length: a.length + b.length, packet: 3, ts: 300, lastPacket: 4, lastTs: 400 });
    expect(rec.data[1].origin).toEqual({ offset: 50 + a.length + 2, length: 2, packet: 4, ts: 400 });
  });

  it('reports sequencing errors', () => {
    const { rec, dec } = pipeline('s2c');
    const stream = bytes(
      server.frame(Opcode.Continuation, bytes('orphan')),
      server.frame(Opcode.Text, bytes('part'), { fin: false }),
      server.frame(Opcode.Binary, bytes('new')),
    );
    dec.push(stream, 0, stream.length, origin(0, stream.length));
    expect(rec.problems.map((p) => p.message)).toEqual([
      'continuation frame without a fragmented message to continue; ignored',
      'binary frame while a fragmented message is unfinished; that message is abandoned',
    ]);
    // The abandoned message never gets a last piece.
    expect(rec.data.map((d) => [d.data, d.first, d.last])).toEqual([
      ['part', true, false],
      ['new', true, true],
    ]);
  });

  it('reports payload lost inside a message and keeps the message going', () => {
    const { rec, dec } = pipeline('s2c');
    const stream = server.frame(Opcode.Binary, bytes('0123456789'));
    dec.push(...whole(stream.slice(0, 5)), origin(0, 5));
    dec.gap(5, 4);
    dec.push(...whole(stream.slice(9)), origin(9, 3));
    expect(rec.lost).toEqual([{ dir: 's2c', opcode: 2, offset: 5, length: 4, compressed: false }]);
    expect(rec.messages()).toEqual([{ opcode: 2, data: '012789' }]);
  });

  it('a stream that ends inside a fragmented message is reported', () => {
    const { rec, dec } = pipeline('s2c');
    dec.push(...whole(server.frame(Opcode.Text, bytes('x'), { fin: false })), origin(0, 3));
    dec.end();
    expect(rec.problems.map((p) => p.message)).toEqual(['stream ended inside a fragmented message']);
  });
});

describe('WebSocketMessageAssembler: text messages', () => {
  it('reports a text message that is not valid UTF-8, once, wherever the frames split it', () => {
    const stream = bytes(
      server.frame(Opcode.Text, bytes('caf\u00e9 '), { fin: false }),
      server.frame(Opcode.Continuation, new Uint8Array([0xe2, 0x82])),
      server.frame(Opcode.Text, new Uint8Array([0x41, 0xc0, 0xaf, 0xff])),
      server.frame(Opcode.Binary, new Uint8Array([0xff])),
      server.frame(Opcode.Text, bytes('ok \u20ac')),
    );
    for (const cut of [0, 4, 8, 13, 15]) {
      const { rec, dec } = pipeline('s2c');
      pushSplit((d, o) => dec.push(d, 0, d.length, o), stream, [cut]);
      expect(rec.problems.map((p) => p.message)).toEqual([
        'text message ends inside a UTF-8 sequence (RFC 6455 §8.1)',
        'text message is not valid UTF-8: byte 1 of its payload (RFC 6455 §8.1)',
      ]);
      expect(rec.problems[0].where).toBe('s2c offset 0');
      // Passed up as they are all the same.
      expect(rec.messages().map((m) => m.opcode)).toEqual([1, 1, 2, 1]);
    }
  });

  it('checks the inflated text of a compressed message', () => {
    const enc = new WebSocketFrameEncoder({ client: false, deflate: { noContextTakeover: true } });
    const { rec, dec } = pipeline('s2c', { deflate: { noContextTakeover: true } });
    dec.push(...whole(bytes(enc.message(Opcode.Text, new Uint8Array([0x68, 0x69, 0xed, 0xa0, 0x80])), enc.message(Opcode.Text, bytes('fine')))), origin(0, 5));
    expect(rec.problems.map((p) => p.message)).toEqual(['text message is not valid UTF-8: byte 3 of its payload (RFC 6455 §8.1)']);
  });
});

describe('WebSocketMessageAssembler: control frames', () => {
  it('decodes close code and reason', () => {
    const { rec, dec } = pipeline('s2c');
    const stream = bytes(server.close(1000, 'done ✓'), server.frame(Opcode.Binary, bytes('late')));
    dec.push(stream, 0, stream.length, origin(0, stream.length, 9, 900));
    expect(rec.controls).toEqual([
      {
        dir: 's2c',
        kind: 'close',
        code: 1000,
        reason: 'done ✓',
        payload: bytes([0x03, 0xe8], 'done ✓'),
        payloadLength: 2 + 8,
        origin: { offset: 0, length: 12, packet: 9, ts: 900, lastPacket: 9, lastTs: 900 },
      },
    ]);
    expect(rec.problems.map((p) => p.message)).toEqual(["binary frame after this side's Close frame (reported once)"]);
  });

  it('empty close, 1-byte close, invalid code, invalid UTF-8 reason', () => {
    const { rec, dec } = pipeline('s2c');
    const stream = bytes(
      server.close(),
      server.frame(Opcode.Close, bytes([3])),
      server.close(1005),
      server.frame(Opcode.Close, bytes([0x0f, 0xa0, 0xff, 0x41])),
    );
    dec.push(stream, 0, stream.length, origin(0, stream.length));
    expect(rec.controls.map((c) => [c.code, c.reason])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
      [1005, ''],
      [4000, '\ufffdA'],
    ]);
    expect(rec.problems.map((p) => p.message)).toEqual([
      "close frame after this side's Close frame (reported once)",
      'Close payload of 1 byte (a status code needs 2)',
      'invalid Close status code 1005 (RFC 6455 §7.4)',
      'Close reason is not valid UTF-8',
    ]);
  });

  it('pairs pongs with pings from the other direction by payload and time', () => {
    const pings = new PingPongTracker();
    const c = pipeline('c2s', { pings });
    const s = pipeline('s2c', { pings });
    let cOff = 0;
    let sOff = 0;
    const send = (dir: Direction, frame: Uint8Array, ts: number) => {
      if (dir === 'c2s') {
        c.dec.push(frame, 0, frame.length, origin(cOff, frame.length, ts, ts));
        cOff += frame.length;
      } else {
        s.dec.push(frame, 0, frame.length, origin(sOff, frame.length, ts, ts));
        sOff += frame.length;
      }
    };
    send('c2s', client.ping(), 1000);
    send('c2s', client.ping(bytes('b')), 2000);
    send('s2c', server.pong(bytes('b')), 2500);
    send('s2c', server.pong(), 3000);
    send('s2c', server.pong(), 3100);
    expect(s.rec.controls.map((e) => [e.kind, e.rttNs, e.ping?.ts])).toEqual([
      ['pong', 500, 2000],
      ['pong', 2000, 1000],
      ['pong', undefined, undefined],
    ]);
  });
});

describe('WebSocketMessageAssembler: permessage-deflate', () => {
  const text = 'the quick brown fox jumps over the lazy dog; '.repeat(40);

  it.each([false, true])('inflates messages (noContextTakeover=%s), fragmented and split anywhere', (noContextTakeover) => {
    const enc = new WebSocketFrameEncoder({ client: false, deflate: { noContextTakeover } });
    const m1 = enc.message(Opcode.Text, bytes(text));
    const m2 = enc.message(Opcode.Text, bytes(text), { fragmentSize: 7 });
    const m3 = enc.message(Opcode.Binary, bytes('tail'));
    // With context takeover the second copy is a back-reference into the first message.
    if (noContextTakeover) expect(m2.length).toBeGreaterThan(m1.length);
    else expect(m2.length).toBeLessThan(m1.length / 2);
    const stream = bytes(m1, server.ping(), m2, m3);
    for (const cut of [1, 5, m1.length, m1.length + 3, m1.length + 9]) {
      const { rec, dec } = pipeline('s2c', { deflate: { noContextTakeover } });
      pushSplit((d, o) => dec.push(d, 0, d.length, o), stream, [cut]);
      expect(rec.problems).toEqual([]);
      expect(rec.messages()).toEqual([
        { opcode: 1, data: text },
        { opcode: 1, data: text },
        { opcode: 2, data: 'tail' },
      ]);
      expect(rec.data.every((d) => d.compressed)).toBe(true);
      expect(rec.frames[0].rsv1).toBe(true);
    }
  });

  it('an uncompressed message (RSV1 clear) passes through when deflate is negotiated', () => {
    const { rec, dec } = pipeline('s2c', { deflate: { noContextTakeover: false } });
    dec.push(...whole(server.frame(Opcode.Binary, bytes('raw'))), origin(0, 5));
    expect(rec.messages()).toEqual([{ opcode: 2, data: 'raw' }]);
    expect(rec.data[0].compressed).toBe(false);
  });

  it('caps a zlib bomb and loses the context (with takeover) or recovers (without)', () => {
    // Native zlib (a second implementation) makes the bomb: 64 MiB of zeros, sync-flushed, tail stripped.
    const flushed = deflateRawSync(new Uint8Array(64 * 1024 * 1024), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    expect(Array.from(flushed.subarray(-4))).toEqual([0, 0, 0xff, 0xff]);
    const compressedBomb = server.frame(Opcode.Binary, flushed.subarray(0, -4), { rsv1: true });
    expect(compressedBomb.length).toBeLessThan(128 * 1024);
    for (const noContextTakeover of [false, true]) {
      const after = new WebSocketFrameEncoder({ client: false, deflate: { noContextTakeover: true } }).message(Opcode.Binary, bytes('after'));
      let inflated = 0;
      // Counted, not recorded: only the small pieces are kept.
      const small = new MessageRecorder();
      const recorder = new MessageRecorder({
        handle: {
          onMessageData: (ev) => {
            inflated += ev.end - ev.start;
            if (ev.end - ev.start < 100) small.sink.onMessageData(ev);
          },
        },
      });
      const { dec } = pipeline('s2c', { deflate: { noContextTakeover }, maxInflatedMessageBytes: 256 * 1024 }, recorder);
      const rec = { get problems() { return recorder.problems; }, get data() { return small.data; }, messages: () => small.messages() };
      const stream = bytes(compressedBomb, after);
      dec.push(stream, 0, stream.length, origin(0, stream.length));
      expect(inflated).toBe(256 * 1024 + (noContextTakeover ? 5 : 0));
      const messages = rec.problems.map((p) => p.message);
      expect(messages[0]).toBe(`inflated message exceeds ${256 * 1024} bytes (zlib bomb?); rest of message not decoded`);
      if (noContextTakeover) {
        expect(messages).toHaveLength(1);
        expect(rec.data.slice(-2).map((d) => [d.data, d.first, d.last])).toEqual([
          ['after', true, false],
          ['', false, true],
        ]);
      } else {
        expect(messages[1]).toBe('compressed message not decoded: the compression context was lost earlier in this direction');
      }
    }
  });

  it('reports corrupt compressed data', () => {
    const { rec, dec } = pipeline('s2c', { deflate: { noContextTakeover: true } });
    const frame = server.frame(Opcode.Binary, bytes([0xff, 0xff, 0xff, 0xff]), { rsv1: true });
    dec.push(frame, 0, frame.length, origin(0, frame.length));
    expect(rec.problems[0].message).toMatch(/^inflate failed: invalid .*; rest of message not decoded$/);
  });

  it('a raw deflate stream ending with BFINAL decodes (tail ignored)', () => {
    const { rec, dec } = pipeline('s2c', { deflate: { noContextTakeover: false } });
    const frame = server.frame(Opcode.Text, deflateRaw(bytes('final block')), { rsv1: true });
    dec.push(frame, 0, frame.length, origin(0, frame.length));
    expect(rec.problems).toEqual([]);
    expect(rec.messages()).toEqual([{ opcode: 1, data: 'final block' }]);
  });

  it('parses Sec-WebSocket-Extensions', () => {
    expect(parsePerMessageDeflate(undefined)).toBeNull();
    expect(parsePerMessageDeflate('x-webkit-deflate-frame')).toBeNull();
    expect(parsePerMessageDeflate('foo, permessage-deflate; client_no_context_takeover; server_max_window_bits="10"')).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
    });
    expect(parsePerMessageDeflate('Permessage-Deflate;server_no_context_takeover;client_max_window_bits=9')).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      clientMaxWindowBits: 9,
    });
  });
});
