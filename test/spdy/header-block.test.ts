import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { constants as zlibConstants, deflateSync } from 'node:zlib';
import { Deflate, Z_NO_FLUSH, Z_SYNC_FLUSH } from 'pako';
import { SPDY3_DICTIONARY } from '../../src/spdy/dictionary.js';
import { SpdyHeaderDeflater, SpdyHeaderInflater, encodeNameValueBlock, parseNameValueBlock, type SpdyHeaderInput } from '../../src/spdy/header-block.js';
import { randomFromSeed } from '../kit/random.js';

/** A sender's zlib stream for raw (possibly malformed) name/value blocks. */
class RawCompressor {
  private readonly deflater = new Deflate({ level: 9, dictionary: SPDY3_DICTIONARY });
  private chunks: Uint8Array[] = [];
  constructor() {
    this.deflater.onData = (c) => this.chunks.push(c);
  }
  /** Compress `parts` as one block (pushed without flushing, then one sync flush). */
  block(...parts: Uint8Array[]): Uint8Array {
    parts.forEach((p, k) => this.deflater.push(p, k === parts.length - 1 ? Z_SYNC_FLUSH : Z_NO_FLUSH));
    const out = Buffer.concat(this.chunks);
    this.chunks = [];
    return new Uint8Array(out);
  }
}

function u32s(...words: number[]): Uint8Array {
  const b = Buffer.alloc(4 * words.length);
  words.forEach((w, k) => b.writeUInt32BE(w >>> 0, 4 * k));
  return new Uint8Array(b);
}

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
/** A raw block from [name, value] pairs with correct lengths. */
function raw(pairs: [string, string][], count = pairs.length): Uint8Array {
  return new Uint8Array(
    Buffer.concat([u32s(count), ...pairs.flatMap(([n, v]) => [u32s(Buffer.byteLength(n)), Buffer.from(n), u32s(Buffer.byteLength(v)), Buffer.from(v)])]),
  );
}

