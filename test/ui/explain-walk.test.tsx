/**
 * Explain mode in the TUI on the lab's recording of a real `kubectl exec -it` over WebSocket: `e`
 * shows the selected event in words beside (or instead of) its layers, and n/p walk the session in
 * protocol order from the request to the end, selecting each step on its lane.
 */
import { join } from 'node:path';
import { App } from '../../src/ui/App.js';
import { walkSteps } from '../../src/explain/walk.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import type { CaptureModel } from '../../src/model/session.js';
import { KEYS, loaded, renderTui, tuiTestSetup, type Tui } from './tui-harness.js';

const explainTitle = (tui: Tui) => tui.lastFrame().split('\n').find((l) => l.includes('Explain · '));
const firstExplained = (tui: Tui) => {
  const ls = tui.lastFrame().split('\n');
  const at = ls.findIndex((l) => l.includes('Explain · '));
  return at < 0 ? undefined : ls[at + 1];
};

let model: CaptureModel;
beforeAll(async () => {
  model = await analyzeCapture(join(process.cwd(), 'fixtures/lab/lab-ws-tty-resize.pcapng'), analyzeOptions());
});
tuiTestSetup();

describe('the guided walk at 80×24', () => {
  it('n starts at the request and steps in protocol order, p steps back, each step explained', async () => {
    const steps = walkSteps(model.sessions[0]).length;
    const tui = await renderTui(<App path="lab-ws-tty-resize.pcapng" load={loaded(model)} />);
    expect(explainTitle(tui)).toBeUndefined();
    await tui.press('n');
    expect(explainTitle(tui)).toContain(`Explain · step 1/${steps} · n/p walk · e close`);
    expect(firstExplained(tui)).toContain('GET /api/v1/namespaces/default/pods/lab-0/exec — asks for an upgrade');
    expect(tui.lastFrame()).toMatch(/^ who +kubectl, for kubectl exec/m);
    await tui.press('n');
    expect(firstExplained(tui)).toContain('101 Switching Protocols, v5.channel.k8s.io');
    expect(tui.lastFrame()).toMatch(/^▸upgrade +○?.*◉/m);
    await tui.press('n', 'n', 'n');
    expect(explainTitle(tui)).toContain(`step 5/${steps}`);
    expect(firstExplained(tui)).toContain('stdout 2 B — the first stdout byte');
    expect(tui.lastFrame()).toMatch(/^▸stdout /m);
    await tui.press('p');
    expect(firstExplained(tui)).toContain('resize 100×30 — the terminal size at start');
    // To the end and no further.
    for (let i = 0; i < steps; i++) await tui.press('n');
    expect(explainTitle(tui)).toContain(`step ${steps}/${steps}`);
    for (const l of tui.lastFrame().split('\n')) expect(Array.from(l).length).toBeLessThanOrEqual(80);
  });

  it('e explains whatever is selected, also an event a step stands for, and closes again', async () => {
    const tui = await renderTui(<App path="lab-ws-tty-resize.pcapng" load={loaded(model)} />);
    await tui.press(KEYS.enter, 'e');
    // The default selection is the first stdout frame: step 5 itself.
    expect(explainTitle(tui)).toContain('step 5/');
    await tui.press(KEYS.right);
    expect(explainTitle(tui)).toMatch(/after step 6\//);
    expect(firstExplained(tui)).toMatch(/^ stdout \d+ B$/);
    expect(tui.lastFrame()).toContain('More output, copied as the process writes it.');
    await tui.press('e');
    expect(explainTitle(tui)).toBeUndefined();
  });

  it('an explanation taller than the pane scrolls with ↑↓ in place of the layers, from its top at each step', async () => {
    const steps = walkSteps(model.sessions[0]).length;
    const tui = await renderTui(<App path="lab-ws-tty-resize.pcapng" load={loaded(model)} />);
    let i = 0;
    do await tui.press('n');
    while (!/↑↓ scroll 1–/.test(explainTitle(tui) ?? '') && ++i < steps);
    expect(explainTitle(tui)).toMatch(/↑↓ scroll 1–\d+ of \d+/);
    const top = firstExplained(tui);
    await tui.press(KEYS.down);
    expect(explainTitle(tui)).toMatch(/↑↓ scroll 2–/);
    expect(firstExplained(tui)).not.toBe(top);
    await tui.press('p', 'n');
    expect(explainTitle(tui)).toMatch(/↑↓ scroll 1–/);
    expect(firstExplained(tui)).toBe(top);
  });

  it('n and p do not walk inside Content, where search has those keys', async () => {
    const tui = await renderTui(<App path="lab-ws-tty-resize.pcapng" load={loaded(model)} />);
    await tui.press(KEYS.enter, KEYS.enter, KEYS.enter);
    const content = tui.lastFrame();
    expect(content).toMatch(/^▶ Content/m);
    await tui.press('n', 'p');
    expect(tui.lastFrame()).toMatch(/^▶ Content/m);
    expect(explainTitle(tui)).toBeUndefined();
  });
});

describe('at 160×40', () => {
  it('the explanation sits beside the layers', async () => {
    const tui = await renderTui(<App path="lab-ws-tty-resize.pcapng" load={loaded(model)} />, { columns: 160, rows: 40 });
    await tui.press('n', 'n');
    const row = tui.lastFrame().split('\n').find((l) => l.includes('Explain · '))!;
    expect(row).toMatch(/^▶ Event · upgrade · 101 Switching Protocols v5\.channel\.k8s\.io .* Explain · step 2\//);
    expect(tui.lastFrame()).toMatch(/├ HTTP +HTTP\/1\.1 response head +101 Switching Protocols, v5\.channel\.k8s\.io$/m);
    expect(tui.lastFrame()).toMatch(/│ +101 Switching Protocols v5\.channel\.k8s\.io +what +The server accepts the upgrade/);
  });
});
