/**
 * Waiting in tests for something to happen: `check` is polled every `everyMs` until it gives a value
 * (anything but undefined or false), which is returned. After `timeoutMs` it throws, saying `what`
 * did not happen (the check's own text by default): the bound is there for a hang, not a timing
 * under test, so it is generous.
 */
export async function until<T>(
  check: () => T | undefined | false,
  what?: string | (() => string),
  { timeoutMs = 30_000, everyMs = 2 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<Exclude<T, undefined | false>> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, everyMs))) {
    const answer = check();
    if (answer !== undefined && answer !== false) return answer as Exclude<T, undefined | false>;
    if (Date.now() > deadline) throw new Error(`never happened: ${typeof what === 'function' ? what() : (what ?? check.toString())}`);
  }
}
