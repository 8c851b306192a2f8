import { loadTui } from '../../src/ui/load-tui.js';

describe('loadTui', () => {
  it('loads the TUI with fetch hidden from its modules and puts fetch back', async () => {
    const fetchBefore = globalThis.fetch;
    let seenWhileLoading = 'not looked';
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch')!;
    // What code running while the modules load sees (their files are read asynchronously).
    const probe = setImmediate(() => (seenWhileLoading = typeof globalThis.fetch));
    const tui = await loadTui();
    clearImmediate(probe);
    expect(typeof tui.runTui).toBe('function');
    expect(globalThis.fetch).toBe(fetchBefore);
    expect(Object.getOwnPropertyDescriptor(globalThis, 'fetch')).toEqual(descriptor);
    expect(seenWhileLoading).toBe('undefined');
  });
});
