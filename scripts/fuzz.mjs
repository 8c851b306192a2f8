#!/usr/bin/env node
/**
 * npm run fuzz -- --budget N [--seed S] [--time-limit MS] [--memory-mb MB] [--out DIR] [--stop-at ISO]
 *
 * Mutation fuzzer over every capture in fixtures/ and ../shared (read in place). Each input runs in a
 * worker under a time limit (a hang ends the worker) and a heap limit (so does a blow-up); every
 * eighth input is also fed in random chunks and must give the same JSON. Failures are minimised
 * (records, then byte runs) and saved to DIR (default fuzz-failures/) with what happened; a
 * minimised failure moved to fixtures/fuzz/ becomes a regression test (test/pipeline/fuzz-regressions).
 * Prints the figures: inputs, crashes, hangs, out-of-memory, mismatches, peak RSS, duration, rate.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    budget: { type: 'string', default: '1000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    'time-limit': { type: 'string', default: '10000' },
    'memory-mb': { type: 'string', default: '512' },
    out: { type: 'string', default: join(root, 'fuzz-failures') },
    'stop-at': { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const budget = Number(args.budget);
const seed = Number(args.seed);
const timeLimit = Number(args['time-limit']);
const memoryMb = Number(args['memory-mb']);
const stopAt = args['stop-at'] ? Date.parse(args['stop-at']) : Infinity;
/** Corpus files above this are left out: one input must stay well under the time limit. */
const MAX_CORPUS_BYTES = 256 << 10;

function corpusFiles() {
  const dirs = [join(root, 'fixtures'), join(root, '..', 'shared', 'captures'), join(root, '..', 'shared', 'outside-captures')];
  const out = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(pcap|pcapng)(\.gz)?$/.test(name)) out.push(path);
    }
  };
  dirs.forEach(walk);
  return out;
}

const corpus = corpusFiles()
  .map((path) => {
    const raw = readFileSync(path);
    return { path, bytes: path.endsWith('.gz') ? gunzipSync(raw) : raw };
  })
  .filter((c) => c.bytes.length <= MAX_CORPUS_BYTES);

/** The TypeScript target (run by the worker) and the test kit's mutations, bundled by esbuild (a devDependency). */
async function bundle(entry, name) {
  const { build } = await import('esbuild');
  const outfile = join(root, 'node_modules', '.cache', 'execscope-fuzz', `${name}-${process.pid}.mjs`);
  await build({ entryPoints: [join(root, entry)], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning', define: { 'process.env.NODE_ENV': '"production"' } });
  return outfile;
}

const mutationsFile = await bundle('test/kit/capture-mutations.ts', 'mutations');
const { mutate, records, rng } = await import(mutationsFile);
rmSync(mutationsFile, { force: true });

class Runner {
  constructor(file) {
    this.file = file;
    this.worker = null;
  }
  start() {
    this.worker = new Worker(this.file, { resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: 64 } });
    this.worker.unref();
  }
  /** Resolves to the verdict, or {kind: 'hang'|'oom'|'worker'} when the worker had to go. */
  run(job) {
    if (!this.worker) this.start();
    const w = this.worker;
    return new Promise((resolve) => {
      const done = (verdict, restart) => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        if (restart) {
          this.worker = null;
          w.terminate();
        }
        resolve(verdict);
      };
      const onMessage = (v) => done(v, false);
      const onError = (e) => done({ id: job.id, ok: false, kind: e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'worker', message: String(e.stack ?? e) }, true);
      const onExit = (code) => done({ id: job.id, ok: false, kind: 'worker', message: `worker exited with ${code}` }, true);
      const timer = setTimeout(() => done({ id: job.id, ok: false, kind: 'hang', message: `no answer within ${timeLimit} ms` }, true), timeLimit);
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage(job);
    });
  }
  stop() {
    this.worker?.terminate();
  }
}

