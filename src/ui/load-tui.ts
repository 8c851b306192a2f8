/**
 * Loads the TUI's code (Ink, React, and yoga, Ink's layout engine) for a caller about to draw.
 *
 * yoga's WebAssembly build reads its inlined module with fetch() whenever fetch exists. In Node
 * that first loads undici, Node's HTTP client (~110 ms of the TUI's start, measured at load 15), to
 * read a data: URL that the build decodes by itself when there is no fetch: so there is none while
 * the TUI's modules load.
 */
export async function loadTui(): Promise<typeof import('./run-tui.js')> {
  const fetchProperty = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  const hide = fetchProperty?.configurable === true;
  if (hide) Object.defineProperty(globalThis, 'fetch', { value: undefined, configurable: true, writable: true });
  try {
    return await import('./run-tui.js');
  } finally {
    if (hide) Object.defineProperty(globalThis, 'fetch', fetchProperty);
  }
}
