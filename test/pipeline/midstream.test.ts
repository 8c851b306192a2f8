/**
 * Captures that start mid-connection: the framing that explains the most bytes wins (SPDY, WebSocket,
 * HTTP/2, TLS); bytes nothing explains stay undecoded instead of becoming a made-up exec session.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import { records, rng } from '../kit/capture-mutations.js';
import { analyzeBytes, pcapOf } from '../helpers/synthetic-capture.js';

/** The capture without its first `drop` packet records. */
function withoutFirst(path: string, drop: number): Buffer {
  const b = readFileSync(path);
  const rec = records(b)!;
  return Buffer.concat([b.subarray(0, rec.header), ...rec.records.slice(drop).map(([s, e]) => b.subarray(s, e))]);
}

test('a SPDY exec picked up after its SYN_STREAMs, in the middle of stdin DATA frames, is SPDY with its streams', () => {
  // Record 60 of this kubectl capture falls inside the 5000-byte stdin, whose bytes look like WebSocket frames.
  const m = analyzeBytes(withoutFirst(join(process.cwd(), 'fixtures', 'spdy-stdin-pcapng.pcapng'), 60));
  expect(m.sessions).toHaveLength(1);
  const s = m.sessions[0];
  expect(s.transport).toBe('spdy');
  expect(s.streams.map((r) => r.name).sort()).toEqual(['error', 'stderr', 'stdin', 'stdout']);
  expect(s.streams.find((r) => r.name === 'stdout')?.bytes).toBe(5);
  expect(s.warnings.map((w) => w.code)).toContain('pipeline.started-midstream');
});

// Two tiny WebSocket control frames chain by chance about once in 30,000 offsets, so 9000 bytes of
// noise once became a fake WebSocket exec session one time in four (50 of seeds 1-200).
test('bytes no framing explains stay unknown: no session, on 300 different noises', () => {
  const found: string[] = [];
  for (let seed = 1; seed <= 300; seed++) {
    const tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 40001 }, { ip: '10.0.0.1', port: 10250 }, 1448);
    const r = rng(seed);
    const noise = () => Uint8Array.from({ length: 3000 }, () => r.int(256));
    // No handshake: the capture starts mid-connection.
    const frames = [...tcp.send('c2s', noise()), ...tcp.send('s2c', noise()), ...tcp.send('c2s', noise())];
    const m = analyzeBytes(pcapOf(frames));
    const protocol = m.connections.map((c) => c.protocol).join();
    if (m.sessions.length || protocol !== 'unknown') found.push(`seed ${seed}: ${protocol}, ${m.sessions.length} sessions`);
    else expect(m.warnings.map((w) => w.code)).toContain('pipeline.midstream-undecoded');
  }
  expect(found).toEqual([]);
});

const GRPC = join(process.cwd(), '..', 'shared', 'outside-captures', 'suricata-verify', 'http2-errorcode__input.pcap');
(existsSync(GRPC) ? test : test.skip)('gRPC (HTTP/2 without its preface) picked up mid-connection is gRPC on HTTP/2, not a WebSocket exec', () => {
  for (const drop of [12, 16, 20]) {
    const m = analyzeBytes(withoutFirst(GRPC, drop));
    expect(m.sessions).toEqual([]);
    expect(m.connections.map((c) => c.protocol)).toContain('grpc');
    expect(m.connections.map((c) => c.protocol)).not.toContain('websocket');
  }
});
