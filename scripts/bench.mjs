#!/usr/bin/env node
// npm run bench: execscope against the physical limit (reading the file) and against tshark, in one run.
//
// Captures (cached in bench-out/; delete it to regenerate):
//  - kubectl-ws-64k / kubectl-ws-1448: the real kubectl's WebSocket exec (`head -c … /dev/urandom`),
//    recorded by `execscope lab` at every hop, in 64 KiB loopback segments and in 1448-byte ones;
//  - synthetic-64k / synthetic-1448 (≥ 1 GB each, for scale and the TUI): WebSocket v5 and SPDY
//    sessions with large stdout, plus slow interactive shells with pings;
//  - typing: many small interactive sessions (one-byte stdin, short echoes): packets per second;
//  - connections: 200,000 short HTTP connections (probes, API calls) around a few exec sessions: memory;
//  - open-sessions-N: N (10,000) interactive shells open at once, each typed in once: memory.
// Each command runs BENCH_RUNS times (default 3) and the fastest run counts (the machine is shared:
// the other runs measure the neighbours); CPU time (user + sys) is shown beside wall time.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '../dist/capture/pcap-writer.js';
import { SyntheticTcpConnection } from '../dist/capture/synthetic-tcp.js';
import { ExecConversation } from '../dist/synth/exec-conversation.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.env.BENCH_OUT ?? join(root, 'bench-out');
const cli = join(root, 'dist', 'cli.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SYNTHETIC_BYTES = Number(process.env.BENCH_BYTES ?? 1.1e9);
const KUBECTL_STDOUT = Number(process.env.BENCH_KUBECTL_BYTES ?? 112 << 20);
// tshark runs past 5 minutes on 1448-byte segments; stopped after 2 it still proves the ratio ("> N×").
const TSHARK_TIMEOUT_S = Number(process.env.BENCH_TSHARK_TIMEOUT ?? 120);
const TYPING_SESSIONS = 2000;
const TYPING_KEYSTROKES = 400;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200_000);
const OPEN_SESSIONS = Number(process.env.BENCH_OPEN_SESSIONS ?? 10_000);

