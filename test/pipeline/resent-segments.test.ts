/**
 * The Event pane's packets are those whose bytes reassembly used, when the capture holds a segment
 * twice or out of order. Built from a real dumpcap recording of kubectl exec -i (no capture we have
 * holds a retransmission or reordering of its own): one of kubectl's SYN_STREAMs, written as a header
 * segment then a body segment, has its two segments swapped in the file, or one of them stored again
 * two records later. Then kubectl port-forward's tunnel over TLS (the lab's recording) with a packet of
 * a tunnelled frame's records sent again, read back with the keys and without. tshark is the judge:
 * its sequence numbers say which frames hold the event's bytes, its tcp.analysis flags which of them are copies.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameOrigin } from '../../src/core/origin.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { records } from '../kit/capture-mutations.js';
import { hasTshark, tsharkRows, tsharkTunnel, tunnelledCarriers } from '../kit/tshark.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';

if (!hasTshark) console.warn('SKIPPED: tshark is not installed: resent and reordered segments were not checked against its analysis');
const maybe = hasTshark ? it : it.skip;

const ORIGINAL = join(process.cwd(), 'fixtures', 'spdy-stdin-pcapng.pcapng');
const port = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
const COPY_FLAGS = ['tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.analysis.spurious_retransmission'] as const;

/**
 * The data frames of one direction as tshark numbers them, with their stream range (its relative
 * sequence numbers), the retransmission flag its analysis raised if any, and whether all their bytes
 * came in an earlier frame of the file (a copy: reassembly uses the first).
 */
function tsharkSegments(path: string, src: number, dst: number) {
  const seen: [number, number][] = [];
  return tsharkRows(path, `tcp.srcport == ${src} && tcp.dstport == ${dst} && tcp.len > 0`, ['frame.number', 'tcp.seq', 'tcp.len', ...COPY_FLAGS]).map(([frame, seq, len, ...flags]) => {
    const start = Number(seq) - 1;
    const end = start + Number(len);
    // Covered by the union of earlier frames' ranges, byte by byte (the streams here are small).
    let copy = true;
    for (let b = start; b < end && copy; b++) copy = seen.some(([x, y]) => x <= b && b < y);
    seen.push([start, end]);
    return { frame: Number(frame), start, end, copy, flag: COPY_FLAGS.find((_, i) => flags[i] !== '')?.replace('tcp.analysis.', 'tcp.').replace('_', '-') ?? null };
  });
}

/** The file with its packet records rearranged: `order` lists the original record indexes (0-based) in their new order. */
function rearranged(file: Buffer, order: (recs: number) => number[]): Buffer {
  const r = records(file)!;
  return Buffer.concat([file.subarray(0, r.header), ...order(r.records.length).map((i) => file.subarray(...r.records[i]))]);
}

/**
 * The pcapng with packet record `again` (0-based, an Enhanced Packet Block) sent again `later` packet
 * records after it, at the time of the record before it (a retransmission, not a segment stored out
 * of order); every other block where it was (the lab's Decryption Secrets Blocks come between packets).
 */
function storedAgain(file: Buffer, again: number, later: number): Buffer {
  const r = records(file)!;
  const copy = Buffer.from(file.subarray(...r.records[again]));
  const [start, after] = r.records[again + later];
  // The timestamp's two words follow the block type, length and interface id.
  file.copy(copy, 12, start + 12, start + 20);
  return Buffer.concat([file.subarray(0, after), copy, file.subarray(after)]);
}

async function everyEvent(path: string) {
  const model = await analyzeCapture(path, analyzeOptions());
  const s = model.sessions[0];
  const conn = model.connections.find((c) => c.id === s.connectionId)!;
  const truth = {
    c2s: tsharkSegments(path, port(conn.client), port(conn.server)),
    s2c: tsharkSegments(path, port(conn.server), port(conn.client)),
  };
  const read = createCaptureInspector(path);
  const out = [];
  for (const e of [...s.streams.flatMap((r) => r.events), ...s.control].filter((x) => x.origin && x.origin.length > 0)) {
    const o = e.origin as FrameOrigin;
    const holding = truth[e.dir].filter((g) => g.start < o.offset + o.length && o.offset < g.end);
    const unit = await read({ connectionId: s.connectionId, dir: e.dir, origin: o });
    out.push({ e, o, holding, unit });
  }
  return { model, s, out };
}

