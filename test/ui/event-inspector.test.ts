/** The Event pane's lower layers, read back from real captures. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { ExecConversation } from '../../src/synth/exec-conversation.js';
import { pcapOf } from '../helpers/synthetic-capture.js';
import { hasTshark, pdmlFields, tsharkRows } from '../kit/tshark.js';

const fixture = (name: string) => join(process.cwd(), 'fixtures', name);

async function inspectStdout(name: string) {
  const path = fixture(name);
  const model = await analyzeCapture(path, analyzeOptions());
  const s = model.sessions[0];
  const stdout = s.streams.find((r) => r.name === 'stdout');
  const event = stdout?.events.find((e) => e.kind === 'data' && e.length > 0);
  if (!event) throw new Error('no stdout data event');
  return { layers: await createEventInspector(createCaptureInspector(path), model)(s, event), event };
}

test('a WebSocket stdout message: frame fields, exact frame bytes, the packet that carried it', async () => {
  const { layers } = await inspectStdout('ws-echo.pcap');
  expect(layers.map((l) => l.kind)).toEqual(['stream', 'frame', 'http', 'tcp', 'packet']);
  const frame = layers[1];
  const fieldText = (l: { fields?: { label: string; value: string }[] }) => (l.fields ?? []).map((f) => `${f.label}: ${f.value}`);
  expect(fieldText(frame)).toEqual(expect.arrayContaining(['opcode: 2 (binary)', 'FIN: set (last frame of the message)', 'payload length: 22 (7-bit form)', 'MASK: clear (server → client)']));
  expect(frame.fields?.find((f) => f.id === 'websocket.payload')).toMatchObject({ offset: 2, length: 22 });
  // The channel byte, named: the payload's first byte.
  expect(frame.fields?.find((f) => f.id === 'websocket.k8s_channel')).toMatchObject({ offset: 2, length: 1, value: '1 (stdout)' });
  expect(Buffer.from(frame.bytes ?? []).toString('latin1')).toBe('\x82\x16\x01hello from websocket\n');
  expect(frame.highlight).toEqual({ start: 2, end: 24 });
  const packet = layers[4];
  expect(packet.title).toMatch(/^packet \d+$/);
  const hl = packet.highlight ?? { start: 0, end: 0 };
  expect(Buffer.from(packet.bytes?.subarray(hl.start, hl.end) ?? []).toString('latin1')).toContain('hello from websocket');
});

test("spdystream's three writes per DATA frame show as three packets under one frame", async () => {
  const { layers, event } = await inspectStdout('spdy-echo.pcap');
  const frame = layers.find((l) => l.kind === 'frame');
  expect((frame?.fields ?? []).map((f) => `${f.label}: ${f.value}`)).toEqual(expect.arrayContaining(['control bit: clear (DATA frame)', 'stream id: 3', 'flags: 0x00', 'length: 16']));
  expect(Buffer.from(frame?.bytes ?? []).subarray(8).toString()).toBe('hello from spdy\n');
  const packets = layers.filter((l) => l.kind === 'packet');
  expect(packets.map((p) => (p.highlight ? p.highlight.end - p.highlight.start : 0))).toEqual([4, 4, 16]);
  expect(event.origin.lastPacket - event.origin.packet).toBeGreaterThanOrEqual(2);
});

test('every layer under a stdout message has its bytes and fields: the upgrade head, TCP and the packet, at tshark\'s offsets', async () => {
  const { layers } = await inspectStdout('ws-echo.pcap');
  const http = layers.find((l) => l.kind === 'http')!;
  const head = Buffer.from(http.bytes ?? []).toString('latin1');
  expect(head).toMatch(/^GET \/api\/v1\/namespaces\/.*\/exec\?.* HTTP\/1\.1\r\n/);
  expect(head.endsWith('\r\n\r\n')).toBe(true);
  const fields = http.fields ?? [];
  expect(fields.slice(0, 3).map((f) => f.id)).toEqual(['http.request.method', 'http.request.uri', 'http.request.version']);
  // Each field's bytes are its text in the head.
  for (const f of fields.filter((f) => f.id === 'http.header')) expect(head.slice(f.offset, f.offset + f.length)).toBe(`${f.label}: ${f.value}`);
  expect(fields.find((f) => f.label.toLowerCase() === 'sec-websocket-protocol')?.value).toContain('v5.channel.k8s.io');
  expect(fields.at(-1)?.id).toBe('http.end_of_head');

  const tcp = layers.find((l) => l.kind === 'tcp')!;
  const packet = layers.find((l) => l.kind === 'packet')!;
  expect(tcp.bytes).toBe(packet.bytes);
  const frame = Number(packet.title.replace('packet ', ''));
  const theirs = pdmlFields(fixture('ws-echo.pcap'), frame);
  const pos = (name: string) => {
    const t = theirs.get(name)?.[0];
    return t ? { offset: t.pos, length: t.size } : null;
  };
  for (const id of ['tcp.srcport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.window_size_value']) expect({ id, ...tcp.fields?.find((f) => f.id === id) }).toMatchObject({ id, ...pos(id) });
  for (const id of ['eth.src', 'ip.ttl', 'ip.src', 'ip.dst', 'tcp.dstport']) expect({ id, ...packet.fields?.find((f) => f.id === id) }).toMatchObject({ id, ...pos(id) });
  expect(packet.fields?.find((f) => f.id === 'tcp.payload')).toMatchObject({ ...pos('tcp.payload') });
});

(hasTshark ? test : test.skip)('a message over more than 16 packets: the first 16 listed, the rest counted, as tshark’s frames of its bytes', async () => {
  // 100-byte segments: a 3000-byte stdout message crosses 31 packets.
  const conversation = new ExecConversation({ transport: 'websocket', pod: 'p', command: ['cat'], stdin: false, tty: false }, 40000, 443, 100);
  const payload = new Uint8Array(3000).fill(0x61);
  const dir = mkdtempSync(join(tmpdir(), 'execscope-carriers-'));
  const path = join(dir, 'long.pcap');
  writeFileSync(path, pcapOf([...conversation.open(), ...conversation.write('stdout', payload), ...conversation.finish()]));
  const model = await analyzeCapture(path, analyzeOptions());
  const s = model.sessions[0];
  const event = s.streams.find((r) => r.name === 'stdout')!.events.find((e) => e.kind === 'data' && e.length === payload.length)!;
  const layers = await createEventInspector(createCaptureInspector(path), model)(s, event);
  // tshark's frames whose TCP payload overlaps the frame's bytes in the stream.
  const o = event.origin;
  const frames = tsharkRows(path, 'tcp.srcport == 443 && tcp.len > 0', ['frame.number', 'tcp.seq', 'tcp.len'])
    .filter(([, seq, len]) => Number(seq) - 1 < o.offset + o.length && o.offset < Number(seq) - 1 + Number(len))
    .map(([n]) => Number(n));
  rmSync(dir, { recursive: true });
  expect(frames.length).toBeGreaterThan(16);
  expect(layers.filter((l) => l.kind === 'packet').map((l) => Number(l.title.replace('packet ', '')))).toEqual(frames.slice(0, 16));
  expect(layers.find((l) => l.kind === 'tcp')!.lines).toContain(`and ${frames.length - 16} more packets carried it (between packets ${frames[16]} and ${frames.at(-1)}), not listed: the first 16 are`);
});

test('over TLS past the capture’s carrier-log budget, re-read without the keys: the TLS layer says its records are unknown and no packet is guessed; with the keys they are found', async () => {
  const path = fixture('tls-ws-keylog.pcap');
  const keyLog = { text: readFileSync(fixture('tls-ws-keylog.keylog'), 'utf8'), source: 'tls-ws-keylog.keylog' };
  const keys = new TlsKeyLog();
  // Room for one chunk of 16 entries: an earlier TLS connection of the capture takes it.
  const model = await analyzeCapture(path, analyzeOptions({ keys, keyLogs: [keyLog], carrierLogEntries: 16 }));
  expect(model.warnings.filter((w) => w.code === 'pipeline.carrier-budget-spent')).toHaveLength(1);
  const s = model.sessions[0];
  const tls = model.connections.find((c) => c.id === s.connectionId)!.tls!;
  expect(tls.plaintextCarriers.s2c).toMatchObject({ count: 0, full: true });
  const event = s.streams.find((r) => r.name === 'stdout')!.events.find((e) => e.kind === 'data' && e.length > 0)!;
  const blind = await createEventInspector(createCaptureInspector(path), model)(s, event);
  expect(blind.find((l) => l.kind === 'tls')!.lines).toContain('which records held its bytes is unknown: re-reading did not decrypt them, and the capture’s record log ran out before them (warning pipeline.carrier-budget-spent)');
  const packets = blind.filter((l) => l.kind === 'packet');
  expect(packets).toHaveLength(1);
  expect(packets[0].bytes).toBeNull();
  expect(packets[0].lines).toContain('the packets where its records completed: which carried them is unknown (see the TLS layer)');
  // The keys do not need the log.
  const keyed = await createEventInspector(createCaptureInspector(path, keys), model)(s, event);
  expect(keyed.find((l) => l.kind === 'tls')!.lines.join('\n')).not.toContain('unknown');
  expect(keyed.filter((l) => l.kind === 'packet').every((l) => l.bytes !== null)).toBe(true);
});
