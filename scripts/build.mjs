#!/usr/bin/env node
// npm run build: bundles src/ into dist/ with esbuild, so a run compiles a few files instead of ~150
// ES modules plus Ink's and React's:
//  - dist/execscope-HASH.cjs: the command line, one CommonJS bundle, started by dist/cli.js (made
//    from scripts/cli-loader.cjs) through V8's code cache, dist/execscope-HASH.code-cache, which this
//    script makes by running the bundle once on fixtures. On the first 300 packets of the bench's
//    kubectl-ws-64k capture that took `analyze --json` from 475 M to ~270 M main-thread instructions
//    (callgrind; `node -e 0` is 82 M): parsing the bundle and compiling each function on its first
//    call was most of the start.
//  - dist/execscope-reports-HASH.cjs (and its code cache): the same command line without what
//    src/cli.ts imports on demand for lab, tap, live, export and the TUI; dist/cli.js starts it for
//    analyze, diagnose, extract and keys, whose start then reads and deserialises less (540 KB of
//    850 KB, a 684 KB code cache of 785 KB): `analyze --json` of kubectl-ws-64k 777 → 761 M
//    instructions, its first 50 packets 189 → 180 M (callgrind --predictable, which keeps the cache).
//  - dist/run-tui.mjs: the TUI's drawing code (Ink, React, yoga), an ES module because Ink and yoga
//    use top-level await, imported by the bundle only when a TUI opens.
//  - dist/hash-worker.js: the hash worker's thread (`new URL('./hash-worker.js', import.meta.url)`).
//  - dist/capture/*.js, dist/synth/*.js: what scripts/ (the demo maker and the bench) import.
// dist/package.json makes its .js files CommonJS. Type checking is tsc's job (`npx tsc --noEmit -p
// tsconfig.json`); esbuild only strips types.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { build } = await import('esbuild').catch(() => {
  console.error('esbuild is missing: run npm install (it is a devDependency since dist/ is bundled)');
  process.exit(1);
});

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const common = {
  absWorkingDir: root,
  outdir: dist,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // V8 scans every byte of a script before running it: without the whitespace and with shorter
  // syntax, starting `analyze` takes ~20 million fewer instructions (~4% of its start); names are
  // kept, so stack traces still read, and the source maps lead back to src/.
  minifyWhitespace: true,
  minifySyntax: true,
  // React picks its build from NODE_ENV at run time; its development build makes every frame several
  // times slower, so the bundle holds the production one only.
  define: { 'process.env.NODE_ENV': '"production"' },
  // Ink loads React's devtools only when DEV=true is set, and they are not installed. resvg (export
  // --png) is a native module: it is loaded from node_modules, never bundled.
  external: ['react-devtools-core', '@resvg/resvg-js'],
};
const commonJs = {
  ...common,
  format: 'cjs',
  // The sources are ES modules: import.meta.url becomes the bundle's own URL.
  define: { ...common.define, 'import.meta.url': '__execscopeUrl' },
  banner: { js: "var __execscopeUrl = require('node:url').pathToFileURL(__filename).href;" },
};
/**
 * The reports bundle: what src/cli.ts imports on demand (lab, tap, live, export, the TUI's follower
 * and inspector) is left out, a module that says so if it is ever loaded; dist/cli.js runs only
 * analyze, diagnose, extract and keys in it, which import none of them.
 */
const onDemandLeftOut = {
  name: 'on-demand-left-out',
  setup(b) {
    b.onResolve({ filter: /^\.\/.*\.js$/ }, (args) =>
      args.kind === 'dynamic-import' && args.importer === join(root, 'src', 'cli.ts') ? { path: args.path, namespace: 'left-out' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the reports bundle (scripts/build.mjs): dist/cli.js starts the full one for this command`)});`,
      loader: 'js',
    }));
  },
};

/** In the command line's bundle, the TUI's drawing code is the ES module beside it. */
const tuiOutside = {
  name: 'tui-outside',
  setup(b) {
    b.onResolve({ filter: /^\.\/run-tui\.js$/ }, () => ({ path: './run-tui.mjs', external: true }));
  },
};

/**
 * In the TUI's module, Ink and its helpers (wrap-ansi, cli-truncate, widest-line) measure text with
 * src/report/cell-width.ts, which answers as string-width does without segmenting plain rows.
 */
const cellWidthForInk = {
  name: 'cell-width-for-ink',
  setup(b) {
    const cellWidth = join(root, 'src', 'report', 'cell-width.ts');
    b.onResolve({ filter: /^string-width$/ }, (args) => (args.importer === cellWidth ? undefined : { path: cellWidth }));
  },
};