describe('segments stored twice or out of order (kubectl exec -i, dumpcap)', () => {
  const dir = tempDirForTests('execscope-resent-');
  const original = readFileSync(ORIGINAL);
  let pair: [number, number];

  beforeAll(async () => {
    if (!hasTshark) return;
    // An event written in two segments of its direction, one after the other in the file.
    const { out } = await everyEvent(ORIGINAL);
    const split = out.find((x) => x.holding.length === 2 && x.holding[1].frame === x.holding[0].frame + 1)!;
    // kubectl's SPDY writes: a frame's 8-byte header, then its body (here a 4-byte DATA payload).
    expect(split).toBeDefined();
    pair = [split.holding[0].frame - 1, split.holding[1].frame - 1];
  });

  maybe('the original: every event’s packets are the frames tshark has its bytes in, none a copy', async () => {
    const { out } = await everyEvent(ORIGINAL);
    for (const { holding, unit } of out) {
      expect(holding.every((g) => !g.copy && g.flag === null)).toBe(true);
      expect(unit.carriers.map((c) => c.packet.index)).toEqual(holding.map((g) => g.frame));
      expect(unit.resent).toEqual([]);
    }
  });

  maybe('the two segments swapped: both are the event’s packets (the later in the file too), its bytes whole', async () => {
    const path = join(dir, 'swapped.pcapng');
    writeFileSync(path, rearranged(original, (n) => Array.from({ length: n }, (_, i) => (i === pair[0] ? pair[1] : i === pair[1] ? pair[0] : i))));
    const { out } = await everyEvent(path);
    const swapped = out.find((x) => x.holding.some((g) => g.frame === pair[0] + 1))!;
    expect(swapped.holding.map((g) => g.frame).sort()).toEqual([pair[0] + 1, pair[1] + 1]);
    for (const { holding, unit, o } of out) {
      // Reassembly delivers them in stream order; the pane lists them so.
      expect(unit.carriers.map((c) => c.packet.index)).toEqual(holding.filter((g) => !g.copy).sort((a, b) => a.start - b.start).map((g) => g.frame));
      expect(unit.bytes.length).toBe(o.length);
    }
    // The header segment, stored after the body, goes back in the sequence: tshark calls it a retransmission,
    // our analysis out of order (its time is before the body's); either way reassembly used it, the only copy.
    const back = swapped.holding.find((g) => g.frame === pair[1] + 1)!;
    expect(back.flag).toBe('tcp.retransmission');
    expect(swapped.unit.carriers.find((c) => c.packet.index === back.frame)!.analysis.map((p) => p.code)).toEqual(['tcp.out-of-order']);
    expect(swapped.unit.resent).toEqual([]);
  });

  maybe('a segment stored again two records later: the packet reassembly used, and the copy named with tshark’s flag', async () => {
    const path = join(dir, 'resent.pcapng');
    const again = pair[1];
    writeFileSync(path, rearranged(original, (n) => Array.from({ length: n }, (_, i) => i).flatMap((i) => (i === again + 2 ? [i, again] : [i]))));
    const { model, s, out } = await everyEvent(path);
    const copyFrame = again + 4;
    const hit = out.find((x) => x.holding.some((g) => g.frame === copyFrame))!;
    expect(hit).toBeDefined();
    const copy = hit.holding.find((g) => g.frame === copyFrame)!;
    expect(copy).toMatchObject({ copy: true, flag: expect.stringMatching(/retransmission$/) });
    for (const { holding, unit, o } of out) {
      expect(unit.carriers.map((c) => c.packet.index)).toEqual(holding.filter((g) => !g.copy).map((g) => g.frame));
      const copies = holding.filter((g) => g.copy);
      // tshark flags the copy a retransmission; our analysis, having seen the receiver acknowledge those bytes, a spurious one.
      expect(unit.resent).toEqual(copies.map((g) => ({ packet: g.frame, code: expect.stringMatching(/^tcp\.(spurious-)?retransmission$/), offset: Math.max(g.start, o.offset), length: Math.min(g.end, o.offset + o.length) - Math.max(g.start, o.offset) })));
    }
    expect(hit.unit.resent[0].code).toBe('tcp.spurious-retransmission');
    // The TCP layer says so.
    const tcp = (await createEventInspector(createCaptureInspector(path), model)(s, hit.e)).find((l) => l.kind === 'tcp')!;
    expect(tcp.lines).toContain(`packet ${copyFrame} also carried stream bytes ${copy.start}–${copy.end - 1} (${copy.end - copy.start} B): tcp.spurious-retransmission, a copy reassembly did not use`);
  });
});

