/**
 * An HTTP/2 connection's listing stays bounded however many streams, frames and GOAWAYs its peer
 * sends: the first TRAFFIC_ENTRIES_KEPT of each are kept, every frame counted, the rest said.
 */
import type { Direction, FrameOrigin } from '../../src/core/origin.js';
import { Http2FrameType } from '../../src/http2/frame.js';
import { TRAFFIC_ENTRIES_KEPT } from '../../src/model/connection-traffic.js';
import { Http2TrafficRecorder } from '../../src/pipeline/http2-traffic.js';
import { CAPTURE_TRAFFIC_ENTRIES_KEPT, TrafficListingBudget } from '../../src/pipeline/traffic-budget.js';
import { http2Lines } from '../../src/report/connection-traffic.js';
import { connection } from '../helpers/model-builders.js';

const at = (n: number): FrameOrigin => ({ offset: n * 9, length: 9, packet: n + 1, ts: n, lastPacket: n + 1, lastTs: n });

it('keeps the first 1000 streams, frames and GOAWAYs of a flood, and counts every frame', () => {
  const record = connection({ protocol: 'http2' });
  const t = new Http2TrafficRecorder(record, new TrafficListingBudget(CAPTURE_TRAFFIC_ENTRIES_KEPT, () => {}));
  const streams = TRAFFIC_ENTRIES_KEPT + 500;
  let n = 0;
  for (let i = 0; i < streams; i++) {
    const streamId = 2 * i + 1;
    t.frame({ dir: 'c2s', type: Http2FrameType.HEADERS, flags: 0x5, streamId, length: 10, origin: at(n++) });
    t.request({ streamId, method: 'GET', path: `/${i}`, authority: 'h', scheme: 'http', headers: [[':method', 'GET']], endStream: true, origin: at(n) });
    t.frame({ dir: 's2c', type: Http2FrameType.RST_STREAM, flags: 0, streamId, length: 4, origin: at(n++) });
    t.streamEnd({ dir: 's2c', streamId, how: 'rst', errorCode: 8, errorName: 'CANCEL', origin: at(n) });
  }
  for (let i = 0; i < streams; i++) {
    const dir: Direction = 's2c';
    t.frame({ dir, type: Http2FrameType.GOAWAY, flags: 0, streamId: 0, length: 8, origin: at(n) });
    t.control({ dir, type: 'GOAWAY', lastStreamId: 1, errorCode: 0, errorName: 'NO_ERROR', debugData: 'x'.repeat(5000), debugLength: 5000, origin: at(n++) });
  }
  const h2 = record.http2!;
  expect(h2.streams).toHaveLength(TRAFFIC_ENTRIES_KEPT);
  expect(h2.streamsDropped).toBe(500);
  expect(h2.streams[0]).toMatchObject({ id: 1, method: 'GET', path: '/0', headerFrames: 1, reset: { dir: 's2c', error: 'CANCEL' } });
  expect(h2.frames).toHaveLength(TRAFFIC_ENTRIES_KEPT);
  expect(h2.framesDropped).toBe(3 * streams - TRAFFIC_ENTRIES_KEPT);
  expect(h2.frameCounts).toEqual({ c2s: { HEADERS: streams }, s2c: { RST_STREAM: streams, GOAWAY: streams } });
  expect(h2.goaways).toHaveLength(TRAFFIC_ENTRIES_KEPT);
  expect(h2.goawaysDropped).toBe(500);
  expect(h2.goaways[0].debug.length).toBeLessThanOrEqual(200);
  const lines = http2Lines(h2);
  expect(lines).toContain('  … 1460 more streams (500 not kept; --json lists the first 1000)');
  expect(lines).toContain('  … 1460 more GOAWAYs (500 not kept; --json lists the first 1000)');
  expect(lines).toContain('  … 4460 more frames (3500 not kept; --json lists the first 1000)');
  expect(lines.length).toBeLessThan(140);
});
