#!/usr/bin/env node
/**
 * npm run bounds [-- --only NAME[,NAME]] [--out DIR]
 *
 * The resource bounds the README states, measured at full size: writes each hostile capture of
 * test/kit/hostile-captures.ts (bundled by esbuild) to DIR (default bounds-out/, reused when present)
 * and runs `analyze --json` and the text summary on it under /usr/bin/time, printing wall and CPU time, peak
 * RSS and the warnings that name the bound (read from the text summary). The load of the machine is
 * printed with the figures.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const { values: args } = parseArgs({ options: { only: { type: 'string' }, out: { type: 'string', default: join(root, 'bounds-out') } } });

const CASES = [
  { name: 'spdy-zlib-bomb', make: (k) => k.spdyHeaderBomb(1 << 30), what: 'a SPDY header block inflating to 1 GiB' },
  { name: 'websocket-2e63', make: (k) => k.websocketHugeFrame(64 << 20), what: 'a WebSocket frame of 2^63−1 bytes announced, 64 MiB sent' },
  { name: 'connections-200k', make: (k) => k.unansweredUpgrades(200_000), what: '200,000 connections, each an exec upgrade with no reply' },
  // 2.5 times the connections: the peak must not follow (ended sessions wait in a temporary file).
  { name: 'connections-500k', make: (k) => k.unansweredUpgrades(500_000), what: '500,000 connections, each an exec upgrade with no reply' },
  { name: 'tiny-packets-1m', make: (k) => k.tinyPackets(1_000_000), what: '10^6 one-byte stdout messages, one packet each, in one connection' },
  { name: 'fragments-100k', make: (k) => k.overlappingFragments(100_000), what: '100,000 datagrams in overlapping fragments, half never completed' },
];

const { build } = await import('esbuild');
const kitFile = join(root, 'node_modules', '.cache', 'execscope-bounds', `kit-${process.pid}.mjs`);
await build({ entryPoints: [join(root, 'test/kit/hostile-captures.ts')], outfile: kitFile, bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' });
const kit = await import(kitFile);
rmSync(kitFile, { force: true });

mkdirSync(args.out, { recursive: true });
const only = args.only ? new Set(args.only.split(',')) : null;
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
for (const c of CASES) {
  if (only && !only.has(c.name)) continue;
  const file = join(args.out, `${c.name}.pcap`);
  if (!existsSync(file)) kit.writePcap(file, c.make(kit));
  const size = statSync(file).size;
  // Each report goes to a file: 500,000 sessions' JSON is longer than a JS string may be.
  const runs = [['--json'], []].map((flags) => {
    const out = join(args.out, `${c.name}.out`);
    const fd = openSync(out, 'w');
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, cli, 'analyze', file, ...flags], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    const [secs, user, system, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    const output = readFileSync(out);
    rmSync(out);
    return { flags, status: r.status, secs, cpuSecs: user + system, rssMb: kb / 1024, output };
  });
  // What the capture says, from the text summary: its head line's counts, each session's warnings (not the doctor's lines) and the capture's.
  const [json, text] = runs.map((r) => r.output);
  const lines = text.toString('utf8').split('\n');
  const count = (what) => Number(new RegExp(`([0-9]+) ${what}`).exec(lines[0])?.[1]);
  const warningsAt = lines.findIndex((l) => /^Warnings \(/.test(l));
  const warnings = [...lines.filter((l) => l.startsWith('   ! ') && !/^   ! (cause: |then: )?R\d+ /.test(l)).map((l) => l.slice(5)), ...(warningsAt < 0 ? [] : lines.slice(warningsAt + 1).filter((l) => l.startsWith('   ') && !l.startsWith('   … ')).map((l) => l.trim()))];
  const distinct = [...new Set(warnings.map((m) => m.replace(/\d+/g, 'N')))].slice(0, 4);
  console.log(`\n${c.name}: ${c.what} (${(size / 1e6).toFixed(1)} MB, ${count('packets?')} packets)`);
  for (const r of runs) console.log(`  analyze ${r.flags.join(' ') || '(text)'}: exit ${r.status}, ${r.secs.toFixed(1)} s (${r.cpuSecs.toFixed(1)} s CPU), peak RSS ${r.rssMb.toFixed(0)} MB, ${(r.output.length / 1e6).toFixed(1)} MB out`);
  console.log(`  ${count('sessions?')} sessions, ${count('connections?')} connections; the JSON ${json.subarray(-3).toString() === '\n}\n' ? 'ends whole' : 'IS CUT SHORT'}; warnings, e.g.:`);
  for (const m of distinct) console.log(`    ${m.slice(0, 160)}`);
}
console.log(`\nload average ${loadavg().map((l) => l.toFixed(1)).join(' ')} after the runs`);
