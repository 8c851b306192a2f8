import { TcpReassembler, type TcpConnection, type TcpSink } from '../../src/net/tcp-reassembly.js';
import type { TcpSegment } from '../../src/net/tcp.js';
import { SegmentMaker, TcpRecorder } from './tcp-recorder.js';
import fc from 'fast-check';
import { randomSource, type Random } from '../kit/random.js';
import { fcParams } from '../kit/transcript.js';

const WHERE_C2S = '10.0.0.1:51000→10.0.0.2:6443 c2s';

function setup(opts?: ConstructorParameters<typeof TcpReassembler>[1]) {
  // The views onData is given, before the recorder copies them: the fast path must not copy.
  const dataViews: Uint8Array[] = [];
  const rec = new TcpRecorder({ observe: { onData: (_conn, _dir, data) => void dataViews.push(data) } });
  const tcp = new TcpReassembler(rec.sink, opts);
  const m = new SegmentMaker();
  const push = (seg: TcpSegment) => {
    tcp.push(seg);
    return seg;
  };
  return { rec, tcp, m, push, dataViews };
}

/** Client ISN 1000 (stream byte 0 at 1001), server ISN 5000 (byte 0 at 5001). */
function handshake(m: SegmentMaker, push: (s: TcpSegment) => TcpSegment, cIsn = 1000, sIsn = 5000) {
  push(m.seg('c', cIsn, '', 'S'));
  push(m.seg('s', sIsn, '', 'SA', cIsn + 1));
  push(m.seg('c', cIsn + 1, '', 'A', sIsn + 1));
}

function shuffle<T>(items: T[], rand: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

describe('TcpReassembler: handshake, data and close', () => {
  it('delivers both directions in order and closes after both FINs', () => {
    const { rec, tcp, m, push, dataViews } = setup();
    handshake(m, push);
    const hello = push(m.seg('c', 1001, 'hello', 'PA', 5001));
    push(m.seg('s', 5001, 'world!', 'PA', 1006));
    push(m.seg('c', 1006, '', 'FA', 5007));
    push(m.seg('s', 5007, '', 'FA', 1007));
    push(m.seg('c', 1007, '', 'A', 5008));
    tcp.end();
    expect(rec.log).toEqual([
      'open 1 10.0.0.1:51000→10.0.0.2:6443',
      'data 1 c2s 0+5 #4',
      'data 1 s2c 0+6 #5',
      'close 1 c2s fin #6',
      'close 1 s2c fin #7',
      'end 1',
    ]);
    const conn = rec.get(1).conn;
    expect(conn).toEqual({ id: 1, client: '10.0.0.1:51000', server: '10.0.0.2:6443', firstPacket: 1, startTs: 1000, sawHandshake: true });
    expect(rec.get(1).endTs).toBe(7000);
    expect(rec.get(1).c2s.origins[0]).toEqual({ offset: 0, length: 5, packet: 4, ts: 4000 });
    // The in-order fast path hands the packet's own bytes over.
    expect(dataViews[0]).toBe(hello.bytes);
    expect(rec.problems).toEqual([]);
    expect(rec.violations).toEqual([]);
  });

  it('ignores retransmitted SYNs, SYN-ACKs, duplicates, keepalives and zero-length segments', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1000, '', 'S'));
    push(m.seg('s', 5000, '', 'SA', 1001));
    push(m.seg('c', 1001, 'hello', 'PA', 5001));
    push(m.seg('c', 1001, 'hello', 'PA', 5001));
    push(m.seg('c', 1003, 'llo', 'PA', 5001));
    push(m.seg('c', 1005, '\0', 'A', 5001)); // keepalive: the last byte again, other contents
    push(m.seg('c', 1006, '', 'A', 5001));
    push(m.seg('s', 5001, '', 'A', 1006));
    push(m.seg('c', 1006, 'x', 'PA', 5001));
    tcp.end();
    expect(rec.log).toEqual(['open 1 10.0.0.1:51000→10.0.0.2:6443', 'data 1 c2s 0+5 #6', 'data 1 c2s 5+1 #12', 'end 1']);
    expect(rec.problems).toEqual([]);
    expect(rec.violations).toEqual([]);
  });

  it('takes payload carried on a SYN (TCP Fast Open) as the first stream bytes', () => {
    const { rec, tcp, m, push } = setup();
    push(m.seg('c', 1000, 'GET', 'S'));
    push(m.seg('s', 5000, '', 'SA', 1004));
    push(m.seg('c', 1004, ' /', 'PA', 5001));
    tcp.end();
    expect(rec.text(1, 'c2s')).toBe('GET /');
    expect(rec.violations).toEqual([]);
  });

  it('formats IPv6 endpoints with brackets', () => {
    const rec = new TcpRecorder();
    const tcp = new TcpReassembler(rec.sink);
    const m = new SegmentMaker({ addr: 'fd00::1', port: 40000 }, { addr: 'fd00::2', port: 443 });
    tcp.push(m.seg('c', 1, '', 'S'));
    tcp.end();
    expect(rec.log).toEqual(['open 1 [fd00::1]:40000→[fd00::2]:443', 'end 1']);
  });

  it('reports a port probe (SYN answered by RST) as a connection reset both ways', () => {
    const { rec, tcp, m, push } = setup();
    push(m.seg('c', 1000, '', 'S'));
    push(m.seg('s', 0, '', 'RA', 1001));
    tcp.end();
    expect(rec.log).toEqual(['open 1 10.0.0.1:51000→10.0.0.2:6443', 'close 1 s2c rst #2', 'close 1 c2s rst #2', 'end 1']);
  });
});