describe('SpdyHeaderDeflater / SpdyHeaderInflater', () => {
  test('round trip of several blocks through one context per direction', () => {
    const deflater = new SpdyHeaderDeflater();
    const inflater = new SpdyHeaderInflater();
    const inputs: SpdyHeaderInput[] = [
      { streamtype: 'error' },
      {},
      { StreamType: 'stdout', Port: ['8080', '9090'], empty: '' },
      { 'x-unicode': 'grüße ✓', streamtype: 'error' },
    ];
    const results = inputs.map((h) => inflater.inflate(deflater.deflate(h)));
    expect(results.map((r) => r.problem)).toEqual([null, null, null, null]);
    expect(results.map((r) => ({ ...r.headers }))).toEqual([
      { streamtype: ['error'] },
      {},
      { streamtype: ['stdout'], port: ['8080', '9090'], empty: [''] },
      { 'x-unicode': ['grüße ✓'], streamtype: ['error'] },
    ]);
  });

  test('blocks referring back across earlier blocks, past a full 32 KiB window, decode while the context is parked between them', () => {
    // The inflater keeps only its history between blocks; blocks that repeat values seen many blocks
    // earlier make the deflater reach back into it, random values make it emit dynamic Huffman blocks.
    const draw = randomFromSeed(7);
    const random = (n: number) => Math.floor(draw() * n);
    const values = Array.from({ length: 40 }, (_, i) => Array.from({ length: 20 + random(400) }, () => String.fromCharCode(33 + random(90))).join('') + i);
    const deflater = new SpdyHeaderDeflater();
    const inflater = new SpdyHeaderInflater();
    let inflated = 0;
    for (let block = 0; block < 400; block++) {
      const headers = { streamtype: 'stdout', [`x-${block % 7}`]: values[random(values.length)], 'x-fresh': values[block % values.length] + block };
      const r = inflater.inflate(deflater.deflate(headers));
      expect(r.problem).toBeNull();
      expect({ ...r.headers }).toEqual(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])));
      inflated += encodeNameValueBlock(headers).length;
    }
    expect(inflated).toBeGreaterThan(2 * 32 * 1024);
  });

  test('connections whose blocks interleave decode each with its own history, though they unpark into one another\'s window and tables', () => {
    // Every unpark takes the window and tables the previous park gave up, still holding that
    // connection's bytes: a wrong reach-back or a stale table entry would show as a wrong header.
    const draw = randomFromSeed(11);
    const random = (n: number) => Math.floor(draw() * n);
    const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(33 + random(90))).join('');
    const connections = Array.from({ length: 5 }, (_, c) => ({ deflater: new SpdyHeaderDeflater(), inflater: new SpdyHeaderInflater(), own: Array.from({ length: 3 }, () => text(10 + random(100)) + c) }));
    for (let block = 0; block < 300; block++) {
      const c = connections[random(connections.length)];
      // Its first block's values, repeated by every later one: the deflater reaches back into that history.
      const headers = { streamtype: 'stdout', 'x-own': c.own.join(','), 'x-fresh': text(random(200)) };
      const r = c.inflater.inflate(c.deflater.deflate(headers));
      expect(r.problem).toBeNull();
      expect({ ...r.headers }).toEqual(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])));
    }
  });

  test('directions sending the blocks another direction sent are answered from its decoding; one departing from them inflates its own context up to there', () => {
    // Every exec connection's SYN_STREAMs are the same blocks: the first direction's decoding answers
    // the others, which make no zlib context until a block of theirs is new.
    const opening: SpdyHeaderInput[] = [{ streamtype: 'error', 'x-shared-by-all': 'x'.repeat(40) }, { streamtype: 'stdout' }];
    const expected = (h: SpdyHeaderInput) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, typeof v === 'string' ? [v] : [...v]]));
    const directions = Array.from({ length: 4 }, () => ({ deflater: new SpdyHeaderDeflater(), inflater: new SpdyHeaderInflater() }));
    for (const headers of opening) {
      for (const d of directions) {
        const r = d.inflater.inflate(d.deflater.deflate(headers));
        expect(r.problem).toBeNull();
        expect({ ...r.headers }).toEqual(expected(headers));
        expect({ ...parseNameValueBlock(r.inflated!, r.inflated!.length).headers }).toEqual(expected(headers));
      }
    }
    // Then each its own block, reaching back into the history the shared ones wrote, interleaved
    // with the others' (they unpark into one another's window).
    for (let round = 0; round < 3; round++) {
      directions.forEach((d, i) => {
        const headers = { streamtype: 'stdout', 'x-shared-by-all': 'x'.repeat(40), own: `direction ${i} round ${round}` };
        const r = d.inflater.inflate(d.deflater.deflate(headers));
        expect(r.problem).toBeNull();
        expect({ ...r.headers }).toEqual(expected(headers));
      });
    }
  });

  test('a remembered block is refused by an inflater whose cap it exceeds, as if inflated; headers answered from memory are shared, frozen', () => {
    const block = new SpdyHeaderDeflater().deflate({ streamtype: 'stdout', big: 'y'.repeat(200) });
    const first = new SpdyHeaderInflater().inflate(block);
    expect(first.headers?.big).toEqual(['y'.repeat(200)]);
    const capped = new SpdyHeaderInflater({ maxInflatedBytes: 100 }).inflate(block);
    expect(capped.headers).toBeNull();
    expect(capped.problem).toMatch(/inflates to more than 100 bytes/);
    const again = new SpdyHeaderInflater().inflate(block);
    expect(new SpdyHeaderInflater().inflate(block).headers).toBe(again.headers);
    expect(() => (again.headers!.streamtype as string[]).push('changed')).toThrow(TypeError);
    expect(() => ((again.headers as Record<string, string[]>).streamtype = ['changed'])).toThrow(TypeError);
    expect(new SpdyHeaderInflater().inflate(block).headers?.streamtype).toEqual(['stdout']);
  });

  test('the stream starts with a zlib header naming the SPDY/3 dictionary, each block ends in a sync flush', () => {
    const deflater = new SpdyHeaderDeflater();
    const first = deflater.deflate({ streamtype: 'error' });
    const second = deflater.deflate({ streamtype: 'error' });
    expect([...first.subarray(0, 6)]).toEqual([0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2]);
    for (const b of [first, second]) expect([...b.subarray(-4)]).toEqual([0x00, 0x00, 0xff, 0xff]);
    expect(second[0]).not.toBe(0x78); // no second zlib header: one stream per direction
  });

  test('the second block needs the shared context: alone it fails, in sequence it decodes', () => {
    const deflater = new SpdyHeaderDeflater();
    const b1 = deflater.deflate({ streamtype: 'error' });
    const b2 = deflater.deflate({ streamtype: 'stdout' });
    const b3 = deflater.deflate({ streamtype: 'stderr' });

    const inSequence = new SpdyHeaderInflater();
    expect({ ...inSequence.inflate(b1).headers }).toEqual({ streamtype: ['error'] });
    expect({ ...inSequence.inflate(b2).headers }).toEqual({ streamtype: ['stdout'] });

    // Capture started mid-session: the first block this inflater sees is b2.
    const late = new SpdyHeaderInflater();
    const r2 = late.inflate(b2);
    expect(r2.headers).toBeNull();
    expect(r2.problem).toMatch(/^header block not decoded: zlib error \(incorrect header check\); the direction's first header block was probably not captured; headers of this direction are unavailable from here on$/);
    expect(late.available).toBe(false);
    // Reported once: later blocks are null without another problem.
    expect(late.inflate(b3)).toEqual({ headers: null, problem: null });
  });

  test('a block inflating past the cap stops there with a problem and bounded memory (zlib bomb)', () => {
    // count 1, name "a", a 16 MiB value of zeros: ~16 KiB compressed (native zlib builds it quickly).
    const bombSize = 16 * 1024 * 1024;
    const plain = Buffer.alloc(4 + 4 + 1 + 4 + bombSize);
    plain.writeUInt32BE(1, 0);
    plain.writeUInt32BE(1, 4);
    plain.write('a', 8);
    plain.writeUInt32BE(bombSize, 9);
    const bomb = new Uint8Array(deflateSync(plain, { level: 9, dictionary: Buffer.from(SPDY3_DICTIONARY), finishFlush: zlibConstants.Z_SYNC_FLUSH }));
    expect(bomb.length).toBeLessThan(bombSize / 500);

    const inflater = new SpdyHeaderInflater({ maxInflatedBytes: 256 * 1024 });
    const before = process.memoryUsage().arrayBuffers;
    const r = inflater.inflate(bomb);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(r).toEqual({
      headers: null,
      problem: 'header block not decoded: header block inflates to more than 262144 bytes (zlib bomb?); decompression stopped; headers of this direction are unavailable from here on',
    });
    expect(grown).toBeLessThan(4 * 1024 * 1024); // the 16 MiB output was never allocated
    expect(inflater.inflate(bomb)).toEqual({ headers: null, problem: null });
  });

  test('what the tree of decoded blocks keeps is bounded in bytes: distinct blocks that inflate large are decoded, not all remembered', async () => {
    // The tree outlives every connection. 200 directions each send two small blocks that inflate to
    // 100 KB (16 distinct first blocks, a distinct second block each): remembered, ~20 MB would stay.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // A collected ArrayBuffer is counted off when V8's sweeper frees it, on another thread and later
    // under load: collect until the count stops falling.
    const settledArrayBuffers = async () => {
      let bytes = Infinity;
      for (let round = 0; round < 100; round++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
        const now = process.memoryUsage().arrayBuffers;
        if (now >= bytes) return now;
        bytes = now;
      }
      return bytes;
    };
    const value = 'v'.repeat(100_000);
    const before = await settledArrayBuffers();
    for (let i = 0; i < 200; i++) {
      const deflater = new SpdyHeaderDeflater();
      const inflater = new SpdyHeaderInflater();
      for (const headers of [{ [`first-${i % 16}`]: value }, { [`second-${i}`]: value }]) {
        const block = deflater.deflate(headers);
        expect(block.length).toBeLessThanOrEqual(512); // small enough for the tree to take it
        const r = inflater.inflate(block);
        expect(r.problem).toBeNull();
        expect(r.headers?.[Object.keys(headers)[0]!]?.[0]?.length).toBe(value.length);
      }
    }
    expect((await settledArrayBuffers()) - before).toBeLessThan(4 * 1024 * 1024);
  });

  test('a corrupt block later in the stream is reported as corrupt', () => {
    const deflater = new SpdyHeaderDeflater();
    const inflater = new SpdyHeaderInflater();
    inflater.inflate(deflater.deflate({ streamtype: 'error' }));
    const r = inflater.inflate(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(r.headers).toBeNull();
    expect(r.problem).toMatch(/^header block not decoded: zlib error \(.+\); corrupt header block; headers of this direction/);
  });

  test('an inflater that failed hands its window and tables on: connections after it decode from their own history', () => {
    const deflater = new SpdyHeaderDeflater();
    const failed = new SpdyHeaderInflater();
    failed.inflate(deflater.deflate({ streamtype: 'stdout', 'x-history': 'a'.repeat(3000) }));
    expect(failed.inflate(new Uint8Array([0xff, 0xff, 0xff, 0xff])).headers).toBeNull();
    // The next two take the failed one's window in turn, first while fresh, then unparking.
    const after = [new SpdyHeaderDeflater(), new SpdyHeaderDeflater()].map((d) => ({ d, inflater: new SpdyHeaderInflater() }));
    for (let block = 0; block < 4; block++) {
      for (const [c, { d, inflater }] of after.entries()) {
        const headers = { streamtype: 'stdin', 'x-own': `${'b'.repeat(100 * (c + 1))}${block}` };
        const r = inflater.inflate(d.deflate(headers));
        expect(r.problem).toBeNull();
        expect({ ...r.headers }).toEqual({ streamtype: ['stdin'], 'x-own': [headers['x-own']] });
      }
    }
  });

  test('a first block that inflates to nothing leaves no window with the inflater, and the next block decodes', () => {
    const deflater = new SpdyHeaderDeflater();
    const block = deflater.deflate({ streamtype: 'error' });
    const inflater = new SpdyHeaderInflater();
    // Only the zlib header: no dictionary id yet, no output.
    expect(inflater.inflate(block.subarray(0, 2)).problem).toMatch(/too short/);
    const zlibState = (inflater as unknown as { strm: { state: { window: Uint8Array | null } } }).strm.state;
    expect(zlibState.window).toBeNull();
    expect({ ...inflater.inflate(block.subarray(2)).headers }).toEqual({ streamtype: ['error'] });
    expect(zlibState.window).toBeNull(); // parked again
  });

  test('a block just under the cap decodes', () => {
    const deflater = new SpdyHeaderDeflater();
    const value = 'v'.repeat(1000);
    const block = deflater.deflate({ big: value });
    const exact = 4 + 4 + 3 + 4 + 1000;
    expect(new SpdyHeaderInflater({ maxInflatedBytes: exact }).inflate(block).headers?.['big']).toEqual([value]);
    expect(new SpdyHeaderInflater({ maxInflatedBytes: exact - 1 }).inflate(block).headers).toBeNull();
  });

  test('a dictionary other than SPDY/3 is refused', () => {
    const other = new Deflate({ level: 9, dictionary: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    const parts: Uint8Array[] = [];
    other.onData = (c) => parts.push(c);
    other.push(raw([['a', 'b']]), Z_SYNC_FLUSH);
    const r = new SpdyHeaderInflater().inflate(new Uint8Array(Buffer.concat(parts)));
    expect(r.problem).toBe(
      'header block not decoded: the zlib stream asks for a dictionary other than the SPDY/3 one; headers of this direction are unavailable from here on',
    );
  });

  test('loseContext is reported with the next block only', () => {
    const deflater = new SpdyHeaderDeflater();
    const inflater = new SpdyHeaderInflater();
    inflater.inflate(deflater.deflate({ a: 'b' }));
    inflater.loseContext('a header block fell into a capture gap');
    inflater.loseContext('a second reason is not kept');
    expect(inflater.inflate(deflater.deflate({ c: 'd' })).problem).toBe(
      'header block not decoded: a header block fell into a capture gap; headers of this direction are unavailable from here on',
    );
    expect(inflater.inflate(deflater.deflate({ e: 'f' })).problem).toBeNull();
  });
});

describe('name/value blocks with hostile lengths', () => {
  const cases: [string, Uint8Array, string][] = [
    ['empty block', new Uint8Array(0), 'header block has 0 bytes, too short for a header count'],
    ['absurd count', u32s(0xffffffff), 'header block claims 4294967295 headers but its 4 bytes hold at most 0'],
    ['count beyond the bytes', new Uint8Array([...raw([['a', 'b']], 3)]), 'header block claims 3 headers but its 14 bytes hold at most 1'],
    ['absurd name length', new Uint8Array([...u32s(1, 0xffffffff), ...u32s(0)]), 'header 0: name length 4294967295 exceeds the 4 bytes left in the block'],
    ['value length past the end', new Uint8Array([...u32s(1, 1), ...ascii('a'), ...u32s(10), ...ascii('abc')]), 'header 0: value length 10 exceeds the 3 bytes left in the block'],
    ['block ends inside a header', new Uint8Array([...raw([['a', 'b'], ['c', 'd']]).subarray(0, 20)]), 'header block ends inside header 1 (no room for its value length)'],
  ];
  test.each(cases)('%s', (_name, block, problem) => {
    expect(parseNameValueBlock(block, block.length)).toEqual({ headers: null, problem });
    // The same block through zlib: rejected the same way, and the context survives for the next block.
    const c = new RawCompressor();
    const inflater = new SpdyHeaderInflater();
    expect(inflater.inflate(c.block(block))).toMatchObject({ headers: null, problem });
    expect({ ...inflater.inflate(c.block(raw([['next', 'ok']]))).headers }).toEqual({ next: ['ok'] });
  });

  test('upper-case and duplicate names and trailing bytes: headers kept, spdystream behaviour reported', () => {
    const block = new Uint8Array([...raw([['StreamType', 'error'], ['streamtype', 'x\0y']]), 0, 0]);
    const r = parseNameValueBlock(block, block.length);
    expect({ ...r.headers }).toEqual({ streamtype: ['error', 'x', 'y'] });
    expect(r.problem).toBe(
      'header name "StreamType" is not lower-case (spdystream fails the frame); header "streamtype" appears twice (spdystream fails the frame); 2 bytes follow the last header (spdystream would misread them as the next block)',
    );
  });

  test('many oddities are summarised, not listed one by one', () => {
    const pairs: [string, string][] = Array.from({ length: 50 }, () => ['A', '1']);
    const r = parseNameValueBlock(raw(pairs), raw(pairs).length);
    expect(r.headers?.['a']).toHaveLength(50);
    expect(r.problem).toMatch(/\(and 96 more\)$/);
  });

  test('names like __proto__ are plain keys', () => {
    const block = raw([['__proto__', 'x'], ['constructor', 'y']]);
    const r = parseNameValueBlock(block, block.length);
    expect(Object.keys(r.headers!)).toEqual(['__proto__', 'constructor']);
    expect(r.headers!['__proto__']).toEqual(['x']);
    expect(Object.getPrototypeOf(r.headers)).toBeNull();
  });

  test('encodeNameValueBlock lays out count, lengths, lower-case names and NUL-joined values', () => {
    expect([...encodeNameValueBlock({ A: ['1', '2'], b: '' })]).toEqual([
      ...u32s(2), ...u32s(1), ...ascii('a'), ...u32s(3), ...ascii('1\x002'), ...u32s(1), ...ascii('b'), ...u32s(0),
    ]);
  });
});