rmSync(dist, { recursive: true, force: true });
const [, , , tui] = await Promise.all([
  // Node's built-ins and resvg are required when first needed rather than imported: a script that
  // comes from the code cache cannot import() in Node 20 (its import callback is not restored), so
  // the one ES module, the TUI's, is imported by the loader for it (below).
  build({ ...commonJs, entryPoints: { execscope: 'src/cli.ts' }, plugins: [tuiOutside], supported: { 'dynamic-import': false } }),
  build({ ...commonJs, entryPoints: { 'execscope-reports': 'src/cli.ts' }, plugins: [tuiOutside, onDemandLeftOut], supported: { 'dynamic-import': false } }),
  build({ ...commonJs, entryPoints: { 'hash-worker': 'src/pipeline/hash-worker.ts' } }),
  build({
    ...common,
    format: 'esm',
    entryPoints: { 'run-tui': 'src/ui/run-tui.tsx' },
    outExtension: { '.js': '.mjs' },
    plugins: [cellWidthForInk],
    metafile: true,
    // Ink imports its devtools (which import the uninstalled react-devtools-core) only with DEV=true:
    // a chunk of their own keeps that import from running with the rest.
    splitting: true,
    chunkNames: '[name]-[hash]',
    // Bundled CommonJS dependencies (React, Ink's helpers) call require() for Node's built-ins, which
    // an ES module does not have.
    banner: { js: "import { createRequire as __execscopeRequire } from 'node:module'; const require = __execscopeRequire(import.meta.url);" },
  }),
  build({
    ...commonJs,
    entryPoints: ['capture/capture-decoder', 'capture/pcap-writer', 'capture/pcapng-writer', 'capture/synthetic-tcp', 'synth/exec-conversation'].map((m) => ({ in: `src/${m}.ts`, out: m })),
  }),
]);
writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');

// The TUI's module is compiled at every TUI start, with no code cache: the decoders it is given (the
// load, the inspector, Content's and S's readers) run in the command line's bundle. A UI module that
// imports one instead would bring a second copy of the pipeline in (1.19 MB of module, ~70 M
// instructions of the start, before this check).
const decoders = /^(src\/(pipeline|capture|net|websocket\/(?!channel-subprotocols)|spdy|http2|tls|grpc|cri)\/|node_modules\/pako\/)/;
const strays = Object.keys(tui.metafile.inputs).filter((input) => decoders.test(input));
if (strays.length > 0) throw new Error(`build: dist/run-tui.mjs would hold decoders (${strays.length} modules, ${strays.slice(0, 3).join(', ')}, …): pass them in RunTuiOptions instead`);

// A bundle's name carries its content's hash, which ties the code cache to it.
function finishBundle(built) {
  // cli.ts's #! line is no syntax inside the function the loader wraps the bundle in.
  let source = readFileSync(join(dist, `${built}.js`), 'utf8').replace(/^#!.*/, '');
  const tuiRequire = '__toESM(require("./run-tui.mjs"),1)';
  if (source.split(tuiRequire).length !== 2) throw new Error(`build: expected ${built} to load the TUI once as ${tuiRequire}`);
  source = source.replace(tuiRequire, '__execscopeImport("./run-tui.mjs")');
  const bundle = `${built}-${createHash('sha256').update(source).digest('hex').slice(0, 12)}.cjs`;
  rmSync(join(dist, `${built}.js`));
  renameSync(join(dist, `${built}.js.map`), join(dist, `${bundle}.map`));
  writeFileSync(join(dist, bundle), source.replace(`//# sourceMappingURL=${built}.js.map`, `//# sourceMappingURL=${bundle}.map`));
  return bundle;
}
const bundle = finishBundle('execscope');
const reportsBundle = finishBundle('execscope-reports');
const loader = readFileSync(join(root, 'scripts', 'cli-loader.cjs'), 'utf8')
  .replace("BUNDLE = 'BUNDLE'", `BUNDLE = ${JSON.stringify(bundle)}`)
  .replace("REPORTS_BUNDLE = 'REPORTS_BUNDLE'", `REPORTS_BUNDLE = ${JSON.stringify(reportsBundle)}`);
if (!loader.includes(bundle) || !loader.includes(reportsBundle)) throw new Error('build: scripts/cli-loader.cjs no longer names its bundles as BUNDLE and REPORTS_BUNDLE');
writeFileSync(join(dist, 'cli.js'), loader, { mode: 0o755 });

// The training run of each bundle: WebSocket and SPDY exec through every hop, with the CRI's gRPC
// calls, the way `analyze --json` reads them (and the TUI's load). Without a cache the command line
// still runs, only slower to start.
for (const trained of [bundle, reportsBundle]) {
  const cacheFile = join(dist, trained.replace(/\.cjs$/, '.code-cache'));
  const training = spawnSync(process.execPath, [join(dist, 'cli.js'), 'analyze', 'fixtures/lab/lab-fault-reset-mid-stream.pcapng', '--json'], {
    cwd: root,
    env: { ...process.env, EXECSCOPE_WRITE_CODE_CACHE: cacheFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (training.status !== 0) console.error(`build: the code cache's training run of ${trained} failed (status ${training.status}); it runs without a code cache`);
}