describe('TcpReassembler: out of order, duplicates, overlaps', () => {
  it('any permutation of segments, duplicates and overlaps reassembles exactly', () => {
    fc.assert(fc.property(randomSource, fc.boolean(), fc.nat({ max: 40 }), (rand, wrap, size) => permutedConnection(rand, wrap, size)), fcParams(40));
  });

  /** One connection's segments, repacketized retransmissions and duplicates, in an order `rand` picks. */
  function permutedConnection(rand: Random, wrap: boolean, size: number): void {
    const { rec, tcp, m, push } = setup();
    // Half of the runs put the ISNs just below 2^32 so the streams wrap.
    const cIsn = wrap ? 2 ** 32 - 1 - Math.floor(rand() * 2000) : Math.floor(rand() * 2 ** 32);
    const sIsn = wrap ? 2 ** 32 - 1 - Math.floor(rand() * 2000) : Math.floor(rand() * 2 ** 32);
    handshake(m, push, cIsn, sIsn);
    const streams = { c: new Uint8Array(3000 + size * 50), s: new Uint8Array(2000 + size * 30) };
    for (const s of Object.values(streams)) for (let i = 0; i < s.length; i++) s[i] = Math.floor(rand() * 256);
    const segs: TcpSegment[] = [];
    for (const from of ['c', 's'] as const) {
      const data = streams[from];
      const base = (from === 'c' ? cIsn : sIsn) + 1;
      const peerBase = (from === 'c' ? sIsn : cIsn) + 1;
      for (let off = 0; off < data.length; ) {
        const len = 1 + Math.floor(rand() * 300);
        segs.push(m.seg(from, base + off, data.subarray(off, off + len), 'PA', peerBase));
        off += len;
      }
      // Repacketized retransmissions: random ranges of the same bytes.
      for (let k = 0; k < 15; k++) {
        const start = Math.floor(rand() * data.length);
        const len = 1 + Math.floor(rand() * 500);
        segs.push(m.seg(from, base + start, data.subarray(start, start + len), 'PA', peerBase));
      }
      segs.push(m.seg(from, base + data.length, '', 'FA', peerBase));
    }
    for (let k = 0; k < 20; k++) segs.push(segs[Math.floor(rand() * segs.length)]);
    for (const seg of shuffle(segs, rand)) push({ ...seg, bytes: seg.bytes.slice(seg.start, seg.end), start: 0, end: seg.end - seg.start });
    tcp.end();
    expect(rec.bytesOf(1, 'c2s')).toEqual(streams.c);
    expect(rec.bytesOf(1, 's2c')).toEqual(streams.s);
    expect(rec.get(1).c2s.gaps).toEqual([]);
    expect(rec.get(1).s2c.gaps).toEqual([]);
    expect(rec.get(1).c2s.closed).toBe('fin');
    expect(rec.get(1).s2c.closed).toBe('fin');
    expect(rec.problems).toEqual([]);
    expect(rec.violations).toEqual([]);
    expect(rec.connections.size).toBe(1);
  }

  it('keeps the first copy of overlapping bytes and reports retransmissions that differ', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1006, 'WORLD')); // held: bytes 5..10
    push(m.seg('c', 1006, 'W0RLD')); // differs from what is held
    push(m.seg('c', 1001, 'helloWOX')); // in order, overlapping the held bytes with other contents
    push(m.seg('c', 1009, 'LD!!')); // overlaps delivered bytes, then new ones
    tcp.end();
    expect(rec.text(1, 'c2s')).toBe('helloWORLD!!');
    expect(rec.log.filter((l) => l.startsWith('data'))).toEqual(['data 1 c2s 0+5 #6', 'data 1 c2s 5+5 #4', 'data 1 c2s 10+2 #7']);
    expect(rec.problems).toMatchObject([
      { where: `${WHERE_C2S} offset 5`, message: 'retransmitted bytes differ from the first copy, packet 5: keeping the first' },
      { where: `${WHERE_C2S} offset 5`, message: 'retransmitted bytes differ from the first copy, packet 6: keeping the first' },
    ]);
    expect(rec.violations).toEqual([]);
  });

  it('delivers an in-order segment that spans several held ranges and the holes between them', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1004, 'de'));
    push(m.seg('c', 1008, 'hi'));
    push(m.seg('c', 1001, 'abcdefghijk'));
    tcp.end();
    expect(rec.text(1, 'c2s')).toBe('abcdefghijk');
    expect(rec.log.filter((l) => l.startsWith('data'))).toEqual([
      'data 1 c2s 0+3 #6',
      'data 1 c2s 3+2 #4',
      'data 1 c2s 5+2 #6',
      'data 1 c2s 7+2 #5',
      'data 1 c2s 9+2 #6',
    ]);
    expect(rec.violations).toEqual([]);
  });
});

