/**
 * Several captures of one exec, one per node, with clocks that disagree: the lab's recordings of the
 * real kubectl split into one file per hop (each hop's clock 2.5 s further off, the TLS key log a file
 * of its own given with the apiserver's capture only) merge back into the same hop links and the
 * same diagnosis as the one-file recording, with the offsets found from the linked hops. A docker
 * exec merged from a second file keeps its calls' connections, and the Event pane reads them there;
 * Content and S read each merged session's long streams back from its own file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnoseAll } from '../../src/diagnose/diagnose.js';
import { splitRecording } from '../../src/lab/split-recording.js';
import type { CaptureModel } from '../../src/model/session.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { contentReaderFrom } from '../../src/pipeline/capture-content-reader.js';
import { analyzeCaptures, createMergedCaptureInspector, mergedStreamSource } from '../../src/pipeline/merge-captures.js';
import { streamSaverFrom } from '../../src/pipeline/stream-extract.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { tempDirForTests } from '../kit/temp-dir.js';

const OFFSET_NS = 2.5e9;
/** The lab relays output through JavaScript: a relayed byte is a few ms behind, the estimate as much. */
const ESTIMATE_NS = 30e6;
const dir = tempDirForTests('execscope-merge-');
const opts = analyzeOptions({ keepEvents: false });

/** Each exec session as its hop, what it links to (by hop) and the doctor's cause. */
function view(m: CaptureModel) {
  const d = diagnoseAll(m);
  const hopOf = (id: number | null) => m.sessions.find((s) => s.id === id)?.hop ?? null;
  return m.sessions
    .filter((s) => s.transport !== 'grpc')
    .map((s) => ({ hop: s.hop, transport: s.transport, previous: hopOf(s.previousHop), next: hopOf(s.nextHop), cause: d.get(s.id)?.cause ? `${d.get(s.id)!.cause!.rule}@${d.get(s.id)!.cause!.hop}` : null }))
    .sort((a, b) => a.hop.localeCompare(b.hop) || a.transport.localeCompare(b.transport));
}

/** The lab recording `name` as one file per hop, hop k's clock k × `offsetNs` off. */
async function split(name: string, offsetNs = OFFSET_NS) {
  const whole = join(process.cwd(), 'fixtures', 'lab', name);
  const parts = await splitRecording(whole, join(dir, `${name.replace(/\.pcapng(\.gz)?$/, '')}-${offsetNs / 1e6}ms`), offsetNs);
  return { whole, parts };
}

test.each(['lab-fault-no-pings.pcapng', 'lab-fault-reset-mid-stream.pcapng', 'lab-fault-no-exit-status.pcapng', 'lab-fault-refuse-websocket.pcapng'])(
  '%s: split per hop with shifted clocks, merged back: same links, same causes, offsets found',
  async (name) => {
    const { whole, parts } = await split(name);
    // The apiserver's TLS key log goes with the apiserver's capture, as the control plane's would.
    const keyLogs = parts.keyLog === null ? [] : [{ text: parts.keyLog, source: 'keylog' }];
    const merged = await analyzeCaptures(
      parts.files.map((f, i) => ({ path: f.path, keyLogs: i === 0 ? keyLogs : [] })),
      opts,
    );
    expect(view(merged)).toEqual(view(await analyzeCapture(whole, opts)));
    // Every file with an exec hop is lined up with the first to within the relay delay.
    for (const [i, f] of merged.capture.files!.entries()) {
      if (!/→(apiserver|kubelet|runtime|streaming server)$/.test(parts.files[i].interfaceName)) continue;
      expect({ file: f.path, error: Math.abs(f.clockOffsetNs + parts.files[i].offsetNs) <= ESTIMATE_NS }).toEqual({ file: f.path, error: true });
    }
  },
);

describe('the stall-reader recording (no output comes back: the apiserver dials the kubelet 43.7 ms after its WebSocket 101, the kubelet the runtime 76 ms after its request)', () => {
  const name = 'lab-fault-stall-reader.pcapng.gz';
  /** Each file's offset and the bounds it is said to have (ms); `shifts`: how far each file's clock was moved (ns). */
  async function offsets(files: readonly string[], shifts: readonly number[]) {
    const merged = await analyzeCaptures(files.map((path) => ({ path, keyLogs: [] })), opts);
    return merged.capture.files!.map((f, i) => ({ ms: f.clockOffsetNs / 1e6, truthWithinBounds: f.clockOffsetMinNs <= -shifts[i] && -shifts[i] <= f.clockOffsetMaxNs, from: f.clockOffsetFrom }));
  }

  test('split per hop on one clock: no file is moved, and the bounds say how far it could be', async () => {
    const { parts } = await split(name, 0);
    const [apiserver, kubelet, , runtime] = await offsets(parts.files.map((f) => f.path), [0, 0, 0, 0]);
    expect([apiserver.ms, kubelet.ms, runtime.ms]).toEqual([0, 0, 0]);
    expect(kubelet).toEqual({ ms: 0, truthWithinBounds: true, from: expect.stringMatching(/apiserver→kubelet hop with .*: causality allows ≥ −43\.7 ms$/) });
    expect(runtime).toEqual({ ms: 0, truthWithinBounds: true, from: expect.stringMatching(/kubelet→cri hop with .*: causality allows ≥ −119\.8 ms$/) });
  });

  test('one file’s clock 7.5 s ahead (the runtime’s): found to within its 101 relayed by the kubelet, inside the bounds', async () => {
    const same = (await split(name, 0)).parts.files;
    const shifted = (await split(name, OFFSET_NS)).parts.files;
    const shifts = [0, 0, 0, shifted[3].offsetNs];
    const found = await offsets([same[0].path, same[1].path, same[2].path, shifted[3].path], shifts);
    expect(found.map((f) => f.truthWithinBounds)).toEqual([true, true, true, true]);
    expect(Math.abs(found[3].ms * 1e6 + shifts[3])).toBeLessThan(5e6);
  });

  test('one file’s clock 2.5 s ahead (the kubelet’s), bounded from one side only: within the bounds, the dial taken as instant', async () => {
    const same = (await split(name, 0)).parts.files;
    const shifted = (await split(name, OFFSET_NS)).parts.files;
    const shifts = [0, OFFSET_NS, 0, 0];
    const found = await offsets([same[0].path, shifted[1].path, same[2].path, same[3].path], shifts);
    expect(found.map((f) => f.truthWithinBounds)).toEqual([true, true, true, true]);
    // Off by the dial (43.7 ms), which nothing relayed back can tell from a clock.
    expect(Math.abs(found[1].ms * 1e6 + OFFSET_NS)).toBeLessThan(50e6);
  });
});

