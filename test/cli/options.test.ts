/**
 * What each documented option of the built command line does, and what a contradiction among them
 * gets: an option the help lists must change the output it says it changes, or be refused.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirForTests } from '../kit/temp-dir.js';

const root = process.cwd();
const cli = join(root, 'dist', 'cli.js');
const fixture = (name: string) => join(root, 'fixtures', name);
const tmp = tempDirForTests('execscope-options-');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('analyze --hash in the text summary: the sha256 of each stream, under it, as --json gives it', () => {
  const text = run(['analyze', fixture('ws-echo.pcap'), '--hash']);
  expect(text.status).toBe(0);
  const digest = createHash('sha256').update('hello from websocket\n').digest('hex');
  expect(text.stdout).toContain(`   stdout        21 B                  "hello from websocket␊"\n                      sha256 ${digest}\n`);
  const json = JSON.parse(run(['analyze', fixture('ws-echo.pcap'), '--hash', '--json']).stdout);
  for (const s of Object.values(json.sessions[0].streams) as { sha256: string }[]) expect(text.stdout).toContain(`sha256 ${s.sha256}\n`);
  // Without --hash the summary is as it was.
  expect(run(['analyze', fixture('ws-echo.pcap')]).stdout).not.toContain('sha256');
});

test('analyze --json --text is refused (the help offers one or the other), as --json --explain is', () => {
  expect(run(['analyze', fixture('ws-echo.pcap'), '--json', '--text'])).toMatchObject({ status: 1, stdout: '', stderr: 'execscope: --json and --text ask for two different outputs: give one\n' });
  expect(run(['analyze', fixture('ws-echo.pcap'), '--text', '--json']).status).toBe(1);
  expect(run(['analyze', fixture('ws-echo.pcap'), '--json', '--explain'])).toMatchObject({ status: 1, stderr: 'execscope: --explain is for the text summary, not --json\n' });
  expect(run(['analyze', fixture('ws-echo.pcap'), '--text']).stdout).toBe(run(['analyze', fixture('ws-echo.pcap')]).stdout);
});

test('analyze --json --connections is refused (the help says --connections is for text mode; the JSON always lists them)', () => {
  expect(run(['analyze', fixture('ws-echo.pcap'), '--json', '--connections'])).toMatchObject({
    status: 1,
    stdout: '',
    stderr: 'execscope: --connections is for the text summary, not --json (its connections are always listed)\n',
  });
  expect(run(['analyze', fixture('ws-echo.pcap'), '--connections']).status).toBe(0);
});

test('an option given as --opt= with no value is told it needs one, not that a file named "" is missing', () => {
  expect(run(['analyze', fixture('ws-echo.pcap'), '--keylog='])).toMatchObject({ status: 1, stdout: '', stderr: 'execscope: --keylog needs a value\n' });
  expect(run(['extract', fixture('ws-echo.pcap'), '--session', '1', '--stream', 'stdout', '-o='])).toMatchObject({ status: 1, stderr: 'execscope: -o needs a value\n' });
});

test('help for something that is no command says so; a mistyped live is answered like the other commands', () => {
  expect(run(['help', 'analyse'])).toMatchObject({ status: 1, stdout: '', stderr: 'execscope: no help for analyse: execscope help lists the commands\n' });
  for (const topic of ['analyze', 'diagnose', 'extract', 'export', 'keys', 'live', 'lab', 'tap']) expect(run(['help', topic])).toMatchObject({ status: 0, stdout: expect.stringContaining(`execscope ${topic}`) });
  expect(run(['help', 'version'])).toMatchObject({ status: 0, stdout: expect.stringContaining('Usage:') });
  expect(run(['liev'])).toMatchObject({ status: 1, stderr: 'execscope: unknown command liev: did you mean live? (execscope help lists the commands)\n' });
});

test("diagnose heads each session as analyze does: a runtime session's command comes from its CRI call", () => {
  const capture = fixture(join('lab', 'lab-fault-no-pings.pcapng'));
  const heads = run(['diagnose', capture]).stdout.split('\n').filter((l) => l.startsWith('#'));
  const analyzed = run(['analyze', capture]).stdout.split('\n').filter((l) => l.startsWith('#'));
  expect(heads).toHaveLength(3);
  for (const [i, head] of heads.entries()) {
    // analyze's line also names the container: "#3 exec n0EAOr96 [22023cc6a63e] sh -c …".
    const [, id, who, command] = /^(#\d+ \w+) (\S+)(?: \[[^\]]+\])? (.*)$/.exec(analyzed[i])!;
    expect(head).toMatch(/ · (kubectl→apiserver|apiserver→kubelet|kubelet→runtime)$/);
    expect(head.replace(/ · [^·]+$/, '')).toBe(`${id} ${who} ${command}`);
  }
  expect(heads[2]).toBe('#3 exec n0EAOr96 sh -c "sleep 8; echo too late" · kubelet→runtime');
});

test('keys counts one request in the singular', () => {
  const keys = run(['keys', fixture('tls-ws-dsb.pcapng')]).stdout;
  expect(keys).toMatch(/  5 requests\n/);
  expect(keys).toMatch(/  1 request\n/);
});

test("extract's help lists each option it takes on a line of its own", () => {
  const help = run(['extract', '--help']).stdout;
  for (const option of ['--session N', '--stream NAME', '-o FILE', '--raw', '--from SIDE', '--keylog FILE']) expect(help).toMatch(new RegExp(`^  ${option.replace(/-/g, '\\-')} +\\S`, 'm'));
});

test('-h is --help for every command, as for execscope itself', () => {
  for (const command of ['analyze', 'diagnose', 'extract', 'export', 'keys', 'lab', 'tap', 'live']) {
    const r = run([command, '-h']);
    expect({ command, status: r.status, stderr: r.stderr }).toEqual({ command, status: 0, stderr: '' });
    expect(r.stdout).toBe(run([command, '--help']).stdout);
    expect(r.stdout).toMatch(new RegExp(`^Usage: execscope ${command}`));
  }
});

test("analyze --json carries the doctor's findings word for word as diagnose --json, a port-forward's error text included", () => {
  for (const name of ['lab-portforward-refused.pcapng', 'lab-fault-no-pings.pcapng', 'lab-spdy-not-found.pcapng']) {
    const capture = fixture(join('lab', name));
    const analyzed = JSON.parse(run(['analyze', capture, '--json']).stdout).sessions;
    const diagnosed = JSON.parse(run(['diagnose', capture, '--json']).stdout).sessions;
    expect(diagnosed.length).toBeGreaterThan(0);
    for (const d of diagnosed) expect({ name, id: d.id, diagnosis: analyzed.find((s: { id: number }) => s.id === d.id).diagnosis }).toEqual({ name, id: d.id, diagnosis: d.diagnosis });
  }
  const text = JSON.stringify(JSON.parse(run(['analyze', fixture(join('lab', 'lab-portforward-refused.pcapng')), '--json']).stdout).sessions[0].diagnosis);
  expect(text).toContain('error:81:0 carried an error at +72.1 ms: error forwarding port 81 to pod');
});

test('keys says BAD KEYS, not decrypted, for a connection whose logged keys fail', () => {
  // The key log's secrets, each with its first hex digit changed: found for the client randoms, wrong.
  const wrong = readFileSync(fixture('tls-ws-keylog.keylog'), 'utf8').replace(/^(\S+ \S+ )([0-9a-f])/gm, (_m, head: string, digit: string) => head + (digit === '0' ? '1' : '0'));
  const keylog = join(tmp, 'wrong.keylog');
  writeFileSync(keylog, wrong);
  const r = run(['keys', fixture('tls-ws-keylog.pcap'), '--keylog', keylog]);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/127\.0\.0\.1:51038 → 127\.0\.0\.1:18110  BAD KEYS   TLS 1\.3, TLS_AES_128_GCM_SHA256  0 requests\n/);
  expect(r.stdout).not.toContain('decrypted');
  expect(r.stdout).toContain('2 of 2 TLS connections have keys that do not decrypt them');
  const tls = JSON.parse(run(['analyze', fixture('tls-ws-keylog.pcap'), '--keylog', keylog, '--json']).stdout).connections.filter((c: { tls?: object }) => c.tls);
  expect(tls.map((c: { tls: { keysFound: boolean; keysWrong?: boolean } }) => [c.tls.keysFound, c.tls.keysWrong])).toEqual([
    [true, true],
    [true, true],
  ]);
  expect(run(['keys', fixture('tls-ws-keylog.pcap'), '--keylog', fixture('tls-ws-keylog.keylog')]).stdout).not.toContain('BAD KEYS');
});