describe('TcpReassembler: sequence numbers', () => {
  it('follows a stream across the 2^32 wrap', () => {
    const { rec, tcp, m, push } = setup();
    const isn = 2 ** 32 - 3; // byte 0 at 2^32 - 2
    handshake(m, push, isn, 7);
    push(m.seg('c', 2, 'efghij'));
    push(m.seg('c', 2 ** 32 - 2, 'abcd'));
    push(m.seg('s', 8, 'ok', 'PA', 8));
    push(m.seg('c', 8, '', 'FA'));
    tcp.end();
    expect(rec.text(1, 'c2s')).toBe('abcdefghij');
    expect(rec.log).toEqual([
      'open 1 10.0.0.1:51000→10.0.0.2:6443',
      'data 1 c2s 0+4 #5',
      'data 1 c2s 4+6 #4',
      'data 1 s2c 0+2 #6',
      'close 1 c2s fin #7',
      'end 1',
    ]);
  });

  it('counts offsets past 2^32 bytes exactly', () => {
    const offsets: number[] = [];
    let gaps = 0;
    const sink: TcpSink = {
      onOpen() {},
      onData(_c, _d, _bytes, start, end, origin) {
        offsets.push(origin.offset, end - start);
      },
      onGap() {
        gaps++;
      },
      onClose() {},
      onEnd() {},
    };
    const tcp = new TcpReassembler(sink);
    const m = new SegmentMaker();
    const chunk = new Uint8Array(65536);
    const isn = 123456789;
    tcp.push(m.seg('c', isn, '', 'S'));
    const count = 65536 + 100; // 2^32 + 100 * 65536 bytes
    for (let i = 0; i < count; i++) {
      // Swap two segments around the 2^32 boundary.
      const k = i === 65535 ? 65536 : i === 65536 ? 65535 : i;
      tcp.push(m.seg('c', isn + 1 + k * 65536, chunk));
      if (i % 1000 === 0) tcp.push(m.seg('s', 1, '', 'A', isn + 1 + k * 65536));
    }
    tcp.end();
    expect(gaps).toBe(0);
    expect(offsets.length).toBe(count * 2);
    const wrong = [];
    for (let i = 0; i < count; i++) if (offsets[2 * i] !== i * 65536 || offsets[2 * i + 1] !== 65536) wrong.push(i);
    expect(wrong).toEqual([]);
    expect(offsets[2 * count - 2]).toBe(2 ** 32 + 99 * 65536);
  });
});

