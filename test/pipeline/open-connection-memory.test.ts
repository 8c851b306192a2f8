/**
 * What a connection costs while it is open: TCP reassembly keeps up to 10,000 open at once, and a
 * capture of connections that each send an exec upgrade and hear nothing back keeps every one of
 * them until it is ended to make room. Their heap is most of the CLI's peak memory on such a capture
 * (README, Resource bounds): ~6.9 KB each before session 8 — closures per layer, lists and decoders
 * made before anything used them, the request head's whole text kept through slices of it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CaptureAnalyzer } from '../../src/pipeline/capture-analyzer.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { openTypingSessions, pcapBytes, unansweredUpgrades } from '../kit/hostile-captures.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The heap in use after full collections (the analyzer under test stays reachable through `keep`). */
function heapAfterCollecting(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** An analyzer with the CLI's `analyze --json` options fed `capture`, whose connections stay open (the capture is not finished). */
function fedAnalyzer(capture: Iterable<Uint8Array>): CaptureAnalyzer {
  const a = new CaptureAnalyzer(analyzeOptions({ keepEvents: false, headBytes: 0, endedConnectionsHeld: 1000 }));
  a.push(pcapBytes(capture));
  return a;
}

test('an open connection with an unanswered exec upgrade holds under 4.5 KB of heap', () => {
  // A first analyzer compiles and warms the whole path, so the measured one adds only its connections.
  const warm = fedAnalyzer(unansweredUpgrades(200));
  const before = heapAfterCollecting();
  const n = 4000;
  const measured = fedAnalyzer(unansweredUpgrades(n));
  const perConnection = (heapAfterCollecting() - before) / n;
  expect(measured.model.sessions).toHaveLength(n);
  expect(measured.model.sessions.every((s) => s.state === 'open-at-end' && s.endTs === null)).toBe(true);
  expect(warm.model.connections).toHaveLength(200);
  expect(perConnection).toBeLessThan(4.5 * 1024);
});

test('an open interactive exec session (WebSocket or SPDY, upgraded, typed in) holds under 6.8 KB of heap', () => {
  // 10,000 such sessions open at once peaked past 250 MB of RSS (session 12): ~12 KB of heap each,
  // most of it decoder state no keystroke uses (resync and control-frame buffers, per-connection
  // copies of SPDY headers, closures, empty Maps and Sets, {c2s, s2c} records), now made when first
  // needed, shared or flattened: ~7.4 KB (7.0–7.5 here). Session 14: SPDY streams keep no SYN_STREAM
  // or SYN_REPLY origins, open streams share one not-closed record, a session's stream recorders are
  // a list rather than a Map, WebSocket UTF-8 validators and ping lists are made on first use: 6.4–6.6 KB.
  const warm = fedAnalyzer(openTypingSessions(200));
  const before = heapAfterCollecting();
  const n = 2000;
  const measured = fedAnalyzer(openTypingSessions(n));
  const perSession = (heapAfterCollecting() - before) / n;
  expect(measured.model.sessions).toHaveLength(n);
  expect(measured.model.sessions.every((s) => s.state === 'open-at-end' && s.endTs === null && s.streams.some((x) => x.name === 'stdin' && x.bytes === 1))).toBe(true);
  expect(warm.model.sessions).toHaveLength(200);
  expect(perSession).toBeLessThan(6.8 * 1024);
});
