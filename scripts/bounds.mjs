#!/usr/bin/env node
/**
 * npm run bounds [-- --only NAME[,NAME]] [--out DIR]
 *
 * The resource bounds the README states, measured at full size: writes each hostile capture of
 * test/kit/hostile-captures.ts (bundled by esbuild) to DIR (default bounds-out/, reused when present)
 * and runs `analyze --json` and the text summary on it under /usr/bin/time, printing wall time, peak
 * RSS and the warnings that name the bound. The load of the machine is printed with the figures.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
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
  const runs = [['--json'], []].map((flags) => {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, cli, 'analyze', file, ...flags], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const [secs, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    return { flags, status: r.status, secs, rssMb: kb / 1024, stdout: r.stdout };
  });
  const report = JSON.parse(runs[0].stdout);
  const warnings = [...report.warnings, ...report.sessions.flatMap((s) => s.warnings)].map((w) => w.message);
  const distinct = [...new Set(warnings.map((m) => m.replace(/\d+/g, 'N')))].slice(0, 4);
  console.log(`\n${c.name}: ${c.what} (${(size / 1e6).toFixed(1)} MB, ${report.capture.packets} packets)`);
  for (const r of runs) console.log(`  analyze ${r.flags.join(' ') || '(text)'}: exit ${r.status}, ${r.secs.toFixed(1)} s, peak RSS ${r.rssMb.toFixed(0)} MB`);
  console.log(`  ${report.sessions.length} sessions, ${report.connections.length} connections, ${warnings.length} warnings, e.g.:`);
  for (const m of distinct) console.log(`    ${m.slice(0, 160)}`);
}
console.log(`\nload average ${loadavg().map((l) => l.toFixed(1)).join(' ')} after the runs`);