describe('TcpReassembler: captures starting mid-connection', () => {
  it('starts the streams at the first seen sequence numbers and finds the client by its HTTP request', () => {
    const rec = new TcpRecorder();
    const tcp = new TcpReassembler(rec.sink);
    // The server has the higher port: only the request line tells who is the client.
    const m = new SegmentMaker({ addr: '10.0.0.1', port: 40000 }, { addr: '10.0.0.2', port: 50000 });
    tcp.push(m.seg('s', 900000, '', 'A', 777777));
    tcp.push(m.seg('c', 777777, 'GET / HTTP/1.1\r\n\r\n', 'PA', 900000));
    tcp.push(m.seg('s', 900000, 'HTTP/1.1 200 OK\r\n\r\n', 'PA', 777795));
    tcp.end();
    expect(rec.log).toEqual(['open 1 10.0.0.1:40000→10.0.0.2:50000 mid', 'data 1 c2s 0+18 #2', 'data 1 s2c 0+19 #3', 'end 1']);
    expect(rec.get(1).conn.firstPacket).toBe(1);
  });

  it('finds the server by its status line', () => {
    const rec = new TcpRecorder();
    const tcp = new TcpReassembler(rec.sink);
    const m = new SegmentMaker({ addr: '10.0.0.1', port: 40000 }, { addr: '10.0.0.2', port: 50000 });
    tcp.push(m.seg('s', 5, 'HTTP/1.1 101 Switching Protocols\r\n\r\n', 'PA'));
    tcp.end();
    expect(rec.log[0]).toBe('open 1 10.0.0.1:40000→10.0.0.2:50000 mid');
    expect(rec.log[1]).toBe('data 1 s2c 0+36 #1');
  });

  it('takes the higher port as the client when the bytes do not tell', () => {
    const { rec, tcp, m, push } = setup();
    push(m.seg('s', 42, new Uint8Array([0x82, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]), 'PA'));
    push(m.seg('c', 99, '', 'FA'));
    tcp.end();
    expect(rec.log).toEqual(['open 1 10.0.0.1:51000→10.0.0.2:6443 mid', 'data 1 s2c 0+7 #1', 'close 1 c2s fin #2', 'end 1']);
  });

  it('starts the client stream at the SYN-ACK acknowledgment when the SYN was missed', () => {
    const { rec, tcp, m, push } = setup();
    push(m.seg('s', 5000, '', 'SA', 1001));
    push(m.seg('c', 1004, 'def', 'PA', 5001));
    push(m.seg('c', 1001, 'abc', 'PA', 5001));
    tcp.end();
    expect(rec.log).toEqual(['open 1 10.0.0.1:51000→10.0.0.2:6443', 'data 1 c2s 0+3 #3', 'data 1 c2s 3+3 #2', 'end 1']);
  });

  it('does not start a stream at a keepalive probe', () => {
    const { rec, tcp, m, push } = setup();
    push(m.seg('s', 5001, '', 'A', 2000));
    push(m.seg('c', 1999, '\0', 'A', 5001));
    push(m.seg('c', 2000, 'GET / HTTP/1.1\r\n', 'PA', 5001));
    tcp.end();
    expect(rec.log).toEqual(['open 1 10.0.0.1:51000→10.0.0.2:6443 mid', 'data 1 c2s 0+16 #3', 'end 1']);
  });
});

describe('TcpReassembler: port reuse and linger', () => {
  it('ignores stray segments after the close and starts a new connection on a new SYN', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'one', 'PA', 5001));
    push(m.seg('c', 1004, '', 'FA', 5001));
    push(m.seg('s', 5001, '', 'FA', 1005));
    push(m.seg('c', 1005, '', 'A', 5002)); // last ACK
    push(m.seg('s', 5001, '', 'FA', 1005)); // retransmitted FIN
    push(m.seg('c', 1000, '', 'S')); // the old SYN again
    push(m.seg('c', 9000, '', 'S'));
    push(m.seg('s', 3000, '', 'SA', 9001));
    push(m.seg('c', 9001, 'two', 'PA', 3001));
    tcp.end();
    expect(rec.log).toEqual([
      'open 1 10.0.0.1:51000→10.0.0.2:6443',
      'data 1 c2s 0+3 #4',
      'close 1 c2s fin #5',
      'close 1 s2c fin #6',
      'end 1',
      'open 2 10.0.0.1:51000→10.0.0.2:6443',
      'data 2 c2s 0+3 #12',
      'end 2',
    ]);
    expect(rec.violations).toEqual([]);
  });

  it('ends a connection whose tuple is reused by a SYN with another ISN, flushing what it held', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'ab', 'PA', 5001));
    push(m.seg('c', 1005, 'ef', 'PA', 5001));
    push(m.seg('c', 700000, '', 'S'));
    tcp.end();
    expect(rec.log).toEqual([
      'open 1 10.0.0.1:51000→10.0.0.2:6443',
      'data 1 c2s 0+2 #4',
      'gap 1 c2s 2+2 #6',
      'data 1 c2s 4+2 #5',
      'end 1',
      'open 2 10.0.0.1:51000→10.0.0.2:6443',
      'end 2',
    ]);
  });

  it('forgets a closed tuple after the linger: later segments start a connection again', () => {
    const { rec, tcp, m, push } = setup({ lingerNs: 5000 });
    handshake(m, push);
    push(m.seg('c', 1001, '', 'FA', 5001));
    push(m.seg('s', 5001, '', 'FA', 1002));
    push(m.seg('c', 1002, '', 'A', 5002, { ts: 8000 }));
    push(m.seg('c', 1002, 'late', 'PA', 5002, { ts: 1_000_000_000_000 }));
    tcp.end();
    expect(rec.log).toEqual([
      'open 1 10.0.0.1:51000→10.0.0.2:6443',
      'close 1 c2s fin #4',
      'close 1 s2c fin #5',
      'end 1',
      'open 2 10.0.0.1:51000→10.0.0.2:6443 mid',
      'data 2 c2s 0+4 #7',
      'end 2',
    ]);
  });
});

