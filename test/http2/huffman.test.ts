import {
  HUFFMAN_BAD_PADDING,
  HUFFMAN_EOS_IN_STRING,
  huffmanDecode,
  huffmanDecodedLengthBound,
  huffmanEncode,
  huffmanEncodedLength,
} from '../../src/http2/huffman.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const ascii = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));

function decode(bytes: Uint8Array): number | Uint8Array {
  const out = new Uint8Array(huffmanDecodedLengthBound(bytes.length));
  const n = huffmanDecode(bytes, 0, bytes.length, out);
  return n < 0 ? n : out.subarray(0, n);
}

describe('HPACK Huffman code', () => {
  // Strings and their codings from RFC 7541 Appendix C.4 and C.6.
  const rfcStrings: [string, string][] = [
    ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
    ['no-cache', 'a8eb10649cbf'],
    ['custom-key', '25a849e95ba97d7f'],
    ['custom-value', '25a849e95bb8e8b4bf'],
    ['302', '6402'],
    ['private', 'aec3771a4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07abe941054d444a8200595040b8166e082a62d1bff'],
    ['https://www.example.com', '9d29ad171863c78f0b97c8e9ae82ae43d3'],
    ['307', '640eff'],
    ['gzip', '9bd9ab'],
    [
      'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      '94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
    ],
  ];

  it.each(rfcStrings)('encodes and decodes %j as in RFC 7541 Appendix C', (text, coded) => {
    expect(hex(huffmanEncode(ascii(text)))).toBe(coded);
    expect(huffmanEncodedLength(ascii(text))).toBe(coded.length / 2);
    expect(decode(Buffer.from(coded, 'hex'))).toEqual(ascii(text));
  });

  it('matches Appendix B for the shortest, a long and the longest codes', () => {
    // '0' = 00000 (5 bits) + 111 padding; NUL = 0x1ff8 (13 bits) + 111; byte 10 = 0x3ffffffc (30 bits) + 11.
    expect(hex(huffmanEncode(Uint8Array.of(0x30)))).toBe('07');
    expect(hex(huffmanEncode(Uint8Array.of(0)))).toBe('ffc7');
    expect(hex(huffmanEncode(Uint8Array.of(10)))).toBe('fffffff3');
  });

  it('round-trips every byte value alone (every padding length 0..7) and all together', () => {
    for (let b = 0; b < 256; b++) expect(decode(huffmanEncode(Uint8Array.of(b)))).toEqual(Uint8Array.of(b));
    const all = Uint8Array.from({ length: 512 }, (_, i) => (i * 37) & 0xff);
    expect(decode(huffmanEncode(all))).toEqual(all);
  });

  it('decodes the empty string', () => {
    expect(decode(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });

  it('rejects padding longer than 7 bits', () => {
    expect(decode(Uint8Array.of(0xff))).toBe(HUFFMAN_BAD_PADDING);
    // '0' + 3 padding bits, then 8 more ones: 11 bits of padding.
    expect(decode(Uint8Array.of(0x07, 0xff))).toBe(HUFFMAN_BAD_PADDING);
  });

  it('rejects padding that is not all ones', () => {
    expect(decode(Uint8Array.of(0x06))).toBe(HUFFMAN_BAD_PADDING); // '0' then 110
    expect(decode(Uint8Array.of(0x00))).toBe(HUFFMAN_BAD_PADDING); // '0' then 000
    expect(decode(Uint8Array.of(0x05))).toBe(HUFFMAN_BAD_PADDING); // '0' then 101
  });

  it('rejects the EOS symbol inside a string', () => {
    expect(decode(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(HUFFMAN_EOS_IN_STRING);
    // 'a' (00011) then EOS (30 ones) then one bit of padding.
    expect(decode(Uint8Array.of(0x1f, 0xff, 0xff, 0xff, 0xff))).toBe(HUFFMAN_EOS_IN_STRING);
  });

  it('decodes from the middle of a buffer', () => {
    const coded = Buffer.concat([Buffer.from('abc'), Buffer.from('a8eb10649cbf', 'hex'), Buffer.from('xyz')]);
    const out = new Uint8Array(16);
    expect(huffmanDecode(coded, 3, 9, out)).toBe(8);
    expect(Buffer.from(out.subarray(0, 8)).toString('latin1')).toBe('no-cache');
  });
});
