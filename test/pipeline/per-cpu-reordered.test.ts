/**
 * Captures written by eBPF tools (ptcpdump and the like) come from per-CPU buffers flushed one after
 * the other, so a data segment may be stored after the segment that acknowledges it, and a response
 * before its request (docs: ../shared/PROTOCOL.md §2.18). These tests rebuild that shape from a real
 * dumpcap recording of kubectl exec -i (fixtures/spdy-stdin-pcapng.pcapng): the records of each
 * flush window are written CPU by CPU, the server's side (CPU 1) first. TCP reassembly must give the
 * bytes tshark reassembles, with no gap, and the session must decode as from the original.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import { PacketDecoder } from '../../src/net/packet-decoder.js';
import { isTcpAnalysis } from '../../src/net/problems.js';
import { TcpReassembler } from '../../src/net/tcp-reassembly.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { records } from '../kit/capture-mutations.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { TcpRecorder } from '../net/tcp-recorder.js';

const ORIGINAL = 'fixtures/spdy-stdin-pcapng.pcapng';
const SERVER_PORT = 18112;

/** The records of each window of `window` records, the server's first (they sat on another CPU's buffer). */
function perCpuFlushed(file: Buffer, window: number): Buffer {
  const rec = records(file)!;
  const serverSent = ([start]: [number, number]) => {
    // pcapng EPB: 28-byte block header, then Ethernet (14), IPv4, TCP source port.
    const ip = start + 28 + 14;
    return file.readUInt16BE(ip + (file[ip] & 0x0f) * 4) === SERVER_PORT;
  };
  const order: [number, number][] = [];
  for (let i = 0; i < rec.records.length; i += window) {
    const w = rec.records.slice(i, i + window);
    order.push(...w.filter(serverSent), ...w.filter((r) => !serverSent(r)));
  }
  return Buffer.concat([file.subarray(0, rec.header), ...order.map(([s, e]) => file.subarray(s, e))]);
}

/** Each connection's two byte streams, keyed by the client's port, and every gap. */
function reassemble(file: Buffer) {
  const rec = new TcpRecorder();
  const tcp = new TcpReassembler(rec.sink);
  const packets = new PacketDecoder({ onSegment: (seg) => tcp.push(seg) });
  const capture = new CaptureDecoder({ onPacket: (p) => packets.push(p) });
  capture.push(file);
  capture.end();
  packets.end();
  tcp.end();
  const streams = new Map<string, { c2s: string; s2c: string }>();
  const gaps: string[] = [];
  for (const [id, c] of rec.connections) {
    const port = c.conn.client.split(':').pop()!;
    streams.set(port, { c2s: Buffer.from(rec.bytesOf(id, 'c2s')).toString('hex'), s2c: Buffer.from(rec.bytesOf(id, 's2c')).toString('hex') });
    for (const dir of ['c2s', 's2c'] as const) for (const [offset, length] of c[dir].gaps) gaps.push(`${c.conn.client} ${dir} ${offset}+${length}`);
  }
  return { streams, gaps, violations: rec.violations };
}

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore', timeout: 60_000 }).status === 0;

/** tshark's own reassembly of every TCP stream (`-z follow,tcp,raw`), keyed by the client's port. */
function tsharkStreams(path: string): Map<string, { c2s: string; s2c: string }> {
  const ports = execFileSync('tshark', ['-r', path, '-Y', 'tcp.flags.syn==1 && tcp.flags.ack==0', '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.srcport'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
  const out = new Map<string, { c2s: string; s2c: string }>();
  for (const line of ports.trim().split('\n')) {
    const [stream, clientPort] = line.split('\t');
    const text = execFileSync('tshark', ['-r', path, '-q', '-z', `follow,tcp,raw,${stream}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
    // Node 0 sent the stream's first packet: its lines are unindented, the other node's start with a tab.
    const node0Port = /^Node 0: .*:(\d+)$/m.exec(text)![1];
    const node0 = (node0Port === clientPort ? 'c2s' : 's2c') as 'c2s' | 's2c';
    const bytes = { c2s: '', s2c: '' };
    const body = text.split(/^Node 1: .*$/m)[1].split(/^=+$/m)[0];
    for (const l of body.split('\n')) {
      if (!l.trim()) continue;
      const dir = l.startsWith('\t') ? (node0 === 'c2s' ? 's2c' : 'c2s') : node0;
      bytes[dir] += l.trim();
    }
    out.set(clientPort, bytes);
  }
  return out;
}

describe('captures whose records were flushed per CPU (eBPF capture tools)', () => {
  const original = readFileSync(ORIGINAL);
  const dir = tempDirForTests('execscope-per-cpu-');
  const before = reassemble(original);

  it.each([3, 4, 8, 32])('reassembles the same bytes as the capture in order, with no gap (flush window %i records)', (window) => {
    const reordered = perCpuFlushed(original, window);
    expect(reordered.equals(original)).toBe(false);
    const after = reassemble(reordered);
    expect(after.violations).toEqual([]);
    expect(after.gaps).toEqual([]);
    expect(after.streams).toEqual(before.streams);
  });

  (hasTshark ? it : it.skip)('gives the bytes tshark reassembles from the reordered file', () => {
    const path = join(dir, 'per-cpu-4.pcapng');
    writeFileSync(path, perCpuFlushed(original, 4));
    const ours = reassemble(readFileSync(path)).streams;
    const theirs = tsharkStreams(path);
    expect(theirs.size).toBe(ours.size);
    for (const [port, bytes] of theirs) expect({ port, ...ours.get(port) }).toEqual({ port, ...bytes });
  });

  it('decodes the exec session as from the original: stdin 5000 B, no decoding warning', async () => {
    const path = join(dir, 'per-cpu-8.pcapng');
    writeFileSync(path, perCpuFlushed(original, 8));
    const opts = () => analyzeOptions({ hash: true, hasher: new InlineStreamHasher() });
    const [want, got] = await Promise.all([analyzeCapture(ORIGINAL, opts()), analyzeCapture(path, opts())]);
    // TCP analysis sees the reordering, as tshark does (ACKed unseen segments, spurious retransmissions); nothing else may differ.
    const decoding = (m: typeof got) => m.warnings.filter((w) => !isTcpAnalysis(w.code)).map((w) => `${w.code} ${w.message}`);
    expect(decoding(got)).toEqual(decoding(want));
    expect(got.warnings.some((w) => w.code === 'tcp.acked-unseen-segment')).toBe(true);
    expect(got.sessions).toHaveLength(1);
    const streams = (m: typeof got) => m.sessions[0].streams.map((s) => ({ name: s.name, bytes: s.bytes, sha256: s.sha256 }));
    expect(streams(got)).toEqual(streams(want));
    expect(streams(got).find((s) => s.name === 'stdin')?.bytes).toBe(5000);
  });
});
