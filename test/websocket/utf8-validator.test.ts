import { Utf8Validator } from '../../src/websocket/utf8-validator.js';
import fc from 'fast-check';
import { fcParams } from '../kit/transcript.js';

const enc = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });

/** Validates `bytes` cut at every position into two pieces; all cuts must agree. */
function verdict(bytes: Uint8Array): { bad: number; incomplete: boolean } {
  const results = new Set<string>();
  for (let cut = 0; cut <= bytes.length; cut++) {
    const v = new Utf8Validator();
    let bad = v.push(bytes.subarray(0, cut));
    if (bad < 0) bad = v.push(bytes.subarray(cut));
    results.add(JSON.stringify({ bad, incomplete: bad < 0 && v.incomplete }));
  }
  expect(results.size).toBe(1);
  return JSON.parse([...results][0]);
}

describe('Utf8Validator', () => {
  it('accepts ASCII, 2-, 3- and 4-byte sequences split anywhere', () => {
    for (const text of ['', 'base64+/=', 'é', 'Grüße, 世界', '€ 😀 \u{10FFFF}', '\u0080\u07ff\u0800\uffff\u{10000}']) {
      expect(verdict(enc.encode(text))).toEqual({ bad: -1, incomplete: false });
    }
  });

  it.each([
    ['a lone continuation byte', [0x61, 0x80], 1],
    ['C0/C1 overlong lead bytes', [0xc0, 0xaf], 0],
    ['an overlong 3-byte form', [0xe0, 0x80, 0xaf], 1],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80], 1],
    ['an overlong 4-byte form', [0xf0, 0x80, 0x80, 0xaf], 1],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 1],
    ['an F5 lead byte', [0xf5, 0x80, 0x80, 0x80], 0],
    ['a lead byte followed by ASCII', [0xc3, 0x41], 1],
    ['FF', [0x41, 0x42, 0xff], 2],
  ])('rejects %s at the right byte, as a strict decoder does', (_name, raw, at) => {
    const bytes = new Uint8Array(raw);
    expect(() => strict.decode(bytes)).toThrow();
    expect(verdict(bytes)).toEqual({ bad: at, incomplete: false });
  });

  it('tells a message that stops inside a sequence', () => {
    expect(verdict(new Uint8Array([0x61, 0xe2, 0x82]))).toEqual({ bad: -1, incomplete: true });
    expect(verdict(new Uint8Array([0xf0, 0x9f, 0x98]))).toEqual({ bad: -1, incomplete: true });
  });

  it('agrees with a strict decoder on any bytes', () => {
    // Mostly high bytes, so that sequences of every kind occur.
    const byte = fc.oneof({ arbitrary: fc.integer({ min: 0x80, max: 0xff }), weight: 2 }, { arbitrary: fc.integer({ min: 0, max: 0x7f }), weight: 1 });
    fc.assert(
      fc.property(fc.array(byte, { minLength: 1, maxLength: 7 }), (values) => {
        const bytes = Uint8Array.from(values);
        let valid = true;
        try {
          strict.decode(bytes);
        } catch {
          valid = false;
        }
        const v = verdict(bytes);
        expect(v.bad < 0 && !v.incomplete).toBe(valid);
      }),
      fcParams(3000),
    );
  });
});
