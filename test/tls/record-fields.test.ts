/**
 * TLS record fields against tshark's TLS dissector (-T pdml) on a real kubectl exec over TLS: every
 * record that lies in one packet, its content type, version and length (and each handshake message's
 * type and length before the direction's ChangeCipherSpec) at tshark's offsets with tshark's values;
 * and the Event pane's TLS layer under a stdout message, with the record's bytes and fields.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { TlsRecordFramer, tlsRecordFields } from '../../src/tls/record-framer.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { readTcpStreams } from '../http/pcap-tcp-streams.js';
import { hasTshark } from '../kit/tshark.js';

const PATH = join(process.cwd(), 'fixtures', 'tls-ws-keylog.pcap');

interface TsharkField {
  name: string;
  pos: number;
  size: number;
  show: string;
}

/** tshark's TLS records per frame: the fields of each, from its content (or TLS 1.3 opaque) type on. */
function tsharkRecords(): Map<number, TsharkField[][]> {
  const xml = execFileSync('tshark', ['-r', PATH, '-T', 'pdml'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20, timeout: 120_000 });
  const out = new Map<number, TsharkField[][]>();
  xml.split('<packet>').slice(1).forEach((packet, i) => {
    const records: TsharkField[][] = [];
    for (const m of packet.matchAll(/<field name="(tls\.[a-z_.]+)"[^>]*?size="(\d+)" pos="(\d+)" show="([^"]*)"/g)) {
      const field = { name: m[1] === 'tls.record.opaque_type' ? 'tls.record.content_type' : m[1], size: Number(m[2]), pos: Number(m[3]), show: m[4] };
      if (field.name === 'tls.record.content_type') records.push([]);
      records.at(-1)?.push(field);
    }
    if (records.length) out.set(i + 1, records);
  });
  return out;
}

(hasTshark ? it : it.skip)('every record in one packet has tshark’s fields at tshark’s offsets', () => {
  const theirs = tsharkRecords();
  let compared = 0;
  let handshakes = 0;
  for (const conn of readTcpStreams(PATH)) {
    for (const dir of ['c2s', 's2c'] as const) {
      const segments = conn.segments.filter((s) => s.dir === dir);
      const ours = new Map<number, ReturnType<typeof tlsRecordFields>[]>();
      let afterChangeCipherSpec = false;
      const framer = new TlsRecordFramer(
        (record, origin) => {
          const seg = segments.find((s) => s.offset <= origin.offset && origin.offset + origin.length <= s.offset + s.data.length);
          if (seg) ours.set(seg.packet, [...(ours.get(seg.packet) ?? []), tlsRecordFields(record, !afterChangeCipherSpec)]);
          if (record[0] === 20) afterChangeCipherSpec = true;
        },
        (message) => {
          throw new Error(message);
        },
      );
      framer.push(conn.bytes[dir], { offset: 0, length: conn.bytes[dir].length, packet: 1, ts: 0 });
      for (const [frame, records] of ours) {
        const their = theirs.get(frame) ?? [];
        expect({ frame, records: their.length }).toEqual({ frame, records: records.length });
        records.forEach((fields, r) => {
          const base = their[r][0].pos;
          const seen = new Map<string, number>();
          for (const f of fields) {
            const nth = seen.get(f.id) ?? 0;
            seen.set(f.id, nth + 1);
            const t = their[r].filter((x) => x.name === f.id)[nth];
            expect({ frame, id: f.id, found: !!t }).toEqual({ frame, id: f.id, found: true });
            expect({ frame, id: f.id, offset: f.offset, length: f.length }).toEqual({ frame, id: f.id, offset: t.pos - base, length: t.size });
            // Our values start with tshark's (we add the name: "22 (handshake)").
            expect({ frame, id: f.id, value: f.value.split(' ')[0] }).toEqual({ frame, id: f.id, value: f.id === 'tls.app_data' ? `${t.size}` : t.show });
            compared++;
            if (f.id === 'tls.handshake.type') handshakes++;
          }
          // Nothing tshark shows in the record's header is missing from ours.
          for (const name of ['tls.record.content_type', 'tls.record.version', 'tls.record.length', 'tls.handshake.type']) {
            expect({ frame, name, n: fields.filter((f) => f.id === name).length }).toEqual({ frame, name, n: their[r].filter((x) => x.name === name).length });
          }
        });
      }
    }
  }
  expect(handshakes).toBeGreaterThanOrEqual(4);
  expect(compared).toBeGreaterThan(100);
});

it('the Event pane’s TLS layer under a stdout message: the record that carried it, its bytes and fields', async () => {
  const keyLogs = [{ text: readFileSync(join(process.cwd(), 'fixtures', 'tls-ws-keylog.keylog'), 'utf8'), source: 'tls-ws-keylog.keylog' }];
  const model = await analyzeCapture(PATH, analyzeOptions({ keyLogs }));
  const s = model.sessions[0];
  const event = s.streams.find((r) => r.name === 'stdout')!.events.find((e) => e.kind === 'data' && e.length > 0)!;
  const layers = await createEventInspector(createCaptureInspector(PATH), model)(s, event);
  const tls = layers.find((l) => l.kind === 'tls')!;
  expect(tls.bytes?.[0]).toBe(23);
  expect(tls.bytes!.length).toBe(5 + ((tls.bytes![3] << 8) | tls.bytes![4]));
  expect(tls.fields?.map((f) => f.id)).toEqual(['tls.record.content_type', 'tls.record.version', 'tls.record.length', 'tls.app_data']);
  expect(tls.fields?.[0].value).toBe('23 (application_data)');
  expect(tls.range).toMatchObject({ space: 'TCP s2c', end: tls.range!.start + tls.bytes!.length });
  expect(tls.lines.some((l) => /^▸ application_data record, TCP s2c bytes \d+–\d+ \(\d+ B\), packet \d+$/.test(l))).toBe(true);
  // The record ends in the packet that completed the event's bytes.
  const packet = Number(/packet (\d+)$/.exec(tls.lines.find((l) => l.startsWith('▸'))!)![1]);
  expect(packet).toBeGreaterThanOrEqual(event.origin.packet);
  expect(packet).toBeLessThanOrEqual(event.origin.lastPacket);
});
