/**
 * The issue's "done when", through the built CLI as a script or CI job runs it: for every lab fault
 * (each recorded with the real kubectl in fixtures/lab/), `execscope diagnose` exits 1 and names the
 * cause the scenario says, with its hop, first — in text and JSON — on the one-file recording and on
 * the same recording split into one capture per hop with clocks 2.5 s apart (as from several nodes);
 * every healthy capture (the fixtures and ../shared/captures, read where they are) exits 0 with
 * nothing to say. The faults recorded live (R15, R17, the quiet after each exec) are in
 * test/lab/e2e-quiet-after-exec.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIOS } from '../../src/lab/scenarios.js';
import { splitRecording } from '../../src/lab/split-recording.js';
import { tempDirForTests } from '../kit/temp-dir.js';

const cli = join(process.cwd(), 'dist/cli.js');
const labFixtures = join(process.cwd(), 'fixtures', 'lab');
const shared = join(process.cwd(), '..', 'shared', 'captures');
const work = tempDirForTests('execscope-diagnose-');

function diagnose(args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'diagnose', ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  return { code: r.status, text: r.stdout, stderr: r.stderr };
}

interface JsonSession {
  id: number;
  hop: string;
  diagnosis: { cause: { rule: string; hop: string; title: string; evidence: string[] } | null; consequences: { rule: string }[]; notes: { rule: string }[] };
}

/** Each exec session's cause as RULE@HOP, by hop, in session order. */
const causes = (json: { sessions: JsonSession[] }) => json.sessions.map((s) => `${s.hop}: ${s.diagnosis.cause ? `${s.diagnosis.cause.rule}@${s.diagnosis.cause.hop}` : 'none'}`);

const faulty = SCENARIOS.filter((s) => s.doctor && 'cause' in s.doctor)
  .map((s) => ({ name: s.name, cause: (s.doctor as { cause: string }).cause, file: ['.pcapng', '.pcapng.gz'].map((ext) => join(labFixtures, `lab-${s.name}${ext}`)).find((f) => existsSync(f)) }))
  .filter((s): s is { name: string; cause: string; file: string } => s.file !== undefined);

test('every lab fault has a recording to check', () => {
  expect(faulty.map((s) => s.name).filter((n) => n.startsWith('fault-'))).toHaveLength(SCENARIOS.filter((s) => s.faults).length);
});