describe('TcpReassembler: lost segments', () => {
  it('declares bytes the peer acknowledged but the capture missed lost, and resumes after them', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'hello', 'PA', 5001));
    // bytes 5..10 lost
    push(m.seg('c', 1011, 'fghij', 'PA', 5001));
    push(m.seg('s', 5001, '', 'A', 1016));
    push(m.seg('c', 1016, 'klm', 'PA', 5001));
    push(m.seg('s', 5001, '', 'A', 1030)); // 11 more bytes lost, nothing held after them
    push(m.seg('c', 1030, 'z', 'PA', 5001));
    tcp.end();
    expect(rec.text(1, 'c2s')).toBe('hello?????fghijklm???????????z');
    expect(rec.log.slice(1)).toEqual([
      'data 1 c2s 0+5 #4',
      'gap 1 c2s 5+5 #6',
      'data 1 c2s 10+5 #5',
      'data 1 c2s 15+3 #7',
      'gap 1 c2s 18+11 #8',
      'data 1 c2s 29+1 #9',
      'end 1',
    ]);
    expect(rec.violations).toEqual([]);
  });

  it('waits for more evidence when the acknowledgment is one past the data (it may be a FIN)', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'ab', 'PA', 5001));
    push(m.seg('s', 5001, '', 'A', 1004)); // byte 2 lost, or a FIN lost
    expect(rec.log.length).toBe(2);
    push(m.seg('c', 1004, 'd', 'PA', 5001));
    push(m.seg('s', 5001, '', 'A', 1005));
    push(m.seg('s', 5001, '', 'A', 1006)); // this time a FIN: the capture missed it
    tcp.end();
    // Byte 3 arrived during the hold-back, so the first ACK (packet 5) did acknowledge a lost byte 2.
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+2 #4', 'gap 1 c2s 2+1 #5', 'data 1 c2s 3+1 #6', 'end 1']);
  });

  it('closes after data that arrives after the FIN', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'hello', 'PA', 5001));
    push(m.seg('c', 1011, '', 'FA', 5001));
    push(m.seg('c', 1006, 'world', 'PA', 5001));
    push(m.seg('s', 5001, '', 'FA', 1012));
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+5 #4', 'data 1 c2s 5+5 #6', 'close 1 c2s fin #5', 'close 1 s2c fin #7', 'end 1']);
  });

  it('closes with a gap when the bytes before the FIN never come', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'hello', 'PA', 5001));
    push(m.seg('c', 1011, '', 'FA', 5001));
    tcp.end();
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+5 #4', 'gap 1 c2s 5+5 #5', 'close 1 c2s fin #5', 'end 1']);
  });

  it('closes when the peer acknowledges the FIN over a hole, once the hold-back is over', () => {
    const { rec, m, push } = setup({ reorderHoldNs: 1e6 });
    handshake(m, push);
    push(m.seg('c', 1001, 'hello', 'PA', 5001));
    push(m.seg('c', 1011, '', 'FA', 5001));
    push(m.seg('s', 5001, '', 'A', 1012));
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+5 #4']);
    push(m.seg('s', 5001, '', 'A', 1012, { ts: 2e6 }));
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+5 #4', 'gap 1 c2s 5+5 #6', 'close 1 c2s fin #5']);
  });

  it('declares an acknowledged hole at once without a hold-back', () => {
    const { rec, m, push } = setup({ reorderHoldNs: 0 });
    handshake(m, push);
    push(m.seg('c', 1001, 'hello', 'PA', 5001));
    push(m.seg('c', 1011, '', 'FA', 5001));
    push(m.seg('s', 5001, '', 'A', 1012));
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+5 #4', 'gap 1 c2s 5+5 #6', 'close 1 c2s fin #5']);
  });

  it('fills a hole the peer acknowledged with data stored after the ACK (per-CPU buffers of eBPF capture tools)', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1006, 'world', 'PA', 5001, { ts: 5000 }));
    push(m.seg('s', 5001, '', 'A', 1011, { ts: 6000 }));
    // Written after the ACK that covers it, with its own earlier time.
    push(m.seg('c', 1001, 'hello', 'PA', 5001, { ts: 4000 }));
    tcp.end();
    expect(rec.text(1, 'c2s')).toBe('helloworld');
    expect(rec.log.filter((l) => l.startsWith('gap'))).toEqual([]);
  });

  it('declares the hole lost when the hold-back passes without the bytes, or its byte limit is reached', () => {
    const timed = setup({ reorderHoldNs: 1e6 });
    handshake(timed.m, timed.push);
    timed.push(timed.m.seg('c', 1006, 'world', 'PA', 5001, { ts: 5000 }));
    timed.push(timed.m.seg('s', 5001, '', 'A', 1011, { ts: 6000 }));
    timed.push(timed.m.seg('s', 5001, '', 'A', 1011, { ts: 1e6 + 5999 }));
    expect(timed.rec.log.slice(1)).toEqual([]);
    timed.push(timed.m.seg('s', 5001, '', 'A', 1011, { ts: 1e6 + 6000 }));
    expect(timed.rec.log.slice(1)).toEqual(['gap 1 c2s 0+5 #5', 'data 1 c2s 5+5 #4']);

    const sized = setup({ reorderHoldBytes: 100 });
    handshake(sized.m, sized.push);
    sized.push(sized.m.seg('c', 1006, 'world', 'PA', 5001));
    sized.push(sized.m.seg('s', 5001, '', 'A', 1011));
    expect(sized.rec.log.slice(1)).toEqual([]);
    sized.push(sized.m.seg('c', 1011, new Uint8Array(100).fill(65), 'PA', 5001));
    expect(sized.rec.log.slice(1)).toEqual(['gap 1 c2s 0+5 #5', 'data 1 c2s 5+5 #4', 'data 1 c2s 10+100 #6']);
  });

  it('reports and ignores bytes after the FIN', () => {
    const { rec, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'ab', 'FPA', 5001));
    push(m.seg('c', 1002, 'bcd', 'PA', 5001));
    expect(rec.text(1, 'c2s')).toBe('ab');
    expect(rec.problems).toMatchObject([{ code: 'tcp.after-fin', severity: 'warning', direction: 'c2s', offset: 2, packet: 5, where: `${WHERE_C2S} offset 2`, message: '2 bytes after the FIN, packet 5: ignored' }]);
    expect(rec.violations).toEqual([]);
  });

  it('turns bytes cut by the snaplen into a gap, in order or not', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1011, 'x', 'PA', 5001));
    push(m.seg('c', 1001, 'hello', 'PA', 5001, { missing: 5 }));
    push(m.seg('c', 1012, 'yz', 'PA', 5001, { missing: 3 }));
    push(m.seg('c', 1017, '!', 'PA', 5001));
    tcp.end();
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+5 #5', 'gap 1 c2s 5+5 #5', 'data 1 c2s 10+1 #4', 'data 1 c2s 11+2 #6', 'gap 1 c2s 13+3 #6', 'data 1 c2s 16+1 #7', 'end 1']);
  });

  it('delivers held data with gaps and ends every connection at the end of the capture', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'hello', 'PA', 5001));
    push(m.seg('c', 1011, 'xyz', 'PA', 5001));
    push(m.seg('c', 1020, 'q', 'PA', 5001));
    tcp.end();
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+5 #4', 'gap 1 c2s 5+5 #6', 'data 1 c2s 10+3 #5', 'gap 1 c2s 13+6 #6', 'data 1 c2s 19+1 #6', 'end 1']);
    expect(rec.get(1).endTs).toBe(6000);
  });
});

