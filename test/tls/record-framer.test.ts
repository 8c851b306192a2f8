import type { FrameOrigin } from '../../src/core/origin.js';
import { TlsRecordFramer } from '../../src/tls/record-framer.js';
import { record } from '../helpers/tls-synthetic.js';

function collect() {
  const records: { bytes: Buffer; origin: FrameOrigin; view: Uint8Array }[] = [];
  const errors: string[] = [];
  const framer = new TlsRecordFramer(
    (rec, origin) => records.push({ bytes: Buffer.from(rec), origin, view: rec }),
    (message, offset) => errors.push(`${offset}: ${message}`),
  );
  return { framer, records, errors };
}

const stream = Buffer.concat([record(22, Buffer.alloc(40, 1)), record(20, Buffer.from([1])), record(23, Buffer.alloc(0)), record(23, Buffer.alloc(300, 7))]);
const bounds = [0, 45, 51, 56, 361];

test('several records in one chunk are passed as views of it, with their stream origins', () => {
  const { framer, records, errors } = collect();
  framer.push(stream, { offset: 1000, length: stream.length, packet: 7, ts: 70 });
  expect(errors).toEqual([]);
  expect(records.map((r) => r.origin)).toEqual(
    bounds.slice(0, -1).map((start, i) => ({ offset: 1000 + start, length: bounds[i + 1] - start, packet: 7, ts: 70, lastPacket: 7, lastTs: 70 })),
  );
  expect(records.every((r) => r.view.buffer === stream.buffer)).toBe(true);
  expect(Buffer.concat(records.map((r) => r.bytes)).equals(stream)).toBe(true);
});

test('split at every byte boundary: the same records, first and last packets tracked', () => {
  for (let cut = 1; cut < stream.length; cut++) {
    const { framer, records, errors } = collect();
    framer.push(stream.subarray(0, cut), { offset: 0, length: cut, packet: 1, ts: 10 });
    framer.push(stream.subarray(cut), { offset: cut, length: stream.length - cut, packet: 2, ts: 20 });
    expect(errors).toEqual([]);
    expect(Buffer.concat(records.map((r) => r.bytes)).equals(stream)).toBe(true);
    records.forEach((r, i) => {
      expect(r.origin).toEqual({
        offset: bounds[i],
        length: bounds[i + 1] - bounds[i],
        packet: bounds[i] < cut ? 1 : 2,
        ts: bounds[i] < cut ? 10 : 20,
        lastPacket: bounds[i + 1] > cut ? 2 : 1,
        lastTs: bounds[i + 1] > cut ? 20 : 10,
      });
    });
    expect(framer.partial).toBeNull();
  }
});

test('one byte per push', () => {
  const { framer, records } = collect();
  for (let i = 0; i < stream.length; i++) framer.push(stream.subarray(i, i + 1), { offset: i, length: 1, packet: i + 1, ts: i });
  expect(records.map((r) => [r.origin.packet, r.origin.lastPacket])).toEqual(bounds.slice(0, -1).map((b, i) => [b + 1, bounds[i + 1]]));
});

test('an incomplete record is reported as partial', () => {
  const { framer } = collect();
  framer.push(stream.subarray(0, 3), { offset: 0, length: 3, packet: 1, ts: 0 });
  expect(framer.partial).toEqual({ have: 3, need: 5 });
  framer.push(stream.subarray(3, 10), { offset: 3, length: 7, packet: 2, ts: 0 });
  expect(framer.partial).toEqual({ have: 10, need: 45 });
});

test.each([
  [Buffer.from([25, 3, 3, 0, 1, 0]), 'content type 25 is not a TLS record type'],
  [Buffer.from([23, 2, 0, 0, 1, 0]), 'record version 2.0 is not TLS'],
  [Buffer.from([23, 3, 5, 0, 1, 0]), 'record version 3.5 is not TLS'],
  [Buffer.from([23, 3, 3, 0x48, 0x01]), 'record of 18433 bytes exceeds the 18432-byte limit'],
])('a bad header is reported once, before anything is buffered, and the framer stops: %s', (bad, message) => {
  for (const split of [bad.length, 2]) {
    const { framer, records, errors } = collect();
    const data = Buffer.concat([record(20, Buffer.from([1])), bad, record(23, Buffer.alloc(5))]);
    framer.push(data.subarray(0, 6 + split), { offset: 0, length: 6 + split, packet: 1, ts: 0 });
    framer.push(data.subarray(6 + split), { offset: 6 + split, length: data.length - 6 - split, packet: 2, ts: 0 });
    expect(records).toHaveLength(1);
    expect(errors).toEqual([`6: ${message}; TLS record framing lost, the rest of this direction is not decoded`]);
  }
});

test('the limit can be lowered (TLS 1.3)', () => {
  const { framer, errors } = collect();
  framer.maxLength = 2 ** 14 + 256;
  framer.push(Buffer.from([23, 3, 3, 0x41, 0x01]), { offset: 0, length: 5, packet: 1, ts: 0 });
  expect(errors).toEqual(['0: record of 16641 bytes exceeds the 16640-byte limit; TLS record framing lost, the rest of this direction is not decoded']);
});
