#!/usr/bin/env node
// How long after its packet a live event is printed: `execscope tap kubectl --json-lines` and
// `execscope live --json-lines` (the real tcpdump on lo, with and without a followed key log), while
// the real kubectl runs a command in the lab that prints a line every 100 ms. Each event's `time` is
// its packet's timestamp (the tap's receipt time; the kernel's capture time for tcpdump); the
// latency is the wall clock when the line is read here minus that. The TUI redraws 25 ms
// (LIVE_REDRAW_MS) after the same report. Needs root for tcpdump; run after `npm run build`.
//   node scripts/live-latency.mjs [LINES]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const LINES = Number(process.argv[2] ?? 40);
const now = () => performance.timeOrigin + performance.now();
const epochMs = (iso) => {
  // ISO with nanoseconds: Date keeps ms, the rest is added back.
  const [, frac = ''] = /\.(\d+)Z$/.exec(iso) ?? [];
  return Date.parse(iso.replace(/\.\d+Z$/, 'Z')) + Number(`0.${frac || '0'}`) * 1000;
};

/** Runs execscope with `args` until `ready` is printed, then kubectl; returns latencies (ms) per event kind. */
async function measure(name, args, kubeconfigOf, dir) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lat = { session: [], data: [] };
  let buffered = '';
  let first = null;
  const events = [];
  const readyLine = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      const at = now();
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const e = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        events.push({ e, at });
        if (first === null && (e.event === 'tapping' || e.event === 'capturing')) resolve((first = e));
      }
    });
    child.once('exit', (code) => reject(new Error(`${name}: execscope exited ${code}`)));
  });
  const ready = await readyLine;
  const kubectl = spawn('kubectl', ['exec', 'lab-0', '--', 'sh', '-c', `i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo tick-$i; sleep 0.1; done`], {
    env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfigOf(ready) },
    stdio: 'ignore',
  });
  await new Promise((resolve) => kubectl.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill('SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
  for (const { e, at } of events) {
    if (e.event === 'session') lat.session.push(at - epochMs(e.time));
    if (e.event === 'data' && e.stream === 'stdout') lat.data.push(at - epochMs(e.time));
  }
  return lat;
}

const fmt = (xs) => {
  if (!xs.length) return 'none';
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  return `n=${s.length} median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${s[s.length - 1].toFixed(1)} ms`;
};

const dir = mkdtempSync(join(tmpdir(), 'live-latency-'));
// The lab, as a user starts it: its first line names the hops' ports.
const labProcess = spawn(process.execPath, [cli, 'lab', '--dir', join(dir, 'lab'), '--kubeconfig-out', join(dir, 'kubeconfig')], { stdio: ['ignore', 'pipe', 'pipe'] });
const ports = await new Promise((resolve, reject) => {
  let out = '';
  const read = (c) => {
    out += c.toString();
    const m = /apiserver https:\/\/127\.0\.0\.1:(\d+) → kubelet 127\.0\.0\.1:(\d+)/.exec(out);
    if (m && out.includes('export KUBECONFIG=')) resolve({ apiserver: m[1], kubelet: m[2] });
  };
  labProcess.stdout.on('data', read);
  labProcess.stderr.on('data', read);
  labProcess.once('exit', (code) => reject(new Error(`the lab exited ${code}: ${out}`)));
});
const lab = {
  kubeconfigPath: join(dir, 'kubeconfig'),
  keyLogPath: join(dir, 'lab', 'lab.keylog'),
  port: (hop) => ports[hop],
};
try {
  const runs = [
    ['tap kubectl --json-lines', ['tap', 'kubectl', '--kubeconfig', lab.kubeconfigPath, '--json-lines', '--quiet'], (r) => r.kubeconfig],
    ['live -i lo --json-lines (kubelet hop, plaintext)', ['live', '-i', 'lo', '-f', `tcp port ${lab.port('kubelet')}`, '--json-lines'], () => lab.kubeconfigPath],
    ['live -i lo --json-lines --keylog (apiserver hop, TLS)', ['live', '-i', 'lo', '--port', String(lab.port('apiserver')), '-f', `tcp port ${lab.port('apiserver')}`, '--keylog', lab.keyLogPath, '--json-lines'], () => lab.kubeconfigPath],
  ];
  for (const [name, args, kubeconfigOf] of runs) {
    const lat = await measure(name, args, kubeconfigOf, dir);
    console.log(`${name}\n  session opened: ${fmt(lat.session)}\n  stdout data:    ${fmt(lat.data)}`);
  }
} finally {
  labProcess.kill('SIGINT');
  await new Promise((resolve) => labProcess.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
