/**
 * The command line as a user runs it: the built binary (dist/cli.js, made by `npm test`'s install
 * step) on real fixtures and on broken input.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { tempDirForTests } from '../kit/temp-dir.js';

const root = process.cwd();
const cli = join(root, 'dist', 'cli.js');
const fixture = (name: string) => join(root, 'fixtures', name);
const tmp = tempDirForTests('execscope-cli-');

function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'buffer', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it)');
});

test('analyze --json follows the contract on a real WebSocket capture', () => {
  const r = run(['analyze', fixture('ws-echo.pcap'), '--json', '--hash']);
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc.capture).toMatchObject({ format: 'pcap', packets: 44, linkTypes: ['EN10MB'] });
  expect(doc.sessions).toHaveLength(1);
  expect(doc.sessions[0]).toMatchObject({
    id: 1, kind: 'exec', hop: 'apiserver', transport: 'websocket', protocol: 'v5.channel.k8s.io', httpStatus: 101,
    client: '127.0.0.1:43542', server: '127.0.0.1:18102', namespace: 'default', pod: 'demo-0', container: 'main',
    command: ['echo', 'hello from websocket'], tty: false, resizes: [], exit: { status: 'Success', code: 0 },
    state: 'complete', fallbackFrom: null,
  });
  expect(doc.sessions[0].streams.stdout).toMatchObject({ bytes: 21, sha256: 'ad5301d1f0ecf33e9cd720152330f689b3d293f92d7f100b532cfa62b591e5d5' });
  expect(doc.sessions[0].start).toMatch(/^2026-11-22T01:42:55\.\d{6}Z$/);
  expect(doc.sessions[0].durationMs).toBeGreaterThan(0);
});

test('a report to a file or /dev/null (written without Node\'s stream) is what a pipe gets', () => {
  for (const format of [['--json'], ['--text']]) {
    const args = [cli, 'analyze', fixture('lab/lab-fault-reset-mid-stream.pcapng'), ...format];
    const piped = spawnSync(process.execPath, args, { encoding: 'buffer', timeout: 60_000 });
    const file = join(tmp, `report${format[0]}`);
    const fd = openSync(file, 'w');
    const filed = spawnSync(process.execPath, args, { stdio: ['ignore', fd, 'pipe'], timeout: 60_000 });
    closeSync(fd);
    expect(piped.stdout.length).toBeGreaterThan(1000);
    expect([filed.status, filed.stderr.toString()]).toEqual([piped.status, piped.stderr.toString()]);
    expect(readFileSync(file).equals(piped.stdout)).toBe(true);
    const nulled = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    expect([nulled.status, nulled.stderr.toString()]).toEqual([piped.status, piped.stderr.toString()]);
  }
});

test('opening a capture with stdout not a terminal prints the text summary instead of the TUI', () => {
  const r = run([fixture('ws-echo.pcap')]);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('#1 exec default/demo-0 [main] echo "hello from websocket"');
});

test('the text summary names the session, its streams and its outcome', () => {
  const r = run(['analyze', fixture('spdy-exit-code.pcap')]);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('#1 exec default/demo-0 [main] sh -c "echo about to fail; exit 3"');
  expect(r.stdout).toContain('SPDY v4 (v4.channel.k8s.io)');
  expect(r.stdout).toMatch(/stdout +14 B/);
  expect(r.stdout).toContain('exit 3 · complete');
});

test('extract writes the exact bytes of one stream', () => {
  const out = join(tmp, 'stdout.bin');
  const r = run(['extract', fixture('ws-stdin-cat.pcap'), '--session', '1', '--stream', 'stdin', '-o', out]);
  expect(r.status).toBe(0);
  const bytes = readFileSync(out);
  expect(bytes.length).toBe(6144);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(
    JSON.parse(readFileSync(fixture('ws-stdin-cat.truth.json'), 'utf8')).sessions[0].stdin_bytes.sha256,
  );
  expect(run(['extract', fixture('ws-stdin-cat.pcap'), '--session', '9', '--stream', 'stdout', '-o', out])).toMatchObject({ status: 1 });
});

test('extract --from: one side of a port-forward data stream, as the truth says each side carried it', () => {
  const capture = join('lab', 'lab-ws-portforward.pcapng');
  const truth = JSON.parse(readFileSync(fixture(join('lab', 'lab-ws-portforward.truth.json')), 'utf8'));
  const forward = truth.sessions[0].forwards[1];
  for (const [from, want] of [['client', forward.to_pod], ['server', forward.from_pod]] as const) {
    const out = join(tmp, `pf-${from}.bin`);
    const r = run(['extract', fixture(capture), '--session', '1', '--stream', 'data:80:1', '--from', from, '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).toBe(`wrote ${want.length} bytes of session 1 data:80:1 sent by the ${from} to ${out}\n`);
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(want.sha256);
  }
  expect(run(['extract', fixture(capture), '--session', '1', '--stream', 'data:80:1', '--from', 'pod', '-o', join(tmp, 'x')])).toMatchObject({ status: 1 });
});

test('extract --from the side that sent nothing on the stream says which side sent its bytes', () => {
  const out = join(tmp, 'stdout-from-client.bin');
  const r = run(['extract', fixture('ws-echo.pcap'), '--session', '1', '--stream', 'stdout', '--from', 'client', '-o', out]);
  expect(r).toMatchObject({ status: 0, stderr: `wrote 0 bytes of session 1 stdout sent by the client to ${out}\nsession 1 stdout has no bytes from the client: its 21 bytes came from the server (--from server)\n` });
  expect(run(['extract', fixture('ws-echo.pcap'), '--session', '1', '--stream', 'stdout', '--from', 'client', '-o', '-'])).toMatchObject({
    status: 0,
    stdout: '',
    stderr: 'session 1 stdout has no bytes from the client: its 21 bytes came from the server (--from server)\n',
  });
  // The side that sent them: no note.
  expect(run(['extract', fixture('ws-echo.pcap'), '--session', '1', '--stream', 'stdout', '--from', 'server', '-o', out]).stderr).toBe(`wrote 21 bytes of session 1 stdout sent by the server to ${out}\n`);
});

test('reads gzip-compressed captures and stdin', () => {
  const plain = run(['analyze', fixture('spdy-echo.pcap'), '--json']).stdout;
  const gz = join(tmp, 'spdy-echo.pcap.gz');
  writeFileSync(gz, gzipSync(readFileSync(fixture('spdy-echo.pcap'))));
  expect(JSON.parse(run(['analyze', gz, '--json']).stdout).sessions).toEqual(JSON.parse(plain).sessions);
  const piped = run(['analyze', '-', '--json'], readFileSync(fixture('spdy-echo.pcap')));
  expect(JSON.parse(piped.stdout).sessions).toEqual(JSON.parse(plain).sessions);
});

test('--save keeps a decompressed copy of a capture read from stdin, and only from stdin', () => {
  const copy = join(tmp, 'copy.pcap');
  const r = run(['analyze', '-', '--save', copy], gzipSync(readFileSync(fixture('spdy-echo.pcap'))));
  expect(r.status).toBe(0);
  expect(readFileSync(copy)).toEqual(readFileSync(fixture('spdy-echo.pcap')));
  const refused = run(['analyze', fixture('spdy-echo.pcap'), '--save', copy]);
  expect(refused.status).toBe(1);
  expect(refused.stderr.toString()).toContain('--save keeps a copy of a capture read from stdin');
});

test('a truncated capture prints what was decoded before the cut and exits 2', () => {
  const cut = join(tmp, 'cut.pcap');
  writeFileSync(cut, readFileSync(fixture('ws-echo.pcap')).subarray(0, 5000));
  const r = run(['analyze', cut, '--json']);
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual(['execscope: capture truncated: packet 22 cut after 300 of 362 bytes (byte 4700)']);
  const doc = JSON.parse(r.stdout);
  expect(doc.capture.packets).toBe(21);
  expect(doc.connections.find((c: { requests: unknown[] }) => c.requests.length === 4)).toBeDefined();
  expect(doc.error).toMatchObject({ truncated: true });
});

test('missing files, non-captures and unsupported link types get one clear line', () => {
  const missing = run(['analyze', join(tmp, 'nope.pcap')]);
  expect(missing).toMatchObject({ status: 1, stdout: '' });
  expect(missing.stderr).toMatch(/^execscope: cannot open capture .*nope\.pcap: no such file\n$/);

  const notCapture = run(['analyze', join(root, 'package.json')]);
  expect(notCapture.status).toBe(2);
  expect(notCapture.stderr).toBe('execscope: not a pcap or pcapng capture (byte 0)\n');

  const w = new PcapWriter();
  const usb = join(tmp, 'usb.pcap');
  writeFileSync(usb, Buffer.concat([w.header(189), w.packet(1_700_000_000_000_000_000n, new Uint8Array(64))]));
  const unsupported = run(['analyze', usb]);
  expect(unsupported.status).toBe(2);
  expect(unsupported.stderr).toContain('unsupported link type');
});

test('every command has --help and bad usage exits 1', () => {
  for (const cmd of ['analyze', 'extract', 'keys']) {
    const r = run([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`execscope ${cmd}`);
  }
  expect(run(['--help']).stdout).toContain('Usage:');
  expect(run(['analyze', fixture('ws-echo.pcap'), '--bogus'])).toMatchObject({ status: 1, stderr: 'execscope: unknown option --bogus\n' });
});

test('keys lists TLS connections with and without keys', () => {
  const without = run(['keys', fixture('tls-ws-keylog.pcap')]);
  expect(without.stdout).toMatch(/127\.0\.0\.1:51038 → 127\.0\.0\.1:18110 +NO KEYS +TLS 1\.3, TLS_AES_128_GCM_SHA256/);
  expect(without.stdout).toContain('--keylog');
  const withKeys = run(['keys', fixture('tls-ws-keylog.pcap'), '--keylog', fixture('tls-ws-keylog.keylog')]);
  expect(withKeys.stdout).toMatch(/51028 → 127\.0\.0\.1:18110 +decrypted +TLS 1\.3, TLS_AES_128_GCM_SHA256, ALPN h2 +5 requests/);
  expect(run(['keys', fixture('tls-ws-dsb.pcapng')]).stdout).not.toContain('NO KEYS');
});

test('a reader that goes away (analyze | head) gets one line on stderr, no stack', async () => {
  for (const args of [['--json'], []]) {
    const child = spawn(process.execPath, [cli, 'analyze', fixture('demo.pcapng'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // every write fails with EPIPE
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    expect({ code, signal, stderr }).toEqual({ code: 1, signal: null, stderr: 'execscope: write EPIPE\n' });
  }
});

describe('a --keylog that is no key log', () => {
  // A capture given as the key log (the mistake that crashed), a missing file, a directory, an empty
  // file, text without one key log line; the last one's name carries an escape sequence.
  const keylogs = () => {
    const dir = join(tmp, 'keylog-dir');
    mkdirSync(dir, { recursive: true });
    const empty = join(tmp, 'empty.keylog');
    writeFileSync(empty, '');
    const text = join(tmp, 'notes-\x1b[31mred.keylog');
    writeFileSync(text, '# keys go here\nsee the README\n');
    return [
      [fixture('spdy-echo.pcap'), `key log ${fixture('spdy-echo.pcap')} is binary, not an NSS key log`],
      [join(tmp, 'nope.keylog'), `cannot read key log ${join(tmp, 'nope.keylog')}: no such file`],
      [dir, `cannot read key log ${dir}: is a directory`],
      [empty, `key log ${empty} is empty`],
      [text, `key log ${join(tmp, 'notes-␛[31mred.keylog')} has no NSS key log line (LABEL <client random> <secret>)`],
    ];
  };

  test.each([
    ['analyze', 1],
    ['keys', 1],
    ['diagnose', 2],
  ])('%s: one clear line and exit %i', (command, status) => {
    for (const [keylog, line] of keylogs()) {
      const r = run([command, fixture('spdy-echo.pcap'), '--keylog', keylog]);
      expect({ keylog, ...r, raw: undefined }).toEqual({ keylog, status, stdout: '', stderr: `execscope: ${line}\n`, raw: undefined });
    }
  });

  test('a key log with some malformed lines decrypts with the rest and warns about the others', () => {
    const keylog = join(tmp, 'partly-malformed.keylog');
    writeFileSync(keylog, `CLIENT_RANDOM 00 11\n${readFileSync(fixture('tls-ws-keylog.keylog'), 'utf8')}`);
    const r = run(['analyze', fixture('tls-ws-keylog.pcap'), '--keylog', keylog, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.sessions).toHaveLength(1);
    expect(doc.warnings).toEqual([
      expect.objectContaining({ where: `${keylog} line 1`, message: 'malformed key log line: client random must be 32 bytes (64 hex digits), got 2 digits' }),
    ]);
  });
});

describe('execscope diagnose', () => {
  const diagnose = (...args: string[]) => run(['diagnose', ...args]);

  test('exit 0 and nothing but the verdict on a healthy capture', () => {
    const r = diagnose(fixture('lab/lab-ws-echo.pcapng'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('lab-ws-echo.pcapng · 3 sessions · nothing wrong found\n');
  });

  test('exit 1 with the cause first, its hop and evidence, text and JSON', () => {
    const r = diagnose(fixture('lab/lab-fault-reset-mid-stream.pcapng'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^#1 exec default\/lab-0 .* · kubectl→apiserver\n   ✗ cause: R3 kubelet hop \(#2\): connection lost before the Status\n/m);
    const j = diagnose(fixture('lab/lab-fault-reset-mid-stream.pcapng'), '--json');
    expect(j.status).toBe(1);
    const doc = JSON.parse(j.stdout);
    expect(doc.sessions[0].diagnosis.cause).toMatchObject({ rule: 'R3', hop: 'kubelet', session: 2 });
    expect(doc.sessions[2].diagnosis.consequences.map((f: { rule: string }) => f.rule)).toEqual(['R3']);
  });

  test('exit 2 on a truncated capture, with what was decodable', () => {
    const cut = join(tmp, 'cut-for-diagnose.pcapng');
    writeFileSync(cut, readFileSync(fixture('lab/lab-ws-echo.pcapng')).subarray(0, 3000));
    const r = diagnose(cut);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^execscope: capture truncated: /);
  });
});

describe('a newcomer at the command line', () => {
  test('--version and version print the package version', () => {
    const version = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).version;
    for (const arg of ['--version', '-V', 'version']) expect(run([arg])).toMatchObject({ status: 0, stdout: `execscope ${version}\n` });
  });

  test('a mistyped command is answered with the command meant, not with an undocumented name', () => {
    expect(run(['analyse', fixture('ws-echo.pcap')])).toMatchObject({ status: 1, stderr: 'execscope: unknown command analyse: did you mean analyze? (execscope help lists the commands)\n' });
    expect(run(['extact'])).toMatchObject({ status: 1, stderr: expect.stringContaining('did you mean extract?') });
    // A word that is neither a file nor close to a command is taken as a capture that is missing.
    expect(run(['nothing-here.pcap'])).toMatchObject({ status: 1, stderr: 'execscope: cannot open capture nothing-here.pcap: no such file\n' });
  });

  test('counts are in the singular when there is one', () => {
    expect(run(['analyze', fixture('ws-echo.pcap')]).stdout.split('\n')[0]).toMatch(/ · 4 connections · 1 session$/);
  });
});
