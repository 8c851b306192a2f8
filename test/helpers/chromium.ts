/**
 * Debian's headless Chromium for tests that look at what a browser draws: a screenshot of a file,
 * and the DOM after a page's script ran. Each run gets a fresh profile directory, no network
 * features, and stops by itself (Chromium exits once it wrote its answer).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function chromiumPath(): string | null {
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0) return r.stdout.trim();
  }
  return null;
}

function run(binary: string, args: string[], file: string): string {
  const profile = mkdtempSync(join(tmpdir(), 'execscope-chromium-'));
  try {
    const r = spawnSync(
      binary,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        ...args,
        pathToFileURL(file).href,
      ],
      { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** A screenshot of `file` in a window of the given size, written to `png`. */
export function screenshot(binary: string, file: string, png: string, width: number, height: number): void {
  run(binary, [`--screenshot=${png}`, `--window-size=${width},${height}`], file);
}

/** The serialised DOM of `file` after its scripts ran. */
export function dumpDom(binary: string, file: string): string {
  return run(binary, ['--dump-dom'], file);
}
