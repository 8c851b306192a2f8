/**
 * A stream's kept head: the first headBytes of its payload, whatever pieces they came in. An
 * interactive session sends a byte a frame; the head once kept an array a piece, which made the
 * bench's typing capture (2000 sessions, 1.6 million keystrokes) hold ~700 MB for its text report.
 */
import fc from 'fast-check';
import type { FrameOrigin } from '../../src/core/origin.js';
import { StreamRecorder } from '../../src/k8s/stream-recorder.js';

const origin = (i: number): FrameOrigin => ({ offset: i, length: 1, packet: i + 1, ts: i, lastPacket: i + 1, lastTs: i });
const recorder = (headBytes: number) => new StreamRecorder('stdout', 1, { hasher: null, keepEvents: false, maxEventsPerStream: 0, headBytes });
const joined = (head: readonly Uint8Array[]) => Buffer.concat(head.map((h) => Buffer.from(h)));

test('a byte a frame is kept in a few chunks, not an array a byte', () => {
  const r = recorder(4096);
  for (let i = 0; i < 1000; i++) r.data('s2c', Uint8Array.of(i & 0xff), 0, 1, origin(i), true, true);
  expect(r.record.headBytes).toBe(1000);
  expect(r.record.bytes).toBe(1000);
  // Each chunk twice the one before, from 64 bytes: 64 + 128 + 256 + 512 + 1024 holds 1000.
  expect(r.record.head.length).toBeLessThanOrEqual(5);
  expect([...joined(r.record.head)]).toEqual(Array.from({ length: 1000 }, (_, i) => i & 0xff));
});

test('the head holds exactly the first headBytes of any pieces, and entries handed out never change', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 60 }), fc.integer({ min: 0, max: 2000 }), (pieces, headBytes) => {
      const r = recorder(headBytes);
      const seen: Buffer[] = [];
      pieces.forEach((p, i) => {
        r.data('s2c', p, 0, p.length, origin(i), true, true);
        // What earlier entries held is still what they hold (only the last entry may grow).
        r.record.head.slice(0, seen.length - 1).forEach((h, j) => expect(Buffer.from(h)).toEqual(seen[j]));
        seen.splice(0, seen.length, ...r.record.head.map((h) => Buffer.from(h)));
      });
      const all = Buffer.concat(pieces.map((p) => Buffer.from(p)));
      expect(joined(r.record.head)).toEqual(all.subarray(0, headBytes));
      expect(r.record.headBytes).toBe(Math.min(headBytes, all.length));
      // Never more allocated than the head may hold.
      const allocated = new Set(r.record.head.map((h) => h.buffer));
      expect([...allocated].reduce((n, b) => n + b.byteLength, 0)).toBeLessThanOrEqual(headBytes);
    }),
  );
});
