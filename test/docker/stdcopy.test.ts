/** moby's stdcopy framing: demultiplexed whatever the piece boundaries, bounded on hostile sizes. */
import { encodeStdcopyFrame, looksMultiplexed, StdcopyDecoder, type StdcopyStream } from '../../src/docker/stdcopy.js';
import type { FrameOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';

const ascii = (s: string) => new TextEncoder().encode(s);

function decode(bytes: Uint8Array, cut: number) {
  const out = new Map<StdcopyStream, string>();
  const frames: { stream: StdcopyStream; frame: FrameOrigin }[] = [];
  const problems: Problem[] = [];
  let open = 0;
  const d = new StdcopyDecoder(
    {
      onPayload(stream, piece, frame, first, last) {
        if (first) open++;
        out.set(stream, (out.get(stream) ?? '') + Buffer.from(piece).toString('latin1'));
        if (last) {
          open--;
          frames.push({ stream, frame });
        }
      },
      onProblem: (p) => problems.push(p),
    },
    'test',
  );
  for (let at = 0; at < bytes.length; at += cut) d.push(bytes.subarray(at, at + cut), { offset: at, length: Math.min(cut, bytes.length - at), packet: at + 1, ts: at * 10 });
  d.end();
  return { out, frames, problems, open };
}

describe('StdcopyDecoder', () => {
  const wire = Buffer.concat([
    encodeStdcopyFrame('stdout', ascii('hello\n')),
    encodeStdcopyFrame('stderr', ascii('oops\n')),
    encodeStdcopyFrame('stdout', new Uint8Array(0)),
    encodeStdcopyFrame('systemerr', ascii('exec failed')),
    encodeStdcopyFrame('stdout', ascii('x'.repeat(70000))),
  ]);

  it.each([1, 3, 7, 8, 9, 1448, wire.length])('demultiplexes in %i-byte pieces', (cut) => {
    const { out, frames, problems, open } = decode(wire, cut);
    expect(problems).toEqual([]);
    expect(open).toBe(0);
    expect(out.get('stdout')).toBe('hello\n' + 'x'.repeat(70000));
    expect(out.get('stderr')).toBe('oops\n');
    expect(out.get('systemerr')).toBe('exec failed');
    expect(frames.map((f) => [f.stream, f.frame.offset, f.frame.length])).toEqual([
      ['stdout', 0, 14],
      ['stderr', 14, 13],
      ['stdout', 27, 8],
      ['systemerr', 35, 19],
      ['stdout', 54, 70008],
    ]);
    // The last frame completes with the piece holding its last byte.
    expect(frames[4].frame.lastPacket).toBe(Math.floor((wire.length - 1) / cut) * cut + 1);
  });

  it('stops at an unknown stream type with one problem, keeping what came before', () => {
    const bad = Buffer.concat([encodeStdcopyFrame('stdout', ascii('ok')), ascii('\u001b[1;34mbin\u001b[m')]);
    const { out, problems } = decode(bad, 5);
    expect(out.get('stdout')).toBe('ok');
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/unknown stream type 27/);
  });

  it('does not buffer a hostile 4 GiB size, and says where the stream ended inside the frame', () => {
    const huge = new Uint8Array([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x61, 0x62]);
    const { out, problems } = decode(huge, 4);
    expect(out.get('stdout')).toBe('ab');
    expect(problems[0].message).toMatch(/ends inside a stdout frame 4294967293 bytes short/);
  });

  it('tells stdcopy headers from a TTY stream', () => {
    expect(looksMultiplexed(encodeStdcopyFrame('stderr', ascii('x')))).toBe(true);
    expect(looksMultiplexed(ascii('/ # '))).toBe(false);
    expect(looksMultiplexed(new Uint8Array([1, 0, 0]))).toBe(false);
  });
});
