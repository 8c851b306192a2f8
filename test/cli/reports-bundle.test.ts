/**
 * dist/cli.js runs analyze, diagnose, extract and keys in the reports bundle, which scripts/build.mjs
 * makes without what src/cli.ts imports on demand (lab, tap, live, export, the TUI): each such import
 * is a module that throws "… is not in the reports bundle". Every report command, with each of its
 * flags and options (read from src/cli.ts, so a new one must be run here too), is run through the
 * built command line on fixtures: none may reach a left-out import.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirForTests } from '../kit/temp-dir.js';

const root = process.cwd();
const dist = join(root, 'dist');
const cli = join(dist, 'cli.js');
const fixture = (name: string) => join(root, 'fixtures', name);
const LEFT_OUT = /is not in the reports bundle/;
const tmp = tempDirForTests('execscope-reports-bundle-');
const out = (name: string) => join(tmp, name);

interface Run {
  args: string[];
  /** The exit status the command gives on this input (diagnose: 1 is a fault found). */
  status: number;
  /** Bytes piped to stdin (a capture read from `-`). */
  stdin?: string;
}

const KEYLOG = fixture('tls-ws-keylog.keylog');
const TLS = fixture('tls-ws-keylog.pcap');
const WS = fixture('ws-echo.pcap');
const SPDY = fixture('spdy-echo.pcap');

const RUNS: Record<string, Run[]> = {
  analyze: [
    { args: [WS], status: 0 },
    { args: [WS, '--text', '--connections'], status: 0 },
    { args: [SPDY, '--explain'], status: 0 },
    { args: [WS, '--json', '--hash'], status: 0 },
    { args: [TLS, '--keylog', KEYLOG, '--json'], status: 0 },
    { args: [WS, SPDY, '--json'], status: 0 },
    { args: [fixture('lab/lab-fault-stall-reader.pcapng.gz'), '--json'], status: 0 },
    { args: ['-', '--save', out('saved.pcap'), '--json'], status: 0, stdin: WS },
    { args: ['--help'], status: 0 },
  ],
  diagnose: [
    { args: [WS], status: 0 },
    { args: [fixture('lab/lab-fault-reset-mid-stream.pcapng'), '--json'], status: 1 },
    { args: [TLS, '--keylog', KEYLOG], status: 0 },
    { args: [WS, SPDY], status: 0 },
    { args: ['--help'], status: 0 },
  ],
  extract: [
    { args: [WS, '--session', '1', '--stream', 'stdout', '-o', out('stdout.bin')], status: 0 },
    { args: [WS, '--session', '1', '--stream', 'stdout', '--from', 'server', '--output', out('server.bin')], status: 0 },
    { args: [WS, '--session', '1', '--stream', 'stdout', '-o', '-'], status: 0 },
    { args: [WS, '--session', '1', '--stream', 'stdout', '-o', '-', '--raw'], status: 0 },
    { args: [TLS, '--keylog', KEYLOG, '--session', '1', '--stream', 'stdout', '-o', out('tls.bin')], status: 0 },
    { args: ['--help'], status: 0 },
  ],
  keys: [
    { args: [TLS, '--keylog', KEYLOG], status: 0 },
    { args: [fixture('tls-ws-dsb.pcapng')], status: 0 },
    { args: ['--help'], status: 0 },
  ],
};

function run(command: string, r: Run, env: NodeJS.ProcessEnv = process.env) {
  const res = spawnSync(process.execPath, [cli, command, ...r.args], {
    input: r.stdin ? readFileSync(r.stdin) : undefined,
    stdio: [r.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env,
    timeout: 60_000,
    maxBuffer: 1 << 26,
  });
  return { status: res.status, stderr: res.stderr, error: res.error };
}

/** The commands dist/cli.js starts in the reports bundle (scripts/cli-loader.cjs). */
function reportCommands(): string[] {
  const loader = readFileSync(join(root, 'scripts', 'cli-loader.cjs'), 'utf8');
  const list = /const REPORT_COMMANDS = \[([^\]]*)\]/.exec(loader);
  if (!list) throw new Error('scripts/cli-loader.cjs no longer lists REPORT_COMMANDS');
  return [...list[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

/** A command's flags and options, as its function in src/cli.ts gives them to parseArgs. */
function commandSwitches(command: string): string[] {
  const source = readFileSync(join(root, 'src', 'cli.ts'), 'utf8');
  const called = new RegExp(`case '${command}':[^]*?return (\\w+)\\(rest\\)`).exec(source)?.[1];
  if (!called) throw new Error(`src/cli.ts: no case '${command}' in main() that returns FUNCTION(rest)`);
  const body = new RegExp(`async function ${called}\\(argv: string\\[\\]\\)[^]*?\\n}\\n`).exec(source)?.[0];
  const spec = body && /parseArgs\(argv, \{ flags: \[([^\]]*)\], options: \[([^\]]*)\] \}\)/.exec(body);
  if (!spec) throw new Error(`src/cli.ts: ${called}() no longer calls parseArgs(argv, { flags: [...], options: [...] })`);
  return [...`${spec[1]},${spec[2]}`.matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it)');
});

test('every report command and each of its flags and options is run below', () => {
  expect(Object.keys(RUNS).sort()).toEqual(reportCommands().sort());
  for (const command of reportCommands()) {
    const used = new Set(RUNS[command].flatMap((r) => r.args));
    expect({ command, missing: commandSwitches(command).filter((s) => !used.has(s)) }).toEqual({ command, missing: [] });
  }
});

test('a left-out import fails as these runs would notice (the reports bundle run on lab)', () => {
  // The build's training run names the bundle the loader starts: here the reports one, for a command it leaves out.
  const reports = readdirSync(dist).find((f) => /^execscope-reports-[0-9a-f]+\.cjs$/.test(f));
  expect(reports).toBeDefined();
  const training = join(tmp, reports!.replace(/\.cjs$/, '.code-cache'));
  const r = run('lab', { args: ['--help'], status: 1 }, { ...process.env, EXECSCOPE_WRITE_CODE_CACHE: training });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(LEFT_OUT);
  expect(existsSync(training)).toBe(false);
});

describe.each(Object.entries(RUNS))('%s in the reports bundle', (command, runs) => {
  test.each(runs.map((r) => [r.args.map((a) => a.replace(`${root}/`, '').replace(`${tmp}/`, 'TMP/')).join(' '), r] as const))('%s', (_, r) => {
    const res = run(command, r);
    expect(res.error).toBeUndefined();
    expect(res.stderr).not.toMatch(LEFT_OUT);
    // The stderr beside the status: a failure shows why.
    expect({ status: res.status, stderr: res.stderr }).toMatchObject({ status: r.status });
  });
});
