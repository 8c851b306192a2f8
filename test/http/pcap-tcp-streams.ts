/**
 * Test-only: the TCP byte streams of a classic pcap of Ethernet/IPv4 loopback traffic (the real
 * kubectl captures in fixtures/), so the HTTP parser can be checked against real bytes without
 * depending on the capture and TCP layers. In-order delivery is assumed; retransmitted bytes are trimmed.
 */
import { readFileSync } from 'node:fs';

export interface TcpSegment {
  dir: 'c2s' | 's2c';
  /** Offset of data[0] in the direction's byte stream. */
  offset: number;
  data: Uint8Array;
  packet: number;
  ts: number;
}

export interface TcpStreamCapture {
  client: string;
  server: string;
  segments: TcpSegment[];
  /** Concatenated payload per direction. */
  bytes: { c2s: Uint8Array; s2c: Uint8Array };
}

export function readTcpStreams(path: string): TcpStreamCapture[] {
  const file = readFileSync(path);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${path}: not a little-endian classic pcap`);
  const nano = magic === 0xa1b23c4d;
  if (view.getUint32(20, true) !== 1) throw new Error(`${path}: not Ethernet`);
  const conns = new Map<string, TcpStreamCapture & { next: { c2s: number; s2c: number } }>();
  let firstTs: number | undefined;
  let at = 24;
  for (let packet = 1; at + 16 <= file.length; packet++) {
    const sec = view.getUint32(at, true);
    const frac = view.getUint32(at + 4, true);
    const caplen = view.getUint32(at + 8, true);
    const frame = file.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    const ts = sec * 1e9 + (nano ? frac : frac * 1000);
    firstTs ??= ts;
    if (frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    if (ip[9] !== 6) continue;
    const ihl = (ip[0] & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    const tcp = ip.subarray(ihl, total);
    const src = `${ip.subarray(12, 16).join('.')}:${tcp.readUInt16BE(0)}`;
    const dst = `${ip.subarray(16, 20).join('.')}:${tcp.readUInt16BE(2)}`;
    const seq = tcp.readUInt32BE(4);
    const flags = tcp[13];
    const syn = (flags & 0x02) !== 0;
    const ack = (flags & 0x10) !== 0;
    const payload = tcp.subarray((tcp[12] >> 4) * 4);
    let conn = conns.get(`${src}>${dst}`) ?? conns.get(`${dst}>${src}`);
    if (syn && !ack && conn === undefined) {
      conn = { client: src, server: dst, segments: [], bytes: { c2s: new Uint8Array(0), s2c: new Uint8Array(0) }, next: { c2s: seq + 1, s2c: 0 } };
      conns.set(`${src}>${dst}`, conn);
      continue;
    }
    if (conn === undefined) continue;
    const dir = src === conn.client ? 'c2s' : 's2c';
    if (syn) {
      conn.next[dir] = seq + 1;
      continue;
    }
    if (payload.length === 0) continue;
    const ahead = (seq - conn.next[dir]) | 0;
    if (ahead > 0) throw new Error(`${path}: gap in packet ${packet}`);
    const fresh = payload.subarray(-ahead); // a retransmission repeats bytes already delivered
    if (fresh.length === 0) continue;
    const offset = conn.bytes[dir].length;
    conn.segments.push({ dir, offset, data: Uint8Array.from(fresh), packet, ts: ts - firstTs });
    conn.bytes[dir] = Buffer.concat([conn.bytes[dir], fresh]);
    conn.next[dir] = (seq + payload.length) >>> 0;
  }
  return [...conns.values()].map(({ client, server, segments, bytes }) => ({ client, server, segments, bytes }));
}
