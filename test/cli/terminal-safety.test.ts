/**
 * No captured byte reaches the user's terminal as a control sequence, through any output of the
 * built CLI: a hand-built capture carries every escape family (test/kit/escape-corpus.ts) in every
 * field a peer controls — namespace, pod, command, User-Agent, the negotiated subprotocol, stdout,
 * raw 8-bit C1 bytes on stderr, Status messages, a SPDY streamtype and name/value pair, a TLS SNI —
 * and each output path (text, --connections, --explain, --json, diagnose, keys, extract on a
 * terminal, the one-line errors, export's notes) is read back for raw controls.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_ESCAPES, ESCAPES, RAW_CONTROL } from '../kit/escape-corpus.js';
import { hostileFields, pcapBytes } from '../kit/hostile-captures.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { clientHello, record } from '../helpers/tls-synthetic.js';
import { sockdumpRecord } from '../helpers/cri-socket-recording.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';

const cli = join(process.cwd(), 'dist', 'cli.js');
const tmp = tempDirForTests('execscope-hostile-');
const capture = join(tmp, 'hostile.pcap');
beforeAll(() => writeFileSync(capture, pcapBytes(hostileFields(ALL_ESCAPES, record(22, clientHello({ random: new Uint8Array(32), sni: `evil${ALL_ESCAPES}.example` }))))));

function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every line with a raw control, with the control's code point, so a failure shows where it leaked. */
function leaks(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => RAW_CONTROL.test(line))
    .map((line) => `U+${line.match(RAW_CONTROL)![0].charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify(line)}`);
}

test('the capture carries the hostile fields (what the outputs below must neutralise)', () => {
  const doc = JSON.parse(run(['analyze', capture, '--json']).stdout);
  expect(doc.sessions).toHaveLength(2);
  const [ws, spdy] = doc.sessions;
  expect(ws).toMatchObject({ namespace: `ns${ALL_ESCAPES}`, pod: `pod${ALL_ESCAPES}`, command: ['sh', '-c', ALL_ESCAPES] });
  expect(ws.protocol).toContain(ESCAPES['osc-title']);
  expect(ws.exit.message).toBe(`command failed${ALL_ESCAPES}`);
  expect(Object.keys(spdy.streams)).toContain(`stderr ${ALL_ESCAPES}`);
  // A host_name is ASCII: the SNI is read byte for byte, so the 8-bit escapes arrive as Latin-1.
  expect(doc.connections.find((c: { tls?: { sni?: string } }) => c.tls)?.tls.sni).toContain(`evil${ESCAPES.csi}${ESCAPES['osc-title']}`);
});

test.each([
  ['analyze', ['analyze']],
  ['analyze --connections', ['analyze', '--connections']],
  ['analyze --explain', ['analyze', '--explain']],
  ['analyze --json', ['analyze', '--json']],
  ['diagnose', ['diagnose']],
  ['diagnose --json', ['diagnose', '--json']],
  ['keys', ['keys']],
  ['the TUI command without a terminal', []],
])('%s: nothing captured reaches stdout or stderr raw', (_name, args) => {
  const r = run([...args, capture]);
  expect(r.stdout.length).toBeGreaterThan(100);
  expect(leaks(r.stdout)).toEqual([]);
  expect(leaks(r.stderr)).toEqual([]);
});

test('--json escapes C1 and bidi controls (\\u009b, \\u202e) and keeps the values exact', () => {
  const r = run(['analyze', capture, '--json']);
  expect(r.stdout).toContain('\\u009b31m');
  expect(r.stdout).toContain('\\u202egnp.exe');
  expect(r.stdout).toContain('\\u001b]0;PWNED\\u0007');
  expect(JSON.parse(r.stdout).sessions[0].pod).toBe(`pod${ALL_ESCAPES}`);
});

test('extract on a terminal shows the bytes neutralised; --raw writes them as they are', () => {
  // script(1) gives the command a pseudo-terminal for stdout, as a user's shell would.
  const onTerminal = (extra: string) => {
    const r = spawnSync('script', ['-qec', `${process.execPath} ${cli} extract ${capture} --session 1 --stream stdout -o - ${extra}`, '/dev/null'], { encoding: 'latin1', timeout: 60_000 });
    return Buffer.from(r.stdout, 'latin1').toString('utf8').replace(/\r\n/g, '\n');
  };
  const shown = onTerminal('');
  expect(shown).toContain('out␛[2J␛]0;PWNED␇');
  expect(leaks(shown)).toEqual([]);
  expect(onTerminal('--raw')).toContain(`out${ESCAPES.csi}${ESCAPES['osc-title']}`);
});

