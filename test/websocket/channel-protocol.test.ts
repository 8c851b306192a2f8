import type { Direction } from '../../src/core/origin.js';
import { K8sChannelDecoder } from '../../src/websocket/channel-protocol.js';
import { k8sChannelProtocol } from '../../src/websocket/channel-subprotocols.js';
import { Opcode } from '../../src/websocket/frame-header.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { ChannelRecorder, bytes, origin } from './recorders.js';
import fc from 'fast-check';
import { fcParams } from '../kit/transcript.js';
import { randomFromSeed } from '../kit/random.js';
import { whole } from '../helpers/byte-range.js';

const keys = randomFromSeed(0x12345678);
const client = new WebSocketFrameEncoder({ client: true, maskKeys: () => Math.floor(keys() * 2 ** 32) });
const server = new WebSocketFrameEncoder({ client: false });

type Item = [Direction, Uint8Array, number?];

/**
 * Feeds a conversation in order. `split(dir, offset, length)` returns cut points inside an item
 * (stream offsets) so items can be delivered in several pushes. Packet numbers count pushes.
 */
function feed(dec: K8sChannelDecoder, items: Item[], split: (dir: Direction, offset: number, length: number) => number[] = () => []) {
  const offsets: Record<Direction, number> = { c2s: 0, s2c: 0 };
  let packet = 0;
  for (const [dir, data, ts] of items) {
    const base = offsets[dir];
    const cuts = split(dir, base, data.length).filter((c) => c > base && c < base + data.length);
    const points = [base, ...cuts, base + data.length];
    for (let k = 0; k + 1 < points.length; k++) {
      packet++;
      dec.push(dir, ...whole(data.subarray(points[k] - base, points[k + 1] - base)), origin(points[k], points[k + 1] - points[k], packet, ts ?? packet * 1000));
    }
    offsets[dir] += data.length;
  }
}

function decode(subprotocol: string, items: Item[], opts: { portForward?: boolean; extensions?: string } = {}, split?: Parameters<typeof feed>[2]) {
  const rec = new ChannelRecorder();
  const dec = new K8sChannelDecoder(subprotocol, rec.sink, opts);
  feed(dec, items, split);
  dec.end();
  return rec;
}

const resize = bytes('{"Width":80,"Height":24}\n');
const status = bytes('{"metadata":{},"status":"Success"}');

/** A v4/v5-style exec conversation; `closeSignal` adds the v5 stdin half-close. */
function binaryConversation(closeSignal: boolean): Item[] {
  return [
    ['s2c', server.channelMessage(1, new Uint8Array(0))],
    ['c2s', client.channelMessage(4, resize)],
    ['c2s', client.channelMessage(0, bytes('echo hi\n'))],
    ['c2s', client.ping(), 5000],
    ['s2c', server.pong(), 5020],
    ['s2c', server.channelMessage(1, bytes('hi\nand a longer line of output\n'), { fragmentSize: 9 })],
    ['s2c', server.channelMessage(2, bytes('warning'))],
    ...(closeSignal ? ([['c2s', client.closeChannel(0)]] as Item[]) : []),
    ['s2c', server.channelMessage(3, status)],
    ['s2c', server.close(1000)],
  ];
}

const expectedMessages = [
  's2c ch1 ""',
  'c2s ch4 "{\\"Width\\":80,\\"Height\\":24}\\n"',
  'c2s ch0 "echo hi\\n"',
  's2c ch1 "hi\\nand a longer line of output\\n"',
  's2c ch2 "warning"',
  's2c ch3 "{\\"metadata\\":{},\\"status\\":\\"Success\\"}"',
];

