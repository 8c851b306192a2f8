/** How to open a recording that a command just finished, in words that work where the user is. */
import { resolve } from 'node:path';

/**
 * Two ways to open `file`: `execscope` is on the PATH only after `npm link`, so `npx` (which finds it
 * inside the clone) and node with this very CLI (from anywhere).
 */
export function openCommands(file: string): [inClone: string, anywhere: string] {
  const path = resolve(file);
  return [`npx execscope ${path}`, `${process.execPath} ${resolve(process.argv[1])} ${path}`];
}
