/**
 * End-to-end harness: runs a lab scenario with the real kubectl, then checks the lab's own recording
 * and an independent `tcpdump -i lo` capture of the same run against what the lab observed (its truth),
 * and that nothing the lab started is left running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import type { Lab } from '../../src/lab/lab.js';
import type { CaptureModel } from '../../src/model/session.js';
import { clientProblems, runScenario } from '../../src/lab/scenario-runner.js';
import { findScenario, type Scenario } from '../../src/lab/scenarios.js';
import { compareWithTruth } from './truth-compare.js';

export const TCPDUMP = (() => {
  const which = spawnSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : null;
})();

/** tcpdump needs root (CAP_NET_RAW); CI runs as root with tcpdump installed by .ci/run. */
export const CAN_TCPDUMP = TCPDUMP !== null && process.getuid?.() === 0;

export interface E2eResult {
  scenario: Scenario;
  clientProblems: string[];
  recordingProblems: string[];
  tcpdumpProblems: string[] | null;
  strayProcesses: string[];
  truth: Record<string, unknown>;
  /** What the analyzer decoded from the lab's recording. */
  recording: CaptureModel;
  /** What it decoded from the independent tcpdump capture (real TCP windows and all), when there was one. */
  wire: CaptureModel | null;
  /** What kubectl printed on stderr. */
  kubectlStderr: string;
  durationMs: number;
}

export async function runE2e(name: string): Promise<E2eResult> {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  const work = mkdtempSync(join(tmpdir(), `execscope-lab-${name}-`));
  const recordPath = join(work, 'lab.pcapng');
  const tcpdumpPath = join(work, 'tcpdump.pcap');
  let capture: Promise<number> | null = null;
  let tcpdump: ChildProcess | null = null;
  try {
    const run = await runScenario(scenario, {
      dir: join(work, 'lab'),
      recordPath,
      keyLogPath: join(work, 'lab.keylog'),
      onLabStarted: CAN_TCPDUMP
        ? async (lab: Lab) => {
            const started = startTcpdump(lab, tcpdumpPath);
            tcpdump = started.child;
            capture = started.exited;
            await started.ready;
          }
        : undefined,
    });
    if (tcpdump) {
      // Packets of the lab's last writes may still be on their way through the capture ring.
      await new Promise((r) => setTimeout(r, 200));
      stopTcpdump(tcpdump);
    }
    const dropped = (await capture) ?? 0;
    const truth = run.truth as { sessions: Parameters<typeof compareWithTruth>[1]['sessions'] };
    const recording = await analyzeCapture(recordPath, analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
    const recordingProblems = compareWithTruth(recording, truth);
    if (recording.fatal) recordingProblems.push(`recording: ${recording.fatal.message}`);
    let tcpdumpProblems: string[] | null = null;
    let wire: CaptureModel | null = null;
    // CI sets EXECSCOPE_REQUIRE_TCPDUMP=1 so that a missing tcpdump fails rather than skips the cross-check.
    if (!CAN_TCPDUMP && process.env.EXECSCOPE_REQUIRE_TCPDUMP) tcpdumpProblems = ['tcpdump is required (run as root with tcpdump installed)'];
    if (CAN_TCPDUMP) {
      const keyLogs = run.lab.keyLogPath ? [{ text: readFileSync(run.lab.keyLogPath, 'utf8'), source: 'lab.keylog' }] : [];
      wire = await analyzeCapture(tcpdumpPath, analyzeOptions({ hash: true, hasher: new InlineStreamHasher(), keyLogs }));
      tcpdumpProblems = compareWithTruth(wire, truth, { contentsOnlyWhenClean: true });
      if (dropped) tcpdumpProblems.push(`tcpdump: ${dropped} packets dropped by the kernel`);
    }
    return {
      scenario,
      clientProblems: clientProblems(scenario, run.client),
      recordingProblems,
      tcpdumpProblems,
      strayProcesses: strayProcesses(join(work, 'lab')),
      truth: run.truth,
      recording,
      wire,
      kubectlStderr: run.client.stderr,
      durationMs: run.client.record.duration_s * 1000,
    };
  } finally {
    if (tcpdump) stopTcpdump(tcpdump);
    // EXECSCOPE_LAB_KEEP=1 keeps the lab's directory, recording and capture for a look afterwards.
    if (process.env.EXECSCOPE_LAB_KEEP) process.stderr.write(`lab files kept in ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

export function startTcpdump(lab: Lab, path: string): { child: ChildProcess; ready: Promise<void>; exited: Promise<number> } {
  const filter = lab.hops.map((h) => `tcp port ${h.port}`).join(' or ');
  // -Z root: Debian's tcpdump would otherwise switch to its own user before opening the file.
  // -s/-B: room for ~4000 full loopback packets in the capture ring (the default ring of 2 MiB holds
  // only 8 frames of the default 256 KiB snap length, and bursts then get dropped).
  const child = spawn(TCPDUMP!, ['-i', 'lo', '-s', '65600', '-B', '262144', '-U', '--immediate-mode', '-n', '-Z', 'root', '-w', path, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The ring fills when tcpdump waits for a core: a full `npm test` beside other work (load 7.5) once
  // lost 16 packets of the 25 MB scenario with a 64 MiB ring. Ahead of everything else, tcpdump keeps
  // up; CAN_TCPDUMP means root, which may raise a priority.
  setPriority(child.pid!, -10);
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening on')) resolve();
    });
    child.once('exit', () => reject(new Error(`tcpdump exited: ${stderr.trim()}`)));
  });
  const exited = new Promise<number>((resolve) =>
    child.once('exit', () => resolve(Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? 0))),
  );
  return { child, ready, exited };
}

export function stopTcpdump(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
}

/** Processes still running whose working directory lies in the lab's directory. */
export function strayProcesses(labDir: string): string[] {
  const stray: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(labDir)) stray.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return stray;
}
