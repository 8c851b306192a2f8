import { App } from '../../src/ui/App.js';
import { captureModel, spdyEchoConnections, spdyEchoSession, wsEchoSession, hostileSession } from '../helpers/model-builders.js';
import { renderTui, KEYS } from './tui-harness.js';

it('smoke', async () => {
  const model = captureModel({ sessions: [wsEchoSession(), spdyEchoSession(), hostileSession()], connections: spdyEchoConnections() });
  const tui = await renderTui(<App path="ws-echo.pcap" load={{ model, bytesRead: 1, totalBytes: 1, revision: 1, error: null }} />);
  for (const k of [KEYS.enter, KEYS.enter, KEYS.enter, KEYS.escape, KEYS.escape, 'x']) {
    const before = tui.stdout.frames.length;
    const t0 = performance.now();
    (tui as any).stdin?.write;
    await tui.press(k);
    let waited = 0;
    while (tui.stdout.frames.length === before && waited < 1000) { await new Promise((r) => setTimeout(r, 1)); waited++; }
    console.log(JSON.stringify(k), before, tui.stdout.frames.length, (performance.now() - t0).toFixed(1));
  }
  tui.unmount();
});
