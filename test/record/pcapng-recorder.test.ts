import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngRecorder, RecordingClock, RecordingFeed } from '../../src/record/pcapng-recorder.js';
import { decodeWithCuts } from '../capture/collect-capture.js';

interface Segment {
  iface: number;
  ts: number;
  src: string;
  dst: string;
  seq: number;
  ack: number;
  flags: string;
  payload: Buffer;
}

function segments(bytes: Uint8Array): { segs: Segment[]; names: string[]; secrets: string[] } {
  const decoded = decodeWithCuts(bytes);
  expect(decoded.error).toBeNull();
  const names: string[] = [];
  const secrets: string[] = [];
  for (const e of decoded.events) {
    if (e.kind === 'interface') names.push(e.iface.name ?? '');
    if (e.kind === 'secrets') {
      expect(e.secretsType).toBe(0x544c534b);
      secrets.push(Buffer.from(e.data).toString());
    }
  }
  const segs = decoded.packets.map((p) => {
    const b = Buffer.from(p.data);
    expect(b.readUInt16BE(12)).toBe(0x0800);
    const ip = 14;
    const tcp = ip + 20;
    const total = b.readUInt16BE(ip + 2);
    const flagBits = b[tcp + 13];
    return {
      iface: p.interfaceId,
      ts: p.ts,
      src: `${[...b.subarray(ip + 12, ip + 16)].join('.')}:${b.readUInt16BE(tcp)}`,
      dst: `${[...b.subarray(ip + 16, ip + 20)].join('.')}:${b.readUInt16BE(tcp + 2)}`,
      seq: b.readUInt32BE(tcp + 4),
      ack: b.readUInt32BE(tcp + 8),
      flags: [...'FSRPA'].filter((_, i) => flagBits & (1 << i)).join(''),
      payload: b.subarray(tcp + 20, ip + total),
    };
  });
  return { segs, names, secrets };
}