describe('port-forward’s tunnel over TLS with a segment stored again (kubectl 1.32 through the lab)', () => {
  const PF = join(process.cwd(), 'fixtures', 'lab', 'lab-ws-portforward.pcapng');
  const dir = tempDirForTests('execscope-resent-tls-');

  maybe('a tunnelled frame’s packets are those reassembly used, the copy of its records’ bytes named — with the keys and without', async () => {
    const first = await analyzeCapture(PF, analyzeOptions({ keys: new TlsKeyLog() }));
    const s0 = first.sessions.find((x) => x.protocol === 'SPDY/3.1+portforward.k8s.io')!;
    const conn0 = first.connections.find((c) => c.id === s0.connectionId)!;
    const server = port(conn0.server);
    const client = port(conn0.client);
    // The apiserver's frame of the tunnel whose records crossed several packets: its first packet is sent again.
    const truth0 = tsharkTunnel(PF, server, client);
    const e0 = s0.streams.flatMap((r) => r.events).find((e) => e.dir === 's2c' && e.origin && tunnelledCarriers(truth0, e.origin.offset, e.origin.length).packets.length > 1)!;
    const again = tunnelledCarriers(truth0, e0.origin!.offset, e0.origin!.length).packets[0] - 1;
    const path = join(dir, 'resent.pcapng');
    // Sent again after the capture's last packet: within 3 ms of the bytes before it, it would be out of order.
    const original = readFileSync(PF);
    const last = records(original)!.records.length;
    writeFileSync(path, storedAgain(original, again, last - 1 - again));
    const copyFrame = last + 1;
    const keys = new TlsKeyLog();
    const model = await analyzeCapture(path, analyzeOptions({ keys }));
    const s = model.sessions.find((x) => x.protocol === 'SPDY/3.1+portforward.k8s.io')!;
    const conn = model.connections.find((c) => c.id === s.connectionId)!;
    const e = s.streams.flatMap((r) => r.events).find((x) => x.dir === 's2c' && x.origin?.offset === e0.origin!.offset)!;
    const o = e.origin!;
    const { packets, holding } = tunnelledCarriers(tsharkTunnel(path, server, client), o.offset, o.length);
    // tshark's copies of the direction whose bytes lie in the records holding the frame's, each named with the first
    // record it overlaps (tshark's records list the copy among their frames when it calls it a spurious retransmission).
    const copies = tsharkSegments(path, server, client).filter((g) => g.copy);
    expect(copies.map((g) => g.frame)).toEqual([copyFrame]);
    const expectedResent = copies.flatMap((g) => {
      const r = holding.find((x) => x.offset < g.end && g.start < x.offset + x.length);
      return r ? [{ packet: g.frame, code: expect.stringMatching(/^tcp\.(spurious-)?retransmission$/), offset: Math.max(g.start, r.offset), length: Math.min(g.end, r.offset + r.length) - Math.max(g.start, r.offset) }] : [];
    });
    expect(expectedResent).toHaveLength(1);
    const from = s.control.find((c) => c.kind === 'upgrade')!.origin!;
    const query = {
      connectionId: s.connectionId,
      dir: 's2c' as const,
      origin: o,
      tunnel: { from: from.offset + from.length, subprotocol: s.protocol, extensions: conn.websocket?.extensions ?? '', portForward: true, carriers: conn.websocket!.tunnelCarriers!.s2c },
      tls: true,
      tlsRecordLog: conn.tls!.plaintextCarriers.s2c,
    };
    for (const read of [createCaptureInspector(path, keys), createCaptureInspector(path)]) {
      const unit = await read(query);
      expect(unit.carriers.map((c) => c.packet.index)).toEqual(packets.filter((n) => n !== copyFrame));
      expect(unit.resent).toEqual(expectedResent);
      expect(unit.tunnelFrames.flatMap((f) => f.packets)).not.toContain(copyFrame);
    }
  });
});
