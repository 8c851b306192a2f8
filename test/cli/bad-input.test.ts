/**
 * The built command line given what a user gets wrong or what breaks: output paths it cannot or
 * must not write, captures that end early or are read from a pipe. Each gets one line on stderr and
 * an exit status, never a stack trace, and nothing of the user's is destroyed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDirForTests } from '../kit/temp-dir.js';

const root = process.cwd();
const cli = join(root, 'dist', 'cli.js');
const fixture = (name: string) => join(root, 'fixtures', name);
const tmp = tempDirForTests('execscope-bad-');

function run(args: string[], opts: { input?: Buffer; shell?: string } = {}) {
  const r = opts.shell
    ? spawnSync('bash', ['-c', opts.shell], { encoding: 'utf8', timeout: 60_000 })
    : spawnSync(process.execPath, [cli, ...args], { input: opts.input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('extract -o FILE', () => {
  const extract = (capture: string, session: string, stream: string, out: string) => run(['extract', capture, '--session', session, '--stream', stream, '-o', out]);

  test('a path it cannot write is one line, exit 1, before the capture is read', () => {
    for (const [out, reason] of [
      [join(tmp, 'no-such-dir', 'x.bin'), 'no such file'],
      [tmp, 'is a directory'],
    ]) {
      const r = extract(fixture('ws-echo.pcap'), '1', 'stdout', out);
      expect(r).toMatchObject({ status: 1, stdout: '', stderr: `execscope: cannot write ${out}: ${reason}\n` });
    }
  });

  test('the capture itself is refused, and left as it was', () => {
    const capture = join(tmp, 'victim.pcap');
    copyFileSync(fixture('ws-echo.pcap'), capture);
    const r = extract(capture, '1', 'stdout', capture);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`execscope: -o ${capture} is the capture itself: writing it would destroy what is to be read\n`);
    expect(readFileSync(capture)).toEqual(readFileSync(fixture('ws-echo.pcap')));
  });

  test('an extract that finds no such session or stream leaves an existing file as it was and makes none', () => {
    const kept = join(tmp, 'kept.txt');
    writeFileSync(kept, 'what the user had here, longer than the stream\n');
    expect(extract(fixture('ws-echo.pcap'), '9', 'stdout', kept).status).toBe(1);
    expect(extract(fixture('ws-echo.pcap'), '1', 'stdin', kept).status).toBe(1);
    expect(readFileSync(kept, 'utf8')).toBe('what the user had here, longer than the stream\n');
    const fresh = join(tmp, 'fresh.bin');
    expect(extract(fixture('ws-echo.pcap'), '9', 'stdout', fresh).status).toBe(1);
    expect(extract(join(tmp, 'missing.pcap'), '1', 'stdout', fresh).status).toBe(1);
    expect(existsSync(fresh)).toBe(false);
    // One that finds it replaces the file with exactly the stream's bytes.
    expect(extract(fixture('ws-echo.pcap'), '1', 'stdout', kept).status).toBe(0);
    expect(readFileSync(kept, 'utf8')).toBe('hello from websocket\n');
  });
});

test.each([
  ['extract -o -', ['extract', fixture(join('lab', 'lab-ws-portforward.pcapng')), '--session', '1', '--stream', 'data:80:1', '-o', '-'], 1],
  ['diagnose', ['diagnose', fixture(join('lab', 'lab-fault-no-pings.pcapng'))], 2],
  ['diagnose --json', ['diagnose', fixture(join('lab', 'lab-fault-no-pings.pcapng')), '--json'], 2],
  ['keys', ['keys', fixture('tls-ws-dsb.pcapng')], 1],
  ['--help', ['--help'], 1],
  ['--version', ['--version'], 1],
])('%s to a reader that goes away (| head) gets one line on stderr, no stack', async (_name, args, status) => {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    child.stdout.destroy(); // every write fails with EPIPE
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    expect({ code, signal, stderr }).toEqual({ code: status, signal: null, stderr: 'execscope: write EPIPE\n' });
  } finally {
    child.kill();
  }
});

describe('a CAPTURE that is a pipe: process substitution, /dev/stdin', () => {
  const sessionsOf = (stdout: string) => JSON.parse(stdout).sessions;
  const fromFile = () => sessionsOf(run(['analyze', fixture('ws-echo.pcap'), '--json']).stdout);

  test('<(cat CAPTURE) and /dev/stdin on a pipe read as the file does, gzip-compressed or not', () => {
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    for (const shell of [
      `${q(process.execPath)} ${q(cli)} analyze <(cat ${q(fixture('ws-echo.pcap'))}) --json`,
      `${q(process.execPath)} ${q(cli)} analyze <(gzip -c ${q(fixture('ws-echo.pcap'))}) --json`,
      `cat ${q(fixture('ws-echo.pcap'))} | ${q(process.execPath)} ${q(cli)} analyze /dev/stdin --json`,
    ]) {
      const r = run([], { shell });
      expect({ shell, status: r.status, stderr: r.stderr }).toEqual({ shell, status: 0, stderr: '' });
      expect(sessionsOf(r.stdout)).toEqual(fromFile());
    }
  });

  test('secrets stored after the connections they decrypt are not read for again from a pipe', () => {
    // The DSB moved behind every packet: a file is read twice (then decrypted), a pipe once.
    const blocks: Buffer[] = [];
    const bytes = readFileSync(fixture('tls-ws-dsb.pcapng'));
    for (let at = 0; at < bytes.length; at += bytes.readUInt32LE(at + 4)) blocks.push(bytes.subarray(at, at + bytes.readUInt32LE(at + 4)));
    const isDsb = (b: Buffer) => b.readUInt32LE(0) === 0x0a;
    const late = join(tmp, 'late-dsb.pcapng');
    writeFileSync(late, Buffer.concat([...blocks.filter((b) => !isDsb(b)), ...blocks.filter(isDsb)]));
    expect(run(['keys', late]).stdout).toContain('decrypted');
    const piped = run([], { shell: `'${process.execPath}' '${cli}' keys <(cat '${late}')` });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toContain('NO KEYS');
  });
});

describe('a gzip-compressed capture cut short or corrupt', () => {
  test('is decoded up to the damage and exits 2 with one line, as a plain capture cut short is', () => {
    const gz = gzipSync(readFileSync(fixture('ws-echo.pcap')));
    const whole = JSON.parse(run(['analyze', fixture('ws-echo.pcap'), '--json']).stdout);
    for (const keep of [gz.length - 9, gz.length - 1]) {
      const cut = join(tmp, `cut-${keep}.pcap.gz`);
      writeFileSync(cut, gz.subarray(0, keep));
      const r = run(['analyze', cut, '--json']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^execscope: cannot decompress capture ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: gzip data cut short \\(byte \\d+\\)\\n$`));
      const doc = JSON.parse(r.stdout);
      expect(doc.error).toMatchObject({ truncated: true });
      // Everything but the gzip trailer (CRC and length) was there: every session decodes.
      expect(doc.sessions).toEqual(whole.sessions);
      expect(run(['diagnose', cut]).status).toBe(2);
    }
    const large = readFileSync(fixture(join('lab', 'lab-ws-large-output.pcapng.gz')));
    const half = join(tmp, 'half.pcapng.gz');
    writeFileSync(half, large.subarray(0, large.length >> 1));
    const text = run(['analyze', half]);
    expect(text.status).toBe(2);
    expect(text.stdout).toMatch(/^#1 exec default\/lab-0/m);
    const extracted = join(tmp, 'half-stdout.bin');
    expect(run(['extract', half, '--session', '3', '--stream', 'stdout', '-o', extracted]).status).toBe(2);
    expect(readFileSync(extracted).subarray(0, 27).toString()).toBe('execscope-lab-large-output\n');
  });

  test('corrupt data is a corrupt capture: exit 2, the report printed, one line', () => {
    const gz = gzipSync(readFileSync(fixture('ws-echo.pcap')));
    gz.fill(0x55, 20, 60);
    const corrupt = join(tmp, 'corrupt.pcap.gz');
    writeFileSync(corrupt, gz);
    const r = run(['analyze', corrupt, '--json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`execscope: cannot decompress capture ${corrupt}: corrupt gzip data (byte 0)\n`);
    expect(JSON.parse(r.stdout).error).toMatchObject({ truncated: false });
    expect(run(['analyze', '-'], { input: gz }).stderr).toBe('execscope: cannot decompress capture stdin: corrupt gzip data (byte 0)\n');
  });
});

describe('export FILEs', () => {
  const capture = fixture('ws-tty-resize.pcap');

  test('a path it cannot write is one line naming it; the capture or one file named twice is refused', () => {
    const missing = join(tmp, 'no-such-dir', 'x.cast');
    expect(run(['export', capture, '--session', '1', '--asciicast', missing])).toMatchObject({ status: 1, stderr: `execscope: cannot write ${missing}: no such file\n` });
    expect(run(['export', capture, '--session', '1', '--png', tmp])).toMatchObject({ status: 1, stderr: `execscope: cannot write ${tmp}: is a directory\n` });
    const copy = join(tmp, 'export-victim.pcap');
    copyFileSync(capture, copy);
    expect(run(['export', copy, '--session', '1', '--asciicast', copy])).toMatchObject({
      status: 1,
      stderr: `execscope: --asciicast ${copy} is the capture itself: writing it would destroy what is to be read\n`,
    });
    expect(readFileSync(copy)).toEqual(readFileSync(capture));
    const twice = join(tmp, 'twice.out');
    expect(run(['export', capture, '--session', '1', '--svg', twice, '--png', twice])).toMatchObject({
      status: 1,
      stderr: `execscope: --svg and --png name the same file ${twice}: one would overwrite the other\n`,
    });
    expect(existsSync(twice)).toBe(false);
  });

  test('the asciicast is mode 0600 also when it replaces a file others could read', () => {
    const cast = join(tmp, 'readable.cast');
    writeFileSync(cast, 'an older file\n', { mode: 0o644 });
    chmodSync(cast, 0o644);
    expect(run(['export', capture, '--session', '1', '--asciicast', cast, '--stdin']).status).toBe(0);
    expect(statSync(cast).mode & 0o777).toBe(0o600);
    expect(readFileSync(cast, 'utf8')).toMatch(/^\{"version":2/);
  });
});

test('analyze - --save FILE it cannot write is one line in the words extract and export use', () => {
  const missing = join(tmp, 'no-such-dir', 'copy.pcap');
  expect(run(['analyze', '-', '--save', missing], { input: readFileSync(fixture('ws-echo.pcap')) })).toMatchObject({ status: 1, stdout: '', stderr: `execscope: cannot write ${missing}: no such file\n` });
});

test('- with stdin a terminal is refused at once, saying how to pipe a capture in, rather than waiting in silence', () => {
  // script(1) gives the command a pseudo-terminal as stdin, as a user's shell does.
  for (const [command, status] of [
    ['analyze', 1],
    ['diagnose', 2],
    ['keys', 1],
  ] as const) {
    const r = spawnSync('script', ['-qec', `'${process.execPath}' '${cli}' ${command} -`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(status);
    expect(r.stdout.replace(/\r\n/g, '\n')).toBe(`execscope: - reads the capture from stdin, which is a terminal here: pipe one in (tcpdump -U -w - ... | execscope ${command} -)\n`);
  }
});

test('export from a pipe replays what the pipe left (the kept head), saying so, rather than an empty recording', () => {
  const large = fixture(join('lab', 'lab-ws-large-output.pcapng.gz'));
  const cast = join(tmp, 'piped.cast');
  const r = run(['export', '-', '--session', '1', '--asciicast', cast], { input: readFileSync(large) });
  expect(r.status).toBe(0);
  expect(r.stderr).toContain('note: stdout: only the first 262144 B of 25000000 B were available');
  expect(r.stderr).toContain('note: a pipe cannot be read again past what was kept');
  const output = readFileSync(cast, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => JSON.parse(line)[2] as string)
    .join('');
  expect(output.startsWith('execscope-lab-large-output\r\n')).toBe(true);
  expect(output.length).toBeGreaterThan(250_000);
});
