/** Reading `--json-lines` output (execscope live, execscope tap) in tests. */
import type { ChildProcess } from 'node:child_process';

/** The JSON lines a child prints, as they come; `until` waits for one matching. */
export function jsonLines(child: ChildProcess) {
  const seen: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      seen.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
    }
    for (const w of waiters) w();
  });
  const until = (match: (e: Record<string, unknown>) => boolean, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = seen.find(match);
        if (found) {
          waiters.delete(check);
          resolve(found);
        }
      };
      waiters.add(check);
      child.once('exit', () => reject(new Error(`${child.spawnfile} exited before: ${what}`)));
      check();
    });
  return { seen, until };
}