/** Smaller inputs that fail the same way: whole records dropped first, then byte runs halved down. */
async function minimise(runner, bytes, kind, chunkSeed) {
  const fails = async (b) => {
    const v = await runner.run({ id: -1, bytes: b, chunkSeed });
    return !v.ok && v.kind === kind;
  };
  let best = bytes;
  let tries = 0;
  const rec = records(best);
  if (rec) {
    let keep = rec.records;
    for (let chunk = Math.max(1, keep.length >> 1); chunk >= 1 && tries < 200; chunk >>= 1) {
      for (let i = 0; i < keep.length && tries < 200; ) {
        const candidate = keep.slice(0, i).concat(keep.slice(i + chunk));
        tries++;
        const b = Buffer.concat([best.subarray(0, rec.header), ...candidate.map(([s, e]) => best.subarray(s, e))]);
        if (await fails(b)) keep = candidate;
        else i += chunk;
      }
    }
    best = Buffer.concat([best.subarray(0, rec.header), ...keep.map(([s, e]) => best.subarray(s, e))]);
  }
  for (let cut = best.length >> 1; cut >= 1 && tries < 300; cut >>= 1) {
    tries++;
    if (await fails(best.subarray(0, best.length - cut))) best = best.subarray(0, best.length - cut);
  }
  return best;
}

async function main() {
  if (!corpus.length) throw new Error('no captures found in fixtures/ or ../shared');
  const target = await bundle('scripts/fuzz/target.ts', 'target');
  const runner = new Runner(target);
  const r = rng(seed);
  const counts = { inputs: 0, crash: 0, hang: 0, oom: 0, mismatch: 0, worker: 0 };
  const failures = [];
  const seenMessages = new Set();
  const t0 = Date.now();
  let peakRss = 0;
  let lastReport = t0;
  for (let i = 0; i < budget && Date.now() < stopAt; i++) {
    const { bytes, done } = mutate(corpus, r);
    const chunkSeed = i % 8 === 7 ? 1 + r.int(2 ** 30) : 0;
    const v = await runner.run({ id: i, bytes, chunkSeed });
    counts.inputs++;
    if (i % 64 === 0) peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
    if (!v.ok) {
      counts[v.kind]++;
      // One saved failure per distinct first line (the same bug found again is only counted).
      const key = `${v.kind} ${v.message.split('\n').slice(0, 2).join(' ')}`;
      if (!seenMessages.has(key)) {
        seenMessages.add(key);
        const small = await minimise(runner, bytes, v.kind, chunkSeed);
        mkdirSync(args.out, { recursive: true });
        const name = `${v.kind}-${seed}-${i}`;
        writeFileSync(join(args.out, `${name}.pcap`), small);
        writeFileSync(join(args.out, `${name}.txt`), `${v.kind} (${done.join(', ')}; chunk seed ${chunkSeed}; ${bytes.length} → ${small.length} bytes)\n${v.message}\n`);
        failures.push(name);
        console.log(`${v.kind}: ${join(relative(root, args.out), name)}.pcap — ${v.message.split('\n')[0].slice(0, 160)}`);
      }
    }
    if (!args.quiet && Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      console.log(`… ${counts.inputs} inputs, ${((counts.inputs * 1000) / (Date.now() - t0)).toFixed(0)}/s`);
    }
  }
  runner.stop();
  rmSync(target, { force: true });
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  const seconds = (Date.now() - t0) / 1000;
  const figures = {
    seed,
    corpus: corpus.length,
    ...counts,
    failuresSaved: failures.length,
    peakRssMb: Math.round(peakRss / 2 ** 20),
    seconds: Math.round(seconds),
    perSecond: Math.round(counts.inputs / seconds),
  };
  console.log(JSON.stringify(figures));
  const bad = counts.crash + counts.hang + counts.oom + counts.mismatch + counts.worker;
  process.exit(bad ? 1 : 0);
}

await main();
