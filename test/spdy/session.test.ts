import type { Direction } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import { SpdyFrameDecoder } from '../../src/spdy/frame-decoder.js';
import { SpdyFrameEncoder } from '../../src/spdy/frame-encoder.js';
import { SpdyRstStatus } from '../../src/spdy/frame.js';
import { SpdySessionTracker, type SpdyPingRoundTrip, type SpdyUnansweredPing, type SpdyWindowExhausted } from '../../src/spdy/session.js';
import { text } from './collect.js';
import { whole } from '../helpers/byte-range.js';

/** Client and server encoders feeding two decoders and one tracker; each send is its own packet. */
class Conversation {
  readonly enc = { c2s: new SpdyFrameEncoder(), s2c: new SpdyFrameEncoder() };
  readonly events: string[] = [];
  readonly problems: Problem[] = [];
  readonly rtts: SpdyPingRoundTrip[] = [];
  readonly unanswered: SpdyUnansweredPing[] = [];
  readonly exhausted: SpdyWindowExhausted[] = [];
  readonly tracker: SpdySessionTracker;
  private readonly decoders: Record<Direction, SpdyFrameDecoder>;
  private readonly offset = { c2s: 0, s2c: 0 };
  private packet = 0;

  constructor() {
    this.tracker = new SpdySessionTracker({
      onStreamOpened: (s) => this.events.push(`open ${s.id} by ${s.openedBy} ${s.headers?.['streamtype']}`),
      onStreamReply: (s) => this.events.push(`reply ${s.id}`),
      onStreamHalfClosed: (s, dir, o) => this.events.push(`fin ${s.id} ${dir} @${o.lastPacket}`),
      onStreamReset: (s, r) => this.events.push(`reset ${s.id} by ${r.by} ${r.statusName}`),
      onPingRoundTrip: (p) => this.rtts.push(p),
      onPingUnanswered: (p) => this.unanswered.push(p),
      onGoAway: (g) => this.events.push(`goaway by ${g.by} last ${g.lastGoodStreamId} ${g.statusName}`),
      onSettings: (by, settings) => this.events.push(`settings by ${by} ${settings.map((s) => `${s.id}=${s.value}`).join(',')}`),
      onWindowExhausted: (w) => this.exhausted.push(w),
      onProblem: (p) => this.problems.push(p),
    });
    const make = (dir: Direction) =>
      new SpdyFrameDecoder({
        onControl: (f) => this.tracker.frame(dir, f),
        onData: (p) => this.tracker.data(dir, p),
        onDataLost: (l) => this.tracker.dataLost(dir, l),
        onProblem: (p) => this.problems.push(p),
      });
    this.decoders = { c2s: make('c2s'), s2c: make('s2c') };
  }

  /** Send one frame built by `dir`'s encoder; `tsMs` is its capture time. */
  send(dir: Direction, build: (e: SpdyFrameEncoder) => Uint8Array, tsMs = this.packet + 1): void {
    const bytes = build(this.enc[dir]);
    this.packet++;
    this.decoders[dir].push(bytes, 0, bytes.length, { offset: this.offset[dir], length: bytes.length, packet: this.packet, ts: tsMs * 1e6 });
    this.offset[dir] += bytes.length;
  }

  /** Lose `length` bytes of `dir` (they were never captured) after sending `bytes`. */
  sendWithLoss(dir: Direction, bytes: Uint8Array, lostAt: number, length: number): void {
    this.packet++;
    const d = this.decoders[dir];
    const o = this.offset[dir];
    d.push(...whole(bytes.subarray(0, lostAt)), { offset: o, length: lostAt, packet: this.packet, ts: this.packet * 1e6 });
    d.gap(o + lostAt, length);
    d.push(...whole(bytes.subarray(lostAt + length)), { offset: o + lostAt + length, length: bytes.length - lostAt - length, packet: this.packet, ts: this.packet * 1e6 });
    this.offset[dir] += bytes.length;
  }

  end(): void {
    this.decoders.c2s.end();
    this.decoders.s2c.end();
    this.tracker.end();
  }
}