describe('K8sChannelDecoder: subprotocols', () => {
  it('maps subprotocol names', () => {
    expect(k8sChannelProtocol('v5.channel.k8s.io')).toEqual({ codec: 'binary', closeSignal: true, portForward: false, known: true });
    expect(k8sChannelProtocol('')).toEqual({ codec: 'binary', closeSignal: false, portForward: false, known: true });
    expect(k8sChannelProtocol('v4.base64.channel.k8s.io', true)).toEqual({ codec: 'base64', closeSignal: false, portForward: true, known: true });
    expect(k8sChannelProtocol('SPDY/3.1+portforward.k8s.io').codec).toBe('tunnel');
    expect(k8sChannelProtocol('v9.channel.k8s.io').known).toBe(false);
  });

  it('v5.channel.k8s.io: channels, connection established, CLOSE signal, controls with rtt', () => {
    const rec = decode('v5.channel.k8s.io', binaryConversation(true));
    expect(rec.problems).toEqual([]);
    expect(rec.messages()).toEqual(expectedMessages);
    expect(rec.data[0]).toMatchObject({ dir: 's2c', channel: 1, data: '', messageFirst: true, messageLast: true });
    expect(rec.closes.map((c) => [c.dir, c.channel])).toEqual([['c2s', 0]]);
    expect(rec.closes[0].origin.length).toBe(2 + 4 + 2);
    expect(rec.controls.map((c) => [c.dir, c.kind, c.rttNs, c.code])).toEqual([
      ['c2s', 'ping', undefined, undefined],
      ['s2c', 'pong', 20, undefined],
      ['s2c', 'close', undefined, 1000],
    ]);
    // Fragmented stdout message: 4 frames of ≤9 bytes, pieces bracketed.
    const stdout = rec.data.filter((d) => d.channel === 1 && d.data.length > 0);
    expect(stdout.map((d) => [d.messageFirst, d.messageLast])).toEqual([
      [true, false],
      [false, false],
      [false, false],
      [false, true],
    ]);
    expect(stdout[3].message.length).toBe(32 + 4 * 2);
    expect(rec.frames.filter((f) => f.dir === 's2c' && f.opcode === Opcode.Continuation)).toHaveLength(3);
  });

  it.each(['v4.channel.k8s.io', 'channel.k8s.io', ''])('%j: binary channels without a CLOSE signal', (sub) => {
    const rec = decode(sub, binaryConversation(false));
    expect(rec.problems).toEqual([]);
    expect(rec.messages()).toEqual(expectedMessages);
    expect(rec.closes).toEqual([]);
  });

  it('v4: a [255, 0] message is an unknown channel, not a CLOSE signal', () => {
    const rec = decode('v4.channel.k8s.io', [['c2s', client.closeChannel(0)]]);
    expect(rec.closes).toEqual([]);
    expect(rec.messages()).toEqual(['c2s ch255 "\\u0000"']);
    expect(rec.problems.map((p) => p.message)).toEqual(['unknown channel 255 (reported once)']);
  });

  it.each(['base64.channel.k8s.io', 'v4.base64.channel.k8s.io'])('%s: base64 text messages', (sub) => {
    const items: Item[] = [
      ['s2c', server.base64ChannelMessage(1, new Uint8Array(0))],
      ['c2s', client.base64ChannelMessage(4, resize)],
      ['c2s', client.base64ChannelMessage(0, bytes('echo hi\n'))],
      ['s2c', server.base64ChannelMessage(1, bytes('hi\nand a longer line of output\n'), { fragmentSize: 5 })],
      ['s2c', server.base64ChannelMessage(2, bytes('warning'))],
      ['s2c', server.base64ChannelMessage(3, status)],
    ];
    const rec = decode(sub, items);
    expect(rec.problems).toEqual([]);
    expect(rec.messages()).toEqual(expectedMessages);
    expect(rec.frames.every((f) => f.opcode === Opcode.Text || f.opcode === Opcode.Continuation)).toBe(true);
  });

  it('base64: a message split at every pair of offsets decodes the same', () => {
    const payload = new Uint8Array(Buffer.from('\x00\x01binary\xff\xfe payload!', 'latin1'));
    const frame = server.base64ChannelMessage(2, payload);
    for (let i = 1; i < frame.length; i++) {
      for (let j = i; j < frame.length; j++) {
        const rec = decode('v4.base64.channel.k8s.io', [['s2c', frame]], {}, () => [i, j]);
        expect(rec.problems).toEqual([]);
        expect(rec.streams()).toEqual({ 's2c 2': '\x00\x01binary\xff\xfe payload!' });
        expect(rec.data.at(-1)!.messageLast).toBe(true);
      }
    }
  });

  it('base64: invalid input is a Problem and only that message is dropped', () => {
    const bad = server.frame(Opcode.Text, bytes('1aGk*', 'aGVsbG8='));
    const unpadded = server.frame(Opcode.Text, bytes('2aGk'));
    const rec = decode('base64.channel.k8s.io', [['s2c', bad], ['s2c', unpadded], ['s2c', server.base64ChannelMessage(1, bytes('ok'))]]);
    expect(rec.problems.map((p) => p.message)).toEqual([
      'invalid base64 character; rest of message ignored',
      'base64 message not padded',
    ]);
    expect(rec.messages()).toEqual(['s2c ch1 ""', 's2c ch2 "hi"', 's2c ch1 "ok"']);
  });

  it('v5: malformed CLOSE signals are Problems', () => {
    const rec = decode('v5.channel.k8s.io', [
      ['c2s', client.channelMessage(255, new Uint8Array(0))],
      ['c2s', client.channelMessage(255, bytes([0, 1]))],
      ['c2s', client.channelMessage(255, bytes([2]), { fragmentSize: 1 })],
    ]);
    expect(rec.problems.map((p) => p.message)).toEqual([
      'v5 CLOSE signal must be exactly 2 bytes [255, channel], got 1',
      'v5 CLOSE signal must be exactly 2 bytes [255, channel], got 3',
    ]);
    expect(rec.closes.map((c) => c.channel)).toEqual([2]);
  });

  it('an empty binary message has no channel byte', () => {
    const rec = decode('v5.channel.k8s.io', [['s2c', server.frame(Opcode.Binary, new Uint8Array(0))]]);
    expect(rec.problems.map((p) => p.message)).toEqual(['empty message without a channel byte']);
    expect(rec.data).toEqual([]);
  });

  it('a text message in a binary protocol and an unknown subprotocol are reported', () => {
    const rec = decode('v9.channel.k8s.io', [
      ['s2c', server.frame(Opcode.Text, bytes('\x01abc'))],
      ['s2c', server.frame(Opcode.Text, bytes('\x01def'))],
    ]);
    expect(rec.problems.map((p) => p.message)).toEqual([
      'unknown WebSocket subprotocol "v9.channel.k8s.io"; decoding as channel.k8s.io',
      'text message in a binary channel protocol (reported once)',
    ]);
    expect(rec.streams()).toEqual({ 's2c 1': 'abcdef' });
  });

  it('permessage-deflate negotiated through Sec-WebSocket-Extensions', () => {
    const deflating = new WebSocketFrameEncoder({ client: false, deflate: { noContextTakeover: false } });
    const deflatingClient = new WebSocketFrameEncoder({ client: true, deflate: { noContextTakeover: true } });
    const rec = decode(
      'v5.channel.k8s.io',
      [
        ['s2c', deflating.channelMessage(1, bytes('compressed stdout '.repeat(20)))],
        ['c2s', deflatingClient.channelMessage(0, bytes('compressed stdin'))],
        ['s2c', deflating.channelMessage(1, bytes('compressed stdout '.repeat(20)))],
      ],
      { extensions: 'permessage-deflate; client_no_context_takeover' },
    );
    expect(rec.problems).toEqual([]);
    expect(rec.streams()).toEqual({ 's2c 1': 'compressed stdout '.repeat(40), 'c2s 0': 'compressed stdin' });
  });
});

