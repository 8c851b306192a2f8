/**
 * Node's crypto and zlib, loaded on their first use rather than when the bundle starts: most runs
 * (an exec capture without TLS keys, gRPC compression or --hash) never call them, and loading them
 * costs every start ~5 ms (crypto ~10 M instructions, zlib with its streams ~7.5 M; callgrind, `node
 * -e "require(…)"` against `node -e 0`). The types come from the modules themselves.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
let crypto: typeof import('node:crypto') | undefined;
let zlib: typeof import('node:zlib') | undefined;

export function nodeCrypto(): typeof import('node:crypto') {
  return (crypto ??= load('node:crypto') as typeof import('node:crypto'));
}

export function nodeZlib(): typeof import('node:zlib') {
  return (zlib ??= load('node:zlib') as typeof import('node:zlib'));
}
