/**
 * TCP sequence analysis (Wireshark's tcp.analysis flags) as typed problems on the segments: each
 * flag on hand-made segments, then per packet against tshark's own analysis of real captures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import { PacketDecoder } from '../../src/net/packet-decoder.js';
import { TcpReassembler } from '../../src/net/tcp-reassembly.js';
import type { TcpSegment } from '../../src/net/tcp.js';
import { SegmentMaker, TcpRecorder } from './tcp-recorder.js';

function setup(opts: ConstructorParameters<typeof TcpReassembler>[1] = {}) {
  const rec = new TcpRecorder();
  const tcp = new TcpReassembler(rec.sink, { analysisProblemsPerConnection: Infinity, ...opts });
  const m = new SegmentMaker();
  const push = (seg: TcpSegment) => tcp.push(seg);
  // Client ISN 1000, server ISN 5000.
  push(m.seg('c', 1000, '', 'S'));
  push(m.seg('s', 5000, '', 'SA', 1001));
  push(m.seg('c', 1001, '', 'A', 5001));
  const flags = () => rec.analysis.map((p) => `${p.code.slice('tcp.'.length)} #${p.packet}`);
  return { rec, tcp, m, push, flags };
}

describe('TCP analysis flags on hand-made segments', () => {
  it('a segment sent again long after is a retransmission; one that fills a hole at once is out of order', () => {
    const { m, push, flags } = setup();
    push(m.seg('c', 1001, 'hello', 'PA', 5001, { ts: 10e6 }));
    push(m.seg('c', 1001, 'hello', 'PA', 5001, { ts: 300e6 })); // #5: RTO later
    push(m.seg('c', 1011, 'world', 'PA', 5001, { ts: 301e6 })); // #6: bytes 5..9 missing
    push(m.seg('c', 1006, 'there', 'PA', 5001, { ts: 301.5e6 })); // #7: fills the hole 0.5 ms later
    expect(flags()).toEqual(['retransmission #5', 'previous-segment-not-captured #6', 'out-of-order #7']);
  });

  it('data the receiver already acknowledged is a spurious retransmission, and the ACK of bytes never seen is reported once', () => {
    const { m, push, flags, rec } = setup();
    push(m.seg('s', 5001, '', 'A', 1011)); // #4 acknowledges 10 bytes the capture has not shown
    push(m.seg('s', 5001, '', 'A', 1011)); // #5: same ACK, not reported again
    push(m.seg('c', 1001, 'helloworld', 'PA', 5001)); // #6: they come after their ACK
    expect(flags()).toEqual(['acked-unseen-segment #4', 'duplicate-ack #5', 'spurious-retransmission #6']);
    const unseen = rec.analysis.find((p) => p.code === 'tcp.acked-unseen-segment')!;
    expect(unseen).toMatchObject({ severity: 'warning', connection: 1, direction: 's2c', packet: 4, offset: 0 });
  });

  it("the sender's next bytes are flagged when they acknowledge peer bytes never seen, and only then", () => {
    // In-order data with an ACK takes analyzeSegment's short way unless one of its flags may apply.
    const { m, push, flags } = setup();
    push(m.seg('c', 1001, 'ls\n', 'PA', 5001)); // #4
    push(m.seg('s', 5001, 'ls\n', 'PA', 1004)); // #5: acknowledges #4
    push(m.seg('s', 5004, 'a b\n', 'PA', 1010)); // #6: 6 client bytes the capture has not shown
    push(m.seg('s', 5008, '$ ', 'PA', 1010)); // #7: the same unseen bytes, reported once
    expect(flags()).toEqual(['acked-unseen-segment #6']);
  });

  it('duplicate ACKs are counted and a retransmission right after the third is a fast retransmission', () => {
    const { m, push, flags } = setup();
    push(m.seg('c', 1001, 'aaaa', 'PA', 5001, { ts: 10e6 })); // #4
    push(m.seg('c', 1009, 'cccc', 'PA', 5001, { ts: 11e6 })); // #5: bbbb lost
    push(m.seg('s', 5001, '', 'A', 1005, { ts: 12e6 })); // #6
    push(m.seg('s', 5001, '', 'A', 1005, { ts: 13e6 })); // #7 dup 1
    push(m.seg('s', 5001, '', 'A', 1005, { ts: 14e6 })); // #8 dup 2
    push(m.seg('c', 1005, 'bbbb', 'PA', 5001, { ts: 15e6 })); // #9
    expect(flags()).toEqual(['previous-segment-not-captured #5', 'duplicate-ack #7', 'duplicate-ack #8', 'fast-retransmission #9']);
  });

  it('a zero window, and a segment that fills the advertised window', () => {
    const { m, push, flags, rec } = setup();
    push(m.seg('s', 5001, '', 'A', 1001, { window: 8 })); // #4: room for 8 bytes
    push(m.seg('c', 1001, 'abcdefgh', 'PA', 5001)); // #5 fills it
    push(m.seg('s', 5001, '', 'A', 1009, { window: 0 })); // #6 closes it
    expect(flags()).toEqual(['window-full #5', 'zero-window #6']);
    expect(rec.analysis.find((p) => p.code === 'tcp.zero-window')?.severity).toBe('warning');
  });

  it('the advertised window is scaled by the shift of its SYN, when both sides sent one', () => {
    const rec = new TcpRecorder();
    const tcp = new TcpReassembler(rec.sink, { analysisProblemsPerConnection: Infinity });
    const m = new SegmentMaker();
    tcp.push(m.seg('c', 1000, '', 'S', 0, { windowScale: 2 }));
    tcp.push(m.seg('s', 5000, '', 'SA', 1001, { windowScale: 3 }));
    tcp.push(m.seg('s', 5001, '', 'A', 1001, { window: 2 })); // #3: room for 2 << 3 = 16 bytes
    tcp.push(m.seg('c', 1001, 'abcdefgh', 'PA', 5001)); // #4: half of it
    tcp.push(m.seg('c', 1009, 'ijklmnop', 'PA', 5001)); // #5 fills it
    expect(rec.analysis.map((p) => `${p.code} #${p.packet}`)).toEqual(['tcp.window-full #5']);
  });

  it('a keep-alive and its answer are neither retransmission nor duplicate ACK', () => {
    const { m, push, flags } = setup();
    push(m.seg('c', 1001, 'x', 'PA', 5001, { ts: 1e6 }));
    push(m.seg('s', 5001, '', 'A', 1002, { ts: 2e6 }));
    push(m.seg('c', 1001, '', 'A', 5001, { ts: 5e9 })); // keep-alive: seq one before what was acknowledged
    push(m.seg('s', 5001, '', 'A', 1002, { ts: 5.1e9 }));
    expect(flags()).toEqual([]);
  });

  it('reports each flag a bounded number of times per connection', () => {
    const { m, push, rec } = setup({ analysisProblemsPerConnection: 3 });
    push(m.seg('c', 1001, 'a', 'PA', 5001));
    push(m.seg('s', 5001, '', 'A', 1002));
    for (let i = 0; i < 10; i++) push(m.seg('s', 5001, '', 'A', 1002));
    const dups = rec.analysis.filter((p) => p.code === 'tcp.duplicate-ack');
    expect(dups.map((p) => p.message)).toEqual(['duplicate ACK #1 of packet 5', 'duplicate ACK #2 of packet 5', 'duplicate ACK #3 of packet 5 (further duplicate-ack on connection 1 not listed)']);
  });
});

const TSHARK_FLAGS: [string, string][] = [
  ['tcp.analysis.spurious_retransmission', 'spurious-retransmission'],
  ['tcp.analysis.fast_retransmission', 'fast-retransmission'],
  ['tcp.analysis.retransmission', 'retransmission'],
  ['tcp.analysis.out_of_order', 'out-of-order'],
  ['tcp.analysis.lost_segment', 'previous-segment-not-captured'],
  ['tcp.analysis.ack_lost_segment', 'acked-unseen-segment'],
  ['tcp.analysis.duplicate_ack', 'duplicate-ack'],
  ['tcp.analysis.zero_window', 'zero-window'],
  ['tcp.analysis.window_full', 'window-full'],
];

/** Per packet, the flags tshark sets (a spurious or fast retransmission also carries the plain flag: only the specific one is kept). */
function tsharkFlags(path: string): string[] {
  const out = execFileSync('tshark', ['-r', path, '-Y', 'tcp.analysis.flags', '-T', 'fields', '-e', 'frame.number', ...TSHARK_FLAGS.flatMap(([f]) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 120_000,
  });
  return out
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      const [frame, ...values] = line.split('\t');
      const set = TSHARK_FLAGS.filter((_, i) => values[i]).map(([, name]) => name);
      const specific = set.filter((n) => n !== 'retransmission' || !set.some((m) => m.endsWith('-retransmission')));
      return specific.map((n) => `${n} #${frame}`);
    });
}