test('a TLS hop decrypts with the key log given for its own file only', async () => {
  const { parts } = await split('lab-ws-echo.pcapng');
  expect(parts.keyLog).not.toBeNull();
  const keyLog = { text: parts.keyLog!, source: 'lab-ws-echo.keylog' };
  const inputs = parts.files.map((f, i) => ({ path: f.path, keyLogs: i === 0 ? [keyLog] : [] }));
  const merged = await analyzeCaptures(inputs, opts);
  expect(view(merged)).toEqual([
    { hop: 'apiserver', transport: 'websocket', previous: null, next: 'kubelet', cause: null },
    { hop: 'cri', transport: 'spdy', previous: 'kubelet', next: null, cause: null },
    { hop: 'kubelet', transport: 'spdy', previous: 'apiserver', next: 'cri', cause: null },
  ]);
  expect(merged.sessions.find((s) => s.hop === 'apiserver')?.file).toBe(0);
  expect(merged.capture.files![1].clockOffsetFrom).toMatch(/^1 exec seen on both sides of the apiserver→kubelet hop with /);
  // Without its key log the apiserver hop is opaque TLS: no exec session there.
  const blind = await analyzeCaptures(parts.files.map((f) => ({ path: f.path, keyLogs: [] })), opts);
  expect(blind.sessions.some((s) => s.hop === 'apiserver')).toBe(false);
});

const DOCKER = join(process.cwd(), '..', 'shared', 'outside-captures', 'zeek', 'docker-http-upgrade.pcap');

(existsSync(DOCKER) ? test : test.skip)('a docker exec in the second file: its calls’ connections renumbered, each read back from that file', async () => {
  const inputs = [join(process.cwd(), 'fixtures', 'ws-echo.pcap'), DOCKER].map((path) => ({ path, keyLogs: [] }));
  const keys = inputs.map(() => new TlsKeyLog());
  const merged = await analyzeCaptures(inputs, analyzeOptions(), undefined, keys);
  const s = merged.sessions.find((x) => x.hop === 'docker')!;
  expect(s.file).toBe(1);
  const fileOf = (id: number) => merged.connections.find((c) => c.id === id)?.file;
  expect(s.docker!.connectionIds.map(fileOf)).toEqual([1, 1, 1]);
  // The resize call, on a connection of its own: the packets of its request, read from the docker capture.
  const resize = s.control.find((c) => c.kind === 'request' && c.detail.includes('/resize'))!;
  expect(fileOf(resize.connectionId!)).toBe(1);
  const layers = await createEventInspector(createMergedCaptureInspector(merged, keys), merged)(s, resize);
  expect(layers.find((l) => l.kind === 'http')!.fields?.find((f) => f.id === 'http.request.method')?.value).toBe('POST');
  const packets = layers.filter((l) => l.kind === 'packet');
  expect(packets.length).toBeGreaterThan(0);
  expect(packets.every((l) => l.bytes !== null && l.bytes.length > 0)).toBe(true);
});

test('Content and S read a merged session’s long stream back from its own file (the TLS hop with its file’s key log)', async () => {
  const { whole, parts } = await split('lab-ws-stdin-sort.pcapng');
  const inputs = parts.files.map((f, i) => ({ path: f.path, keyLogs: i === 0 && parts.keyLog ? [{ text: parts.keyLog, source: 'keylog' }] : [] }));
  const keys = inputs.map(() => new TlsKeyLog());
  // Heads of 1000 bytes: the 32 KiB stdout must be read back.
  const short = analyzeOptions({ headBytes: 1000 });
  const merged = await analyzeCaptures(inputs, short, undefined, keys);
  const reference = await analyzeCapture(whole, analyzeOptions());
  const source = mergedStreamSource(merged, keys, short);
  for (const hop of ['apiserver', 'kubelet', 'cri'] as const) {
    const s = merged.sessions.find((x) => x.hop === hop)!;
    const stdout = s.streams.find((r) => r.name === 'stdout')!;
    expect(stdout.headBytes).toBe(1000);
    const truth = Buffer.concat(reference.sessions.find((x) => x.hop === hop)!.streams.find((r) => r.name === 'stdout')!.head);
    expect(truth.length).toBe(stdout.bytes);
    expect(Buffer.from(await contentReaderFrom(source)(s, stdout)).equals(truth)).toBe(true);
    const file = join(dir, `merged-${hop}.bin`);
    expect(await streamSaverFrom(source)({ session: s, stream: stdout, range: { start: 5000, end: 9000 }, path: file })).toBe(4000);
    expect(readFileSync(file).equals(truth.subarray(5000, 9000))).toBe(true);
  }
});
