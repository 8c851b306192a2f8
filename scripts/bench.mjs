#!/usr/bin/env node
// npm run bench: generates ≥1 GB synthetic captures of exec traffic (WebSocket v5 and SPDY sessions,
// large stdout, a few slow interactive sessions with pings), one cut into 1448-byte segments as on a
// real network and one into 64 KiB loopback segments (frames straddle segments in both), then times `execscope analyze --json` with and
// without --hash, `sha256sum` over the same payload bytes and `tshark -r FILE -Y websocket` (with port 6443
// decoded as HTTP, so tshark follows the upgrade).
// Captures are cached in bench-out/ (delete it to regenerate). Prints a Markdown table.
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '../dist/capture/pcap-writer.js';
import { ExecConversation } from '../dist/synth/exec-conversation.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench-out');
const TARGET_BYTES = Number(process.env.BENCH_BYTES ?? 1.1e9);
const STDOUT_PER_SESSION = 16 << 20;
const MESSAGE = 32 << 10; // Go's io.Copy buffer: what the runtime writes per frame
const BURST = 4; // frames sent together: segments fill to the MSS and frames straddle them
const CONCURRENT = 16;

/** Buffered writer of the capture and of the raw payload bytes (for the sha256sum baseline). */
class Sink {
  constructor(path) {
    this.fd = openSync(path, 'w');
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
  }
}

function generate(path, mss) {
  const cap = new Sink(path);
  const payload = new Sink(`${path}.payload`);
  const pcap = new PcapWriter();
  cap.write(pcap.header(1));
  const noise = randomBytes(1 << 20);
  let clock = 1_795_000_000_000_000_000n;
  let port = 30000;
  let noiseAt = 0;
  const emit = (frames) => {
    for (const f of frames) {
      clock += 5_000n;
      cap.write(pcap.packet(clock, f));
    }
  };
  const chunk = (n) => {
    if (noiseAt + n > noise.length) noiseAt = 0;
    const b = noise.subarray(noiseAt, noiseAt + n);
    noiseAt += 997;
    payload.write(b);
    return b;
  };
  const start = (transport, command, stdin, tty) => {
    const c = new ExecConversation({ transport, pod: `web-${port % 50}`, command, stdin, tty }, port++, 6443, mss);
    emit(c.open());
    return c;
  };
  // A few slow interactive shells that stay open across the whole capture.
  const shells = [0, 1, 2].map((i) => start(i % 2 ? 'spdy' : 'websocket', ['sh'], true, true));
  const bulk = [];
  let sessions = 0;
  let tick = 0;
  while (cap.bytes < TARGET_BYTES || bulk.length) {
    while (bulk.length < CONCURRENT && cap.bytes < TARGET_BYTES) {
      const transport = sessions++ % 2 ? 'spdy' : 'websocket';
      const withStdin = sessions % 4 === 0;
      const c = start(transport, withStdin ? ['sort'] : ['cat', '/var/log/app.log'], withStdin, false);
      if (withStdin) {
        for (let i = 0; i < 8; i++) emit(c.write('stdin', chunk(MESSAGE)));
        emit(c.closeStdin());
      }
      bulk.push({ c, left: STDOUT_PER_SESSION });
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
  payload.close();
  return sessions + shells.length;
}

/** Reads the file given as argument through execscope's capture reader and does nothing else. */
const READ_ONLY = `import { readCaptureBytes } from ${JSON.stringify(new URL('../dist/capture/capture-source.js', import.meta.url).href)};
for await (const chunk of readCaptureBytes(process.argv[1])) void chunk;`;

/** Wall time and peak RSS of a command, from GNU time. */
function measure(argv) {
  const run = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = run.stderr.trim().split('\n').pop() ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  if (run.status !== 0) console.error(`  ${argv.join(' ')} exited ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { secs, rssMb: kb / 1024, ok: run.status === 0 };
}

function ensureTshark() {
  if (spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0) return true;
  console.error('tshark missing: installing it (apt-get install tshark)');
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'tshark'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

mkdirSync(out, { recursive: true });
const haveTshark = ensureTshark();
const cli = join(root, 'dist', 'cli.js');
const rows = [];
for (const [name, mss] of [['exec-1448', 1448], ['exec-64k', 65483]]) {
  const file = join(out, `${name}.pcap`);
  if (!existsSync(file) || !existsSync(`${file}.payload`) || statSync(file).size < TARGET_BYTES) {
    console.error(`generating ${file} …`);
    const n = generate(file, mss);
    console.error(`  ${n} sessions`);
  }
  const mb = statSync(file).size / 1e6;
  const payloadMb = statSync(`${file}.payload`).size / 1e6;
  const plain = measure([process.execPath, cli, 'analyze', file, '--json']);
  const hashed = measure([process.execPath, cli, 'analyze', file, '--json', '--hash']);
  const sha = measure(['sha256sum', `${file}.payload`]);
  // Port 6443 is not HTTP to tshark by default: decode it as HTTP so it follows the upgrade to WebSocket.
  const tshark = haveTshark ? measure(['tshark', '-r', file, '-d', 'tcp.port==6443,http', '-Y', 'websocket']) : null;
  // What no Node analyzer can beat: starting Node, and reading the file through the same reader.
  const startup = measure([process.execPath, '-e', '0']);
  const readOnly = measure([process.execPath, '--input-type=module', '-e', READ_ONLY, file]);
  rows.push({ name, mb, payloadMb, plain, hashed, sha, tshark, startup, readOnly });
}

const f1 = (n) => n.toFixed(1);
console.log('| capture | size | analyze --json | peak RSS | with --hash | peak RSS | sha256sum of payload | tshark -Y websocket | speed-up vs tshark |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const t = r.tshark?.ok ? `${f1(r.tshark.secs)} s (${f1(r.mb / r.tshark.secs)} MB/s, ${f1(r.tshark.rssMb)} MB)` : 'n/a';
  const speedup = r.tshark?.ok ? `${f1(r.tshark.secs / r.plain.secs)}×` : 'n/a';
  console.log(
    `| ${r.name} | ${f1(r.mb)} MB | ${f1(r.plain.secs)} s = ${f1(r.mb / r.plain.secs)} MB/s | ${f1(r.plain.rssMb)} MB | ${f1(r.hashed.secs)} s = ${f1(r.mb / r.hashed.secs)} MB/s | ${f1(r.hashed.rssMb)} MB | ${f1(r.sha.secs)} s (${f1(r.payloadMb)} MB) | ${t} | ${speedup} |`,
  );
}
console.log();
for (const r of rows) {
  const best = r.tshark?.ok ? `: at most ${f1(r.tshark.secs / r.readOnly.secs)}× tshark for any analyzer that reads the whole file in Node` : '';
  console.log(`Floor on ${r.name}: starting Node ${r.startup.secs.toFixed(2)} s, starting it and reading the file ${r.readOnly.secs.toFixed(2)} s${best}.`);
}
if (process.env.NODE_EXTRA_CA_CERTS) {
  console.log('NODE_EXTRA_CA_CERTS is set: Node parses that CA bundle at every start (about 0.1 s on our machine), which the figures above include.');
}
