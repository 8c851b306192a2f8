/**
 * Node's crypto, zlib, v8, os and tty, loaded on their first use rather than when the bundle starts:
 * most runs (an exec capture without TLS keys, gRPC compression or --hash, no spill file, a heap that
 * stays small, no hang-up) never call them, and loading them costs every start ~5 ms (crypto ~10 M
 * instructions, zlib with its streams ~7.5 M, v8 with its heap utilities' streams ~15 M; callgrind,
 * `node -e "require(…)"` against `node -e 0`). The types come from the modules themselves.
 */
import { createRequire } from 'node:module';

/** A require made on the first load, as the modules are: createRequire itself costs ~0.85 M instructions. */
let nodeRequire: NodeJS.Require | undefined;
const load = (id: string): unknown => (nodeRequire ??= createRequire(import.meta.url))(id);
let crypto: typeof import('node:crypto') | undefined;
let zlib: typeof import('node:zlib') | undefined;
let v8: typeof import('node:v8') | undefined;
let os: typeof import('node:os') | undefined;
let tty: typeof import('node:tty') | undefined;

export function nodeCrypto(): typeof import('node:crypto') {
  return (crypto ??= load('node:crypto') as typeof import('node:crypto'));
}

export function nodeZlib(): typeof import('node:zlib') {
  return (zlib ??= load('node:zlib') as typeof import('node:zlib'));
}

export function nodeV8(): typeof import('node:v8') {
  return (v8 ??= load('node:v8') as typeof import('node:v8'));
}

export function nodeOs(): typeof import('node:os') {
  return (os ??= load('node:os') as typeof import('node:os'));
}

export function nodeTty(): typeof import('node:tty') {
  return (tty ??= load('node:tty') as typeof import('node:tty'));
}