describe('K8sChannelDecoder: port-forward', () => {
  const port = (p: number) => bytes([p & 0xff, p >> 8]);

  it.each([
    ['v4.channel.k8s.io', true],
    ['portforward.k8s.io', false],
  ] as const)('%s (portForward option %s): ports announced per channel pair', (sub, portForward) => {
    const rec = decode(
      sub,
      [
        ['c2s', client.channelMessage(0, bytes('early'))],
        ['s2c', server.channelMessage(0, port(8080))],
        ['s2c', server.channelMessage(1, port(8080))],
        ['s2c', server.channelMessage(2, bytes(port(9090), 'with data'))],
        ['s2c', server.channelMessage(3, port(9090))],
        ['c2s', client.channelMessage(0, bytes('GET / HTTP/1.1\r\n\r\n'))],
        ['s2c', server.channelMessage(0, bytes('HTTP/1.1 200 OK\r\n'))],
        ['s2c', server.channelMessage(3, bytes('error forwarding port 9090'))],
      ],
      { portForward },
    );
    expect(rec.problems).toEqual([]);
    expect(rec.messages()).toEqual([
      'c2s ch0 "early"',
      's2c ch0 port 8080 ""',
      's2c ch1 port 8080 ""',
      's2c ch2 port 9090 "with data"',
      's2c ch3 port 9090 ""',
      'c2s ch0 port 8080 "GET / HTTP/1.1\\r\\n\\r\\n"',
      's2c ch0 port 8080 "HTTP/1.1 200 OK\\r\\n"',
      's2c ch3 port 9090 "error forwarding port 9090"',
    ]);
    // The announcement with data: a zero-length event with the port, then the data.
    expect(rec.data.filter((d) => d.channel === 2).map((d) => [d.data, d.messageFirst, d.messageLast])).toEqual([
      ['', true, false],
      ['with data', false, true],
    ]);
  });

  it('base64 port-forward and a truncated port prefix', () => {
    const rec = decode(
      'v4.base64.channel.k8s.io',
      [
        ['s2c', server.base64ChannelMessage(0, port(5432))],
        ['s2c', server.base64ChannelMessage(1, bytes([0x38]))],
        ['s2c', server.base64ChannelMessage(0, bytes('data'))],
      ],
      { portForward: true },
    );
    expect(rec.messages()).toEqual(['s2c ch0 port 5432 ""', 's2c ch0 port 5432 "data"']);
    expect(rec.problems.map((p) => p.message)).toEqual(['port-forward port prefix truncated (1 of 2 bytes)']);
  });

  it('SPDY/3.1+portforward.k8s.io exposes the tunnelled byte stream', () => {
    const spdy = bytes([0x80, 0x03, 0x00, 0x01], 'syn stream bytes...', [0, 0, 0, 1], 'data frame');
    const rec = new ChannelRecorder();
    const dec = new K8sChannelDecoder('SPDY/3.1+portforward.k8s.io', rec.sink);
    const first = client.message(Opcode.Binary, spdy.subarray(0, 10));
    const second = client.message(Opcode.Binary, spdy.subarray(10), { fragmentSize: 8 });
    dec.push('c2s', first, 0, first.length, origin(0, first.length, 1));
    dec.push('c2s', ...whole(second.subarray(0, 20)), origin(first.length, 20, 2));
    dec.gap('c2s', first.length + 20, 3);
    dec.push('c2s', ...whole(second.subarray(23)), origin(first.length + 23, second.length - 23, 3));
    dec.push('s2c', ...whole(server.message(Opcode.Binary, bytes('reply'))), origin(0, 7, 4));
    expect(rec.problems.map((p) => p.message)).toEqual(['3 bytes of continuation frame payload lost; framing kept']);
    const c2s = rec.tunnel.filter((t) => t.dir === 'c2s');
    let expectedOffset = 0;
    for (const t of c2s) {
      expect(t.tunnelOffset).toBe(expectedOffset);
      expectedOffset += t.data.length + (rec.tunnelGaps.find((g) => g.tunnelOffset === expectedOffset + t.data.length)?.length ?? 0);
    }
    const gapAt = rec.tunnelGaps[0].tunnelOffset;
    const joined = c2s.map((t) => t.data).join('');
    const plain = Buffer.from(spdy).toString('latin1');
    expect(rec.tunnelGaps).toEqual([{ dir: 'c2s', tunnelOffset: gapAt, length: 3 }]);
    expect(joined).toBe(plain.slice(0, gapAt) + plain.slice(gapAt + 3));
    expect(rec.tunnel.filter((t) => t.dir === 's2c')).toEqual([{ dir: 's2c', data: 'reply', origin: origin(2, 5, 4), tunnelOffset: 0 }]);
  });
});

