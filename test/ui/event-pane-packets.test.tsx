/**
 * The Event pane's TCP and packet layers list exactly the packets that carried the selected event,
 * as a user sees them at 160×50 and 80×24: over TLS the packets of the records holding its bytes
 * (a 16 KiB kubectl message whose first record began a packet earlier, re-read with or without the
 * keys), checked against tshark's own record reassembly; a port-forward SPDY frame tunnelled in
 * WebSocket over TLS, through its WebSocket frames and records; a docker exec's end of stream as the packet whose FIN it is, its flags
 * highlighted where tshark puts them (a real Docker 27 attach); and with several captures open at
 * once, each event read back from the capture it came from.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { splitRecording } from '../../src/lab/split-recording.js';
import type { FrameOrigin } from '../../src/core/origin.js';
import type { CaptureModel, ExecSession } from '../../src/model/session.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeCaptures, createMergedCaptureInspector } from '../../src/pipeline/merge-captures.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { App } from '../../src/ui/App.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import type { EventInspector } from '../../src/ui/event-layers.js';
import { buildLanes } from '../../src/ui/timeline-lanes.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { hasTshark, holdingRecords, pdmlFields, tsharkRows, tsharkTlsRecords, tsharkTunnel, tunnelledCarriers } from '../kit/tshark.js';
import { expectFits, KEYS, loaded, renderTui, tuiTestSetup } from './tui-harness.js';

tuiTestSetup();

const SIZES = [
  { columns: 160, rows: 50 },
  { columns: 80, rows: 24 },
];

const port = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));

/** The TUI on `s`'s event `pick` of stream `stream`, the Event pane focused (`unfolded`: the exec chain whose hop it is). */
function openOn(path: string, model: CaptureModel, inspector: EventInspector, s: ExecSession, stream: string, pick: (kind: string, i: number) => boolean, size: { columns: number; rows: number }, unfolded: number[] = []) {
  const lanes = buildLanes(s, model.sessions);
  const lane = lanes.findIndex((l) => l.stream?.name === stream);
  const item = lanes[lane].items.findIndex((x, i) => pick(x.event.kind, i));
  expect(item).toBeGreaterThanOrEqual(0);
  const event = lanes[lane].items[item].event;
  return { event, tui: renderTui(<App path={path} load={loaded(model)} inspector={inspector} initialState={{ session: s.id, unfolded, pane: 'event', lane, item }} />, size) };
}

/** The packet layers the layer list names, in order. */
const packetRows = (frame: string) => [...frame.matchAll(/^.[├└] packet +packet (\d+)\b/gm)].map((m) => Number(m[1]));
/** The layers re-reading the capture gave (until then the pane shows the model's own, and says it is reading). */
/** "101–103, 105": runs of consecutive packet numbers. */
const packetRuns = (packets: readonly number[]) =>
  packets
    .reduce<number[][]>((runs, n) => (runs.length && runs.at(-1)!.at(-1) === n - 1 ? (runs.at(-1)!.push(n), runs) : [...runs, [n]]), [])
    .map((r) => (r.length > 1 ? `${r[0]}–${r.at(-1)}` : `${r[0]}`))
    .join(', ');
const reRead = (frame: string) => packetRows(frame).length > 0 && !frame.includes('… re-reading the capture');