/** Buffered writer of a capture file (written under a temporary name, renamed when complete). */
class Sink {
  constructor(path) {
    this.path = path;
    this.fd = openSync(`${path}.part`, 'w');
    this.buf = Buffer.allocUnsafe(8 << 20);
    this.used = 0;
    this.bytes = 0;
  }
  write(bytes) {
    if (this.used + bytes.length > this.buf.length) this.flush();
    if (bytes.length > this.buf.length) writeSync(this.fd, bytes);
    else {
      this.buf.set(bytes, this.used);
      this.used += bytes.length;
    }
    this.bytes += bytes.length;
  }
  flush() {
    writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
  close() {
    this.flush();
    closeSync(this.fd);
    renameSync(`${this.path}.part`, this.path);
  }
}

/** A pcap of synthetic exec conversations: `emit` stamps and writes each conversation's frames. */
function pcapFile(path) {
  const cap = new Sink(path);
  const pcap = new PcapWriter();
  cap.write(pcap.header(1));
  let clock = 1_795_000_000_000_000_000n;
  const emit = (frames, gapNs = 5_000n) => {
    for (const f of frames) {
      clock += gapNs;
      cap.write(pcap.packet(clock, f));
    }
  };
  return { cap, emit };
}

function generateBulk(path, mss) {
  const MESSAGE = 32 << 10; // Go's io.Copy buffer: what the runtime writes per frame
  const BURST = 4; // frames sent together: segments fill to the MSS and frames straddle them
  const { cap, emit } = pcapFile(path);
  const noise = randomBytes(1 << 20);
  let port = 30000;
  let noiseAt = 0;
  const chunk = (n) => {
    if (noiseAt + n > noise.length) noiseAt = 0;
    const b = noise.subarray(noiseAt, noiseAt + n);
    noiseAt += 997;
    return b;
  };
  const start = (transport, command, stdin, tty) => {
    const c = new ExecConversation({ transport, pod: `web-${port % 50}`, command, stdin, tty }, port++, 6443, mss);
    emit(c.open());
    return c;
  };
  const shells = [0, 1, 2].map((i) => start(i % 2 ? 'spdy' : 'websocket', ['sh'], true, true));
  const bulk = [];
  let sessions = 0;
  let tick = 0;
  while (cap.bytes < SYNTHETIC_BYTES || bulk.length) {
    while (bulk.length < 16 && cap.bytes < SYNTHETIC_BYTES) {
      const transport = sessions++ % 2 ? 'spdy' : 'websocket';
      const withStdin = sessions % 4 === 0;
      const c = start(transport, withStdin ? ['sort'] : ['cat', '/var/log/app.log'], withStdin, false);
      if (withStdin) {
        for (let i = 0; i < 8; i++) emit(c.write('stdin', chunk(MESSAGE)));
        emit(c.closeStdin());
      }
      bulk.push({ c, left: 16 << 20 });
    }
    for (let i = bulk.length - 1; i >= 0; i--) {
      const b = bulk[i];
      if (b.left % (1 << 20) === 0) emit(b.c.write('stderr', chunk(100)));
      emit(b.c.write('stdout', ...Array.from({ length: BURST }, () => chunk(MESSAGE))));
      b.left -= BURST * MESSAGE;
      if (b.left <= 0) {
        emit(b.c.finish());
        bulk.splice(i, 1);
      }
    }
    if (++tick % 64 === 0) {
      const shell = shells[tick % shells.length];
      emit(shell.write('stdin', chunk(1)));
      emit(shell.write('stdout', chunk(1 + (tick % 80))));
      if (tick % 1024 === 0) emit(shell.ping(2 * tick + 1));
    }
  }
  for (const s of shells) {
    emit(s.closeStdin());
    emit(s.finish());
  }
  cap.close();
}

/**
 * Interactive typing in many sessions at once, all opened before the first keystroke and ended after
 * the last: every keystroke a packet, its echo another.
 */
function generateTyping(path, sessions = TYPING_SESSIONS, keystrokes = TYPING_KEYSTROKES) {
  const { cap, emit } = pcapFile(path);
  const key = Uint8Array.of(0x6c);
  const echo = new TextEncoder().encode('l');
  const shells = Array.from({ length: sessions }, (_, i) => {
    const c = new ExecConversation({ transport: i % 2 ? 'spdy' : 'websocket', pod: `web-${i % 50}`, command: ['sh'], stdin: true, tty: true }, 1024 + i, 6443, 1448);
    emit(c.open());
    return c;
  });
  for (let k = 0; k < keystrokes; k++) {
    for (const c of shells) {
      emit(c.write('stdin', key), 20_000n);
      emit(c.write('stdout', echo), 20_000n);
    }
  }
  for (const c of shells) {
    emit(c.closeStdin());
    emit(c.finish());
  }
  cap.close();
}

/** Short HTTP connections, a thousand open at any time, with an exec session every thousand. */
function generateConnections(path) {
  const { cap, emit } = pcapFile(path);
  const ascii = (text) => new TextEncoder().encode(text);
  const request = ascii('GET /healthz HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: kube-probe/1.32\r\n\r\n');
  const reply = ascii('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
  const open = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    // 250 client addresses × 1000 ports: tuples never repeat.
    const client = { ip: `10.1.${i % 250}.${1 + ((i / 250) % 250 | 0)}`, port: 20000 + Math.floor(i / 62500) * 1000 + (i % 1000) };
    const c = new SyntheticTcpConnection(client, { ip: '10.0.0.1', port: 8080 }, 1448);
    emit([...c.handshake(), ...c.send('c2s', request)]);
    open.push(c);
    if (open.length >= 1000) {
      const done = open.shift();
      emit([...done.send('s2c', reply), ...done.close()]);
    }
    if (i % 1000 === 0) {
      const x = new ExecConversation({ transport: 'websocket', pod: `job-${i}`, command: ['date'], stdin: false, tty: false }, 40000 + (i % 20000), 6443, 1448);
      emit([...x.open(), ...x.write('stdout', ascii('Tue Dec  2 08:00:00 UTC 2026\n')), ...x.finish()]);
    }
  }
  for (const c of open) emit([...c.send('s2c', reply), ...c.close()]);
  cap.close();
}

/** The real kubectl, through the lab, streaming `bytes` of random stdout over WebSocket. */
function recordKubectl(path, mss, bytes) {
  const dir = join(out, `.lab-${mss}`);
  const r = spawnSync(
    process.execPath,
    [cli, 'lab', '--plain', '--dir', dir, '--record-mss', String(mss), '--record', `${path}.part`, '--', 'sh', '-c', `kubectl exec lab-0 -- head -c ${bytes} /dev/urandom > /dev/null`],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`recording the real kubectl failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  renameSync(`${path}.part`, path);
}

function ensure(name, make) {
  const path = join(out, name);
  if (!existsSync(path)) {
    process.stderr.write(`making ${path} …\n`);
    make(path);
  }
  return path;
}

/**
 * Fastest of `runs` runs: wall and CPU seconds (each the least seen) and the largest peak RSS. The wall
 * time is taken here, to the microsecond (time(1)'s own start, ~1 ms, is in every command's alike):
 * GNU time gives whole hundredths, and 0.01 s is 8% of a 0.12 s read floor. CPU and RSS are GNU time's.
 */
function measure(argv, { runs = RUNS, env, timeoutS } = {}) {
  const seen = [];
  for (let i = 0; i < runs; i++) {
    // timeout(1) inside time(1): the command itself is stopped, and timed.
    const limited = timeoutS ? ['timeout', String(timeoutS), ...argv] : argv;
    const started = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', ...limited], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: env ?? process.env });
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    if (timeoutS && r.status === 124) return { timedOut: true, secs: timeoutS };
    if (r.status !== 0) {
      process.stderr.write(`  ${argv.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}\n`);
      return null;
    }
    const [user, sys, kb] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
    seen.push({ secs, cpu: user + sys, rssMb: kb / 1024 });
  }
  return { secs: Math.min(...seen.map((x) => x.secs)), cpu: Math.min(...seen.map((x) => x.cpu)), rssMb: Math.max(...seen.map((x) => x.rssMb)) };
}

function have(cmd, ...args) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

function ensureTshark() {
  if (have('tshark', '--version')) return true;
  process.stderr.write('tshark missing: installing it (apt-get install tshark)\n');
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  return spawnSync('apt-get', ['install', '-y', '-qq', 'tshark'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

/** The server port of the capture's WebSocket sessions, so tshark decodes it as HTTP and follows the upgrade. */
function webSocketPorts(file) {
  const r = spawnSync(process.execPath, [cli, 'analyze', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ports = new Set(JSON.parse(r.stdout).sessions.filter((s) => s.transport === 'websocket').map((s) => s.server.split(':').pop()));
  return [...ports];
}

/** Starting Node and reading the whole file with readSync into one reused 64 KiB buffer. */
const READ_FLOOR = `const fs = require('node:fs'); const fd = fs.openSync(process.argv[1], 'r'); const b = Buffer.allocUnsafe(65536); while (fs.readSync(fd, b, 0, 65536, null) > 0);`;

/**
 * The header-walk floor: READ_FLOOR's reads, plus what every analyzer of packets must do for each
 * one — walk the record, Ethernet, IPv4 and TCP headers, find the packet's half-connection in a map
 * (by sender, then receiver: two exact 48-bit keys) and check its sequence number; no reassembly and
 * no decoding above TCP. Little-endian classic pcap (typing.pcap) or pcapng (the kubectl captures),
 * Ethernet, IPv4. In a function: top-level `-e` code keeps its variables in script context slots,
 * which cost it ~30% more CPU (load 3).
 */
const HEADER_WALK_FLOOR = `(() => { const fs = require('node:fs'); const fd = fs.openSync(process.argv[1], 'r'); const size = 262144; const b = Buffer.allocUnsafe(size);
let filled = 0, at = 0, payload = 0; const halves = new Map();
const refill = () => { b.copyWithin(0, at, filled); filled -= at; at = 0; const n = fs.readSync(fd, b, filled, size - filled, null); filled += n; return n; };
refill();
// pcapng: blocks of (type, length), packets in Enhanced Packet Blocks (type 6) with 28 bytes before the frame; pcap: a 24-byte header, then records with 16.
const pcapng = b.readUInt32LE(0) === 0x0a0d0d0a;
if (!pcapng) at = 24;
for (;;) {
  let eth;
  if (pcapng) {
    if (filled - at < 8 || filled - at < b.readUInt32LE(at + 4)) { if (refill() === 0) break; continue; }
    const type = b.readUInt32LE(at); eth = at + 28; at += b.readUInt32LE(at + 4);
    if (type !== 6) continue;
  } else {
    if (filled - at < 16 || filled - at < 16 + b.readUInt32LE(at + 8)) { if (refill() === 0) break; continue; }
    eth = at + 16; at = eth + b.readUInt32LE(at + 8);
  }
  if (b.readUInt16BE(eth + 12) !== 0x0800 || b[eth + 23] !== 6) continue;
  const ip = eth + 14, ipHeader = (b[ip] & 15) * 4, tcp = ip + ipHeader;
  const length = b.readUInt16BE(ip + 2) - ipHeader - (b[tcp + 12] >> 4) * 4, seq = b.readUInt32BE(tcp + 4);
  const from = b.readUInt32BE(ip + 12) * 65536 + b.readUInt16BE(tcp), to = b.readUInt32BE(ip + 16) * 65536 + b.readUInt16BE(tcp + 2);
  let sender = halves.get(from); if (!sender) halves.set(from, (sender = new Map()));
  let half = sender.get(to); if (!half) sender.set(to, (half = { next: seq }));
  // SYN and FIN take a sequence number each.
  if (seq === half.next) { half.next = (seq + length + (b[tcp + 13] & 3 ? 1 : 0)) >>> 0; payload += length; }
}
if (payload === 0) throw new Error('no TCP payload walked'); })();`;

const withoutCa = { ...process.env };
delete withoutCa.NODE_EXTRA_CA_CERTS;
const caSet = !!process.env.NODE_EXTRA_CA_CERTS;

/** The TUI in tmux on `file`: seconds until it lists sessions, then until it answers a key, and whether it was still loading. */
async function tuiInteractive(file) {
  if (!have('tmux', '-V')) return null;
  const session = `execscope-bench-${process.pid}`;
  const screen = () => spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout ?? '';
  const started = performance.now();
  spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '50', `${process.execPath} ${cli} ${file}`]);
  try {
    const until = async (test, limitS = 60) => {
      for (;;) {
        const s = screen();
        if (test(s)) return s;
        if (performance.now() - started > limitS * 1000) throw new Error(`TUI did not get there in ${limitS} s:\n${s}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const listed = await until((s) => /^▸ +1 /m.test(s));
    const listedAt = (performance.now() - started) / 1000;
    spawnSync('tmux', ['send-keys', '-t', session, 'j']);
    const moved = await until((s) => /^▸ +2 /m.test(s));
    const answeredAt = (performance.now() - started) / 1000;
    const loading = /loading|\d+% /.test(moved) || /loading|\d+% /.test(listed);
    return { listedAt, answeredAt, loading };
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
}

// ---------------------------------------------------------------------------------------------

mkdirSync(out, { recursive: true });
const haveTshark = ensureTshark();
const haveKubectl = have('kubectl', 'version', '--client');
const files = {
  'kubectl-ws-64k': haveKubectl ? ensure('kubectl-ws-64k.pcapng', (p) => recordKubectl(p, 65483, KUBECTL_STDOUT)) : null,
  'kubectl-ws-1448': haveKubectl ? ensure('kubectl-ws-1448.pcapng', (p) => recordKubectl(p, 1448, KUBECTL_STDOUT)) : null,
  'synthetic-64k': ensure('synthetic-64k.pcap', (p) => generateBulk(p, 65483)),
  'synthetic-1448': ensure('synthetic-1448.pcap', (p) => generateBulk(p, 1448)),
};
const typing = ensure('typing.pcap', generateTyping);
const connections = ensure('connections.pcap', generateConnections);
// Client ports 1024 + i: at most 64,511 sessions.
const openSessions = ensure(`open-sessions-${OPEN_SESSIONS}.pcap`, (p) => generateTyping(p, OPEN_SESSIONS, 1));
if (process.argv.includes('--captures-only')) process.exit(0);
// --only=files,typing,connections,open,tui: measure those parts alone (while working on one of them).
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const want = (part) => !only || only.includes(part);

const load = () => loadavg()[0].toFixed(1);
const loadBefore = load();
const f1 = (n) => n.toFixed(1);
const f2 = (n) => n.toFixed(2);
const t = (m) => (m ? (m.timedOut ? `> ${m.secs} s` : `${m.secs < 10 ? m.secs.toFixed(3) : f2(m.secs)} s`) : 'n/a');

const nodeStart = measure([process.execPath, '-e', '0'], { runs: RUNS * 2 });
const nodeStartNoCa = measure([process.execPath, '-e', '0'], { runs: RUNS * 2, env: withoutCa });

const rows = [];
for (const [name, file] of Object.entries(files)) {
  if (!file || !want('files')) continue;
  process.stderr.write(`measuring ${name} …\n`);
  const mb = statSync(file).size / 1e6;
  const cat = measure(['sh', '-c', `cat "$0" > /dev/null`, file]);
  const floor = measure([process.execPath, '-e', READ_FLOOR, file]);
  const floorNoCa = measure([process.execPath, '-e', READ_FLOOR, file], { env: withoutCa });
  // The real kubectl's captures only (pcapng, Ethernet, IPv4): how much of the 1.5× budget walking their headers alone takes.
  const walk = name.startsWith('kubectl') ? measure([process.execPath, '-e', HEADER_WALK_FLOOR, file]) : null;
  const walkNoCa = walk ? measure([process.execPath, '-e', HEADER_WALK_FLOOR, file], { env: withoutCa }) : null;
  const plain = measure([process.execPath, cli, 'analyze', file, '--json']);
  const plainNoCa = measure([process.execPath, cli, 'analyze', file, '--json'], { env: withoutCa });
  const hashed = measure([process.execPath, cli, 'analyze', file, '--json', '--hash']);
  const sha = measure(['sha256sum', file]);
  let tshark = null;
  if (haveTshark) {
    const decodeAs = webSocketPorts(file).flatMap((p) => ['-d', `tcp.port==${p},http`]);
    tshark = measure(['tshark', '-r', file, ...decodeAs, '-Y', 'websocket', '-T', 'fields', '-e', 'frame.number', '-e', 'websocket.payload_length'], { runs: 1, timeoutS: TSHARK_TIMEOUT_S });
  }
  rows.push({ name, mb, cat, floor, floorNoCa, walk, walkNoCa, plain, plainNoCa, hashed, sha, tshark });
}

let typingPackets = NaN;
let typingRun = null;
let typingFloor = null;
let typingHeaderWalk = null;
let typingText = null;
if (want('typing')) {
  process.stderr.write('measuring small packets …\n');
  typingPackets = Number(spawnSync(process.execPath, [cli, 'analyze', typing, '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout.match(/"packets": (\d+)/)?.[1] ?? NaN);
  typingRun = measure([process.execPath, cli, 'analyze', typing, '--json']);
  typingFloor = measure([process.execPath, '-e', READ_FLOOR, typing]);
  typingHeaderWalk = measure([process.execPath, '-e', HEADER_WALK_FLOOR, typing]);
  // The text report keeps each stream's head (4 KiB): 1.6 million one-byte pieces once held ~700 MB.
  typingText = measure([process.execPath, cli, 'analyze', typing], { runs: 1 });
}
let connJson = null;
let connText = null;
if (want('connections')) {
  process.stderr.write('measuring many connections …\n');
  connJson = measure([process.execPath, cli, 'analyze', connections, '--json'], { runs: 1 });
  connText = measure([process.execPath, cli, 'analyze', connections], { runs: 1 });
}
let openJson = null;
if (want('open')) {
  process.stderr.write('measuring many open sessions …\n');
  // Each session's decoders and records are held while it is open: its heap, times the sessions open at once.
  openJson = measure([process.execPath, cli, 'analyze', openSessions, '--json'], { runs: 1 });
}

let tui = null;
const tuiFile = files['synthetic-1448'];
if (want('tui')) {
  process.stderr.write('measuring the TUI …\n');
  try {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await tuiInteractive(tuiFile));
    tui = runs.filter(Boolean).sort((a, b) => a.answeredAt - b.answeredAt)[0] ?? null;
  } catch (e) {
    process.stderr.write(`  TUI: ${e.message}\n`);
  }
}
const loadAfter = load();

// ---------------------------------------------------------------------------------------------

console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; load average ${loadBefore} before, ${loadAfter} after; fastest of ${RUNS} runs.`);
console.log(`Node start: ${t(nodeStart)} (${t(nodeStartNoCa)} without NODE_EXTRA_CA_CERTS${caSet ? '' : ', which is not set here'}).`);
if (rows.length) {
  console.log();
  console.log('| capture | size | cat | read floor | analyze --json | ÷ floor | CPU ÷ floor CPU | peak RSS | tshark -T fields | tshark ÷ analyze | --hash | sha256sum | --hash ÷ sha256sum |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const vsTshark = r.tshark && r.plain ? `${r.tshark.timedOut ? '> ' : ''}${f1(r.tshark.secs / r.plain.secs)}×` : 'n/a';
    console.log(
      `| ${r.name} | ${f1(r.mb)} MB | ${t(r.cat)} | ${t(r.floor)} | ${t(r.plain)} (${f1(r.mb / r.plain.secs)} MB/s) | ${f2(r.plain.secs / r.floor.secs)}× | ${f2(r.plain.cpu / r.floor.cpu)}× | ${f1(r.plain.rssMb)} MB | ${t(r.tshark)} | ${vsTshark} | ${t(r.hashed)}, ${f1(r.hashed.rssMb)} MB | ${t(r.sha)} | ${f2(r.hashed.secs / r.sha.secs)}× |`,
    );
  }
  console.log();
  console.log('Without NODE_EXTRA_CA_CERTS (Node then skips parsing that CA bundle at start):');
  console.log();
  console.log('| capture | read floor | analyze --json | ÷ floor |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${t(r.floorNoCa)} | ${t(r.plainNoCa)} | ${f2(r.plainNoCa.secs / r.floorNoCa.secs)}× |`);
  console.log();
  const walked = rows.filter((r) => r.walk && r.floor && r.walkNoCa && r.floorNoCa);
  if (walked.length) {
    console.log(
      `Walking every packet's headers to its half-connection alone (READ_FLOOR plus the header walk, no decoding): ${walked
        .map((r) => `${r.name} ${t(r.walk)}, ${f2(r.walk.secs / r.floor.secs)}× the floor (CPU ${f2(r.walk.cpu / r.floor.cpu)}×; without the CA bundle ${t(r.walkNoCa)}, ${f2(r.walkNoCa.secs / r.floorNoCa.secs)}×)`)
        .join('; ')}.`,
    );
    console.log();
  }
}
if (typingRun && typingFloor) {
  const decodeSecs = typingRun.cpu - nodeStart.cpu;
  const walkSecs = typingHeaderWalk.cpu - nodeStart.cpu;
  console.log(
    `Small packets (${TYPING_SESSIONS} interactive sessions, ${typingPackets} packets, ${f1(statSync(typing).size / 1e6)} MB): analyze --json ${t(typingRun)}, ${f2(typingRun.cpu)} s CPU; ${f2(typingPackets / decodeSecs / 1e6)} million packets/s of CPU after Node's start (read floor ${t(typingFloor)}; walking every packet's headers to its half-connection alone ${t(typingHeaderWalk)}, ${f2(typingPackets / walkSecs / 1e6)} million packets/s of CPU); peak RSS ${f1(typingRun.rssMb)} MB; the text report ${t(typingText)}, ${f2(typingText.cpu)} s CPU, peak RSS ${f1(typingText.rssMb)} MB.`,
  );
}
if (connJson && connText) {
  console.log(
    `Connections (${CONNECTIONS} HTTP connections, 1000 open at a time, and ${CONNECTIONS / 1000} exec sessions, ${f1(statSync(connections).size / 1e6)} MB): analyze --json ${t(connJson)} (${f2(connJson.cpu)} s CPU), peak RSS ${f1(connJson.rssMb)} MB; text ${t(connText)} (${f2(connText.cpu)} s CPU), peak RSS ${f1(connText.rssMb)} MB.`,
  );
}
if (openJson) {
  console.log(
    `Open sessions (${OPEN_SESSIONS} interactive shells open at once, half WebSocket, half SPDY, each typed in once, ${f1(statSync(openSessions).size / 1e6)} MB): analyze --json ${t(openJson)} (${f2(openJson.cpu)} s CPU), peak RSS ${f1(openJson.rssMb)} MB.`,
  );
}
if (tui) console.log(`TUI on synthetic-1448 (${f1(statSync(tuiFile).size / 1e6)} MB): sessions listed after ${f2(tui.listedAt)} s, a key answered after ${f2(tui.answeredAt)} s${tui.loading ? ', while the capture was still loading (progress shown)' : ''}.`);

// The issue's done-when, one line each, from the figures above.
const verdict = (ok) => (ok === null ? 'not measured' : ok ? 'met' : 'NOT met');
const kubectlRows = rows.filter((r) => r.name.startsWith('kubectl-'));
const all = (list, test) => (list.length && list.every((x) => x) ? list.every(test) : null);
console.log();
console.log('Targets:');
console.log(`- analyze --json ≤ 1.5× the read floor on the real kubectl's captures: ${verdict(all(kubectlRows.map((r) => r.plain && r.floor && r), (r) => r.plain.secs / r.floor.secs <= 1.5))} (${kubectlRows.map((r) => `${r.name} ${r.plain && r.floor ? f2(r.plain.secs / r.floor.secs) : 'n/a'}×`).join(', ')})`);
console.log(`- ≥ 10× faster than tshark on them: ${verdict(all(kubectlRows.map((r) => r.plain && r.tshark && r), (r) => r.tshark.secs / r.plain.secs >= 10))}`);
console.log(`- peak RSS ≤ 200 MB on every capture: ${verdict(all([...rows.map((r) => r.plain), connJson, connText, typingRun, typingText], (m) => m.rssMb <= 200))}`);
console.log(`- --hash within 1.5× sha256sum: ${verdict(all(rows.map((r) => r.hashed && r.sha && r), (r) => r.hashed.secs / r.sha.secs <= 1.5))}`);
console.log(`- 10⁶ small packets/s through TCP reassembly on one core: ${verdict(typingRun ? typingPackets / (typingRun.cpu - nodeStart.cpu) >= 1e6 : null)}`);
console.log(`- 200,000 connections in ≤ 200 MB (--json and text): ${verdict(connJson && connText ? connJson.rssMb <= 200 && connText.rssMb <= 200 : null)}`);
console.log(`- ${OPEN_SESSIONS} sessions open at once in ≤ 200 MB (--json): ${verdict(openJson ? openJson.rssMb <= 200 : null)}`);
console.log(`- TUI interactive (sessions listed, a key answered) within 1 s on the 1 GB capture: ${verdict(tui ? tui.answeredAt <= 1 : null)}`);
