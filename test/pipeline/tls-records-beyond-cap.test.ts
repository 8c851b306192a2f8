/**
 * The Event pane's packets for bytes past the record timeline's 5,000 records, re-read without the
 * keys: real kubectl port-forward through the lab's TLS apiserver, many requests, so that its
 * tunnelled connection carries more records than the analysis once logged per connection. The
 * analysis's carrier logs (core/carrier-log.ts) name the WebSocket frame payloads and records of
 * every tunnelled frame; the truth is tshark's, frame by frame.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameOrigin } from '../../src/core/origin.js';
import { clientProblems, runScenario } from '../../src/lab/scenario-runner.js';
import type { Scenario } from '../../src/lab/scenarios.js';
import type { StreamEvent } from '../../src/model/session.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { hasTshark, tsharkTunnel, tunnelledCarriers } from '../kit/tshark.js';

if (!hasTshark) console.warn('SKIPPED: tshark is not installed: records past the old cap were not checked against its dissection');

/** The per-connection cap of the analysis's record list (pipeline/tls-consumer.ts), which the Event pane once relied on. */
const OLD_CAP = 5000;
/** Each request's tunnelled SPDY costs kubectl some 25 records: 300 make ~7,500 of its own. */
const REQUESTS = 300;
const LISTED = 16;
const port = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));

const MANY_FORWARDS: Scenario = {
  name: 'many-forwards',
  description: `kubectl port-forward pod/lab-0 :80 and ${REQUESTS} requests through it, SPDY tunnelled in WebSocket over TLS`,
  client: { args: ['port-forward', 'pod/lab-0', ':80'], forward: { paths: Array.from({ length: REQUESTS }, (_, i) => `/bytes/${1 + (i % 7)}`) } },
  expect: { exitCode: 0, forwardedBodies: Array.from({ length: REQUESTS }, (_, i) => 1 + (i % 7)) },
};

/** About `count` of the items, evenly spread, and the last. */
const spread = <T>(items: readonly T[], count: number): T[] => (items.length <= count ? [...items] : [...items.filter((_, i) => i % Math.ceil(items.length / count) === 0), items.at(-1)!]);

(hasTshark ? it : it.skip)(
  'a tunnelled frame past the 5,000th record: its frames, records and packets from the analysis’s logs, as tshark has them',
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'execscope-records-'));
    try {
      const PATH = join(work, 'lab.pcapng');
      const run = await runScenario(MANY_FORWARDS, { dir: join(work, 'lab'), recordPath: PATH });
      expect(clientProblems(MANY_FORWARDS, run.client)).toEqual([]);
      const keys = new TlsKeyLog();
      const model = await analyzeCapture(PATH, analyzeOptions({ keys }));
      const s = model.sessions.find((x) => x.protocol === 'SPDY/3.1+portforward.k8s.io')!;
      const conn = model.connections.find((c) => c.id === s.connectionId)!;
      const tls = conn.tls!;
      // kubectl's writes alone (each its own record) outnumber the old cap: the record list stops, the carrier logs go on.
      expect(tls.plaintextCarriers.c2s.count).toBeGreaterThan(OLD_CAP);
      expect(tls.recordsDropped).toBeGreaterThan(0);
      const from = { c2s: s.requestOrigin, s2c: s.control.find((c) => c.kind === 'upgrade')!.origin! };
      const truth = {
        c2s: tsharkTunnel(PATH, port(conn.client), port(conn.server)),
        s2c: tsharkTunnel(PATH, port(conn.server), port(conn.client)),
      };
      // The decrypted bytes the old list's records account for, per direction: an event past them was past the cap.
      const listedEnd = { c2s: 0, s2c: 0 };
      for (const r of tls.records) listedEnd[r.dir] += r.plaintext;
      const past = (e: StreamEvent) => tunnelledCarriers(truth[e.dir], e.origin!.offset, e.origin!.length).frames[0]?.payloadOffset >= listedEnd[e.dir];
      const events = s.streams.flatMap((r) => r.events).filter((e) => e.origin && e.origin.length > 0);
      const beyond = { c2s: events.filter((e) => e.dir === 'c2s' && past(e)), s2c: events.filter((e) => e.dir === 's2c' && past(e)) };
      expect(beyond.c2s.length).toBeGreaterThan(0);
      expect(beyond.s2c.length).toBeGreaterThan(0);
      const blind = createCaptureInspector(PATH);
      const keyed = createCaptureInspector(PATH, keys);
      let severalFrames = 0;
      for (const e of [...spread(beyond.c2s, 4), ...spread(beyond.s2c, 4)]) {
        const o = e.origin as FrameOrigin;
        const t = truth[e.dir];
        const { frames, holding, packets } = tunnelledCarriers(t, o.offset, o.length);
        if (frames.length > 1) severalFrames++;
        const query = {
          connectionId: s.connectionId,
          dir: e.dir,
          origin: o,
          tunnel: { from: from[e.dir].offset + from[e.dir].length, subprotocol: s.protocol, extensions: conn.websocket?.extensions ?? '', portForward: true, carriers: conn.websocket!.tunnelCarriers![e.dir] },
          tls: true,
          tlsRecordLog: tls.plaintextCarriers[e.dir],
        };
        for (const [read, decoded] of [[blind, false], [keyed, true]] as const) {
          const unit = await read(query);
          expect(unit).toMatchObject({ decrypted: decoded, traced: true });
          expect(unit.carriers.map((c) => c.packet.index)).toEqual(packets.slice(0, LISTED));
          expect(unit.tlsRecords.map((r) => [r.origin.offset, r.origin.length])).toEqual(holding.slice(0, LISTED).map((r) => [r.offset, r.length]));
          expect(unit.tunnelFrameCount).toBe(frames.length);
          expect(unit.tunnelFrames.map((f) => [f.held.offset, f.held.length, f.frame && [f.frame.offset, f.frame.length]])).toEqual(
            frames.slice(0, LISTED).map((f) => {
              const a = f.payloadOffset + Math.max(0, o.offset - f.tunnelOffset);
              const b = f.payloadOffset + Math.min(f.payloadLength, o.offset + o.length - f.tunnelOffset);
              return [a, b - a, decoded ? [f.offset, f.length] : null];
            }),
          );
        }
      }
      expect(severalFrames).toBeGreaterThan(0);
      // In the Event pane, re-read without the keys: the last event's packets, and no word of an unknown record.
      const last = beyond.s2c.at(-1)!;
      const layers = await createEventInspector(blind, model)(s, last);
      expect(layers.filter((l) => l.kind === 'packet').map((l) => l.title)).toEqual(tunnelledCarriers(truth.s2c, last.origin!.offset, last.origin!.length).packets.slice(0, LISTED).map((n) => `packet ${n}`));
      expect(layers.find((l) => l.kind === 'tls')!.lines.join('\n')).not.toMatch(/unknown/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
  180_000,
);
