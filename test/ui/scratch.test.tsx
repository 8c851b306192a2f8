import chalk from 'chalk';
import { App } from '../../src/ui/App.js';
import type { EventInspector } from '../../src/ui/event-layers.js';
import { captureModel, wsEchoSession } from '../helpers/model-builders.js';
import { renderTui, KEYS } from './tui-harness.js';

beforeEach(() => { chalk.level = 0; });
it('scratch', async () => {
    const s = wsEchoSession();
    const calls: unknown[][] = [];
    const inspector: EventInspector = async (session, event) => {
      calls.push([session, event]);
      console.log('inspect', event.kind);
      return [{ kind: 'stream', title: 'a', lines: [], range: null, bytes: null, highlight: null }, { kind: 'frame', title: 'b', lines: [], range: null, bytes: null, highlight: null }];
    };
    const tui = await renderTui(<App path="tls" load={{ model: captureModel({ sessions: [s] }), bytesRead: 100, totalBytes: 100, revision: 1, error: null }} inspector={inspector} initialState={{ pane: 'event' }} />);
    await tui.press(KEYS.down);
    console.log(calls.length, tui.lastFrame().split('\n').filter((l) => l.includes('▸')).join('|'));
    await tui.press(KEYS.left);
    console.log(tui.lastFrame().split('\n').find((l) => l.includes('Event')));
    await new Promise((r) => setTimeout(r, 100));
    console.log(calls.length);
    tui.unmount();
});
