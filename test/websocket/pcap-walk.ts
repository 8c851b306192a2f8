/**
 * Throwaway pcap walk for the WebSocket capture tests: classic pcap, Ethernet, IPv4, TCP, in-order
 * payload per direction (loopback captures have no loss; retransmitted bytes are dropped by sequence).
 * Finds the connection that answered "HTTP/1.1 101" and returns, per direction, the segments after
 * the HTTP heads with their stream offsets, packet numbers and times.
 */
import { readFileSync } from 'node:fs';
import type { Direction } from '../../src/core/origin.js';

export interface Segment {
  dir: Direction;
  data: Uint8Array;
  /** Offset in the direction's TCP byte stream (0 = first byte after the SYN). */
  offset: number;
  packet: number;
  ts: number;
}

interface Flow {
  key: string;
  isn: number | null;
  next: number;
  segments: { data: Uint8Array; offset: number; packet: number; ts: number }[];
}

export function upgradedSegments(path: string): Segment[] {
  const file = new Uint8Array(readFileSync(path));
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error('not a classic pcap');
  if (view.getUint32(20, le) !== 1) throw new Error('expected Ethernet');
  const flows = new Map<string, Flow>();
  let origin: number | null = null;
  let packet = 0;
  for (let p = 24; p + 16 <= file.length; ) {
    packet++;
    const sec = view.getUint32(p, le);
    const frac = view.getUint32(p + 4, le);
    const caplen = view.getUint32(p + 8, le);
    const abs = sec * 1e9 + (nanos ? frac : frac * 1000);
    origin ??= abs;
    const frame = file.subarray(p + 16, p + 16 + caplen);
    p += 16 + caplen;
    if (frame.length < 14 + 20 || frame[12] !== 0x08 || frame[13] !== 0x00) continue;
    const ip = frame.subarray(14);
    const ihl = (ip[0] & 0x0f) * 4;
    const totalLength = (ip[2] << 8) | ip[3];
    if (ip[9] !== 6) continue;
    const tcp = ip.subarray(ihl, totalLength);
    const src = `${ip.subarray(12, 16).join('.')}:${(tcp[0] << 8) | tcp[1]}`;
    const dst = `${ip.subarray(16, 20).join('.')}:${(tcp[2] << 8) | tcp[3]}`;
    const seq = ((tcp[4] << 24) | (tcp[5] << 16) | (tcp[6] << 8) | tcp[7]) >>> 0;
    const flags = tcp[13];
    const payload = tcp.subarray((tcp[12] >> 4) * 4);
    const key = `${src}>${dst}`;
    let flow = flows.get(key);
    if (!flow) flows.set(key, (flow = { key, isn: null, next: 0, segments: [] }));
    if (flags & 0x02) {
      flow.isn = seq;
      continue;
    }
    if (flow.isn === null || payload.length === 0) continue;
    const offset = (seq - flow.isn - 1) >>> 0;
    if (offset + payload.length <= flow.next) continue;
    if (offset !== flow.next) throw new Error(`${key}: hole at ${flow.next} (packet ${packet})`);
    flow.segments.push({ data: payload, offset, packet, ts: abs - origin });
    flow.next = offset + payload.length;
  }
  for (const s2c of flows.values()) {
    const head = headEnd(s2c);
    if (head === null || !startsWith(s2c, 'HTTP/1.1 101')) continue;
    const [src, dst] = s2c.key.split('>');
    const c2s = flows.get(`${dst}>${src}`)!;
    const c2sHead = headEnd(c2s)!;
    const out: Segment[] = [];
    for (const [dir, flow, start] of [['c2s', c2s, c2sHead], ['s2c', s2c, head]] as const) {
      for (const seg of flow.segments) {
        if (seg.offset + seg.data.length <= start) continue;
        const skip = Math.max(0, start - seg.offset);
        out.push({ dir, data: seg.data.subarray(skip), offset: seg.offset + skip, packet: seg.packet, ts: seg.ts });
      }
    }
    return out.sort((a, b) => a.packet - b.packet);
  }
  throw new Error('no HTTP 101 in capture');
}

function startsWith(flow: Flow, text: string): boolean {
  return flow.segments.length > 0 && new TextDecoder().decode(flow.segments[0].data.subarray(0, text.length)) === text;
}

/** Stream offset just past the first "\r\n\r\n". */
function headEnd(flow: Flow): number | null {
  let tail = '';
  for (const seg of flow.segments) {
    const text = tail + Buffer.from(seg.data).toString('latin1');
    const i = text.indexOf('\r\n\r\n');
    if (i >= 0) return seg.offset - tail.length + i + 4;
    tail = text.slice(-3);
  }
  return null;
}
