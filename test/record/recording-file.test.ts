import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KeyLogFile, openOutputFile } from '../../src/record/recording-file.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { until } from '../kit/until.js';

const dir = tempDirForTests('execscope-recording-file-');
let made = 0;

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

describe('openOutputFile', () => {
  it('makes a plain file, or truncates one, mode 0600 either way', async () => {
    const fresh = join(dir, 'fresh.pcapng');
    closeSync(await openOutputFile(fresh));
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    const old = join(dir, 'old.pcapng');
    writeFileSync(old, 'previous recording', { mode: 0o644 });
    const fd = await openOutputFile(old);
    closeSync(fd);
    expect(statSync(old).mode & 0o777).toBe(0o600);
    expect(statSync(old).size).toBe(0);
  });

  it('says why a path cannot be written', async () => {
    await expect(openOutputFile(dir)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(openOutputFile(join(dir, 'no-such-dir', 'x.pcapng'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('opens a FIFO that has a reader at once, without waiting, and its writes reach the reader', async () => {
    const path = fifo();
    const r = reader(path);
    try {
      // The reader's open of the FIFO waits for a writer: once it sleeps there, it is a reader.
      await until(() => readFileSync(`/proc/${r.child.pid}/wchan`, 'utf8') === 'wait_for_partner', 'cat opening the FIFO');
      let waited = false;
      const fd = await openOutputFile(path, { onWaiting: () => (waited = true) });
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
    const told: string[] = [];
    const opening = openOutputFile(path, { onWaiting: (waitedFor) => told.push(waitedFor) });
    // The event loop turns while it waits: timers run.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    let r: ReturnType<typeof reader> | null = null;
    try {
      await until(() => ticks >= 15, 'timers running during the wait');
      expect(told).toEqual([path]);
      r = reader(path);
      const fd = await opening;
      writeSync(fd, 'after the wait');
      closeSync(fd);
      await r.done;
      expect(readFileSync(r.copy, 'utf8')).toBe('after the wait');
      expect(told).toEqual([path]);
    } finally {
      clearInterval(ticker);
      r?.child.kill();
    }
  });

  it('gives up the wait for a FIFO\'s reader when aborted, with the abort\'s reason', async () => {
    const path = fifo();
    const abort = new AbortController();
    const opening = openOutputFile(path, { abort: abort.signal, onWaiting: () => abort.abort(new Error('stopped by SIGINT')) });
    await expect(opening).rejects.toThrow('stopped by SIGINT');
    // Aborted before it is called: a FIFO still gives up at its first look.
    await expect(openOutputFile(path, { abort: abort.signal })).rejects.toThrow('stopped by SIGINT');
    // ...and a plain file, which needs no wait, is still opened.
    closeSync(await openOutputFile(join(dir, 'plain-after-abort.pcapng'), { abort: abort.signal }));
  });
});

describe('KeyLogFile', () => {
  it('keeps one descriptor, so a FIFO\'s reader sees every line of the run and its end only at close()', async () => {
    const path = fifo();
    const r = reader(path);
    try {
      const keyLog = await KeyLogFile.open(path, { append: true });
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

  it('waits for a FIFO\'s reader with the event loop free, as a recording does, and gives the wait up when aborted', async () => {
    const path = fifo();
    const told: string[] = [];
    const abort = new AbortController();
    const opening = KeyLogFile.open(path, { append: true, abort: abort.signal, onWaiting: (waitedFor) => told.push(waitedFor) });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      await until(() => ticks >= 10, 'timers running during the wait');
      expect(told).toEqual([path]);
      abort.abort(new Error('stopped by SIGTERM'));
      await expect(opening).rejects.toThrow('stopped by SIGTERM');
    } finally {
      clearInterval(ticker);
    }
    // No writer is left behind: a reader that comes later sees the end of its input at once.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      expect(readSync(fd, Buffer.alloc(1))).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  it('appends to a file, or truncates it and makes it 0600 as a recording', async () => {
    const path = join(dir, 'keys.log');
    writeFileSync(path, 'old\n', { mode: 0o644 });
    const appended = await KeyLogFile.open(path, { append: true });
    appended.write('new\n');
    appended.close();
    expect(readFileSync(path, 'utf8')).toBe('old\nnew\n');
    const fresh = await KeyLogFile.open(path, { append: false });
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
      const keyLog = await KeyLogFile.open(path, { append: true }, (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message));
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
