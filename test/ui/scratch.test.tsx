import { App } from '../../src/ui/App.js';
import { captureModel, spdyEchoConnections, spdyEchoSession, wsEchoSession, hangingSession, refusedAndFallback } from '../helpers/model-builders.js';
import { renderTui, KEYS } from './tui-harness.js';

it('scratch', async () => {
  const [r, f] = refusedAndFallback();
  const model = captureModel({ sessions: [spdyEchoSession(), wsEchoSession(), hangingSession(), r, f], connections: spdyEchoConnections() });
  const tui = await renderTui(<App path="demo.pcapng" load={{ model, bytesRead: 1, totalBytes: 1, revision: 1, error: null }} />);
  const show = (t: string) => console.log(t + '\n' + tui.lastFrame());
  show('initial');
  await tui.press(KEYS.down, KEYS.down, KEYS.enter);
  show('hang timeline');
  await tui.press('z');
  show('hang compressed');
  await tui.press(KEYS.up, KEYS.up, KEYS.left, KEYS.enter);
  show('event');
  await tui.press(KEYS.enter);
  show('content');
  await tui.press('x');
  show('content hex');
  await tui.resize(120, 40);
  show('120x40');
  await tui.press('c');
  show('connections');
  tui.unmount();
});
