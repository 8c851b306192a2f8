/**
 * The Event pane over TLS, in the TUI: a file opened with its key log (kubectl exec over TLS 1.3)
 * shows a stdout message's WebSocket frame decrypted by re-reading the capture — its bytes in the
 * hex view and its fields (opcode, the channel byte named) — and the upgrade request's head; with
 * an inspector that has no keys the frame layer says why it has no bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { App } from '../../src/ui/App.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { buildLanes } from '../../src/ui/timeline-lanes.js';
import { KEYS, renderTui, tuiTestSetup } from './tui-harness.js';

const PATH = join(process.cwd(), 'fixtures', 'tls-ws-keylog.pcap');
const KEYLOG = join(process.cwd(), 'fixtures', 'tls-ws-keylog.keylog');

tuiTestSetup();

/** The TUI on the capture analysed with its key log, the first stdout message selected in the Event pane. */
async function openOnStdout(inspectorKeys: (keys: TlsKeyLog) => TlsKeyLog | null) {
  const keys = new TlsKeyLog();
  const model = await analyzeCapture(PATH, analyzeOptions({ keys, keyLogs: [{ text: readFileSync(KEYLOG, 'utf8'), source: KEYLOG }] }));
  const s = model.sessions[0];
  const lanes = buildLanes(s, model.sessions);
  const lane = lanes.findIndex((l) => l.stream?.name === 'stdout');
  const item = lanes[lane].items.findIndex((i) => i.event.kind === 'data');
  const inspector = createEventInspector(createCaptureInspector(PATH, inspectorKeys(keys)), model);
  const load = { model, bytesRead: 1, totalBytes: 1, revision: 1, error: null };
  return renderTui(<App path={PATH} load={load} inspector={inspector} initialState={{ pane: 'event', lane, item }} />, { columns: 160, rows: 50 });
}

it('with the key log: the frame layer’s decrypted bytes and fields, then the upgrade request’s head', async () => {
  const tui = await openOnStdout((keys) => keys);
  await tui.press(KEYS.down);
  const frame = await tui.waitFor((f) => /^ *│ +channel: /m.test(f));
  expect(frame).toMatch(/^▸├ frame +WebSocket binary message/m);
  expect(frame).toContain('TLS plaintext s2c bytes 175–193 (19 B)');
  expect(frame).toMatch(/^ *│ +opcode: 2 \(binary\) 0$/m);
  expect(frame).toMatch(/^ *│ +channel: 1 \(stdout\) 2$/m);
  // The frame's bytes: header 82 11, then the payload (channel byte and message) highlighted.
  expect(frame).toContain('bytes of TLS plaintext s2c 175–193 · [highlighted] 2–18 (17 B) of 19 B');
  expect(frame).toMatch(/^00000000 82 11\[01 73 65 63 72 65 74 2d 6f 76 65 72 2d 74\]  \.\.\.secret-over-t$/m);
  expect(frame).not.toContain('no bytes');
  // TLS (the record that carried it), then HTTP: the upgrade request read from the decrypted stream.
  // ↓ walks the frame's fields, then the TLS layer (and its fields), then HTTP.
  for (let i = 0; i < 20 && !/^▸├ HTTP /m.test(tui.lastFrame() ?? ''); i++) await tui.press(KEYS.down);
  const http = await tui.waitFor((f) => /^▸├ HTTP /m.test(f) && f.includes('bytes of TLS plaintext c2s'));
  expect(http).toMatch(/bytes of TLS plaintext c2s 0–\d+/);
  expect(http).toMatch(/^00000000\[47 45 54 20 2f 61 70 69 2f 76 31 2f 6e 61 6d 65\]  GET \/api\/v1\/name$/m);
  expect(http).toMatch(/^ *│ +method: GET 0–2$/m);
  expect(http).toMatch(/^ *│ +Sec-WebSocket-Protocol: v5.channel.k8s.io \d+–\d+$/m);
  tui.unmount();
});

it('an inspector without the keys: the frame layer says re-reading did not decrypt it', async () => {
  const tui = await openOnStdout(() => null);
  await tui.press(KEYS.down);
  const frame = await tui.waitFor((f) => f.includes('did not decrypt'));
  expect(frame).toContain('no bytes: re-reading the capture did not decrypt this TLS connection');
  tui.unmount();
});
