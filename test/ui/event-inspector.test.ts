/** The Event pane's lower layers, read back from real captures. */
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';

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
  expect(frame.lines).toEqual(expect.arrayContaining(['opcode: 2 (binary)', 'FIN: set (last frame of the message)', 'payload length: 22 (7-bit form)', 'MASK: clear (server → client)']));
  expect(frame.fields?.find((f) => f.id === 'websocket.payload')).toMatchObject({ offset: 2, length: 22 });
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
  expect(frame?.lines).toEqual(expect.arrayContaining(['control bit: clear (DATA frame)', 'stream id: 3', 'flags: 0x00', 'length: 16']));
  expect(Buffer.from(frame?.bytes ?? []).subarray(8).toString()).toBe('hello from spdy\n');
  const packets = layers.filter((l) => l.kind === 'packet');
  expect(packets.map((p) => (p.highlight ? p.highlight.end - p.highlight.start : 0))).toEqual([4, 4, 16]);
  expect(event.origin.lastPacket - event.origin.packet).toBeGreaterThanOrEqual(2);
});
