import { readFileSync } from 'node:fs';
import type { StreamOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import { ResizeDecoder, type TerminalSize } from '../../src/k8s/resize.js';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What client-go's json.Encoder writes for TerminalSize{Width, Height}. */
const encodeSize = (width: number, height: number): string => `${JSON.stringify({ Width: width, Height: height })}\n`;

interface Run {
  sizes: [number, number, number][]; // width, height, packet of the completing piece
  problems: string[];
}

/** Feeds `stream` in the given pieces; piece i has packet number i + 1. */
function decode(stream: Uint8Array, cuts: number[] = []): Run {
  const run: Run = { sizes: [], problems: [] };
  const decoder = new ResizeDecoder({
    onResize: (size: TerminalSize, origin: StreamOrigin) => run.sizes.push([size.width, size.height, origin.packet]),
    onProblem: (p: Problem) => run.problems.push(`${p.where}: ${p.message}`),
  });
  const bounds = [0, ...cuts, stream.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = Uint8Array.from(stream.subarray(bounds[i], bounds[i + 1]));
    decoder.push(piece, { offset: bounds[i], length: piece.length, packet: i + 1, ts: i });
    piece.fill(0x7b); // the decoder must have copied what it keeps
  }
  decoder.end();
  return run;
}

describe('ResizeDecoder', () => {
  it('decodes json.Encoder output split at every byte, reporting the piece that completed each object', () => {
    const stream = enc(encodeSize(120, 40) + encodeSize(100, 30) + encodeSize(65535, 0));
    expect(decode(stream)).toEqual({ sizes: [[120, 40, 1], [100, 30, 1], [65535, 0, 1]], problems: [] });
    const end1 = encodeSize(120, 40).length - 2; // index of the first object's "}"
    for (let at = 1; at < stream.length; at++) {
      const run = decode(stream, [at]);
      expect(run.problems).toEqual([]);
      expect(run.sizes.map(([w, h]) => [w, h])).toEqual([[120, 40], [100, 30], [65535, 0]]);
      expect(run.sizes[0][2]).toBe(at <= end1 ? 2 : 1);
    }
  });

  it('decodes a stream fed a byte at a time', () => {
    // Piece i carries byte i and has packet i + 1: an object completes in the packet of its "}".
    const stream = enc(encodeSize(80, 24) + encodeSize(81, 25));
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(decode(stream, cuts)).toEqual({ sizes: [[80, 24, encodeSize(80, 24).length - 1], [81, 25, stream.length - 1]], problems: [] });
  });

  it('decodes the resize events of the real tty capture', () => {
    const truth = JSON.parse(readFileSync('fixtures/ws-tty-resize.truth.json', 'utf8'));
    const events = truth.sessions[0].resize_events as { width: number; height: number }[];
    expect(events.length).toBe(2);
    const stream = enc(events.map((e) => encodeSize(e.width, e.height)).join(''));
    expect(decode(stream).sizes.map(([w, h]) => ({ width: w, height: h }))).toEqual(events);
  });

  it('needs no newline, accepts whitespace and other key cases as Go’s decoder does', () => {
    expect(decode(enc('{"Width":1,"Height":2}{"width":3,"HEIGHT":4} \r\n\t{ "Height" : 6 , "Width" : 5, "Extra": {"a":"}"} }'))).toEqual({
      sizes: [[1, 2, 1], [3, 4, 1], [5, 6, 1]],
      problems: [],
    });
  });

  it('keeps braces and quotes inside strings out of the nesting', () => {
    expect(decode(enc('{"Note":"a \\"}\\" b {","Width":7,"Height":8}\n'))).toEqual({ sizes: [[7, 8, 1]], problems: [] });
  });

  it('reports values that are not uint16 and skips the object', () => {
    expect(decode(enc('{"Width":70000,"Height":1}\n{"Width":-1,"Height":1}\n{"Width":1.5,"Height":1}\n{"Width":"80","Height":1}\n{"Width":9,"Height":9}\n'))).toEqual({
      sizes: [[9, 9, 1]],
      problems: [
        'resize stream byte 0: resize Width 70000 is not a uint16 in "{\\"Width\\":70000,\\"Height\\":1}"',
        'resize stream byte 27: resize Width -1 is not a uint16 in "{\\"Width\\":-1,\\"Height\\":1}"',
        'resize stream byte 51: resize Width 1.5 is not a uint16 in "{\\"Width\\":1.5,\\"Height\\":1}"',
        'resize stream byte 76: resize Width "80" is not a uint16 in "{\\"Width\\":\\"80\\",\\"Height\\":1}"',
      ],
    });
  });

  it('reports missing fields but passes the size on as the server sees it', () => {
    expect(decode(enc('{"Width":10}\n{}\n'))).toEqual({
      sizes: [[10, 0, 1], [0, 0, 1]],
      problems: [
        'resize stream byte 0: resize object without Height (taken as 0): "{\\"Width\\":10}"',
        'resize stream byte 13: resize object without Width and Height (taken as 0): "{}"',
      ],
    });
  });

  it('reports malformed JSON and junk, then resynchronises', () => {
    expect(decode(enc('{"Width":1,,}\nhello\n[1]\n{"Width":2,"Height":3}\n'))).toEqual({
      sizes: [[2, 3, 1]],
      problems: [
        'resize stream byte 0: malformed resize object "{\\"Width\\":1,,}"',
        'resize stream byte 14: unexpected byte 0x68 where a resize object should start',
        'resize stream byte 20: unexpected byte 0x5b where a resize object should start',
      ],
    });
  });

  it('does not buffer an endless object, and recovers once it closes', () => {
    const huge = `{"Width":1,"Pad":"${'x'.repeat(100_000)}","Height":2}\n`;
    expect(decode(enc(`${huge}{"Width":3,"Height":4}`), [50_000])).toEqual({
      sizes: [[3, 4, 2]],
      problems: ['resize stream byte 0: resize object longer than 1024 bytes skipped'],
    });
  });

  it('reports an object cut off by the end of the stream', () => {
    expect(decode(enc('{"Width":1,"Hei'))).toEqual({ sizes: [], problems: ['resize stream byte 0: resize stream ended inside an object'] });
  });
});
