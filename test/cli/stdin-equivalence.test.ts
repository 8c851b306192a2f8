/**
 * `execscope analyze FILE --json` and `cat FILE | execscope analyze - --json` give the same document
 * for every capture in fixtures/ and in the team's ../shared (read in place, never copied): the file
 * is read with its size known and may be read twice (keys that arrive late), stdin in whatever
 * chunks the pipe delivers, once. The capture's file name is the only field allowed to differ.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.cwd();
const cli = join(root, 'dist', 'cli.js');

function captures(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(pcap|pcapng)(\.gz)?$/.test(name)) out.push(path);
    }
  };
  [join(root, 'fixtures'), join(root, '..', 'shared', 'captures'), join(root, '..', 'shared', 'outside-captures')].forEach(walk);
  return out;
}

function analyze(args: string[], stdinFrom?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'analyze', ...args, '--json'], { stdio: [stdinFrom ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Small reads, so the pipe delivers the capture in many chunks.
    if (stdinFrom) createReadStream(stdinFrom, { highWaterMark: 4093 }).pipe(child.stdin!);
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The document with the capture's own name (a file's path) taken out. */
function comparable(json: string): unknown {
  const doc = JSON.parse(json);
  if (doc.capture?.files) for (const f of doc.capture.files) delete f.path;
  return doc;
}

const files = captures();

test('there are captures to compare (fixtures/ at least)', () => {
  expect(files.filter((f) => f.startsWith(join(root, 'fixtures'))).length).toBeGreaterThan(10);
});

test.each(files.map((f) => [relative(root, f), f]))('%s: analyze FILE and analyze - on its bytes agree', async (_name, file) => {
  const [fromFile, fromPipe] = await Promise.all([analyze([file]), analyze(['-'], file)]);
  expect(fromPipe.status).toBe(fromFile.status);
  expect(comparable(fromPipe.stdout)).toEqual(comparable(fromFile.stdout));
}, 120_000);