describe('K8sChannelDecoder: splitting and loss', () => {
  it('the whole conversation decodes the same split at every byte of either direction', () => {
    const items = binaryConversation(true);
    const reference = decode('v5.channel.k8s.io', items);
    const total = { c2s: 0, s2c: 0 };
    for (const [dir, data] of items) total[dir] += data.length;
    for (const cutDir of ['c2s', 's2c'] as const) {
      for (let cut = 1; cut < total[cutDir]; cut++) {
        const rec = decode('v5.channel.k8s.io', items, {}, (dir) => (dir === cutDir ? [cut] : []));
        expect(rec.problems).toEqual([]);
        expect(rec.log).toEqual(reference.log);
        expect(rec.messages()).toEqual(reference.messages());
      }
    }
    const byByte = decode('v5.channel.k8s.io', items, {}, (_dir, offset, length) => Array.from({ length }, (_, i) => offset + i));
    expect(byByte.problems).toEqual([]);
    expect(byByte.messages()).toEqual(expectedMessages);
    expect(byByte.closes.map((c) => c.channel)).toEqual([0]);
    // One byte per packet: the stdin message's origin names its first and last packet.
    const stdin = byByte.data.find((d) => d.dir === 'c2s' && d.channel === 0 && d.messageLast)!;
    expect(stdin.message.lastPacket - stdin.message.packet).toBe(stdin.message.length - 1);
  });

  it('a gap inside a masked stdin message keeps sync: channel gap reported, later bytes right', () => {
    const stdin = bytes('0123456789abcdefghij');
    const msg = client.channelMessage(0, stdin); // header 2 + mask 4, then channel byte
    const next = client.channelMessage(0, bytes('next'));
    const rec = new ChannelRecorder();
    const dec = new K8sChannelDecoder('v5.channel.k8s.io', rec.sink);
    dec.push('c2s', ...whole(msg.subarray(0, 12)), origin(0, 12));
    dec.gap('c2s', 12, 5);
    dec.push('c2s', ...whole(bytes(msg.subarray(17), next)), origin(17, msg.length - 17 + next.length));
    expect(rec.streams()).toEqual({ 'c2s 0': '01234' + 'abcdefghij' + 'next' });
    expect(rec.gaps).toEqual([{ dir: 'c2s', channel: 0, offset: 12, length: 5, port: undefined }]);
    expect(rec.messages()).toEqual(['c2s ch0 "01234abcdefghij"', 'c2s ch0 "next"']);
  });

  it('a gap inside a base64 message realigns on the next group', () => {
    const msg = server.base64ChannelMessage(1, bytes('abcdefghijkl')); // '1' + 16 chars
    const rec = new ChannelRecorder();
    const dec = new K8sChannelDecoder('base64.channel.k8s.io', rec.sink);
    dec.push('s2c', ...whole(msg.subarray(0, 2 + 1 + 5)), origin(0, 8));
    dec.gap('s2c', 8, 2);
    dec.push('s2c', ...whole(msg.subarray(10)), origin(10, msg.length - 10));
    expect(rec.streams()).toEqual({ 's2c 1': 'abcghijkl' });
    expect(rec.gaps.map((g) => [g.channel, g.length])).toEqual([[1, 3]]);
  });

  it('a gap that swallows a header resynchronises on the next plausible channel message', () => {
    const items: Item[] = [
      ['s2c', server.channelMessage(1, bytes('first'))],
      ['s2c', server.channelMessage(1, bytes('\x82\x05 looks like a header'))],
      ['s2c', server.channelMessage(2, bytes('third'))],
      ['s2c', server.channelMessage(3, status)],
    ];
    const stream = bytes(...items.map((i) => i[1]));
    const secondStart = items[0][1].length;
    const rec = new ChannelRecorder();
    const dec = new K8sChannelDecoder('v5.channel.k8s.io', rec.sink);
    dec.push('s2c', ...whole(stream.subarray(0, secondStart)), origin(0, secondStart));
    dec.gap('s2c', secondStart, 1);
    dec.push('s2c', ...whole(stream.subarray(secondStart + 1)), origin(secondStart + 1, stream.length - secondStart - 1));
    expect(rec.messages()).toEqual(['s2c ch1 "first"', 's2c ch2 "third"', `s2c ch3 ${JSON.stringify(Buffer.from(status).toString())}`]);
    expect(rec.problems.map((p) => p.message)).toEqual([
      '1 bytes lost at a frame header; resynchronising',
      `resynchronised on a plausible frame header after skipping ${items[1][1].length - 1} bytes`,
    ]);
  });

  it('end() with a truncated frame reports it', () => {
    const msg = server.channelMessage(1, bytes('truncated output'));
    const rec = new ChannelRecorder();
    const dec = new K8sChannelDecoder('v5.channel.k8s.io', rec.sink);
    dec.push('s2c', ...whole(msg.subarray(0, 8)), origin(0, 8));
    dec.end();
    expect(rec.streams()).toEqual({ 's2c 1': 'trunc' });
    expect(rec.problems.map((p) => p.message)).toEqual(['stream ended 11 bytes before the end of a 17-byte binary frame']);
  });
});

