#!/usr/bin/env node
'use strict';
// dist/cli.js, written by scripts/build.mjs from this file: starts the command line bundle through
// V8's code cache. Node 20 has no compile cache for modules, and parsing and compiling the bundle
// cost more instructions than the whole read floor of a capture (scripts/build.mjs has the figures),
// so the bundle is CommonJS run as a vm.Script with the bytecode the build saved after a training
// run. A cache V8 rejects (another Node, other V8 flags) only costs the compile it would have saved.
// BUNDLE and REPORTS_BUNDLE (the build writes them in) are the bundles' file names, which carry a
// hash of their content: the cache beside each can only be the one made from it (V8 itself checks the
// length of the source only).
const { readFileSync, writeFileSync } = require('node:fs');
const { basename, join } = require('node:path');
const { Script } = require('node:vm');

const BUNDLE = 'BUNDLE';
/**
 * The command line without what lab, tap, live, export and the TUI load on demand, for the commands
 * that load none of it: their start deserialises, reads and sets up that much less (scripts/build.mjs).
 */
const REPORTS_BUNDLE = 'REPORTS_BUNDLE';
const REPORT_COMMANDS = ['analyze', 'diagnose', 'extract', 'keys'];

// The build's training run names the cache it makes, and so the bundle it runs.
const training = process.env.EXECSCOPE_WRITE_CODE_CACHE;
const bundle = join(__dirname, training ? basename(training).replace(/\.code-cache$/, '.cjs') : REPORT_COMMANDS.includes(process.argv[2]) ? REPORTS_BUNDLE : BUNDLE);
const cacheFile = bundle.replace(/\.cjs$/, '.code-cache');
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // no cache (a build that could not make one): compiled as any script is
}
const script = new Script(`(function (exports, require, module, __filename, __dirname, __execscopeImport) {${readFileSync(bundle, 'utf8')}\n})`, { filename: bundle, cachedData });
// The build's training run: the bytecode of every function compiled by then goes into the cache.
if (training === cacheFile) process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
const bundleModule = { exports: {} };
// The TUI's drawing code (Ink has top-level await) is an ES module: a script from the code cache
// cannot import() in Node 20 (its import callback is not kept with the cache), so this file does.
const importBesideBundle = (specifier) => import(specifier);
script.runInThisContext().call(bundleModule.exports, bundleModule.exports, require, bundleModule, bundle, __dirname, importBesideBundle);
