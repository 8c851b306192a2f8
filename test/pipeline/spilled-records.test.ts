/**
 * Ended records spilled to a temporary file (pipeline/ended-records.ts, spill-file.ts) read back as
 * they were: every report of every fixture capture — JSON, text with --explain and --connections,
 * the doctor's — is byte for byte the same whether every record stayed in memory or every ended one
 * was spilled (the lab's recordings link sessions across hops, so links made at the capture's end
 * reach spilled sessions too). The file holds captured bytes: it is private and never left behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions, type AnalyzeOptions } from '../../src/pipeline/options.js';
import { SpillFile } from '../../src/pipeline/spill-file.js';
import { diagnosisReport } from '../../src/report/diagnosis-report.js';
import { jsonReportText } from '../../src/report/json-report.js';
import { textReportPieces } from '../../src/report/text-report.js';
import type { CaptureModel } from '../../src/model/session.js';
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import { unansweredUpgrades, writePcap } from '../kit/hostile-captures.js';
import { tempDirForTests } from '../kit/temp-dir.js';

const fixtures = join(process.cwd(), 'fixtures');
const captures = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? captures(join(dir, e.name)) : /\.(pcap|pcapng)(\.gz)?$/.test(e.name) ? [join(dir, e.name)] : []));
const CAPTURES = captures(fixtures).map((path) => path.slice(fixtures.length + 1));

function reports(model: CaptureModel, name: string): string[] {
  return [[...jsonReportText(model, { hash: false })].join(''), [...textReportPieces(model, { connections: true, name, explain: true })].join(''), diagnosisReport(model, name).text, JSON.stringify(diagnosisReport(model, name).json)];
}

async function analyzed(path: string, extra: Partial<AnalyzeOptions>): Promise<CaptureModel> {
  const keylog = path.replace(/\.(pcap|pcapng)(\.gz)?$/, '.keylog');
  const keyLogs = existsSync(keylog) ? [{ text: readFileSync(keylog, 'utf8'), source: keylog }] : [];
  return analyzeCapture(path, analyzeOptions({ keepEvents: true, headBytes: 4096, keyLogs, ...extra }));
}

test.each(CAPTURES)('%s: the reports read the same with every ended record spilled', async (name) => {
  const path = join(fixtures, name);
  const held = await analyzed(path, {});
  const spilled = await analyzed(path, { endedConnectionsHeld: 0 });
  try {
    expect(held.spilled).toBeUndefined();
    // Every connection ends by the capture's end; only docker's (whose calls span connections) stay in memory.
    if (held.sessions.some((s) => s.hop !== 'docker')) expect(spilled.spilled?.sessionCount).toBeGreaterThan(0);
    const [expected, actual] = [reports(held, name), reports(spilled, name)];
    for (let i = 0; i < expected.length; i++) expect(actual[i]).toBe(expected[i]);
  } finally {
    spilled.spilled?.close();
  }
});

test('a connection that opens after a later one (it began mid-stream) is listed in id order, spilled or not', async () => {
  // Found by the fuzzer once its chunked runs spilled: the first connection is seen by a bare ACK,
  // so it opens (client and server decided) only at the capture's end, after the second.
  const dir = mkdtempSync(join(tmpdir(), 'execscope-open-order-'));
  try {
    const path = join(dir, 'open-order.pcap');
    const midStream = new SyntheticTcpConnection({ ip: '10.0.0.9', port: 30000 }, { ip: '10.0.0.1', port: 6443 });
    const full = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 40000 }, { ip: '10.0.0.1', port: 6443 });
    writePcap(path, [midStream.ack('s2c'), ...full.handshake(), ...full.send('c2s', Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')), ...full.close()]);
    const held = await analyzed(path, {});
    const spilled = await analyzed(path, { endedConnectionsHeld: 0 });
    try {
      expect(held.connections.map((c) => c.id)).toEqual([1, 2]);
      expect(reports(spilled, 'open-order')).toEqual(reports(held, 'open-order'));
    } finally {
      spilled.spilled?.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sessions linked across hops after they were spilled keep their links', async () => {
  const path = join(fixtures, 'lab', 'lab-ws-echo.pcapng');
  const held = await analyzed(path, {});
  const spilled = await analyzed(path, { endedConnectionsHeld: 0 });
  try {
    const linked = held.sessions.filter((s) => s.nextHop !== null);
    expect(linked.length).toBeGreaterThan(0);
    expect(spilled.sessions.filter((s) => s.nextHop !== null)).toEqual([]);
    for (const s of linked) expect(spilled.spilled?.session(s.id)).toEqual(s);
  } finally {
    spilled.spilled?.close();
  }
});

describe('the spill file', () => {
  const parent = tempDirForTests('execscope-spill-test-');

  /** The descriptors of this process that lead to a deleted spill file. */
  const spillDescriptors = (pid: number | 'self' = 'self') =>
    readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return /execscope-spill-[^/]+\/records \(deleted\)$/.test(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });

  it('is mode 0600, gone from the file system while open, and closed with the model', async () => {
    const before = spillDescriptors();
    const file = new SpillFile(parent);
    const fds = spillDescriptors().filter((fd) => !before.includes(fd));
    expect(fds).toHaveLength(1);
    expect(statSync(`/proc/self/fd/${fds[0]}`).mode & 0o777).toBe(0o600);
    // Neither the file nor its mode-0700 directory is left to find: only the descriptor leads to it.
    expect(readdirSync(parent)).toEqual([]);
    const held = await analyzed(join(fixtures, 'ws-echo.pcap'), {});
    const [session, connection] = [held.sessions[0], held.connections[0]];
    file.spill(connection, [session]);
    expect(file.session(session.id)).toEqual(session);
    expect(file.connection(connection.id)).toEqual(connection);
    file.close();
    expect(spillDescriptors().filter((fd) => !before.includes(fd))).toEqual([]);
  });

  it('reads each record back by id in any order: across its batches and from the batch not yet written', async () => {
    const held = await analyzed(join(fixtures, 'ws-echo.pcap'), {});
    const [session, connection] = [held.sessions[0], held.connections[0]];
    const file = new SpillFile(parent);
    try {
      // 150 connections, each with 0–2 sessions: records fill several batches, the last one partly.
      // Every fifth closed a window: the index says which without reading them back.
      const zeroWindow = { dir: 'c2s' as const, ts: 1, packet: 2, accepted: 3, probes: 0, reopenedAt: null };
      const spilled = Array.from({ length: 150 }, (_, i) => {
        const sessions = Array.from({ length: i % 3 }, (_, k) => ({ ...session, id: 1000 + i * 2 + k, pod: `pod-${i}-${k}` }));
        return { connection: { ...connection, id: i + 1, sessionIds: sessions.map((s) => s.id), bytes: { c2s: i, s2c: 2 * i }, zeroWindows: i % 5 ? [] : [zeroWindow] }, sessions };
      });
      for (const { connection: c, sessions } of spilled) file.spill(c, sessions);
      expect([file.connectionCount, file.sessionCount]).toEqual([150, 150]);
      const shuffled = spilled.map((r, i) => ({ r, key: (i * 7919) % 151 })).sort((a, b) => a.key - b.key);
      for (const { r } of shuffled.reverse()) {
        for (const s of r.sessions) expect(file.session(s.id)).toEqual(s);
        expect(file.connection(r.connection.id)).toEqual(r.connection);
      }
      expect([...file.connectionIds()]).toEqual(spilled.map((r) => r.connection.id));
      expect([...file.sessionIds()]).toEqual(spilled.flatMap((r) => r.sessions.map((s) => s.id)));
      expect(spilled.filter((r) => file.hasZeroWindows(r.connection.id)).map((r) => r.connection.id)).toEqual(spilled.filter((r) => r.connection.zeroWindows.length).map((r) => r.connection.id));
      expect(file.hasZeroWindows(151)).toBe(false);
      expect(file.connection(151)).toBeUndefined();
      expect(file.session(999)).toBeUndefined();
    } finally {
      file.close();
    }
  });

  it('leaves nothing behind when the CLI is killed while a report reads it back', async () => {
    const capture = join(parent, 'upgrades.pcap');
    writePcap(capture, unansweredUpgrades(3000, { closed: true }));
    const temp = mkdtempSync(join(parent, 'tmp-'));
    // stdout is never read: the report stops on a full pipe with the spilled records open.
    const cli = spawn(process.execPath, [join(process.cwd(), 'dist', 'cli.js'), 'analyze', capture, '--json'], { env: { ...process.env, TMPDIR: temp }, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      // Waits for the file open and its directory removed: the CLI does both a few instructions apart,
      // and a loaded machine may stop it between the two (the one moment a SIGKILL leaves an empty
      // directory behind).
      let fds: string[] = [];
      while ((fds.length === 0 || readdirSync(temp).length > 0) && cli.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        fds = spillDescriptors(cli.pid!);
      }
      expect(fds).toHaveLength(1);
      expect(readlinkSync(`/proc/${cli.pid}/fd/${fds[0]}`).startsWith(join(temp, 'execscope-spill-'))).toBe(true);
      expect(statSync(`/proc/${cli.pid}/fd/${fds[0]}`).mode & 0o777).toBe(0o600);
    } finally {
      cli.kill('SIGKILL');
    }
    await new Promise((resolve) => cli.once('exit', resolve));
    expect(readdirSync(temp)).toEqual([]);
    // The same capture read to its end: the report is whole, and nothing is left either.
    const doc = JSON.parse(execFileSync(process.execPath, [join(process.cwd(), 'dist', 'cli.js'), 'analyze', capture, '--json'], { env: { ...process.env, TMPDIR: temp }, maxBuffer: 1 << 28, encoding: 'utf8', timeout: 120_000 }));
    expect(doc.sessions).toHaveLength(3000);
    expect(doc.sessions.map((s: { id: number }) => s.id)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(readdirSync(temp)).toEqual([]);
  });

  it('missing (no writable TMPDIR), leaves the report whole, with every record held and a warning that says so', () => {
    const capture = join(parent, 'upgrades-2000.pcap');
    writePcap(capture, unansweredUpgrades(2000, { closed: true }));
    const run = (env: NodeJS.ProcessEnv) => execFileSync(process.execPath, [join(process.cwd(), 'dist', 'cli.js'), 'analyze', capture, '--json'], { env: { ...process.env, ...env }, maxBuffer: 1 << 28, encoding: 'utf8', timeout: 120_000 });
    const unbounded = JSON.parse(run({ TMPDIR: join(parent, 'no-such-directory') }));
    const said = unbounded.warnings.filter((w: { code: string }) => w.code === 'pipeline.spill-unavailable');
    expect(said).toHaveLength(1);
    expect(said[0].message).toMatch(/^no temporary file for ended sessions \(ENOENT.*\): every session stays in memory; set TMPDIR to a writable directory to bound it$/);
    const spilled = JSON.parse(run({ TMPDIR: parent }));
    expect({ ...unbounded, warnings: unbounded.warnings.filter((w: { code: string }) => w.code !== 'pipeline.spill-unavailable') }).toEqual(spilled);
  });
});
