/**
 * The Event pane's SPDY header fields on real kubectl captures, against tshark's SPDY dissector
 * (-T pdml): every SYN_STREAM and SYN_REPLY of the session, its header block inflated by the
 * pipeline re-reading the capture (each block needs every earlier one of its direction), each header
 * at tshark's position and size in the inflated block, with tshark's name and value.
 */
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { encodeNameValueBlock, nameValueBlockFields } from '../../src/spdy/header-block.js';
import { hasTshark, pdmlFields } from '../kit/tshark.js';

const CAPTURES = ['spdy-echo.pcap', 'spdy-exit-code.pcap', 'spdy-stdin-pcapng.pcapng'];

if (!hasTshark) console.warn('SKIPPED: tshark is not installed: SPDY header fields were not compared with its dissector');

describe.each(CAPTURES)('%s', (name) => {
  const path = join(process.cwd(), 'fixtures', name);

  it('shows each SYN_STREAM/SYN_REPLY header inflated, at its place in the inflated block, the compressed block highlighted', async () => {
    const model = await analyzeCapture(path, analyzeOptions());
    const inspect = createEventInspector(createCaptureInspector(path), model);
    const s = model.sessions.find((x) => x.transport === 'spdy')!;
    const events = s.streams.flatMap((r) => r.events.filter((e) => e.kind === 'open' || e.kind === 'reply'));
    expect(events.length).toBeGreaterThanOrEqual(6);
    let compared = 0;
    for (const event of events) {
      const frame = (await inspect(s, event)).find((l) => l.kind === 'frame')!;
      const fields = frame.fields ?? [];
      const block = fields.find((f) => f.id === 'spdy.header_block')!;
      const headers = fields.filter((f) => f.id === 'spdy.header');
      // kubectl's SYN_STREAMs name the stream; the server's SYN_REPLYs carry no header at all.
      expect(fields.find((f) => f.id === 'spdy.numheaders')?.value).toBe(String(headers.length));
      if (event.kind === 'open') expect(headers.length).toBeGreaterThan(0);
      // The compressed block is what carries them, and what the layer highlights.
      for (const h of headers) expect({ offset: h.offset, length: h.length }).toEqual({ offset: block.offset, length: block.length });
      expect(frame.highlight).toEqual({ start: block.offset, end: frame.bytes!.length });
      const streamtype = headers.find((h) => h.label === 'streamtype');
      if (event.kind === 'open') expect(streamtype?.value).toBe(s.streams.find((r) => r.events.includes(event))!.name);
      if (!hasTshark || !headers.length) continue;
      // spdystream writes a frame in pieces: tshark shows it in the packet of its last byte, which may hold more frames.
      const theirs = pdmlFields(path, event.origin.lastPacket);
      const names = theirs.get('spdy.header.name') ?? [];
      const values = theirs.get('spdy.header.value') ?? [];
      const pairs = (theirs.get('spdy.header') ?? []).map((t, i) => ({ ...t, name: names[i].show, value: values[i].show }));
      const at = pairs.findIndex((_, j) => headers.every((h, k) => pairs[j + k]?.name === h.label));
      expect(at).toBeGreaterThanOrEqual(0);
      headers.forEach((h, k) => {
        const t = pairs[at + k];
        expect({ label: h.label, value: h.value, offset: h.decoded!.offset, length: h.decoded!.length }).toEqual({ label: t.name, value: t.value, offset: t.pos, length: t.size });
        compared++;
      });
    }
    // One streamtype per stream kubectl opened (error, stdout, stderr, and stdin where it sent one).
    if (hasTshark) expect(compared).toBeGreaterThanOrEqual(3);
  });
});

describe('nameValueBlockFields', () => {
  it('lists every header at its range, values joined, and stops where a hostile block stops making sense', () => {
    const block = encodeNameValueBlock({ streamtype: 'data', port: '8080', requestid: '0', 'x-multi': ['a', 'b'] });
    const fields = nameValueBlockFields(block, { offset: 18, length: 40 });
    expect(fields.map((f) => `${f.label}=${f.value} ${f.decoded!.offset}+${f.decoded!.length}`)).toEqual([
      'headers=4 0+4',
      'streamtype=data 4+22',
      'port=8080 26+16',
      'requestid=0 42+18',
      'x-multi=a, b 60+18',
    ]);
    expect(fields.every((f) => f.offset === 18 && f.length === 40)).toBe(true);
    // A count of 2^32-1 and a name length past the end: the count is shown, no header invented.
    const hostile = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 10, 0x61);
    expect(nameValueBlockFields(hostile, { offset: 0, length: 9 }).map((f) => f.id)).toEqual(['spdy.numheaders']);
    expect(nameValueBlockFields(Uint8Array.of(0, 0), { offset: 0, length: 2 })).toEqual([]);
  });
});