test('extract to a file or a pipe writes the exact bytes, and its messages are neutralised', () => {
  const out = join(tmp, `stdout${ESCAPES['osc-title']}.bin`);
  const r = run(['extract', capture, '--session', '1', '--stream', 'stdout', '-o', out]);
  expect(r.status).toBe(0);
  expect(readFileSync(out, 'utf8')).toBe(`out${ALL_ESCAPES}\n`);
  expect(leaks(r.stderr)).toEqual([]);
  expect(run(['extract', capture, '--session', '1', '--stream', 'stdout', '-o', '-']).stdout).toBe(`out${ALL_ESCAPES}\n`);
  // The error naming the streams a session has quotes the hostile streamtype.
  const missing = run(['extract', capture, '--session', '2', '--stream', 'nope', '-o', join(tmp, 'x.bin')]);
  expect(missing.status).toBe(1);
  expect(missing.stderr).toContain('stderr ␛[2J');
  expect(leaks(missing.stderr)).toEqual([]);
});

test('one-line errors for corrupt or missing input quote file names and bytes neutralised', () => {
  const inName = ALL_ESCAPES.replace(/\//g, '_');
  const named = join(tmp, `evil${inName}.pcap`);
  writeFileSync(named, `${ALL_ESCAPES} not a capture at all`);
  const truncated = join(tmp, `cut${ESCAPES.csi}.pcap`);
  writeFileSync(truncated, Buffer.concat([readFileSync(capture).subarray(0, 200), Buffer.from(ALL_ESCAPES)]));
  for (const args of [
    ['analyze', named],
    ['analyze', named, '--json'],
    ['analyze', truncated],
    ['keys', named],
    ['diagnose', truncated],
    ['analyze', join(tmp, `missing${inName}.pcap`)],
    ['analyze', '-'],
    [`analyse${ESCAPES['osc-title']}`],
    ['export', capture, '--session', '9', '--svg', join(tmp, `t${ESCAPES.csi}.svg`)],
  ]) {
    const r = run(args, args.includes('-') ? Buffer.from(`${ALL_ESCAPES}piped garbage`) : undefined);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^execscope/);
    expect(leaks(r.stderr)).toEqual([]);
    expect(leaks(r.stdout)).toEqual([]);
  }
});

test("export's report lines name the files written without acting on the terminal", () => {
  const r = run(['export', capture, '--session', '1', '--asciicast', join(tmp, `cast${ESCAPES['osc-title']}.cast`), '--svg', join(tmp, `t${ESCAPES.csi}.svg`)]);
  expect(r.status).toBe(0);
  expect(r.stderr).toContain('wrote');
  expect(leaks(r.stderr)).toEqual([]);
});

test('diagnose names a connection by its captured unix socket path without acting on the terminal', () => {
  // A sockdump capture (link type 147) whose socket path carries escapes: TLS spoken to a plain HTTP
  // server on it is R13, which diagnose lists by the connection's two ends, the path in each.
  const path = `/run/evil${ESCAPES.csi}${ESCAPES['osc-title']}${ESCAPES['c1-csi']}${ESCAPES['bidi-override']}.sock`;
  const pcap = new PcapWriter();
  const hello = record(22, clientHello({ random: new Uint8Array(32), sni: 'x.example' }));
  const refusal = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  const socketCapture = join(tmp, 'socket.pcap');
  writeFileSync(
    socketCapture,
    Buffer.concat([pcap.header(147), pcap.packet(1_700_000_000_000_000_000n, sockdumpRecord(100, 200, hello, true, path)), pcap.packet(1_700_000_001_000_000_000n, sockdumpRecord(200, 100, refusal, true, path))]),
  );
  const r = run(['diagnose', socketCapture]);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain('R13');
  expect(r.stdout).toContain('connection 1 unix:/run/evil␛[2J');
  expect(leaks(r.stdout)).toEqual([]);
});

test('export draws a session whose stream name carries escapes: the SVG holds no control character, the PNG is made', () => {
  // Session 2's SPDY streamtype is `stderr ${ALL_ESCAPES}`: it names a lane, in the SVG's text and attributes.
  const svg = join(tmp, 'spdy.svg');
  const png = join(tmp, 'spdy.png');
  const r = run(['export', capture, '--session', '2', '--svg', svg, '--png', png]);
  expect(r.stderr).not.toContain('execscope:');
  expect(r.status).toBe(0);
  expect(leaks(readFileSync(svg, 'utf8'))).toEqual([]);
  expect(readFileSync(svg, 'utf8')).toContain('stderr ␛[2J');
  expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
});
