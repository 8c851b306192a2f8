/**
 * The capture inspector over TLS: given the key log the analysis used, re-reading the capture
 * decrypts the connection again (tls/'s decoder) and gives each unit's plaintext bytes — on a real
 * kubectl exec with a key log file, the same exec with the secrets in the pcapng (DSB), and lab
 * recordings through the real apiserver's TLS. Each WebSocket frame's bytes are compared with
 * tshark's own decryption of the packet that carried it, and each event's records and packets
 * with the records tshark's decryption puts its plaintext in and the frames that carried them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { hasTshark, tsharkTlsRecords } from '../kit/tshark.js';

const fixture = (name: string) => join(process.cwd(), 'fixtures', name);
const KEYLOG = fixture('tls-ws-keylog.keylog');

if (!hasTshark) console.warn('SKIPPED: tshark is not installed: decrypted frames were not compared with its decryption');

/** tshark's "Decrypted TLS" bytes of one frame (every record's, in order), as hex. */
function tsharkDecrypted(path: string, frame: number, keylog?: string): string {
  const args = ['-r', path, ...(keylog ? ['-o', `tls.keylog_file:${keylog}`] : []), '-Y', `frame.number==${frame}`, '-x'];
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
  // Hex rows follow a heading ("Frame (107 bytes):", "Decrypted TLS (19 bytes):"); the frame's own come first, unheaded.
  let decrypted = false;
  let hex = '';
  for (const line of out.split('\n')) {
    const row = /^[0-9a-f]{4}  ((?:[0-9a-f]{2} )*[0-9a-f]{2})/.exec(line);
    if (!row) decrypted = line.startsWith('Decrypted TLS');
    else if (decrypted) hex += row[1].replace(/ /g, '');
  }
  return hex;
}

async function analyzed(name: string, keyLogs: { text: string; source: string }[] = []) {
  const path = fixture(name);
  const keys = new TlsKeyLog();
  const model = await analyzeCapture(path, analyzeOptions({ keys, keyLogs }));
  const s = model.sessions.find((x) => model.connections.find((c) => c.id === x.connectionId)?.tls)!;
  expect(s).toBeDefined();
  return { path, keys, model, s };
}

describe.each([
  ['tls-ws-keylog.pcap', true],
  ['tls-ws-dsb.pcapng', false],
])('%s', (name, withFile) => {
  it('every stream message: its WebSocket frame decrypted again, as tshark decrypts it', async () => {
    const { path, keys, s } = await analyzed(name, withFile ? [{ text: readFileSync(KEYLOG, 'utf8'), source: KEYLOG }] : []);
    const read = createCaptureInspector(path, keys);
    const events = s.streams.flatMap((r) => r.events.filter((e) => e.kind === 'data'));
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const e of events) {
      const unit = await read({ connectionId: s.connectionId, dir: e.dir, origin: e.origin, tls: true });
      expect(unit.decrypted).toBe(true);
      expect(unit.bytes.length).toBe(e.origin.length);
      // A binary frame (0x82) whose payload is the channel byte then the message.
      expect(unit.bytes[0]).toBe(0x82);
      expect(unit.tlsRecords.length).toBeGreaterThan(0);
      if (hasTshark) expect(tsharkDecrypted(path, e.origin.lastPacket, withFile ? KEYLOG : undefined)).toContain(Buffer.from(unit.bytes).toString('hex'));
    }
  });
});

describe.each([
  ['tls-ws-keylog.pcap', true],
  // kubectl's 16 KiB stdout messages: a record begun in the packet before the one that completed it.
  ['lab/lab-ws-stdin-sort.pcapng', false],
])('%s: every event’s records and packets', (name, withFile) => {
  (hasTshark ? it : it.skip)('are exactly the records tshark decrypts its bytes from and the frames that carried them', async () => {
    const { path, keys, model, s } = await analyzed(name, withFile ? [{ text: readFileSync(KEYLOG, 'utf8'), source: KEYLOG }] : []);
    const read = createCaptureInspector(path, keys);
    const conn = model.connections.find((c) => c.id === s.connectionId)!;
    const port = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
    const tshark = { c2s: tsharkTlsRecords(path, port(conn.client), port(conn.server), withFile ? ['-o', `tls.keylog_file:${KEYLOG}`] : []), s2c: tsharkTlsRecords(path, port(conn.server), port(conn.client), withFile ? ['-o', `tls.keylog_file:${KEYLOG}`] : []) };
    const events = s.streams.flatMap((r) => r.events).filter((e) => e.origin.length > 0);
    expect(events.length).toBeGreaterThanOrEqual(4);
    let begunEarlier = 0;
    for (const e of events) {
      const o = e.origin;
      const holding = tshark[e.dir].filter((r) => r.plaintextLength > 0 && r.plaintextOffset < o.offset + o.length && o.offset < r.plaintextOffset + r.plaintextLength);
      expect(holding.length).toBeGreaterThan(0);
      const unit = await read({ connectionId: s.connectionId, dir: e.dir, origin: o, tls: true });
      expect(unit.tlsRecords.map((r) => [r.origin.offset, r.origin.length])).toEqual(holding.map((r) => [r.offset, r.length]));
      expect(unit.carriers.map((c) => c.packet.index)).toEqual([...new Set(holding.flatMap((r) => r.frames))].sort((a, b) => a - b));
      if (unit.carriers[0].packet.index < o.packet) begunEarlier++;
    }
    if (name.startsWith('lab/')) expect(begunEarlier).toBeGreaterThan(0);
  });
});