describe('SpdySessionTracker', () => {
  test('kubectl exec -it lifecycle: open, reply, data, half-closes, reset, goaway', () => {
    const c = new Conversation();
    c.send('c2s', (e) => e.synStream(1, { streamtype: 'error' }));
    c.send('s2c', (e) => e.synReply(1, {}));
    c.send('c2s', (e) => e.synStream(3, { streamtype: 'stdin' }));
    c.send('s2c', (e) => e.synReply(3, {}));
    c.send('c2s', (e) => e.synStream(5, { streamtype: 'stdout' }));
    c.send('s2c', (e) => e.synReply(5, {}));
    c.send('c2s', (e) => e.data(3, text('ls\n')));
    c.send('s2c', (e) => e.data(5, text('a b c\n')));
    c.send('c2s', (e) => e.data(3, new Uint8Array(0), { fin: true }));
    c.send('s2c', (e) => e.data(5, new Uint8Array(0), { fin: true }));
    c.send('s2c', (e) => e.data(1, text('{"status":"Success"}')));
    c.send('s2c', (e) => e.rstStream(1, SpdyRstStatus.CANCEL));
    c.send('c2s', (e) => e.rstStream(1, SpdyRstStatus.CANCEL));
    c.send('s2c', (e) => e.goAway(5));
    c.end();
    expect(c.problems).toEqual([]);
    expect(c.events).toEqual([
      'open 1 by c2s error',
      'reply 1',
      'open 3 by c2s stdin',
      'reply 3',
      'open 5 by c2s stdout',
      'reply 5',
      'fin 3 c2s @9',
      'fin 5 s2c @10',
      'reset 1 by s2c CANCEL', // the client's later reset of the same stream adds nothing
      'goaway by s2c last 5 OK',
    ]);
    const s3 = c.tracker.stream(3)!;
    expect(s3.bytes).toEqual({ c2s: 3, s2c: 0 });
    expect(s3.finished.c2s?.lastPacket).toBe(9);
    expect(s3.finished.s2c).toBeNull();
    expect(s3.replied).toBe(true);
    expect(c.tracker.stream(1)!.bytes).toEqual({ c2s: 0, s2c: 20 });
    expect(c.tracker.goAway.s2c?.lastGoodStreamId).toBe(5);
    expect(c.tracker.goAway.c2s).toBeNull();
    expect([...c.tracker.streams()].map((s) => s.id)).toEqual([1, 3, 5]);
  });

  test('FIN on SYN_STREAM / SYN_REPLY / HEADERS half-closes', () => {
    const c = new Conversation();
    c.send('c2s', (e) => e.synStream(1, { streamtype: 'x' }, { fin: true }));
    c.send('s2c', (e) => e.synReply(1, {}, { fin: false }));
    c.send('s2c', (e) => e.headers(1, { trailer: 'y' }, { fin: true }));
    c.end();
    expect(c.events).toEqual(['open 1 by c2s x', 'fin 1 c2s @1', 'reply 1', 'fin 1 s2c @3']);
    expect(c.problems).toEqual([]);
  });

  test('pings are paired by id with the round-trip time; unanswered ones reported at the end', () => {
    const c = new Conversation();
    c.send('c2s', (e) => e.ping(1), 1000);
    c.send('s2c', (e) => e.ping(2), 1001);
    c.send('s2c', (e) => e.ping(1), 1003);
    c.send('c2s', (e) => e.ping(3), 6000);
    c.send('c2s', (e) => e.ping(2), 1004.5);
    c.end();
    expect(c.rtts.map((p) => [p.id, p.by, p.rttNs, p.request.packet, p.response.packet])).toEqual([
      [1, 'c2s', 3e6, 1, 3],
      [2, 's2c', 3.5e6, 2, 5],
    ]);
    expect(c.unanswered.map((p) => [p.id, p.by, p.request.packet])).toEqual([[3, 'c2s', 4]]);
  });

  test('flow-control windows: 64 KiB per stream and session, exhaustion reported once, WINDOW_UPDATE and SETTINGS', () => {
    const c = new Conversation();
    c.send('c2s', (e) => e.synStream(1, { streamtype: 'stdin' }));
    c.send('c2s', (e) => e.synStream(3, { streamtype: 'other' }));
    const chunk = new Uint8Array(16 * 1024);
    for (let k = 0; k < 3; k++) c.send('c2s', (e) => e.data(1, chunk));
    expect(c.exhausted).toEqual([]);
    c.send('c2s', (e) => e.data(1, chunk)); // 64 KiB: stream 1 and session both at 0
    expect(c.exhausted.map((w) => [w.sender, w.streamId, w.window, w.origin.packet])).toEqual([
      ['c2s', 1, 0, 6],
      ['c2s', 0, 0, 6],
    ]);
    c.send('c2s', (e) => e.data(1, chunk)); // further data does not repeat the report
    expect(c.exhausted).toHaveLength(2);
    expect(c.tracker.stream(1)!.window).toEqual({ c2s: -16384, s2c: 65536 });
    expect(c.tracker.sessionWindow.c2s).toBe(-16384);

    // The receiver (server) grants more room: stream 1 and then the session.
    c.send('s2c', (e) => e.windowUpdate(1, 32768));
    c.send('s2c', (e) => e.windowUpdate(0, 100000));
    expect(c.tracker.stream(1)!.window.c2s).toBe(16384);
    expect(c.tracker.sessionWindow.c2s).toBe(83616);
    c.send('c2s', (e) => e.data(1, chunk)); // stream window back to 0: reported again
    expect(c.exhausted.map((w) => [w.streamId, w.window])).toEqual([[1, 0], [0, 0], [1, 0]]);

    // The server lowers the client's initial window: open streams shift by the difference.
    c.send('s2c', (e) => e.settings([{ id: 7, value: 1024 }]));
    expect(c.tracker.stream(3)!.window.c2s).toBe(1024);
    expect(c.tracker.stream(1)!.window.c2s).toBe(1024 - 65536);
    c.send('c2s', (e) => e.synStream(5, { streamtype: 'new' }));
    expect(c.tracker.stream(5)!.window).toEqual({ c2s: 1024, s2c: 65536 });
    expect(c.tracker.settings.s2c.get(7)).toBe(1024);
    expect(c.events.at(-2)).toBe('settings by s2c 7=1024');
    expect(c.problems).toEqual([]);
  });

  test('DATA lost in a capture gap still counts against the windows', () => {
    const c = new Conversation();
    c.send('c2s', (e) => e.synStream(1, { streamtype: 'stdin' }));
    c.sendWithLoss('c2s', c.enc.c2s.data(1, new Uint8Array(70000)), 100, 69000);
    expect(c.tracker.stream(1)!.bytes.c2s).toBe(1000);
    expect(c.tracker.stream(1)!.lostBytes.c2s).toBe(69000);
    expect(c.tracker.stream(1)!.window.c2s).toBe(65536 - 70000);
    expect(c.exhausted.map((w) => [w.streamId, w.window])).toEqual([[1, 65536 - 69092], [0, 65536 - 69092]]);
  });

  test('protocol oddities are problems; streams seen without SYN_STREAM are adopted', () => {
    const c = new Conversation();
    c.send('c2s', (e) => e.synStream(2, { streamtype: 'x' })); // client must use odd ids
    c.send('c2s', (e) => e.synStream(3, { streamtype: 'y' }));
    c.send('c2s', (e) => e.synStream(3, { streamtype: 'y' })); // reused
    c.send('c2s', (e) => e.synReply(3, {})); // reply from the opener
    c.send('s2c', (e) => e.data(7, text('mid-capture'))); // stream never opened in the capture
    c.send('c2s', (e) => e.data(3, new Uint8Array(0), { fin: true }));
    c.send('c2s', (e) => e.data(3, text('late'))); // after FIN
    c.send('c2s', (e) => e.data(0, text('zero')));
    c.end();
    expect(c.problems.map((p) => p.message)).toEqual([
      'SYN_STREAM 2 from the client must use odd non-zero ids',
      'SYN_STREAM 3 does not increase the stream id (last 3)',
      'SYN_STREAM for stream 3, which is already open (STREAM_IN_USE)',
      'SYN_REPLY for stream 3 from the side that opened it',
      'DATA on stream 7, whose SYN_STREAM was not seen (opened before the capture?)',
      'DATA on stream 3 after c2s sent FIN',
      'DATA on stream 0',
    ]);
    const s7 = c.tracker.stream(7)!;
    expect([s7.openedBy, s7.replied, s7.bytes.s2c]).toEqual(['c2s', false, 11]);
    expect(c.problems[0]!.where).toBe('spdy c2s offset 0');
  });

  test('the number of tracked streams is capped', () => {
    const problems: Problem[] = [];
    const t = new SpdySessionTracker({ onProblem: (p) => problems.push(p) }, { maxStreams: 2 });
    const e = new SpdyFrameEncoder();
    const d = new SpdyFrameDecoder({ onControl: (f) => t.frame('c2s', f), onData: () => {}, onProblem: (p) => problems.push(p) });
    let offset = 0;
    for (const id of [1, 3, 5, 7]) {
      const f = e.synStream(id, { streamtype: 'x' });
      d.push(f, 0, f.length, { offset, length: f.length, packet: id, ts: id });
      offset += f.length;
    }
    expect([...t.streams()].map((s) => s.id)).toEqual([1, 3]);
    expect(problems.map((p) => p.message)).toEqual(['more than 2 streams: further streams are not tracked']);
  });
});