describe.each(SIZES)('over TLS at $columns×$rows', (size) => {
  const PATH = join(process.cwd(), 'fixtures', 'lab', 'lab-ws-stdin-sort.pcapng');

  // Re-read without the keys, the records are those the analysis decrypted the message from.
  it.each([
    ['re-read with the keys', true],
    ['re-read without them', false],
  ])('a 16 KiB stdout message, %s: the packets of its two records, the first begun a packet before it', async (_, withKeys) => {
    const keys = new TlsKeyLog();
    const model = await analyzeCapture(PATH, analyzeOptions({ keys }));
    const s = model.sessions.find((x) => model.connections.find((c) => c.id === x.connectionId)?.tls)!;
    const conn = model.connections.find((c) => c.id === s.connectionId)!;
    const inspector = createEventInspector(createCaptureInspector(PATH, withKeys ? keys : null), model);
    const { event, tui: opening } = openOn(PATH, model, inspector, s, 'stdout', (k) => k === 'data', size);
    const tui = await opening;
    const frame = await tui.waitFor(reRead);
    const o = event.origin!;
    // tshark's records of the direction holding the message's plaintext, and the frames that carried them.
    const records = hasTshark
      ? tsharkTlsRecords(PATH, port(conn.server), port(conn.client)).filter((r) => r.plaintextLength > 0 && r.plaintextOffset < o.offset + o.length && o.offset < r.plaintextOffset + r.plaintextLength)
      : [];
    const expected = hasTshark ? [...new Set(records.flatMap((r) => r.frames))].sort((a, b) => a - b) : [o.packet - 1, o.packet];
    expect(expected.length).toBe(2);
    expect(expected[0]).toBeLessThan(o.packet);
    expect(packetRows(frame)).toEqual(expected);
    expectFits(tui, size.columns, size.rows);
    // The TLS layer lists both records with their packets; the TCP layer each packet's segment.
    await tui.press('g', ...Array.from({ length: 2 }, () => KEYS.down));
    for (let i = 0; i < 12 && !/^▸├ TLS /m.test(tui.lastFrame()); i++) await tui.press(KEYS.down);
    const tls = await tui.waitFor(/^▸├ TLS /m);
    for (const r of records) expect(tls).toContain(`application_data record, TCP s2c bytes ${r.offset}–${r.offset + r.length - 1} (${r.length} B)`);
    expect(tls).not.toContain('which records held its bytes is unknown');
    expect(tls).toMatch(new RegExp(`application_data record, .*, packet ${expected[1]}\\b`));
    for (let i = 0; i < 40 && !/^▸├ TCP /m.test(tui.lastFrame()); i++) await tui.press(KEYS.down);
    const tcp = await tui.waitFor(/^▸├ TCP /m);
    if (size.rows >= 50) {
      for (const p of expected) {
        const seq = hasTshark ? tsharkRows(PATH, `frame.number == ${p}`, ['tcp.seq_raw'])[0][0] : '\\d+';
        expect(tcp).toMatch(new RegExp(`^ *│ +packet ${p}: seq ${seq} ack \\d+ · ACK(, PSH)? · win \\d+ · `, 'm'));
      }
    }
    // The last packet layer: its bytes, the TCP payload highlighted.
    await tui.press('G');
    const last = await tui.waitFor(new RegExp(`^▸└ packet +packet ${expected[1]}\\b`, 'm'));
    expect(last).toMatch(new RegExp(`bytes of packet ${expected[1]} 54–`));
    expectFits(tui, size.columns, size.rows);
    tui.unmount();
  });
});