describe.each(faulty)('$name', ({ file, cause }) => {
  test(`one capture: exit 1, the cause ${cause} first, with its evidence`, () => {
    const json = diagnose([file, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.text) as { sessions: JsonSession[] };
    const kubectl = report.sessions[0];
    expect(kubectl.hop).toBe('apiserver');
    expect(`${kubectl.diagnosis.cause?.rule}@${kubectl.diagnosis.cause?.hop}`).toBe(cause);
    expect(kubectl.diagnosis.cause!.evidence.length).toBeGreaterThanOrEqual(2);
    // No consequence of an exec is reported as the cause of another of its hops.
    const chain = report.sessions.filter((s) => s.diagnosis.cause?.rule === kubectl.diagnosis.cause!.rule && s.diagnosis.cause?.hop === kubectl.diagnosis.cause!.hop);
    expect(chain.length).toBeGreaterThanOrEqual(1);
    // The text says the cause before anything else about the session, hop named.
    const text = diagnose([file]);
    expect(text.code).toBe(1);
    const block = text.text.split('\n\n')[1].split('\n');
    expect(block[0]).toMatch(/^#1 /);
    expect(block[1]).toMatch(new RegExp(`^ {3}[✗!] cause: ${cause.split('@')[0]} `));
    expect(block[1]).toContain(kubectl.diagnosis.cause!.title);
  });

  test('split into one capture per hop, clocks 2.5 s apart, merged: the same causes', async () => {
    const base = join(work, file.replace(/^.*\//, '').replace(/\.pcapng(\.gz)?$/, ''));
    const parts = await splitRecording(file, base, 2.5e9);
    const args = parts.files.map((f) => f.path);
    if (parts.keyLog !== null) {
      writeFileSync(`${base}.keylog`, parts.keyLog);
      args.splice(1, 0, '--keylog', `${base}.keylog`);
    }
    const merged = diagnose([...args, '--json']);
    expect(merged.code).toBe(1);
    const whole = JSON.parse(diagnose([file, '--json']).text) as { sessions: JsonSession[] };
    expect(causes(JSON.parse(merged.text))).toEqual(causes(whole));
    expect(merged.text).toContain('"clockOffsetFrom"');
    // Each file's range as numbers: the kubelet's hop is 2.5 s off, 5 s from the runtime's.
    const kubelet = (JSON.parse(merged.text) as { files: { clockOffsetMs: number; clockOffsetMinMs: number; clockOffsetMaxMs: number | null }[] }).files[1];
    expect(kubelet.clockOffsetMinMs <= -2500 && -2500 <= (kubelet.clockOffsetMaxMs ?? Infinity)).toBe(true);
  });
});

test('healthy captures: exit 0, nothing wrong found (fixtures, the lab fixtures without a fault, ../shared/captures in place)', () => {
  const fixtures = readdirSync(join(process.cwd(), 'fixtures'))
    .filter((f) => /\.pcap(ng)?$/.test(f) && !/demo|hostile/.test(f))
    .map((f) => join(process.cwd(), 'fixtures', f));
  const lab = SCENARIOS.filter((s) => !s.faults && !s.doctor)
    .map((s) => ['.pcapng', '.pcapng.gz'].map((ext) => join(labFixtures, `lab-${s.name}${ext}`)).find((f) => existsSync(f)))
    .filter((f): f is string => f !== undefined);
  const theirs = existsSync(shared) ? readdirSync(shared).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(shared, f)) : [];
  expect(lab.length).toBeGreaterThanOrEqual(14);
  for (const file of [...fixtures, ...lab, ...theirs]) {
    const keylog = file.replace(/\.pcap(ng)?(\.gz)?$/, '.keylog');
    const r = diagnose(keylog !== file && existsSync(keylog) ? [file, '--keylog', keylog] : [file]);
    expect({ file, code: r.code, said: r.text.split('\n')[0].replace(/^.* · /, ''), stderr: r.stderr }).toEqual({ file, code: 0, said: 'nothing wrong found', stderr: '' });
  }
});

test('a session the capture ends on before its Status is said to be open, whether or not a rule matched; a capture cut short says so', () => {
  // kubectl exec -i sort cut in half (head -c): every hop open, stdin still flowing, no rule matches.
  const whole = readFileSync(join(labFixtures, 'lab-ws-stdin-sort.pcapng'));
  const cut = join(work, 'stdin-sort-cut.pcapng');
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  const text = diagnose([cut]);
  expect(text.code).toBe(2);
  const lines = text.text.split('\n');
  expect(lines[0]).toBe('stdin-sort-cut.pcapng · 3 sessions · nothing wrong found · 3 still open where the capture is cut short');
  expect(lines.filter((l) => l === '   · still open where the capture is cut short, no Status yet: how it ends is not in the capture')).toHaveLength(3);
  expect(lines.at(-2)).toMatch(/^error: capture truncated: packet \d+ cut after/);
  const json = JSON.parse(diagnose([cut, '--json']).text) as { sessions: (JsonSession & { openAtEnd?: boolean })[]; error: { truncated: boolean } };
  expect(json.sessions.map((s) => [s.id, s.openAtEnd, s.diagnosis.cause])).toEqual([
    [1, true, null],
    [2, true, null],
    [3, true, null],
  ]);
  expect(json.error.truncated).toBe(true);
  // A whole capture that ends on a hang: the cause, and that how it ends is not in the capture.
  const demo = diagnose([join(process.cwd(), 'fixtures', 'demo.pcapng')]).text.split('\n');
  expect(demo[0]).toBe('demo.pcapng · 11 sessions · 2 with a fault · 1 still open when the capture ended');
  expect(demo).toContain('   · still open when the capture ended, no Status yet: how it ends is not in the capture');
});

test('each session names its command (a runtime session its CRI call\'s) and, with captures merged, the file its packet numbers count in', async () => {
  const whole = diagnose([join(labFixtures, 'lab-fault-stall-reader.pcapng.gz')]).text.split('\n');
  expect(whole.filter((l) => l.startsWith('#'))).toEqual([
    '#1 exec default/lab-0 sh -c "cat >/dev/null" · kubectl→apiserver',
    '#2 exec default/lab-0 sh -c "cat >/dev/null" · apiserver→kubelet',
    expect.stringMatching(/^#3 exec \S+ sh -c "cat >\/dev\/null" · kubelet→runtime$/),
  ]);
  const base = join(work, 'stall-named');
  const parts = await splitRecording(join(labFixtures, 'lab-fault-stall-reader.pcapng.gz'), base, 2.5e9);
  const merged = diagnose(parts.files.map((f) => f.path)).text.split('\n\n');
  const runtime = merged.find((b) => b.startsWith('#3 '))!.split('\n');
  expect(runtime[0]).toMatch(/ · kubelet→runtime · stall-named\.streaming-server\.pcapng$/);
  // The zero window it cites is that packet of that file.
  expect(runtime[2]).toMatch(/^ {7}the server advertised a zero TCP window at \+[\d.]+ s \(packet 16\) after accepting 66114 B/);
  // The JSON names it too: an index into its files, as analyze's does.
  const json = JSON.parse(diagnose([...parts.files.map((f) => f.path), '--json']).text) as { files: { path: string }[]; sessions: { id: number; file: number }[] };
  expect(json.sessions.map((s) => json.files[s.file].path.replace(/^.*\//, ''))).toEqual(['stall-named.apiserver.pcapng', 'stall-named.kubelet.pcapng', 'stall-named.streaming-server.pcapng']);
});