describe('TcpReassembler: resets', () => {
  it('closes both directions on RST after delivering what was held', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    push(m.seg('c', 1001, 'abc', 'PA', 5001));
    push(m.seg('c', 1007, 'xyz', 'PA', 5001));
    push(m.seg('s', 5001, '', 'R'));
    // Stored after the RST but sent before it (per-CPU buffers): it arrives within the hold-back.
    push(m.seg('c', 1010, 'late', 'PA', 5001));
    tcp.end();
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+3 #4', 'close 1 s2c rst #6', 'gap 1 c2s 3+3 #6', 'data 1 c2s 6+3 #5', 'data 1 c2s 9+4 #7', 'close 1 c2s rst #6', 'end 1']);
    expect(rec.connections.size).toBe(1);
    expect(rec.violations).toEqual([]);
  });

  it('closes a direction by its FIN and the other by the RST, once the hold-back is over', () => {
    const { rec, m, push } = setup({ reorderHoldNs: 1e6 });
    handshake(m, push);
    push(m.seg('c', 1001, 'q', 'FPA', 5001));
    push(m.seg('s', 5001, 'r', 'PA', 1003));
    push(m.seg('s', 5002, '', 'RA', 1003));
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+1 #4', 'close 1 c2s fin #4', 'data 1 s2c 0+1 #5']);
    // Any later packet past the hold-back applies the reset (it is absorbed by the finished tuple).
    push(m.seg('c', 1003, '', 'A', 5002, { ts: 2e6 }));
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+1 #4', 'close 1 c2s fin #4', 'data 1 s2c 0+1 #5', 'close 1 s2c rst #6', 'end 1']);
  });

  it('applies a reset at once without a hold-back', () => {
    const { rec, m, push } = setup({ reorderHoldNs: 0 });
    handshake(m, push);
    push(m.seg('c', 1001, 'q', 'FPA', 5001));
    push(m.seg('s', 5001, 'r', 'PA', 1003));
    push(m.seg('s', 5002, '', 'RA', 1003));
    expect(rec.log.slice(1)).toEqual(['data 1 c2s 0+1 #4', 'close 1 c2s fin #4', 'data 1 s2c 0+1 #5', 'close 1 s2c rst #6', 'end 1']);
  });
});

