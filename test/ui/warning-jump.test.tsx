/**
 * ⏎ on a warning goes to its packet's event, selects the layer of the protocol that reported it and
 * highlights the problem's origin in that layer's bytes: on a real lab recording whose reader stalled
 * (TCP zero windows, found as Wireshark finds them), and on a real WebSocket frame for a frame-level problem.
 */
import { join } from 'node:path';
import type { Problem } from '../../src/core/problem.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { App } from '../../src/ui/App.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { focusProblem } from '../../src/ui/problem-focus.js';
import { warningTarget } from '../../src/ui/warning-target.js';
import { hasTshark, pdmlFields } from '../kit/tshark.js';
import { KEYS, renderTui, tuiTestSetup } from './tui-harness.js';

const STALL = join(process.cwd(), 'fixtures', 'lab', 'lab-fault-stall-reader.pcapng.gz');

tuiTestSetup();

async function stalled() {
  const model = await analyzeCapture(STALL, analyzeOptions());
  const inspector = createEventInspector(createCaptureInspector(STALL), model);
  const warnings = model.warnings.filter((w) => w.code === 'tcp.zero-window');
  expect(warnings.length).toBeGreaterThan(0);
  return { model, inspector, warnings };
}

it('a TCP finding: its packet layer, the TCP header highlighted (at tshark’s offsets)', async () => {
  const { model, inspector, warnings } = await stalled();
  for (const w of warnings) {
    const target = warningTarget(model, w);
    if (!target || !('session' in target) || target.item < 0) throw new Error(`no event for ${w.where}`);
    const s = model.sessions.find((x) => x.id === target.session)!;
    const { buildLanes } = await import('../../src/ui/timeline-lanes.js');
    const event = buildLanes(s, model.sessions)[target.lane].items[target.item].event;
    const focus = focusProblem(await inspector(s, event, { packet: w.packet }), w);
    const layer = focus.layers[focus.layer];
    expect(layer.title).toBe(`packet ${w.packet}`);
    expect(layer.lines[0]).toMatch(/^! tcp\.zero-window: /);
    // A zero-window ACK carries none of the event's bytes: the packet is read for the warning.
    expect(layer.lines).toContain('a packet a warning points at: it carries none of this event’s bytes');
    if (!hasTshark) continue;
    const theirs = pdmlFields(STALL, w.packet!);
    const start = theirs.get('tcp.srcport')![0].pos;
    expect(layer.highlight).toEqual({ start, end: start + Number(theirs.get('tcp.hdr_len')![0].show) });
    // tshark flags the same packet.
    expect(theirs.has('tcp.analysis.zero_window')).toBe(true);
  }
});

it('a frame-level problem: the frame layer, from the problem’s byte to the frame’s end', async () => {
  const path = join(process.cwd(), 'fixtures', 'ws-echo.pcap');
  const model = await analyzeCapture(path, analyzeOptions());
  const s = model.sessions[0];
  const event = s.streams.find((r) => r.name === 'stdout')!.events.find((e) => e.kind === 'data' && e.length > 0)!;
  const layers = await createEventInspector(createCaptureInspector(path), model)(s, event);
  const frame = layers.findIndex((l) => l.kind === 'frame');
  const { range } = layers[frame];
  const problem: Problem = { code: 'websocket.rsv-unnegotiated', severity: 'warning', message: 'RSV1 set \x1b[2J', where: 'x', connection: s.connectionId, direction: 's2c', offset: range!.start + 1, packet: event.origin.packet };
  const focus = focusProblem(layers, problem);
  expect(focus.layer).toBe(frame);
  expect(focus.layers[frame].highlight).toEqual({ start: 1, end: range!.end - range!.start });
  expect(focus.layers[frame].lines[0]).toBe(`! websocket.rsv-unnegotiated: RSV1 set ␛[2J · bytes 1–${range!.end - range!.start - 1} highlighted`);
  // Another direction's offset is not this frame's byte: the layer is marked, its own highlight kept.
  expect(focusProblem(layers, { ...problem, direction: 'c2s' }).layers[frame].highlight).toEqual(layers[frame].highlight);
});

it('in the TUI: w, the warning, ⏎ — the Event pane on its packet, the header highlighted', async () => {
  const { model, inspector, warnings } = await stalled();
  const w = warnings[0];
  const index = model.warnings.indexOf(w);
  const tui = await renderTui(<App path={STALL} load={{ model, bytesRead: 1, totalBytes: 1, revision: 1, error: null }} inspector={inspector} />, { columns: 160, rows: 50 });
  await tui.press('w', ...Array.from({ length: index }, () => KEYS.down), KEYS.enter);
  const frame = await tui.waitFor((f) => f.includes('! tcp.zero-window: ') && !f.includes('… re-reading the capture'));
  expect(frame.split('\n').find((l) => l.startsWith('▶'))).toMatch(/^▶ Event/);
  expect(frame).toMatch(new RegExp(`▸[├└] packet +packet ${w.packet}\\b`));
  expect(frame).toContain('! tcp.zero-window: ');
  // The TCP header of the warning's packet (Ethernet 14 + IPv4 20 bytes before it).
  expect(frame).toContain('[highlighted] 34–53');
  // ↑ moves on from the warning's layer; another event drops the warning's packet and mark.
  await tui.press(KEYS.up);
  expect(tui.lastFrame()).toMatch(/▸├ packet +packet \d+/);
  expect(tui.lastFrame()).not.toMatch(new RegExp(`▸[├└] packet +packet ${w.packet}\\b`));
  await tui.press(KEYS.right);
  await tui.waitFor((f) => !f.includes('… re-reading the capture') && !f.includes('! tcp.zero-window: '));
  expect(tui.lastFrame()).not.toContain('! tcp.zero-window: ');
  expect(tui.lastFrame()).not.toMatch(new RegExp(`packet +packet ${w.packet}\\b`));
  tui.unmount();
});
