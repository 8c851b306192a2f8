import { DEFAULT_MAX_HEADER_LIST_SIZE, type HeaderField, HpackDecoder, HpackEncoder, HpackError } from '../../src/http2/hpack.js';

const bytes = (hexText: string) => new Uint8Array(Buffer.from(hexText.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A literal header field with incremental indexing and a new name (short raw strings). */
function literalIndexed(name: string, value: string): number[] {
  return [0x40, name.length, ...Buffer.from(name, 'latin1'), value.length, ...Buffer.from(value, 'latin1')];
}

function decodeError(decoder: HpackDecoder, block: Uint8Array | number[]): string {
  try {
    decoder.decode(Uint8Array.from(block));
  } catch (e) {
    expect(e).toBeInstanceOf(HpackError);
    return (e as Error).message;
  }
  throw new Error('decode did not fail');
}

interface Step {
  block: string;
  headers: HeaderField[];
  table: HeaderField[];
  size: number;
}

describe('HpackDecoder: RFC 7541 Appendix C', () => {
  it('C.2.1 literal header field with indexing', () => {
    const d = new HpackDecoder();
    expect(d.decode(bytes('400a637573746f6d2d6b65790d637573746f6d2d686561646572'))).toEqual([['custom-key', 'custom-header']]);
    expect(d.tableEntries()).toEqual([['custom-key', 'custom-header']]);
    expect(d.tableSize).toBe(55);
  });

  it('C.2.2 literal header field without indexing', () => {
    const d = new HpackDecoder();
    expect(d.decode(bytes('040c2f73616d706c652f70617468'))).toEqual([[':path', '/sample/path']]);
    expect(d.tableEntries()).toEqual([]);
    expect(d.tableSize).toBe(0);
  });

  it('C.2.3 literal header field never indexed', () => {
    const d = new HpackDecoder();
    expect(d.decode(bytes('100870617373776f726406736563726574'))).toEqual([['password', 'secret']]);
    expect(d.tableEntries()).toEqual([]);
  });

  it('C.2.4 indexed header field', () => {
    const d = new HpackDecoder();
    expect(d.decode(bytes('82'))).toEqual([[':method', 'GET']]);
    expect(d.tableSize).toBe(0);
  });

  const request1: HeaderField[] = [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ];
  const request2: HeaderField[] = [...request1, ['cache-control', 'no-cache']];
  const request3: HeaderField[] = [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ];
  const requestTables: [HeaderField[], number][] = [
    [[[':authority', 'www.example.com']], 57],
    [[['cache-control', 'no-cache'], [':authority', 'www.example.com']], 110],
    [[['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']], 164],
  ];
  const requestSteps = (blocks: string[]): Step[] =>
    blocks.map((block, i) => ({ block, headers: [request1, request2, request3][i]!, table: requestTables[i]![0], size: requestTables[i]![1] }));

  const response1: HeaderField[] = [
    [':status', '302'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['location', 'https://www.example.com'],
  ];
  const response2: HeaderField[] = [[':status', '307'], ...response1.slice(1)];
  const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
  const response3: HeaderField[] = [
    [':status', '200'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
    ['location', 'https://www.example.com'],
    ['content-encoding', 'gzip'],
    ['set-cookie', cookie],
  ];
  const responseTables: [HeaderField[], number][] = [
    [[['location', 'https://www.example.com'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['cache-control', 'private'], [':status', '302']], 222],
    [[[':status', '307'], ['location', 'https://www.example.com'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['cache-control', 'private']], 222],
    [[['set-cookie', cookie], ['content-encoding', 'gzip'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT']], 215],
  ];
  const responseSteps = (blocks: string[]): Step[] =>
    blocks.map((block, i) => ({ block, headers: [response1, response2, response3][i]!, table: responseTables[i]![0], size: responseTables[i]![1] }));

  const sequences: [string, number, Step[]][] = [
    [
      'C.3 requests without Huffman',
      4096,
      requestSteps([
        '828684410f7777772e6578616d706c652e636f6d',
        '828684be58086e6f2d6361636865',
        '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
      ]),
    ],
    [
      'C.4 requests with Huffman',
      4096,
      requestSteps(['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf']),
    ],
    [
      'C.5 responses without Huffman (table limit 256: evictions)',
      256,
      responseSteps([
        '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
        '4803333037c1c0bf',
        '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
      ]),
    ],
    [
      'C.6 responses with Huffman (table limit 256: evictions)',
      256,
      responseSteps([
        '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
        '4883640effc1c0bf',
        '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
      ]),
    ],
  ];

  it.each(sequences)('%s: header lists and dynamic table after each block', (_name, tableSizeLimit, steps) => {
    const d = new HpackDecoder({ tableSizeLimit });
    for (const step of steps) {
      expect(d.decode(bytes(step.block))).toEqual(step.headers);
      expect(d.tableEntries()).toEqual(step.table);
      expect(d.tableSize).toBe(step.size);
    }
  });
});

describe('HpackDecoder: integers', () => {
  it('decodes a multi-byte integer (C.1.2: 1337 on a 5-bit prefix) as a table size update', () => {
    const d = new HpackDecoder();
    expect(d.decode(bytes('3f9a0a'))).toEqual([]);
    expect(d.maxTableSize).toBe(1337);
  });

  it('accepts 2^31 - 1 and refuses anything larger', () => {
    // Index 127 + 0x7fffff80 = 2^31 - 1: a valid integer, an out-of-range index.
    expect(decodeError(new HpackDecoder(), [0xff, 0x80, 0xff, 0xff, 0xff, 0x07])).toBe('index 2147483647 beyond the tables (61 static + 0 dynamic)');
    expect(decodeError(new HpackDecoder(), [0xff, 0x81, 0xff, 0xff, 0xff, 0x07])).toBe('integer larger than 2^31 - 1');
    expect(decodeError(new HpackDecoder(), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).toBe('integer larger than 2^31 - 1');
  });

  it('refuses over-long zero continuation bytes and integers cut off by the end of the block', () => {
    expect(decodeError(new HpackDecoder(), [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])).toBe('integer longer than 5 continuation bytes');
    expect(decodeError(new HpackDecoder(), [0xff, 0x80])).toBe('header block ends inside an integer');
    expect(decodeError(new HpackDecoder(), [0x0f])).toBe('header block ends inside an integer');
  });
});

describe('HpackDecoder: table rules and bounds', () => {
  it('refuses index 0 and indexes past the dynamic table', () => {
    expect(decodeError(new HpackDecoder(), [0x80])).toBe('index 0');
    expect(decodeError(new HpackDecoder(), [0xbe])).toBe('index 62 beyond the tables (61 static + 0 dynamic)');
    const d = new HpackDecoder();
    d.decode(Uint8Array.from(literalIndexed('a', 'b')));
    expect(d.decode(Uint8Array.of(0xbe))).toEqual([['a', 'b']]);
    expect(decodeError(d, [0xbf])).toBe('index 63 beyond the tables (61 static + 1 dynamic)');
  });

  it('keeps entries in order while the ring grows, wraps and evicts (checked against a plain model)', () => {
    const d = new HpackDecoder({ tableSizeLimit: 1000 });
    const model: HeaderField[] = [];
    let modelSize = 0;
    for (let i = 0; i < 200; i++) {
      const field: HeaderField = [`name-${i % 7}`, 'v'.repeat((i * 13) % 40)];
      expect(d.decode(Uint8Array.from(literalIndexed(...field)))).toEqual([field]);
      model.unshift(field);
      modelSize += field[0].length + field[1].length + 32;
      while (modelSize > 1000) {
        const [n, v] = model.pop()!;
        modelSize -= n.length + v.length + 32;
      }
      expect(d.tableEntries()).toEqual(model);
      expect(d.tableSize).toBe(modelSize);
      // Every dynamic index resolves to the model's entry.
      const all = Uint8Array.from(model.map((_, k) => 0x80 | Math.min(62 + k, 127)).slice(0, 60));
      expect(d.decode(all)).toEqual(model.slice(0, 60));
    }
  });

  it('empties the table for an entry larger than the table, and on a size update to 0', () => {
    const d = new HpackDecoder({ tableSizeLimit: 100 });
    d.decode(Uint8Array.from(literalIndexed('a', 'b')));
    expect(d.tableSize).toBe(34);
    d.decode(Uint8Array.from(literalIndexed('big', 'x'.repeat(70))));
    expect(d.tableEntries()).toEqual([]);
    expect(d.tableSize).toBe(0);
    d.decode(Uint8Array.from([...literalIndexed('a', 'b'), ...literalIndexed('c', 'd')]));
    expect(d.tableSize).toBe(68);
    expect(d.decode(Uint8Array.of(0x20))).toEqual([]);
    expect(d.tableEntries()).toEqual([]);
    expect(d.maxTableSize).toBe(0);
  });

  it('refuses a size update above SETTINGS_HEADER_TABLE_SIZE or after a header field', () => {
    expect(decodeError(new HpackDecoder(), [0x3f, 0xe2, 0x1f])).toBe('dynamic table size update to 4097 exceeds SETTINGS_HEADER_TABLE_SIZE 4096');
    expect(new HpackDecoder().decode(Uint8Array.of(0x3f, 0xe1, 0x1f, 0x20, 0x82))).toEqual([[':method', 'GET']]);
    expect(decodeError(new HpackDecoder(), [0x82, 0x20])).toBe('dynamic table size update after a header field');
  });

  it('requires a size update once the limit drops below the table size, and evicts on it', () => {
    const d = new HpackDecoder();
    d.decode(Uint8Array.from([...literalIndexed('a', 'b'), ...literalIndexed('c', 'd')]));
    d.setTableSizeLimit(4096);
    expect(d.decode(Uint8Array.of(0xbe))).toEqual([['c', 'd']]);
    d.setTableSizeLimit(40);
    expect(decodeError(d, [0xbe])).toBe(
      'header block does not start with the dynamic table size update required by SETTINGS_HEADER_TABLE_SIZE 40',
    );
    expect(decodeError(d, [0x3f, 0x0a])).toBe('dynamic table size update to 41 exceeds SETTINGS_HEADER_TABLE_SIZE 40');
    expect(d.decode(Uint8Array.of(0x3f, 0x09, 0xbe))).toEqual([['c', 'd']]);
    expect(d.tableEntries()).toEqual([['c', 'd']]);
    expect(d.maxTableSize).toBe(40);
    expect(d.decode(Uint8Array.of(0xbe))).toEqual([['c', 'd']]);
  });

  it('stops a header bomb at the header list cap without building the list', () => {
    const d = new HpackDecoder();
    d.decode(Uint8Array.from([0x40, 1, 0x78, 0x7f, 0xa1, 0x1e, ...new Uint8Array(4000).fill(0x61)]));
    expect(d.tableSize).toBe(4033);
    // Each 1-byte reference expands to a 4 KiB field: 17 of them pass 64 KiB.
    expect(decodeError(d, new Array(10000).fill(0xbe))).toBe(`header list larger than ${DEFAULT_MAX_HEADER_LIST_SIZE} bytes`);
    const small = new HpackDecoder({ maxHeaderListSize: 100 });
    expect(small.decode(Uint8Array.of(0x82, 0x82))).toEqual([[':method', 'GET'], [':method', 'GET']]);
    expect(decodeError(small, [0x82, 0x82, 0x82])).toBe('header list larger than 100 bytes');
  });

  it('refuses strings longer than the block or the cap, and bad Huffman strings', () => {
    expect(decodeError(new HpackDecoder(), [0x00, 0x05, 0x61, 0x62])).toBe('string of 5 bytes runs past the end of the block');
    expect(decodeError(new HpackDecoder(), [0x00])).toBe('header block ends before a string');
    const small = new HpackDecoder({ maxHeaderListSize: 10 });
    expect(decodeError(small, [0x00, 0x0b, ...new Uint8Array(11).fill(0x61), 0x00])).toBe('string of 11 bytes exceeds the header list cap');
    expect(decodeError(new HpackDecoder(), [0x00, 0x81, 0xff, 0x00])).toBe('Huffman padding longer than 7 bits or not all ones');
    expect(decodeError(new HpackDecoder(), [0x00, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00])).toBe('Huffman string contains EOS');
  });

  it('keeps octets exactly (Latin-1 strings), including bytes above 0x7f', () => {
    const value = String.fromCharCode(0xe9, 0x80, 0xff, 0x00);
    const d = new HpackDecoder();
    expect(d.decode(Uint8Array.from(literalIndexed('x-bin', value)))).toEqual([['x-bin', value]]);
    expect(d.tableSize).toBe(5 + 4 + 32);
  });
});

describe('HpackEncoder', () => {
  const fields: HeaderField[] = [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/api/v1/namespaces/default/pods/web-0'],
    [':authority', '10.0.0.1:6443'],
    ['accept', 'application/json, */*'],
    ['user-agent', 'kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd'],
    ['x-custom', String.fromCharCode(0, 0xff, 0x7f)],
    ['accept-encoding', 'gzip, deflate'],
  ];

  it('indexes whole static matches and writes the rest as literals without indexing', () => {
    expect(hex(new HpackEncoder().encode([[':method', 'GET'], [':path', '/'], ['accept-encoding', 'gzip, deflate']]))).toBe('828490');
    // C.2.2's bytes: literal without indexing, static name :path.
    expect(hex(new HpackEncoder().encode([[':path', '/sample/path']]))).toBe('040c2f73616d706c652f70617468');
    expect(hex(new HpackEncoder().encode([['custom-key', 'custom-header']]))).toBe('000a637573746f6d2d6b65790d637573746f6d2d686561646572');
    expect(hex(new HpackEncoder({ huffman: true }).encode([[':authority', 'www.example.com']]))).toBe('018cf1e3c2e5f23a6ba0ab90f4ff');
  });

  it('writes a table size update first (C.1.2 integer)', () => {
    expect(hex(new HpackEncoder().encode([], 1337))).toBe('3f9a0a');
    expect(hex(new HpackEncoder().encode([[':method', 'GET']], 0))).toBe('2082');
  });

  it.each([false, true])('round-trips through the decoder (huffman %s) without touching its table', (huffman) => {
    const d = new HpackDecoder();
    const block = new HpackEncoder({ huffman }).encode(fields);
    expect(d.decode(block)).toEqual(fields);
    expect(d.tableSize).toBe(0);
    const long: HeaderField[] = [['x-long', 'k'.repeat(300)]];
    expect(d.decode(new HpackEncoder({ huffman }).encode(long))).toEqual(long);
  });
});