describe.each(SIZES)('kubectl port-forward’s SPDY tunnelled in WebSocket over TLS at $columns×$rows', (size) => {
  const PATH = join(process.cwd(), 'fixtures', 'lab', 'lab-ws-portforward.pcapng');

  (hasTshark ? it : it.skip)('a tunnelled DATA frame: the WebSocket frames, records and exactly the packets that carried its bytes', async () => {
    const keys = new TlsKeyLog();
    const model = await analyzeCapture(PATH, analyzeOptions({ keys }));
    const s = model.sessions.find((x) => x.protocol === 'SPDY/3.1+portforward.k8s.io')!;
    const conn = model.connections.find((c) => c.id === s.connectionId)!;
    const truth = tsharkTunnel(PATH, port(conn.server), port(conn.client));
    // The server's first DATA frame of the 100,000-byte reply: one of the WebSocket frames of 64 KiB, its first record begun a packet earlier.
    const expectedOf = (o: FrameOrigin) => tunnelledCarriers(truth, o.offset, o.length);
    const { event, tui: opening } = openOn(PATH, model, createEventInspector(createCaptureInspector(PATH, keys), model), s, 'data:80:1', (k, i) => {
      const e = buildLanes(s, model.sessions).find((l) => l.stream?.name === 'data:80:1')!.items[i].event;
      return k === 'data' && e.dir === 's2c' && expectedOf(e.origin!).packets.length > 1;
    }, size);
    const tui = await opening;
    const frame = await tui.waitFor(reRead);
    const expected = expectedOf(event.origin!);
    // Its first record began a packet before the one its origin names, which the old packet range missed.
    expect(expected.packets[0]).toBeLessThan(event.origin!.packet);
    // At 80×24 the layer list scrolls: the rows shown begin the list, and the last layer is the last packet.
    const shown = packetRows(frame);
    if (size.rows >= 50) expect(shown).toEqual(expected.packets);
    else expect(shown).toEqual(expected.packets.slice(0, shown.length));
    expectFits(tui, size.columns, size.rows);
    await tui.press('G');
    await tui.waitFor(new RegExp(`^▸└ packet +packet ${expected.packets.at(-1)}\\b`, 'm'));
    expectFits(tui, size.columns, size.rows);
    // The frame layer: the SPDY frame, and the WebSocket frames its bytes rode in.
    await tui.press('g');
    for (let i = 0; i < 12 && !/^▸├ frame +SPDY DATA frame in the WebSocket tunnel/m.test(tui.lastFrame()); i++) await tui.press(KEYS.down);
    const spdy = await tui.waitFor(/^▸├ frame +SPDY DATA frame in the WebSocket tunnel/m);
    const n = expected.frames.length;
    expect(spdy).toContain(`carried in ${n} WebSocket frame${n > 1 ? 's' : ''}, at TLS plaintext s2c bytes:`);
    // Each frame, the event's bytes in its payload, and exactly the records and packets that carried those.
    if (size.rows >= 50) {
      const span = (a: number, b: number) => `${a}–${b - 1} (${b - a} B)`;
      for (const f of expected.frames) {
        const a = f.payloadOffset + Math.max(0, event.origin!.offset - f.tunnelOffset);
        const b = f.payloadOffset + Math.min(f.payloadLength, event.origin!.offset + event.origin!.length - f.tunnelOffset);
        expect(spdy).toContain(`  ${span(f.offset, f.offset + f.length)}, the event’s ${span(a, b)}`);
        const { holding, frames: packets } = holdingRecords(truth.records, [[a, b]]);
        const records = holding.length === 1 ? `record TCP s2c ${span(holding[0].offset, holding[0].offset + holding[0].length)}` : `${holding.length} records TCP s2c ${holding[0].offset}–${holding.at(-1)!.offset + holding.at(-1)!.length - 1}`;
        expect(spdy).toContain(`    ${records} · packet${packets.length > 1 ? 's' : ''} ${packetRuns(packets)}`);
      }
    }
    expectFits(tui, size.columns, size.rows);
    // The TLS layer: exactly the records holding those bytes.
    for (let i = 0; i < 12 && !/^▸├ TLS /m.test(tui.lastFrame()); i++) await tui.press(KEYS.down);
    const tls = await tui.waitFor(/^▸├ TLS /m);
    if (size.rows >= 50) for (const r of expected.holding) expect(tls).toContain(`application_data record, TCP s2c bytes ${r.offset}–${r.offset + r.length - 1} (${r.length} B)`);
    expectFits(tui, size.columns, size.rows);
    tui.unmount();
  });
});

const DOCKER = join(process.cwd(), '..', 'shared', 'outside-captures', 'zeek', 'docker-http-upgrade.pcap');
if (!existsSync(DOCKER)) console.warn(`SKIPPED: ${DOCKER} is not here (the team's shared outside captures): the docker FIN packet was not shown`);

