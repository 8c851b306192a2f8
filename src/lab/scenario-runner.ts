/**
 * Runs one scenario: starts a lab, runs the real kubectl against it, waits for the lab's sessions to
 * end (or stops the lab when kubectl is done and a fault keeps them open), and writes the recording
 * and its truth file. Shared by `execscope lab --scenario`, scripts/record-fixtures.sh and the
 * end-to-end tests. IO code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runKubectl, type ClientResult } from './client-runner.js';
import { parseFault } from './faults.js';
import { Lab } from './lab.js';
import type { Scenario } from './scenarios.js';
import { labTruth } from './truth.js';

export interface ScenarioRunOptions {
  /** The lab's working directory. */
  dir: string;
  recordPath: string;
  /** Where to write the truth file (none if absent). */
  truthPath?: string;
  keyLogPath?: string;
  kubectl?: string;
  /** Called once the lab listens, before kubectl starts (e.g. to start a packet capture on its ports). */
  onLabStarted?(lab: Lab): Promise<void>;
  /** The kubeconfig kubectl uses (default: the lab's), e.g. one pointing at a tap in front of the lab. */
  kubeconfigFor?(lab: Lab): Promise<string>;
  /** A plain HTTP apiserver whatever the scenario says (`lab --scenario NAME --plain`). */
  plain?: boolean;
  /** The recording's segment size (`--record-mss`). */
  recordMss?: number;
  /** Aborted: kubectl is killed and the lab stopped, and the run fails with the abort's reason (no truth file written). */
  stopped?: AbortSignal;
}

export interface ScenarioRun {
  lab: Lab;
  client: ClientResult;
  truth: Record<string, unknown>;
}

/** How long sessions may take to finish after kubectl is done before the lab is stopped anyway. */
const SETTLE_MS = 1500;

export async function runScenario(scenario: Scenario, opts: ScenarioRunOptions): Promise<ScenarioRun> {
  mkdirSync(opts.dir, { recursive: true });
  mkdirSync(dirname(opts.recordPath), { recursive: true });
  const lab = await Lab.start({
    dir: opts.dir,
    tls: !opts.plain && (scenario.tls ?? true),
    faults: (scenario.faults ?? []).map(parseFault),
    recordPath: opts.recordPath,
    recordMss: opts.recordMss,
    keyLogPath: opts.keyLogPath,
  });
  let client: ClientResult;
  try {
    await opts.onLabStarted?.(lab);
    const kubeconfig = opts.kubeconfigFor ? await opts.kubeconfigFor(lab) : lab.kubeconfigPath;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: opts.dir, KUBECONFIG: kubeconfig, LANG: 'C.UTF-8' };
    opts.stopped?.throwIfAborted();
    client = await runKubectl(opts.kubectl ?? process.env.EXECSCOPE_KUBECTL ?? 'kubectl', scenario.client, env, opts.stopped);
    opts.stopped?.throwIfAborted();
    let settle: NodeJS.Timeout | undefined;
    await Promise.race([lab.observations.whenIdle(), new Promise((r) => (settle = setTimeout(r, SETTLE_MS)))]);
    clearTimeout(settle);
  } finally {
    await lab.stop();
  }
  const truth = labTruth(lab, { scenario: scenario.name, description: scenario.description, clients: [client.record] }) as Record<string, unknown>;
  if (opts.truthPath) writeFileSync(opts.truthPath, `${JSON.stringify(truth, null, 2)}\n`);
  return { lab, client, truth };
}

/** Problems with what kubectl did, against the scenario's expectations (empty when it behaved). */
export function clientProblems(scenario: Scenario, client: ClientResult): string[] {
  const problems: string[] = [];
  const { expect } = scenario;
  const r = client.record;
  if (expect.killed !== undefined && r.killed_by_harness !== expect.killed) problems.push(`kubectl ${r.killed_by_harness ? 'had to be killed' : 'ended by itself'}`);
  if (expect.exitCode !== undefined && r.exit_code !== expect.exitCode) problems.push(`kubectl exit code ${r.exit_code}, expected ${expect.exitCode} (stderr: ${r.stderr_text.trim().slice(0, 300)})`);
  if (typeof expect.stdout === 'string' && client.stdout.toString('utf8') !== expect.stdout) {
    problems.push(`kubectl stdout ${JSON.stringify(client.stdout.toString('utf8').slice(0, 200))}, expected ${JSON.stringify(expect.stdout.slice(0, 200))}`);
  } else if (typeof expect.stdout === 'object' && r.stdout_received.length !== expect.stdout.length) {
    problems.push(`kubectl stdout ${r.stdout_received.length} bytes, expected ${expect.stdout.length}`);
  }
  for (const text of expect.stderrIncludes ?? []) if (!r.stderr_text.includes(text)) problems.push(`kubectl stderr lacks ${JSON.stringify(text)}: ${r.stderr_text.slice(0, 300)}`);
  if (expect.forwardedBodies) {
    const got = (r.forwarded ?? []).map((f) => (f.status === 200 ? f.body.length : -f.status));
    if (JSON.stringify(got) !== JSON.stringify(expect.forwardedBodies)) problems.push(`bodies through the forwarded port ${JSON.stringify(got)}, expected ${JSON.stringify(expect.forwardedBodies)}`);
  }
  return problems;
}

export function scenarioPaths(outDir: string, name: string): { recordPath: string; truthPath: string; dir: string } {
  return { recordPath: join(outDir, `lab-${name}.pcapng`), truthPath: join(outDir, `lab-${name}.truth.json`), dir: join(outDir, '.work', name) };
}
