import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTap, type TapEvent } from '../../src/tap/tap.js';
import { until } from '../kit/until.js';
import { exchange, sha256, startReplyServer } from './tap-test-kit.js';
import { seededBytes } from '../kit/random.js';

const CONNECTIONS = 200;
const ROUNDS = 3;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** What the server answers: the digest of what it read, then as many bytes as the seed says. */
function reply(received: Buffer): Buffer {
  const seed = received.length ? received[0] * 7919 + received.length : 1;
  return Buffer.concat([Buffer.from(sha256(received)), seededBytes(seed % 300_000, seed)]);
}

describe('execscope tap (unix sockets) under load', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tap-unix-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test(`${CONNECTIONS} concurrent connections, random sizes, half-closes: byte-exact, no fd or memory leak, tshark counts them`, async () => {
    const server = await startReplyServer({ path: join(dir, 'upstream.sock') }, reply);
    const events: TapEvent[] = [];
    const tap = await startTap({
      listen: `unix:${join(dir, 'tap.sock')}`,
      upstream: server.address,
      recordTo: join(dir, 'load.pcapng'),
      hopName: 'client→runtime socket',
      onEvent: (e) => events.push(e),
    });
    try {
      const heapAfterRound: number[] = [];
      const fdsBefore = openFds();
      for (let round = 0; round < ROUNDS; round++) {
        const sizes = Array.from({ length: CONNECTIONS }, (_, i) => (i * 2654435761 + round * 97) % 400_000);
        const sent = sizes.map((size, i) => seededBytes(size, round * CONNECTIONS + i + 1));
        const replies = await Promise.all(sent.map((bytes) => exchange({ path: join(dir, 'tap.sock') }, bytes)));
        replies.forEach((got, i) => expect(sha256(got)).toBe(sha256(reply(sent[i]))));
        await until(() => tap.activeConnections === 0 && server.sockets.size === 0, 'every connection closed');
        expect(openFds()).toBe(fdsBefore);
        expect(tap.bufferedBytes).toBe(0);
        gc();
        heapAfterRound.push(process.memoryUsage().heapUsed);
      }
      // A leak of anything per connection (buffers, listeners, recorder state) would grow the heap round by round.
      expect(heapAfterRound[ROUNDS - 1] - heapAfterRound[0]).toBeLessThan(8 << 20);
      expect(events.filter((e) => e.kind === 'close' && e.end === 'closed')).toHaveLength(CONNECTIONS * ROUNDS);
      expect(events.filter((e) => e.kind !== 'close' && e.kind !== 'open')).toEqual([]);
    } finally {
      await tap.stop();
      await server.close();
    }
    const recording = join(dir, 'load.pcapng');
    expect(statSync(recording).mode & 0o777).toBe(0o600);
    const conversations = execFileSync('tshark', ['-r', recording, '-q', '-z', 'conv,tcp'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
    expect(conversations.split('\n').filter((l) => l.includes('<->'))).toHaveLength(CONNECTIONS * ROUNDS);
    // TCP as tshark checks it: no lost or out-of-order segment, no unseen ACK, no retransmission.
    // (The payload is random bytes on the recorded port 80, so tshark's HTTP dissector complains about those.)
    const tcpProblems = execFileSync('tshark', ['-r', recording, '-Y', 'tcp.analysis.flags'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
    expect(tcpProblems).toBe('');
  }, 300_000);
});