describe('PcapngRecorder', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pcapng-recorder-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('one named interface per hop; handshake, data cut at the loopback MSS, FINs, RST, key log', async () => {
    const path = join(dir, 'r.pcapng');
    const rec = new PcapngRecorder(
      path,
      [
        { name: 'kubectl→apiserver', description: 'first hop' },
        { name: 'apiserver→kubelet', description: 'second hop' },
      ],
      new RecordingClock(),
    );
    const a = rec.connection(0, { ip: '127.0.0.1', port: 40000 }, { ip: '127.0.0.1', port: 6443 });
    rec.keyLog('CLIENT_RANDOM 00 11\n');
    a.data('c2s', Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const big = Buffer.alloc(100_000, 7);
    a.data('s2c', big);
    a.fin('s2c');
    a.fin('s2c'); // a second FIN from the same side is not recorded
    a.fin('c2s');
    a.data('c2s', Buffer.from('late')); // after both FINs: nothing more
    const b = rec.connection(1, { ip: '127.0.0.1', port: 40001 }, { ip: '127.0.0.1', port: 10250 });
    b.data('c2s', Buffer.from('x'));
    b.reset('s2c');
    b.fin('c2s');
    await rec.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const { segs, names, secrets } = segments(readFileSync(path));
    expect(names).toEqual(['kubectl→apiserver', 'apiserver→kubelet']);
    expect(secrets).toEqual(['CLIENT_RANDOM 00 11\n']);
    const first = segs.filter((s) => s.iface === 0);
    expect(first.map((s) => [s.src.endsWith(':40000') ? 'c' : 's', s.flags, s.payload.length])).toEqual([
      ['c', 'S', 0],
      ['s', 'SA', 0],
      ['c', 'A', 0],
      ['c', 'PA', 18],
      ['s', 'A', 65483],
      ['s', 'PA', 100_000 - 65483],
      ['s', 'FA', 0],
      ['c', 'FA', 0],
      ['s', 'A', 0],
    ]);
    // Sequence numbers: SYN and FIN take one, payload its length; every ACK acknowledges the peer's next byte.
    const [syn, synAck, , req, out1, out2, finS, finC, lastAck] = first;
    expect(synAck.ack).toBe((syn.seq + 1) >>> 0);
    expect(req.seq).toBe((syn.seq + 1) >>> 0);
    expect(out1.seq).toBe((synAck.seq + 1) >>> 0);
    expect(out1.ack).toBe((req.seq + 18) >>> 0);
    expect(out2.seq).toBe((out1.seq + 65483) >>> 0);
    expect(finS.seq).toBe((out2.seq + out2.payload.length) >>> 0);
    expect(finC.ack).toBe((finS.seq + 1) >>> 0);
    expect(lastAck.ack).toBe((finC.seq + 1) >>> 0);
    expect(Buffer.concat([out1.payload, out2.payload]).equals(big)).toBe(true);
    for (let i = 1; i < first.length; i++) expect(first[i].ts).toBeGreaterThanOrEqual(first[i - 1].ts);

    const second = segs.filter((s) => s.iface === 1);
    expect(second.map((s) => s.flags)).toEqual(['S', 'SA', 'A', 'PA', 'RA']);
    expect(second[0].dst).toBe('127.0.0.1:10250');
  });

  test('timestamps are wall-clock nanoseconds', () => {
    const clock = new RecordingClock();
    const before = BigInt(Date.now()) * 1_000_000n;
    const t = clock.nowNs();
    expect(t).toBeGreaterThanOrEqual(before - 5_000_000n);
    expect(t).toBeLessThan(before + 5_000_000_000n);
    expect(clock.nowNs()).toBeGreaterThanOrEqual(t);
  });

  test('an existing file becomes 0600; past the queue bound data is left out as a TCP gap of its exact length', async () => {
    const path = join(dir, 'r.pcapng');
    writeFileSync(path, 'old', { mode: 0o644 });
    let overflowed = 0;
    const rec = new PcapngRecorder(path, [{ name: 'hop', description: '' }], new RecordingClock(), {
      maxQueuedBytes: 200_000,
      onOverflow: (n) => (overflowed = n),
    });
    const c = rec.connection(0, { ip: '127.0.0.1', port: 40000 }, { ip: '127.0.0.1', port: 80 });
    c.data('c2s', Buffer.alloc(150_000, 1)); // fits
    c.data('c2s', Buffer.alloc(100_000, 2)); // would pass the bound: left out
    await rec.flushed();
    c.data('c2s', Buffer.alloc(10, 3)); // the disk caught up: recorded again
    c.fin('c2s');
    await rec.close();
    expect(overflowed).toBe(100_000);
    expect(rec.droppedBytes).toBe(100_000);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const data = segments(readFileSync(path)).segs.filter((s) => s.payload.length > 0);
    expect(data.map((s) => s.payload[0])).toEqual([1, 1, 1, 3]); // 150 000 bytes: three loopback-MSS segments
    const last = data[3];
    expect(last.seq).toBe((data[2].seq + data[2].payload.length + 100_000) >>> 0);
  });

  test('a feed gets the file\'s bytes in order, each chunk once it is on disk, and ends at close', async () => {
    const path = join(dir, 'r.pcapng');
    const feed = new RecordingFeed();
    const rec = new PcapngRecorder(path, [{ name: 'hop', description: '' }], new RecordingClock(), { feed });
    const fed: Buffer[] = [];
    const onDiskWhenFed: boolean[] = [];
    const reading = (async () => {
      for await (const chunk of feed) {
        const length = fed.reduce((n, c) => n + c.length, 0) + chunk.length;
        onDiskWhenFed.push(statSync(path).size >= length);
        fed.push(Buffer.from(chunk));
      }
    })();
    const c = rec.connection(0, { ip: '127.0.0.1', port: 40000 }, { ip: '127.0.0.1', port: 80 });
    c.data('c2s', Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await rec.flushed();
    c.data('s2c', Buffer.alloc(200_000, 7));
    c.fin('s2c');
    c.fin('c2s');
    await rec.close();
    await reading;
    expect(fed.length).toBeGreaterThanOrEqual(2);
    expect(onDiskWhenFed.every(Boolean)).toBe(true);
    expect(Buffer.concat(fed).equals(readFileSync(path))).toBe(true);
  });

  test('without a file, only the feed; a reader that falls behind makes the recorder leave bytes out as a gap', async () => {
    const feed = new RecordingFeed();
    let overflowed = 0;
    const rec = new PcapngRecorder(null, [{ name: 'hop', description: '' }], new RecordingClock(), { feed, maxQueuedBytes: 200_000, onOverflow: (n) => (overflowed = n) });
    const c = rec.connection(0, { ip: '127.0.0.1', port: 40000 }, { ip: '127.0.0.1', port: 80 });
    c.data('c2s', Buffer.alloc(150_000, 1));
    await rec.flushed(); // in the feed, not read yet: still counted
    expect(feed.bufferedBytes).toBeGreaterThan(150_000);
    c.data('c2s', Buffer.alloc(100_000, 2)); // would pass the bound: left out
    const fed: Buffer[] = [];
    for await (const chunk of { [Symbol.asyncIterator]: () => feed[Symbol.asyncIterator]() }) {
      fed.push(Buffer.from(chunk));
      if (feed.bufferedBytes === 0) break;
    }
    c.data('c2s', Buffer.alloc(10, 3)); // the reader caught up: recorded again
    c.fin('c2s');
    const rest = (async () => {
      for await (const chunk of feed) fed.push(Buffer.from(chunk));
    })();
    await rec.close();
    await rest;
    expect(overflowed).toBe(100_000);
    const data = segments(Buffer.concat(fed)).segs.filter((s) => s.payload.length > 0);
    expect(data.map((s) => s.payload[0])).toEqual([1, 1, 1, 3]);
    expect(data[3].seq).toBe((data[2].seq + data[2].payload.length + 100_000) >>> 0);
  });
});
