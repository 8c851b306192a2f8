import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLogFile, openRecordingFile } from '../../src/record/recording-file.js';
import { until } from '../kit/until.js';

let dir: string;
let made = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'execscope-recording-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fifo(): string {
  const path = join(dir, `fifo-${made++}`);
  execFileSync('mkfifo', [path], { timeout: 10_000 });
  return path;
}

/** `cat FIFO > copy`, started by the test and killed by it if it is still running. */
function reader(path: string): { child: ChildProcess; copy: string; done: Promise<void> } {
  const copy = `${path}.copy`;
  const child = spawn('sh', ['-c', 'exec cat "$0" > "$1"', path, copy], { stdio: 'ignore' });
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, copy, done };
}

describe('openRecordingFile', () => {
  it('makes a plain file, or truncates one, mode 0600 either way', async () => {
    const fresh = join(dir, 'fresh.pcapng');
    closeSync(await openRecordingFile(fresh));
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    const old = join(dir, 'old.pcapng');
    writeFileSync(old, 'previous recording', { mode: 0o644 });
    const fd = await openRecordingFile(old);
    closeSync(fd);
    expect(statSync(old).mode & 0o777).toBe(0o600);
    expect(statSync(old).size).toBe(0);
  });

  it('says why a path cannot be written', async () => {
    await expect(openRecordingFile(dir)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(openRecordingFile(join(dir, 'no-such-dir', 'x.pcapng'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('opens a FIFO that has a reader at once, without waiting, and its writes reach the reader', async () => {
    const path = fifo();
    const r = reader(path);
    try {
      // The reader's open of the FIFO waits for a writer: once it sleeps there, it is a reader.
      await until(() => readFileSync(`/proc/${r.child.pid}/wchan`, 'utf8') === 'wait_for_partner', 'cat opening the FIFO');
      let waited = false;
      const fd = await openRecordingFile(path, { onWaiting: () => (waited = true) });
      writeSync(fd, 'segments');
      closeSync(fd);
      await r.done;
      expect(waited).toBe(false);
      expect(readFileSync(r.copy, 'utf8')).toBe('segments');
    } finally {
      r.child.kill();
    }
  });

  it('waits for the reader of a FIFO with the event loop free, says so once, then writes to it', async () => {
    const path = fifo();
    let waitings = 0;
    const opening = openRecordingFile(path, { onWaiting: () => waitings++ });
    // The event loop turns while it waits: timers run.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    let r: ReturnType<typeof reader> | null = null;
    try {
      await until(() => ticks >= 15, 'timers running during the wait');
      expect(waitings).toBe(1);
      r = reader(path);
      const fd = await opening;
      writeSync(fd, 'after the wait');
      closeSync(fd);
      await r.done;
      expect(readFileSync(r.copy, 'utf8')).toBe('after the wait');
      expect(waitings).toBe(1);
    } finally {
      clearInterval(ticker);
      r?.child.kill();
    }
  });

  it('gives up the wait for a FIFO\'s reader when aborted, with the abort\'s reason', async () => {
    const path = fifo();
    const abort = new AbortController();
    const opening = openRecordingFile(path, { abort: abort.signal, onWaiting: () => abort.abort(new Error('stopped by SIGINT')) });
    await expect(opening).rejects.toThrow('stopped by SIGINT');
    // Aborted before it is called: a FIFO still gives up at its first look.
    await expect(openRecordingFile(path, { abort: abort.signal })).rejects.toThrow('stopped by SIGINT');
    // ...and a plain file, which needs no wait, is still opened.
    closeSync(await openRecordingFile(join(dir, 'plain-after-abort.pcapng'), { abort: abort.signal }));
  });
});

describe('KeyLogFile', () => {
  it('keeps one descriptor, so a FIFO\'s reader sees every line of the run and its end only at close()', async () => {
    const path = fifo();
    const r = reader(path);
    try {
      // Opened for writing once the reader is there (the constructor's open waits for it, as any open of a FIFO).
      await until(() => readFileSync(`/proc/${r.child.pid}/wchan`, 'utf8') === 'wait_for_partner', 'cat opening the FIFO');
      const keyLog = new KeyLogFile(path, { append: true });
      keyLog.write('CLIENT_RANDOM aa bb\n');
      // Opened and closed for each line, the reader would see its end here and go away.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(r.child.exitCode).toBeNull();
      keyLog.write('CLIENT_RANDOM cc dd\n');
      keyLog.close();
      await r.done;
      expect(readFileSync(r.copy, 'utf8')).toBe('CLIENT_RANDOM aa bb\nCLIENT_RANDOM cc dd\n');
    } finally {
      r.child.kill();
    }
  });

  it('appends to a file, or truncates it and makes it 0600 as a recording', () => {
    const path = join(dir, 'keys.log');
    writeFileSync(path, 'old\n', { mode: 0o644 });
    const appended = new KeyLogFile(path, { append: true });
    appended.write('new\n');
    appended.close();
    expect(readFileSync(path, 'utf8')).toBe('old\nnew\n');
    const fresh = new KeyLogFile(path, { append: false });
    fresh.write('only\n');
    fresh.close();
    expect(readFileSync(path, 'utf8')).toBe('only\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('ends at the first write that fails (the FIFO\'s reader gone: EPIPE), says so once, and writes nothing more', async () => {
    const path = fifo();
    const r = reader(path);
    const errors: string[] = [];
    try {
      await until(() => readFileSync(`/proc/${r.child.pid}/wchan`, 'utf8') === 'wait_for_partner', 'cat opening the FIFO');
      const keyLog = new KeyLogFile(path, { append: true }, (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message));
      r.child.kill('SIGKILL');
      await r.done;
      keyLog.write('CLIENT_RANDOM aa bb\n');
      keyLog.write('CLIENT_RANDOM cc dd\n');
      keyLog.close();
      expect(errors).toEqual(['EPIPE']);
    } finally {
      r.child.kill();
    }
  });
});
