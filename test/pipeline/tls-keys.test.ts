/**
 * TLS hops decrypted end to end: the real kubectl TLS 1.3 capture with its key log given on the
 * command line, embedded as a pcapng Decryption Secrets Block before the traffic (as editcap
 * writes it) or after it, and without keys.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { packetBytes } from '../../src/capture/packet.js';
import { tempDirForTests } from '../kit/temp-dir.js';
import { keysReport } from '../../src/report/text-report.js';

const fixtures = join(process.cwd(), 'fixtures');
const keylog = readFileSync(join(fixtures, 'tls-ws-keylog.keylog'));
const truth = JSON.parse(readFileSync(join(fixtures, 'tls-ws-keylog.truth.json'), 'utf8')).sessions[0];
const TLSK = 0x544c534b;
const tmp = tempDirForTests('execscope-dsb-');

/** The pcap's packets as a pcapng, with the key log as a DSB before or after them. */
function asPcapng(dsb: 'first' | 'last'): string {
  const w = new PcapngWriter();
  const parts = [w.sectionHeader(), w.interface(1, { tsresol: 9 })];
  if (dsb === 'first') parts.push(w.decryptionSecrets(TLSK, keylog));
  let origin = 0n;
  const d = new CaptureDecoder({ onInfo: (i) => (origin = i.originNs ?? 0n), onPacket: (p) => parts.push(w.enhancedPacket(0, origin + BigInt(p.ts), packetBytes(p))) });
  d.push(readFileSync(join(fixtures, 'tls-ws-keylog.pcap')));
  d.end();
  if (dsb === 'last') parts.push(w.decryptionSecrets(TLSK, keylog));
  const path = join(tmp, `dsb-${dsb}.pcapng`);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

async function decode(path: string, keyLogs: { text: string; source: string }[] = []) {
  return analyzeCapture(path, analyzeOptions({ hash: true, hasher: new InlineStreamHasher(), keyLogs }));
}

function expectDecrypted(model: Awaited<ReturnType<typeof decode>>) {
  expect(model.sessions).toHaveLength(1);
  const s = model.sessions[0];
  expect(s).toMatchObject({ transport: 'websocket', protocol: 'v5.channel.k8s.io', command: truth.command, state: 'complete', exit: { status: 'Success', code: 0 } });
  expect(s.streams.find((r) => r.name === 'stdout')).toMatchObject({ bytes: truth.stdout_bytes.length, sha256: truth.stdout_bytes.sha256 });
  const h2 = model.connections.find((c) => c.protocol === 'http2');
  expect(h2?.tls).toMatchObject({ version: 'TLS 1.3', alpn: 'h2', keysFound: true });
  expect(h2?.requests.map((r) => `${r.method} ${r.target} ${r.status}`)).toEqual([
    'GET /version?timeout=5s 200', 'GET /api?timeout=32s 200', 'GET /apis?timeout=32s 200', 'GET /api/v1?timeout=32s 200', 'GET /api/v1/namespaces/default/pods/demo-0 200',
  ]);
}

test('--keylog decrypts both TLS connections', async () => {
  expectDecrypted(await decode(join(fixtures, 'tls-ws-keylog.pcap'), [{ text: keylog.toString(), source: 'tls-ws-keylog.keylog' }]));
});

test('a Decryption Secrets Block before the traffic', async () => {
  expectDecrypted(await decode(asPcapng('first')));
});

test('a Decryption Secrets Block after the traffic it decrypts (a second pass)', async () => {
  expectDecrypted(await decode(asPcapng('last')));
});

test('a Decryption Secrets Block after the traffic, piped: keys says the secrets came late and a file is read again, not to embed them', async () => {
  const path = asPcapng('last');
  const piped = await analyzeCapture({ name: '-', chunks: (async function* () { yield readFileSync(path); })() }, analyzeOptions({ keepEvents: false, headBytes: 0 }));
  expect(piped.capture.secretsCameLate).toBe(true);
  const report = keysReport(piped);
  expect(report).toContain('NO KEYS');
  expect(report).toContain("2 of 2 TLS connections have no keys: the capture's secrets block came after them, and a pipe is read once: give the capture as a file (read again with its secrets), or pass --keylog FILE\n");
  expect(report).not.toContain('editcap');
  // The same capture as a file: read again with its secrets, decrypted, no such note.
  const file = await analyzeCapture(path, analyzeOptions({ keepEvents: false, headBytes: 0 }));
  expect(file.capture.secretsCameLate).toBeUndefined();
  expect(keysReport(file)).not.toMatch(/NO KEYS|secrets block/);
});

test('without keys: no session, but each connection with version, cipher and a record timeline', async () => {
  const model = await decode(join(fixtures, 'tls-ws-keylog.pcap'));
  expect(model.sessions).toEqual([]);
  const tls = model.connections.filter((c) => c.tls);
  expect(tls).toHaveLength(2);
  for (const c of tls) {
    expect(c.tls).toMatchObject({ version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', keysFound: false });
    expect(c.tls?.records.some((r) => r.dir === 'c2s')).toBe(true);
    expect(c.tls?.records.some((r) => r.dir === 's2c')).toBe(true);
    expect(c.tls?.records.every((r) => !r.decrypted)).toBe(true);
  }
  expect(model.warnings.some((w) => /SSLKEYLOGFILE/.test(w.message))).toBe(true);
});

test('a key log for other connections: a clear warning, nothing decoded as garbage', async () => {
  const wrong = keylog.toString().replace(/[0-9a-f]{64}$/gm, (hex) => hex.replace(/^./, (c) => (c === '0' ? '1' : '0')));
  const model = await decode(join(fixtures, 'tls-ws-keylog.pcap'), [{ text: wrong, source: 'wrong.keylog' }]);
  expect(model.sessions).toEqual([]);
  expect(model.connections.filter((c) => c.protocol === 'http' || c.protocol === 'http2')).toEqual([]);
  expect(model.warnings.some((w) => /do not decrypt|wrong/.test(w.message))).toBe(true);
});
