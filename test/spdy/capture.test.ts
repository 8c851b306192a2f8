import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Direction } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import { SPDY3_DICTIONARY } from '../../src/spdy/dictionary.js';
import { SpdyFrameDecoder, type SpdyControlFrame } from '../../src/spdy/frame-decoder.js';
import { SpdyFrameEncoder } from '../../src/spdy/frame-encoder.js';
import { SpdySessionTracker, type SpdyStream } from '../../src/spdy/session.js';
import { spdySegmentsFromPcap } from './capture-bytes.js';
import { decodeSplit } from './collect.js';

const CAPTURE = '/work/shared/captures/spdy-echo.pcap';
const truth = JSON.parse(readFileSync('/work/shared/captures/spdy-echo.truth.json', 'utf8'));

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

function decodeCapture() {
  const segments = spdySegmentsFromPcap(CAPTURE);
  const frames: { dir: Direction; f: SpdyControlFrame }[] = [];
  const problems: Problem[] = [];
  const data: Record<number, Buffer[]> = {};
  const dataFrames: { dir: Direction; streamId: number; fin: boolean; offset: number; length: number }[] = [];
  const opened: SpdyStream[] = [];
  const halfClosed: string[] = [];
  const tracker = new SpdySessionTracker({
    onProblem: (p) => problems.push(p),
    onStreamOpened: (s) => opened.push(s),
    onStreamHalfClosed: (s, dir) => halfClosed.push(`${s.id}:${dir}`),
  });
  const decoders = Object.fromEntries(
    (['c2s', 's2c'] as const).map((dir) => [
      dir,
      new SpdyFrameDecoder({
        onControl: (f) => {
          frames.push({ dir, f });
          tracker.frame(dir, f);
        },
        onData: (piece) => {
          (data[piece.streamId] ??= []).push(Buffer.from(piece.bytes.subarray(piece.start, piece.end)));
          if (piece.last) dataFrames.push({ dir, streamId: piece.streamId, fin: piece.fin, offset: piece.frame.offset, length: piece.frame.length });
          tracker.data(dir, piece);
        },
        onProblem: (p) => problems.push(p),
      }),
    ]),
  ) as Record<Direction, SpdyFrameDecoder>;
  // Replay in capture order, one push per TCP segment, as the pipeline does.
  const all = [...segments.c2s.map((s) => ({ dir: 'c2s' as const, s })), ...segments.s2c.map((s) => ({ dir: 's2c' as const, s }))];
  all.sort((x, y) => x.s.origin.packet - y.s.origin.packet);
  for (const { dir, s } of all) decoders[dir].push(s.data, 0, s.data.length, s.origin);
  decoders.c2s.end();
  decoders.s2c.end();
  tracker.end();
  return { segments, frames, problems, data, dataFrames, opened, halfClosed, tracker };
}

