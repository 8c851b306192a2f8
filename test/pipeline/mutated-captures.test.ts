/**
 * Hostile input end to end: real recordings (the shared captures, the lab's port-forward and fault
 * recordings) with bytes flipped, runs zeroed and the file cut, through the whole pipeline and every
 * front end that reads the model — JSON, text, the hang doctor, cross-hop links. Whatever the damage:
 * no exception, decoding stops at worst with a clear fatal error, and the reports still come out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { diagnose } from '../../src/diagnose/diagnose.js';
import { hopChain } from '../../src/model/cross-hop.js';
import { jsonReport } from '../../src/report/json-report.js';
import { textReport } from '../../src/report/text-report.js';
import { analyzeBytes } from '../helpers/synthetic-capture.js';
import { randomFromSeed } from '../kit/random.js';

const fixtures = join(process.cwd(), 'fixtures');
const CAPTURES = ['ws-echo.pcap', 'spdy-stdin-pcapng.pcapng', 'tls-ws-keylog.pcap', 'lab/lab-ws-portforward.pcapng', 'lab/lab-fault-no-pings.pcapng', 'lab/lab-fault-refuse-websocket.pcapng'];

function load(name: string): Buffer {
  const bytes = readFileSync(join(fixtures, name));
  return name.endsWith('.gz') ? gunzipSync(bytes) : bytes;
}

test.each(CAPTURES)('%s: flipped bytes, zeroed runs and cuts never throw', (name) => {
  const original = load(name);
  const random = randomFromSeed(original.length);
  const rand = (n: number) => Math.floor(random() * n);
  for (let round = 0; round < Number(process.env.MUTATION_ROUNDS ?? 30); round++) {
    const bytes = Buffer.from(original);
    const damage = round % 3;
    if (damage === 0) for (let k = 0; k < 1 + round; k++) bytes[rand(bytes.length)] ^= 1 << rand(8);
    if (damage === 1) bytes.fill(0, rand(bytes.length), rand(bytes.length));
    const cut = damage === 2 ? bytes.subarray(0, rand(bytes.length)) : bytes;
    const model = analyzeBytes(cut);
    expect(() => {
      jsonReport(model, { hash: false });
      textReport(model, { connections: true, name });
      for (const s of model.sessions) {
        diagnose(s, model.sessions);
        hopChain(model.sessions, s);
      }
    }).not.toThrow();
    if (model.fatal) expect(model.fatal.message).toMatch(/^(capture truncated|corrupt capture|not a pcap)/);
  }
});
