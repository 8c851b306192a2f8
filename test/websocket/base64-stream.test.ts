import { Base64StreamDecoder } from '../../src/websocket/base64-stream.js';
import { bytes, latin1 } from './recorders.js';

/** Decodes `text` pushed in the given pieces; returns output and problems. */
function run(pieces: string[]): { out: string; problems: string[] } {
  const dec = new Base64StreamDecoder();
  dec.reset();
  let out = '';
  const problems: string[] = [];
  for (const piece of pieces) {
    const chars = bytes(piece);
    for (let i = 0; i < chars.length; ) {
      const before = dec.error;
      i = dec.decode(chars, i);
      out += latin1(dec.output.subarray(0, dec.produced));
      if (dec.error !== before) problems.push(dec.error!);
    }
  }
  const end = dec.finish();
  if (end) problems.push(end);
  out += latin1(dec.output.subarray(0, dec.produced));
  return { out, problems };
}

describe('Base64StreamDecoder', () => {
  const samples = ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar', '\x00\xff\x10 binary \xfe'];

  it.each(samples)('decodes %j split at every pair of offsets', (plain) => {
    const text = Buffer.from(plain, 'latin1').toString('base64');
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        expect(run([text.slice(0, i), text.slice(i, j), text.slice(j)])).toEqual({ out: plain, problems: [] });
      }
    }
  });

  it('decodes large input across the output buffer boundary', () => {
    const plain = Buffer.from(new Uint8Array(200_001).map((_, i) => (i * 7) & 0xff));
    const text = plain.toString('base64');
    const { out, problems } = run([text.slice(0, 99_999), text.slice(99_999)]);
    expect(problems).toEqual([]);
    expect(out).toBe(plain.toString('latin1'));
  });

  it('rejects invalid characters and data after padding, once', () => {
    expect(run(['Zm9v', 'Y!Fy', 'YWFh'])).toEqual({ out: 'foo', problems: ['invalid base64 character'] });
    expect(run(['Zg==Zm9v'])).toEqual({ out: 'f', problems: ['base64 data after padding'] });
    expect(run(['Zm=v'])).toEqual({ out: '', problems: ['invalid base64 character'] });
  });

  it('reports an unpadded or truncated end', () => {
    expect(run(['Zm9vYg'])).toEqual({ out: 'foob', problems: ['base64 message not padded'] });
    expect(run(['Zm9vY'])).toEqual({ out: 'foo', problems: ['base64 message ends with a lone character'] });
  });

  it('realigns on the next group after lost characters', () => {
    const dec = new Base64StreamDecoder();
    const text = bytes(Buffer.from('abcdefghijkl').toString('base64')); // 16 chars, 4 groups
    dec.decode(text.subarray(0, 5), 0); // group 1 + 1 char of group 2
    expect(latin1(dec.output.subarray(0, dec.produced))).toBe('abc');
    expect(dec.lose(2)).toBe(3); // chars 5,6 lost: group 2 gone
    const rest = text.subarray(7);
    let out = '';
    for (let i = 0; i < rest.length; ) {
      i = dec.decode(rest, i);
      out += latin1(dec.output.subarray(0, dec.produced));
    }
    expect(out).toBe('ghijkl');
    expect(dec.finish()).toBeUndefined();
  });
});