function ourFlags(path: string): string[] {
  const rec = new TcpRecorder();
  const tcp = new TcpReassembler(rec.sink, { analysisProblemsPerConnection: Infinity });
  const packets = new PacketDecoder({ onSegment: (seg) => tcp.push(seg) });
  const capture = new CaptureDecoder({ onPacket: (p) => packets.push(p) });
  capture.push(readFileSync(path));
  capture.end();
  tcp.end();
  const order = TSHARK_FLAGS.map(([, n]) => n);
  return rec.analysis
    .map((p) => ({ name: p.code.slice('tcp.'.length), packet: p.packet! }))
    .sort((a, b) => a.packet - b.packet || order.indexOf(a.name) - order.indexOf(b.name))
    .map((f) => `${f.name} #${f.packet}`);
}

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
const OUTSIDE = '../shared/outside-captures';
const captures = [
  ...['fixtures/ws-echo.pcap', 'fixtures/spdy-stdin-pcapng.pcapng', 'fixtures/tls-ws-keylog.pcap'],
  ...(existsSync(OUTSIDE) ? readdirSync(OUTSIDE, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).flatMap((d) => readdirSync(join(OUTSIDE, d)).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(OUTSIDE, d, f))) : []),
];

(hasTshark ? describe : describe.skip)('TCP analysis flags per packet, as tshark sets them', () => {
  it.each(captures)('%s', (path) => {
    const theirs = tsharkFlags(path).sort((a, b) => Number(a.split('#')[1]) - Number(b.split('#')[1]) || TSHARK_FLAGS.findIndex(([, n]) => a.startsWith(`${n} `)) - TSHARK_FLAGS.findIndex(([, n]) => b.startsWith(`${n} `)));
    expect(ourFlags(path)).toEqual(theirs);
  });
});