describe('TcpReassembler: bounded memory', () => {
  it('keeps at most the per-direction cap of out-of-order data, declaring holes lost', () => {
    const cap = 64 * 1024;
    const { rec, tcp, m, push } = setup({ maxBufferedBytesPerDirection: cap });
    handshake(m, push);
    const piece = new Uint8Array(1000).fill(7);
    let received = 0;
    // The first 100 bytes never come; every other 1000-byte segment is missing too.
    for (let i = 0; i < 4000; i++) {
      if (i % 2 === 1 && i > 2000) continue;
      push(m.seg('c', 1101 + i * 1000, piece, 'PA', 5001));
      received += 1000;
      const delivered = rec.get(1).c2s.delivered;
      if (received - delivered > cap) throw new Error(`holding ${received - delivered} bytes after segment ${i}`);
    }
    tcp.end();
    const c2s = rec.get(1).c2s;
    expect(c2s.gaps[0]).toEqual([0, 100]);
    expect(c2s.gaps.length).toBe(1 + 999);
    expect(c2s.delivered).toBe(received);
    expect(rec.problems[0]).toMatchObject({
      where: `${WHERE_C2S} offset 0`,
      message: expect.stringContaining('out-of-order data exceeds the reassembly buffer'),
    });
    expect(rec.violations).toEqual([]);
  });

  it('bounds a flood of 1-byte ranges through the per-range overhead', () => {
    const cap = 64 * 1024;
    const { rec, tcp, m, push } = setup({ maxBufferedBytesPerDirection: cap });
    handshake(m, push);
    let received = 0;
    for (let i = 0; i < 20000; i++) {
      push(m.seg('c', 1002 + 2 * i, 'x', 'PA', 5001));
      received++;
      const held = received - rec.get(1).c2s.delivered;
      if (held > cap / 64) throw new Error(`holding ${held} ranges`);
    }
    tcp.end();
    expect(rec.get(1).c2s.gaps.length).toBe(20000);
  });

  it('applies the cap over all connections', () => {
    const { rec, tcp, push } = setup({ maxBufferedBytesPerDirection: 1 << 20, maxBufferedBytes: 100 * 1024 });
    const m1 = new SegmentMaker({ addr: '10.0.0.1', port: 1111 });
    const m2 = new SegmentMaker({ addr: '10.0.0.1', port: 2222 });
    handshake(m1, push);
    handshake(m2, push);
    const piece = new Uint8Array(60 * 1024);
    push(m1.seg('c', 1011, piece, 'PA', 5001));
    push(m2.seg('c', 1011, piece, 'PA', 5001, { packet: 8 }));
    // Connection 2 pushed the total over the cap: its own hole is given up.
    expect(rec.log.slice(2)).toEqual(['gap 2 c2s 0+10 #8', 'data 2 c2s 10+61440 #8']);
    tcp.end();
    expect(rec.log.slice(4)).toEqual(['gap 1 c2s 0+10 #8', 'data 1 c2s 10+61440 #4', 'end 1', 'end 2']);
  });

  it('ends the least recently active connection beyond maxConnections', () => {
    const { rec, tcp, push } = setup({ maxConnections: 2 });
    const makers = [1, 2, 3].map((i) => new SegmentMaker({ addr: '10.0.0.1', port: 1000 + i }));
    handshake(makers[0], push);
    handshake(makers[1], push);
    push(makers[0].seg('c', 1001, 'a', 'PA', 5001)); // connection 1 active again
    push(makers[2].seg('c', 1000, '', 'S'));
    tcp.end();
    expect(rec.log).toEqual([
      'open 1 10.0.0.1:1001→10.0.0.2:6443',
      'open 2 10.0.0.1:1002→10.0.0.2:6443',
      'data 1 c2s 0+1 #4',
      'end 2',
      'open 3 10.0.0.1:1003→10.0.0.2:6443',
      'end 1',
      'end 3',
    ]);
    expect(rec.problems).toMatchObject([
      { where: 'packet 1', message: 'more than 2 TCP connections at once: connection 2 (10.0.0.1:1002, 10.0.0.2:6443) ended early' },
    ]);
  });

  it('keeps ending the least recently active connection after the table was first full', () => {
    const { rec, tcp, push } = setup({ maxConnections: 2 });
    const makers = [1, 2, 3, 4].map((i) => new SegmentMaker({ addr: '10.0.0.1', port: 1000 + i }));
    handshake(makers[0], push);
    handshake(makers[1], push);
    handshake(makers[2], push); // ends connection 1
    push(makers[1].seg('c', 1001, 'a', 'PA', 5001)); // connection 2 active again, after 3
    push(makers[3].seg('c', 1000, '', 'S')); // ends connection 3
    tcp.end();
    expect(rec.log.filter((line) => line.startsWith('end'))).toEqual(['end 1', 'end 3', 'end 2', 'end 4']);
  });
});

