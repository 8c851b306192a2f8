/**
 * cri-proto.ts's protobuf wire format against protobufjs (the library that decoded these messages
 * before, kept as the oracle): random values of every declared message, encoded by either, decode
 * to the same object by either, with proto3's defaults for what is absent.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { decodeCri, encodeCri } from '../../src/cri/cri-proto.js';

const source = readFileSync('src/cri/cri-proto.ts', 'utf8');
const definitions = /const MESSAGES = `([^`]*)`/.exec(source)![1];
const root = protobuf.parse(`syntax = "proto3"; package runtime.v1;\n${definitions}`, { keepCase: true }).root;
const typeOf = (name: string) => root.lookupType(`runtime.v1.${name}`);
const theirDecode = (name: string, bytes: Uint8Array) => typeOf(name).toObject(typeOf(name).decode(bytes), { longs: Number, defaults: true, arrays: true });
const theirEncode = (name: string, value: object) => typeOf(name).encode(typeOf(name).fromObject(value)).finish();

/** Bytes compared as arrays: protobufjs gives Buffers, cri-proto Uint8Arrays. */
const plain = (x: unknown): unknown =>
  x instanceof Uint8Array ? { bytes: [...x] } : Array.isArray(x) ? x.map(plain) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)])) : x;

function valueOf(name: string, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of typeOf(name).fieldsArray) {
    const scalar: Record<string, fc.Arbitrary<unknown>> = {
      string: fc.string({ unit: 'grapheme' }),
      bytes: fc.uint8Array({ maxLength: 20 }),
      bool: fc.boolean(),
      int32: fc.integer(),
      uint32: fc.nat({ max: 2 ** 32 - 1 }),
      int64: fc.maxSafeInteger(),
    };
    const one = scalar[f.type] ?? (depth < 3 ? valueOf(f.type, depth + 1) : null);
    if (one) fields[f.name] = f.repeated ? fc.array(one, { maxLength: 3 }) : one;
  }
  return fc.record(fields, { requiredKeys: [] });
}

const names = [...definitions.matchAll(/message (\w+)/g)].map((m) => m[1]);

test.each(names)('%s: the same bytes decode to the same object as with protobufjs, whoever encoded them', (name) => {
  fc.assert(
    fc.property(valueOf(name), (value) => {
      const ours = encodeCri(name, value);
      const theirs = theirEncode(name, value);
      expect(plain(decodeCri(name, ours))).toEqual(plain(theirDecode(name, theirs)));
      expect(plain(decodeCri(name, theirs))).toEqual(plain(theirDecode(name, ours)));
    }),
    { numRuns: 200 },
  );
});

test('malformed bytes throw', () => {
  expect(() => decodeCri('ExecRequest', Uint8Array.from([0x0a, 50, 1]))).toThrow(/overruns/);
  expect(() => decodeCri('ExecRequest', Uint8Array.from([0x08, 0x80]))).toThrow(/inside a varint/);
  expect(() => decodeCri('ExecRequest', Uint8Array.from([0x7f]))).toThrow(/wire type 7/);
  expect(() => encodeCri('ExecRequest', { cmd: 'ls' })).toThrow(/ExecRequest.cmd: array expected/);
});
