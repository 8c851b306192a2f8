#!/usr/bin/env node
// Builds fixtures/demo.pcapng (what `npm start` opens) and fixtures/hostile-escapes.pcap:
// every real kubectl capture in fixtures/, each on its own pcapng interface named after it, followed
// by a few synthetic sessions showing what the real ones don't (a hang with stdin never closed, a
// WebSocket upgrade refused and retried over SPDY, stdout full of terminal escape sequences).
// Run after `npm run build`: node scripts/make-demo.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureDecoder } from '../dist/capture/capture-decoder.js';
import { PcapngWriter } from '../dist/capture/pcapng-writer.js';
import { PcapWriter } from '../dist/capture/pcap-writer.js';
import { ExecConversation } from '../dist/synth/exec-conversation.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const REAL = ['spdy-echo.pcap', 'ws-echo.pcap', 'ws-stdin-cat.pcap', 'spdy-exit-code.pcap', 'ws-tty-resize.pcap', 'tls-ws-dsb.pcapng', 'spdy-stdin-pcapng.pcapng'];
const text = (s) => new TextEncoder().encode(s);

function readPackets(file) {
  const packets = [];
  const secrets = [];
  let origin = 0n;
  const d = new CaptureDecoder({
    onInfo: (i) => (origin = i.originNs ?? 0n),
    onPacket: (p) => packets.push({ ts: origin + BigInt(p.ts), data: p.data.slice(), origLen: p.origLen }),
    onSecrets: (type, data) => secrets.push({ type, data: data.slice() }),
  });
  d.push(readFileSync(join(fixtures, file)));
  d.end();
  return { packets, secrets };
}

/** Synthetic sessions, one Ethernet frame per entry, 2 ms apart from `start`. */
function synthetic(start) {
  const frames = [];
  const hang = new ExecConversation({ transport: 'spdy', pod: 'batch-7', command: ['sort'], stdin: true, tty: false }, 45100, 6443, 1448);
  frames.push(...hang.open(), ...hang.write('stdin', text('pear\napple\n')), ...hang.ping(1), ...hang.ping(3));
  const refused = new ExecConversation({ transport: 'websocket', pod: 'web-1', command: ['date'], stdin: false, tty: false }, 45101, 6443, 1448);
  frames.push(...refused.refused(403, 'Forbidden', 'websocket upgrade refused by the corporate proxy'));
  const retry = new ExecConversation({ transport: 'spdy', pod: 'web-1', command: ['date'], stdin: false, tty: false }, 45102, 6443, 1448);
  frames.push(...retry.open(), ...retry.write('stdout', text('Sun Nov 22 01:43:40 UTC 2026\n')), ...retry.finish());
  frames.push(...hostileSession(45103));
  return frames.map((data, i) => ({ ts: start + BigInt(i) * 2_000_000n, data, origLen: data.length }));
}

function hostileSession(port) {
  const c = new ExecConversation({ transport: 'websocket', pod: 'evil-0', command: ['cat', 'motd'], stdin: false, tty: false }, port, 6443, 1448);
  const payload = text(
    'welcome\x1b[2J\x1b[H\x1b]0;pwned title\x07\x1b[31mred?\x1b[0m\r\nline two\x1b[10;10Hmoved\x1b[?1049h\x9b2J\x1bP+q\x1b\\\x07bell\n',
  );
  return [...c.open(), ...c.write('stdout', payload), ...c.finish()];
}

const demo = new PcapngWriter();
const parts = [demo.sectionHeader()];
const all = [];
REAL.forEach((file, id) => {
  parts.push(demo.interface(1, { name: `${file} (real kubectl v1.32.4, loopback)`, tsresol: 9 }));
  const { packets, secrets } = readPackets(file);
  for (const s of secrets) parts.push(demo.decryptionSecrets(s.type, s.data));
  for (const p of packets) all.push({ ...p, id });
});
const last = all.reduce((t, p) => (p.ts > t ? p.ts : t), 0n);
parts.push(demo.interface(1, { name: 'synthetic: hang, refused upgrade with SPDY fallback, hostile stdout', tsresol: 9 }));
for (const p of synthetic(last + 5_000_000_000n)) all.push({ ...p, id: REAL.length });
all.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
for (const p of all) parts.push(demo.enhancedPacket(p.id, p.ts, p.data, p.origLen));
writeFileSync(join(fixtures, 'demo.pcapng'), Buffer.concat(parts));

const w = new PcapWriter();
const hostile = [w.header(1)];
hostileSession(45200).forEach((f, i) => hostile.push(w.packet(1_795_000_000_000_000_000n + BigInt(i) * 1_000_000n, f)));
writeFileSync(join(fixtures, 'hostile-escapes.pcap'), Buffer.concat(hostile));
console.log(`wrote fixtures/demo.pcapng (${all.length} packets) and fixtures/hostile-escapes.pcap`);
