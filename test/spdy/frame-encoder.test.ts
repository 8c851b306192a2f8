import { SpdyFrameEncoder } from '../../src/spdy/frame-encoder.js';
import { SpdyHeaderInflater } from '../../src/spdy/header-block.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('SpdyFrameEncoder (layout of spdystream spdy/write.go)', () => {
  const e = new SpdyFrameEncoder();

  test('fixed-size control frames', () => {
    expect(hex(e.ping(1))).toBe('80030006' + '00000004' + '00000001');
    expect(hex(e.ping(0xfffffffe))).toBe('80030006' + '00000004' + 'fffffffe');
    expect(hex(e.rstStream(3, 5))).toBe('80030003' + '00000008' + '00000003' + '00000005');
    expect(hex(e.goAway(5))).toBe('80030007' + '00000008' + '00000005' + '00000000');
    expect(hex(e.goAway(0x7fffffff, 2))).toBe('80030007' + '00000008' + '7fffffff' + '00000002');
    expect(hex(e.windowUpdate(5, 1000))).toBe('80030009' + '00000008' + '00000005' + '000003e8');
    expect(hex(e.windowUpdate(0, 0xffffffff))).toBe('80030009' + '00000008' + '00000000' + '7fffffff');
  });

  test('SETTINGS: flags in the top byte of each id, CLEAR on the frame', () => {
    expect(hex(e.settings([{ id: 7, value: 65536, flags: 1 }, { id: 4, value: 100 }], { clear: true }))).toBe(
      '80030004' + '01000014' + '00000002' + '01000007' + '00010000' + '00000004' + '00000064',
    );
    expect(hex(e.settings([]))).toBe('80030004' + '00000004' + '00000000');
  });

  test('DATA: stream id, FIN flag, 24-bit length, payload', () => {
    expect(hex(e.data(3, new Uint8Array([0x68, 0x69]), { fin: true }))).toBe('00000003' + '01000002' + '6869');
    expect(hex(e.data(1, new Uint8Array(0), { fin: true }))).toBe('00000001' + '01000000');
    expect(hex(e.data(0x7fffffff, new Uint8Array(0)))).toBe('7fffffff' + '00000000');
    expect(() => e.data(1, new Uint8Array(0x1000000))).toThrow(RangeError);
  });

  test('SYN_STREAM: flags, ids, priority in the top 3 bits, slot, then the compressed block', () => {
    const c = new SpdyFrameEncoder();
    const f = c.synStream(3, { streamtype: 'stdin' }, { fin: true, unidirectional: true, priority: 7, associatedId: 1, slot: 2 });
    const block = f.subarray(18);
    expect(hex(f.subarray(0, 18))).toBe(
      '80030001' + '03' + (10 + block.length).toString(16).padStart(6, '0') + '00000003' + '00000001' + 'e0' + '02',
    );
    expect({ ...new SpdyHeaderInflater().inflate(block).headers }).toEqual({ streamtype: ['stdin'] });
  });

  test('SYN_REPLY and HEADERS share the encoder\'s zlib stream', () => {
    const c = new SpdyFrameEncoder();
    const reply = c.synReply(1, {});
    const headers = c.headers(1, { a: 'b' }, { fin: true });
    expect(hex(reply.subarray(0, 12))).toBe('80030002' + '00' + (4 + reply.length - 12).toString(16).padStart(6, '0') + '00000001');
    expect(hex(headers.subarray(0, 12))).toBe('80030008' + '01' + (4 + headers.length - 12).toString(16).padStart(6, '0') + '00000001');
    const inflater = new SpdyHeaderInflater();
    expect({ ...inflater.inflate(reply.subarray(12)).headers }).toEqual({});
    expect({ ...inflater.inflate(headers.subarray(12)).headers }).toEqual({ a: ['b'] });
  });
});