describe('spdy-echo.pcap (real kubectl v1.32 SPDY exec)', () => {
  const r = decodeCapture();

  test('the zlib header of the first header block names the SPDY/3 dictionary', () => {
    // First c2s SYN_STREAM: 8-byte header + 10 fixed bytes, then 0x78 0xf9 and the 4-byte DICTID.
    const bytes = Buffer.concat(r.segments.c2s.map((s) => s.data));
    expect(bytes.subarray(18, 20)).toEqual(Buffer.from([0x78, 0xf9]));
    expect(bytes.readUInt32BE(20)).toBe(adler32(SPDY3_DICTIONARY));
    expect(SPDY3_DICTIONARY.length).toBe(1423);
  });

  test('decodes without problems', () => {
    expect(r.problems).toEqual([]);
  });

  test('SYN_STREAM headers give the stream types of the truth file', () => {
    const syns = r.frames.filter((x) => x.f.type === 'SYN_STREAM');
    expect(syns.map((x) => x.dir)).toEqual(['c2s', 'c2s', 'c2s']);
    const types = syns.map((x) => (x.f.type === 'SYN_STREAM' ? { id: x.f.streamId, type: x.f.headers?.['streamtype'] } : null));
    expect(types).toEqual(truth.sessions[0].streams.map((s: { id: number; type: string }) => ({ id: s.id, type: [s.type] })));
    expect(r.opened.map((s) => [s.id, s.openedBy, s.headers?.['streamtype']?.[0]])).toEqual([
      [1, 'c2s', 'error'],
      [3, 'c2s', 'stdout'],
      [5, 'c2s', 'stderr'],
    ]);
  });

  test('every SYN_STREAM is answered by a SYN_REPLY with empty headers', () => {
    const replies = r.frames.filter((x) => x.f.type === 'SYN_REPLY');
    expect(replies.map((x) => [x.dir, x.f.type === 'SYN_REPLY' && x.f.streamId, x.f.type === 'SYN_REPLY' && x.f.headers])).toEqual([
      ['s2c', 1, {}],
      ['s2c', 3, {}],
      ['s2c', 5, {}],
    ]);
  });

  test('stdout DATA matches the truth sha256; the error stream carries the Status JSON', () => {
    const session = truth.sessions[0];
    const stdout = Buffer.concat(r.data[3] ?? []);
    expect(stdout.length).toBe(session.stdout_bytes.length);
    expect(createHash('sha256').update(stdout).digest('hex')).toBe(session.stdout_bytes.sha256);
    expect(Buffer.concat(r.data[5] ?? []).length).toBe(0);
    expect(Buffer.concat(r.data[1] ?? []).toString()).toBe(session.status_json);
  });

  test('the server ends with FINs, RST_STREAM CANCEL and GOAWAY OK', () => {
    expect(r.halfClosed).toEqual(expect.arrayContaining(['3:s2c', '5:s2c']));
    const tail = r.frames.filter((x) => x.f.type === 'RST_STREAM' || x.f.type === 'GOAWAY').map((x) => {
      const f = x.f;
      if (f.type === 'RST_STREAM') return `${x.dir} RST ${f.streamId} ${f.statusName}`;
      if (f.type === 'GOAWAY') return `${x.dir} GOAWAY ${f.lastGoodStreamId} ${f.statusName}`;
      return '';
    });
    expect(tail[0]).toBe('s2c RST 1 CANCEL');
    expect(tail).toContain('s2c GOAWAY 5 OK');
    expect(r.tracker.stream(1)?.reset?.statusName).toBe('CANCEL');
  });

  test('the encoder writes byte-identical frames to spdystream, header blocks aside', () => {
    const bytes = {
      c2s: Buffer.concat(r.segments.c2s.map((x) => x.data)),
      s2c: Buffer.concat(r.segments.s2c.map((x) => x.data)),
    };
    const base = { c2s: r.segments.c2s[0]!.origin.offset, s2c: r.segments.s2c[0]!.origin.offset };
    const captured = (dir: Direction, offset: number, length: number) => bytes[dir].subarray(offset - base[dir], offset - base[dir] + length);
    const e = new SpdyFrameEncoder();
    let compared = 0;
    for (const { dir, f } of r.frames) {
      const got = captured(dir, f.origin.offset, f.origin.length);
      switch (f.type) {
        case 'RST_STREAM':
          expect(Buffer.from(e.rstStream(f.streamId, f.status))).toEqual(got);
          compared++;
          break;
        case 'GOAWAY':
          expect(Buffer.from(e.goAway(f.lastGoodStreamId, f.status))).toEqual(got);
          compared++;
          break;
        case 'SYN_STREAM': {
          // Same layout; the zlib bytes differ (Go's compress/flate is not zlib) but carry the same headers.
          const ours = e.synStream(f.streamId, f.headers!, { priority: f.priority, fin: f.fin });
          expect(Buffer.from(ours.subarray(0, 4))).toEqual(got.subarray(0, 4));
          expect(Buffer.from(ours.subarray(8, 18))).toEqual(got.subarray(8, 18));
          compared++;
          break;
        }
      }
    }
    for (const d of r.dataFrames) {
      const payload = captured(d.dir, d.offset + 8, d.length - 8);
      expect(Buffer.from(e.data(d.streamId, payload, { fin: d.fin }))).toEqual(captured(d.dir, d.offset, d.length));
      compared++;
    }
    expect(compared).toBe(3 + 1 + 1 + 4);
  });

  test('the real bytes of each direction decode the same at every 2-way split and in 1-byte pushes', () => {
    for (const dir of ['c2s', 's2c'] as const) {
      const bytes = new Uint8Array(Buffer.concat(r.segments[dir].map((x) => x.data)));
      const whole = decodeSplit(bytes, []);
      expect(whole.problems).toEqual([]);
      expect(whole.controls.length).toBeGreaterThan(2);
      for (let cut = 1; cut < bytes.length; cut++) expect(decodeSplit(bytes, [cut]).events).toEqual(whole.events);
      expect(decodeSplit(bytes, [...Array(bytes.length - 1).keys()].map((k) => k + 1)).events).toEqual(whole.events);
    }
  });
});
