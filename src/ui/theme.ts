/**
 * What colours mean. Every colour doubles a symbol or a word, so the screen reads the same under
 * NO_COLOR; chalk (which Ink draws with) honours FORCE_COLOR but not NO_COLOR, so we apply it.
 */
import chalk from 'chalk';
import type { Severity } from '../report/session-summary.js';

export type InkColor = 'red' | 'yellow' | 'green' | 'cyan' | 'blue' | 'magenta' | 'gray' | 'white';

const STREAM_COLORS: Record<string, InkColor> = {
  upgrade: 'blue',
  stdin: 'cyan',
  stdout: 'green',
  stderr: 'magenta',
  error: 'red',
  resize: 'blue',
  control: 'gray',
};

/** Colour of a lane / stream by its name; port-forward data streams count as output. */
export function streamColor(name: string): InkColor {
  if (name.startsWith('data')) return 'green';
  return STREAM_COLORS[name] ?? 'white';
}

export function severityColor(s: Severity): InkColor | undefined {
  return s === 'error' ? 'red' : s === 'warn' ? 'yellow' : s === 'ok' ? 'green' : undefined;
}

/** Symbol that carries the severity without colour. */
export function severitySymbol(s: Severity): string {
  return s === 'error' ? '✗' : s === 'warn' ? '!' : s === 'ok' ? '✓' : '·';
}

/** NO_COLOR (https://no-color.org): present and not empty disables colour. Returns whether colour stays on. */
export function applyColorEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') chalk.level = 0;
  return chalk.level > 0;
}