describe('TcpReassembler: sink contract', () => {
  it('never calls for a connection before onOpen or after onEnd, whatever the segments', () => {
    fc.assert(fc.property(randomSource, (rand) => anySegments(rand)), fcParams(100));
  });

  /** 400 segments of four connections with whatever flags, sequence numbers and lengths `rand` picks. */
  function anySegments(rand: Random): void {
    {
      const rec = new TcpRecorder();
      const tcp = new TcpReassembler(rec.sink, { maxBufferedBytesPerDirection: 2000, maxConnections: 3, lingerNs: 50_000 });
      const makers = [0, 1, 2, 3].map((i) => new SegmentMaker({ addr: '10.0.0.1', port: 40000 + i }, { addr: '10.0.0.2', port: 80 }));
      const flagsChoices = ['S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', 'FPA', 'SF'];
      for (let i = 0; i < 400; i++) {
        const mk = makers[Math.floor(rand() * makers.length)];
        const seq = Math.floor(rand() * 4000) + (rand() < 0.05 ? 2 ** 31 : 0);
        const len = rand() < 0.3 ? 0 : Math.floor(rand() * 700);
        tcp.push(
          mk.seg(rand() < 0.5 ? 'c' : 's', seq, new Uint8Array(len).fill(65), flagsChoices[Math.floor(rand() * flagsChoices.length)], Math.floor(rand() * 4000), {
            ts: i * 1000,
            missing: rand() < 0.05 ? 10 : 0,
          }),
        );
      }
      tcp.end();
      expect(rec.violations).toEqual([]);
      for (const c of rec.connections.values()) expect(c.ended).toBe(true);
      // Ids are consecutive from 1: every connection created was opened.
      const ids = [...rec.connections.keys()].sort((a, b) => a - b);
      expect(ids).toEqual(ids.map((_, i) => i + 1));
    }
  }

  it('passes connection objects that stay valid and unchanged after the end', () => {
    const { rec, tcp, m, push } = setup();
    handshake(m, push);
    tcp.end();
    const conn: TcpConnection = rec.get(1).conn;
    expect(Object.keys(conn).sort()).toEqual(['client', 'firstPacket', 'id', 'sawHandshake', 'server', 'startTs']);
  });
});

describe('zero windows (flow control)', () => {
  test('a receiver that closes its window, the probes into it and the reopening are reported once each', () => {
    const rec = new TcpRecorder();
    const { tcp, m } = { tcp: new TcpReassembler(rec.sink), m: new SegmentMaker() };
    const push = (seg: TcpSegment) => {
      tcp.push(seg);
      return seg;
    };
    handshake(m, push);
    push(m.seg('c', 1001, 'x'.repeat(100), 'PA', 5001));
    push(m.seg('s', 5001, '', 'A', 1101, { window: 0 }));
    push(m.seg('s', 5001, '', 'A', 1101, { window: 0 }));
    // Linux probes a zero window with the byte before what the peer acknowledged (no data).
    push(m.seg('c', 1100, '', 'A', 5001));
    push(m.seg('c', 1100, '', 'A', 5001));
    push(m.seg('s', 5001, '', 'A', 1101, { window: 512 }));
    push(m.seg('s', 5001, '', 'A', 1101, { window: 512 }));
    const windows = rec.args('onWindow').map(([, dir, change, accepted, packet]) => `${dir} ${change} ${accepted} #${packet}`);
    expect(windows).toEqual(['c2s closed 100 #5', 'c2s probe 100 #7', 'c2s probe 100 #8', 'c2s open 100 #9']);
  });
});