(existsSync(DOCKER) ? describe.each(SIZES) : describe.skip.each(SIZES))('docker attach (real Docker 27) at $columns×$rows', (size) => {
  it('stdin’s EOF: the packet of the client’s FIN, its TCP flags highlighted where tshark has them', async () => {
    const model = await analyzeCapture(DOCKER, analyzeOptions());
    const s = model.sessions[0];
    const conn = model.connections.find((c) => c.id === s.connectionId)!;
    const { event, tui: opening } = openOn(DOCKER, model, createEventInspector(createCaptureInspector(DOCKER), model), s, 'stdin', (k) => k === 'half-close', size);
    const tui = await opening;
    await tui.waitFor(reRead);
    await tui.press('G');
    const frame = await tui.waitFor(/^▸└ packet +packet \d+/m);
    const fin = Number(/^▸└ packet +packet (\d+)/m.exec(frame)![1]);
    expect(fin).toBe(event.origin!.packet);
    expect(frame).toContain('its TCP FIN flag is the event');
    // The session list names the container the attach went to, even where the column is narrow.
    expect(frame).toMatch(/ container cc4f/);
    expectFits(tui, size.columns, size.rows);
    if (!hasTshark) return tui.unmount();
    // tshark: the client's only FIN on this connection, and where its flags lie in the frame.
    const finFrames = tsharkRows(DOCKER, `tcp.flags.fin == 1 && tcp.srcport == ${port(conn.client)} && tcp.dstport == ${port(conn.server)}`, ['frame.number']).map(([n]) => Number(n));
    expect(finFrames).toEqual([fin]);
    const flags = pdmlFields(DOCKER, fin).get('tcp.flags')![0];
    expect(frame).toContain(`bytes of packet ${fin} ${flags.pos}–${flags.pos + flags.size - 1}`);
    // The flags' two bytes, highlighted in the hex view (ACK|FIN: 0x011).
    const row = flags.pos - (flags.pos % 16);
    expect(frame).toMatch(new RegExp(`^${row.toString(16).padStart(8, '0')}.*\\[[0-9a-f]{2} 11\\]`, 'm'));
    tui.unmount();
  });
});

describe('several captures, one per hop', () => {
  const WHOLE = join(process.cwd(), 'fixtures', 'lab', 'lab-ws-echo.pcapng');
  const dir = tempDirForTests('execscope-inspector-');
  let merged: CaptureModel;
  let inspector: EventInspector;
  let files: string[];

  beforeAll(async () => {
    const parts = await splitRecording(WHOLE, join(dir, 'echo'), 2.5e9);
    files = parts.files.map((f) => f.path);
    // The apiserver's key log goes with its own capture only.
    const inputs = parts.files.map((f, i) => ({ path: f.path, keyLogs: i === 0 && parts.keyLog ? [{ text: parts.keyLog, source: 'keylog' }] : [] }));
    const keys = inputs.map(() => new TlsKeyLog());
    merged = await analyzeCaptures(inputs, analyzeOptions(), undefined, keys);
    inspector = createEventInspector(createMergedCaptureInspector(merged, keys), merged);
  });

  describe.each(SIZES)('at $columns×$rows', (size) => {
    it.each(['apiserver', 'kubelet', 'cri'])('the %s hop’s stdout: its packets read from its own file, bytes shown', async (hop) => {
      const s = merged.sessions.find((x) => x.hop === hop)!;
      expect(s.file).toBeDefined();
      const conn = merged.connections.find((c) => c.id === s.connectionId)!;
      // The hops of the exec are folded under the one nearest kubectl: unfolded, as → does.
      const head = merged.sessions.find((x) => x.hop === 'apiserver')!.id;
      const { event, tui: opening } = openOn(`${files.length} captures`, merged, inspector, s, 'stdout', (k) => k === 'data', size, [head]);
      const tui = await opening;
      const frame = await tui.waitFor(reRead);
      expect(frame).toContain(`Timeline · #${s.id} ·`);
      expect(frame).not.toContain('no bytes');
      const packets = packetRows(frame);
      expect(packets).toContain(event.origin!.lastPacket);
      expectFits(tui, size.columns, size.rows);
      await tui.press('G');
      const last = await tui.waitFor(new RegExp(`^▸└ packet +packet ${packets.at(-1)}\\b`, 'm'));
      expect(last).toMatch(new RegExp(`bytes of packet ${packets.at(-1)} \\d+–\\d+`));
      expect(last).toMatch(/^[0-9a-f]{8}[ [][0-9a-f]{2}[ \]]/m);
      if (hasTshark) {
        // In the hop's own file, those packets are the connection's, as tshark numbers them.
        const theirs = tsharkRows(files[s.file!], `tcp.srcport == ${port(conn.server)} && tcp.dstport == ${port(conn.client)} && tcp.len > 0`, ['frame.number']).map(([n]) => Number(n));
        for (const p of packets) expect(theirs).toContain(p);
      }
      tui.unmount();
    });
  });
});
