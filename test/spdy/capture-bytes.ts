/**
 * Throwaway extraction for the SPDY tests: walks a classic little-endian pcap of Ethernet/IPv4/TCP on
 * loopback (no loss, so naive in-order concatenation by sequence number is enough) and returns, for
 * the connection that upgraded to SPDY/3.1, each direction's segments after the HTTP exchange.
 */
import { readFileSync } from 'node:fs';
import type { Direction, StreamOrigin } from '../../src/core/origin.js';

export interface Segment {
  data: Uint8Array;
  origin: StreamOrigin;
}

interface Flow {
  nextSeq: number | null;
  offset: number;
  segments: Segment[];
}

export function spdySegmentsFromPcap(path: string): Record<Direction, Segment[]> {
  const file = readFileSync(path);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0, true) !== 0xa1b2c3d4) throw new Error('expected a little-endian microsecond pcap');
  const flows = new Map<string, Flow>();
  let at = 24;
  let index = 0;
  let origin: number | null = null;
  while (at + 16 <= file.length) {
    index++;
    const tsNs = view.getUint32(at, true) * 1e9 + view.getUint32(at + 4, true) * 1e3;
    origin ??= tsNs;
    const incl = view.getUint32(at + 8, true);
    const p = file.subarray(at + 16, at + 16 + incl);
    at += 16 + incl;
    if (p.readUInt16BE(12) !== 0x0800) continue;
    const ip = p.subarray(14);
    if (ip[9] !== 6) continue;
    const ihl = (ip[0]! & 15) * 4;
    const tcp = ip.subarray(ihl, ip.readUInt16BE(2));
    const key = `${tcp.readUInt16BE(0)}>${tcp.readUInt16BE(2)}`;
    const seq = tcp.readUInt32BE(4);
    const syn = (tcp[13]! & 0x02) !== 0;
    const payload = tcp.subarray((tcp[12]! >> 4) * 4);
    let flow = flows.get(key);
    if (!flow || syn) {
      flow = { nextSeq: null, offset: 0, segments: [] };
      flows.set(key, flow);
    }
    if (syn) {
      flow.nextSeq = (seq + 1) >>> 0;
      continue;
    }
    if (payload.length === 0 || flow.nextSeq === null || seq !== flow.nextSeq) continue;
    flow.nextSeq = (seq + payload.length) >>> 0;
    flow.segments.push({ data: payload, origin: { offset: flow.offset, length: payload.length, packet: index, ts: tsNs - origin } });
    flow.offset += payload.length;
  }
  for (const [key, s2c] of flows) {
    const [from, to] = key.split('>');
    const first = s2c.segments[0];
    if (!first || !Buffer.from(first.data).toString('latin1').startsWith('HTTP/1.1 101')) continue;
    const c2s = flows.get(`${to}>${from}`)!;
    return { c2s: afterHttpHead(c2s.segments), s2c: afterHttpHead(s2c.segments) };
  }
  throw new Error(`no HTTP 101 connection in ${path}`);
}

/** The segments after the first HTTP head (no body: the upgrade request and the 101 have none). */
function afterHttpHead(segments: Segment[]): Segment[] {
  const all = Buffer.concat(segments.map((s) => s.data));
  const end = all.indexOf('\r\n\r\n') + 4;
  const out: Segment[] = [];
  for (const s of segments) {
    const skip = Math.max(0, end - s.origin.offset);
    if (skip >= s.data.length) continue;
    const data = s.data.subarray(skip);
    out.push({ data, origin: { ...s.origin, offset: s.origin.offset + skip, length: data.length } });
  }
  return out;
}