it('without the keys (or with a key log that lacks them): no bytes and not decrypted, the records the analysis’s log names still listed', async () => {
  const { path, model, s } = await analyzed('tls-ws-dsb.pcapng');
  const e = s.streams.find((r) => r.name === 'stdout')!.events.find((x) => x.kind === 'data')!;
  const log = model.connections.find((c) => c.id === s.connectionId)!.tls!.plaintextCarriers[e.dir];
  for (const read of [createCaptureInspector(path), createCaptureInspector(path, new TlsKeyLog())]) {
    const unit = await read({ connectionId: s.connectionId, dir: e.dir, origin: e.origin, tls: true, tlsRecordLog: log });
    expect(unit).toMatchObject({ decrypted: false, traced: true, bytes: new Uint8Array(0) });
    expect(unit.tlsRecords.length).toBeGreaterThan(0);
    expect(unit.carriers.length).toBeGreaterThan(0);
    // Without the log either, no record is guessed.
    const blind = await read({ connectionId: s.connectionId, dir: e.dir, origin: e.origin, tls: true });
    expect(blind).toMatchObject({ decrypted: false, traced: false, tlsRecords: [], carriers: [] });
  }
});

it('SPDY through the apiserver’s TLS (lab, DSB): each SYN_STREAM’s header block inflated from the decrypted stream', async () => {
  const { path, keys, model, s } = await analyzed('lab/lab-spdy-echo.pcapng');
  expect(s.transport).toBe('spdy');
  const inspect = createEventInspector(createCaptureInspector(path, keys), model);
  const opens = s.streams.map((r) => ({ r, e: r.events.find((x) => x.kind === 'open')! })).filter((x) => x.e);
  expect(opens.map((x) => x.r.name)).toEqual(expect.arrayContaining(['error', 'stdout', 'stderr']));
  for (const { r, e } of opens) {
    const frame = (await inspect(s, e)).find((l) => l.kind === 'frame')!;
    expect(frame.bytes?.length).toBe(e.origin.length);
    expect(frame.fields?.find((f) => f.id === 'spdy.type')?.value).toBe('1 (SYN_STREAM)');
    expect(frame.fields?.find((f) => f.label === 'streamtype')?.value).toBe(r.name);
  }
  // spdystream ends stdout with an empty DATA frame, then one with FIN: neither carries stream bytes.
  const stdout = s.streams.find((r) => r.name === 'stdout')!;
  const empty = stdout.events.find((e) => e.kind === 'data' && e.length === 0)!;
  const emptyLayers = await inspect(s, empty);
  expect(emptyLayers[0]).toMatchObject({ bytes: null, missing: 'this event carries no stream bytes (an empty data frame)' });
  expect(emptyLayers.find((l) => l.kind === 'frame')!.fields?.find((f) => f.id === 'spdy.length')?.value).toBe('0');
});

it('the HTTP layer over TLS: the upgrade request head, decrypted, as a header list', async () => {
  const { path, keys, model, s } = await analyzed('lab/lab-ws-attach.pcapng');
  const e = s.streams.find((r) => r.name === 'stdout')!.events.find((x) => x.kind === 'data')!;
  const http = (await createEventInspector(createCaptureInspector(path, keys), model)(s, e)).find((l) => l.kind === 'http')!;
  expect(Buffer.from(http.bytes!).toString('latin1')).toMatch(/^GET \/api\/v1\/namespaces\/[^ ]+\/attach\?[^ ]* HTTP\/1\.1\r\n/);
  expect(http.range).toEqual({ space: 'TLS plaintext c2s', start: s.requestOrigin.offset, end: s.requestOrigin.offset + s.requestOrigin.length });
  expect(http.fields?.find((f) => f.id === 'http.request.method')?.value).toBe('GET');
});

it('a half-close says it carries no stream bytes (a FIN); its frame is read back', async () => {
  const { path, keys, model, s } = await analyzed('lab/lab-ws-attach.pcapng');
  const e = s.streams.flatMap((r) => r.events).find((x) => x.kind === 'half-close')!;
  const layers = await createEventInspector(createCaptureInspector(path, keys), model)(s, e);
  expect(layers[0]).toMatchObject({ kind: 'stream', bytes: null });
  expect(layers[0].missing).toMatch(/^this event carries no stream bytes \(a FIN/);
  const frame = layers.find((l) => l.kind === 'frame')!;
  // kubectl's CLOSE signal: [255, channel], masked.
  expect(frame.fields?.find((f) => f.id === 'websocket.k8s_channel')?.value).toBe('255 (CLOSE signal)');
});