describe('K8sChannelDecoder: hostile input', () => {
  it('never throws on mutated conversations, random splits and gaps', () => {
    const deflating = new WebSocketFrameEncoder({ client: false, deflate: { noContextTakeover: false } });
    const base: Item[] = [
      ...binaryConversation(true),
      ['s2c', deflating.channelMessage(1, bytes('zz'.repeat(300)))],
      ['s2c', server.base64ChannelMessage(1, bytes('b64'))],
    ];
    // Per frame: a few bytes overwritten, then pieces (a tenth of them lost as gaps).
    const frameDamage = fc.record({
      writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      pieces: fc.array(fc.tuple(fc.integer({ min: 1, max: 64 }), fc.nat({ max: 9 })), { minLength: 1, maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.constantFrom('v5.channel.k8s.io', 'v4.base64.channel.k8s.io', 'SPDY/3.1+portforward.k8s.io'), fc.boolean(), fc.array(frameDamage, { minLength: base.length, maxLength: base.length }), (sub, portForward, damage) => {
        const rec = new ChannelRecorder();
        const dec = new K8sChannelDecoder(sub, rec.sink, { extensions: 'permessage-deflate', portForward });
        const offsets = { c2s: 0, s2c: 0 };
        base.forEach(([dir, frame], k) => {
          const data = frame.slice();
          for (const [at, value] of damage[k].writes) data[at % data.length] = value;
          let at = 0;
          for (let p = 0; at < data.length; p++) {
            const [size, lossDraw] = damage[k].pieces[p % damage[k].pieces.length];
            const n = Math.min(size, data.length - at);
            if (lossDraw === 0) dec.gap(dir, offsets[dir] + at, n);
            else dec.push(dir, ...whole(data.subarray(at, at + n)), origin(offsets[dir] + at, n));
            at += n;
          }
          offsets[dir] += data.length;
        });
        dec.end();
        expect(rec.problems.every((p) => typeof p.message === 'string' && p.where.length > 0)).toBe(true);
      }),
      fcParams(300),
    );
  });
});
