/**
 * `execscope lab`: starts the loopback chain the real kubectl can exec into and records every hop;
 * runs one command against it (`-- COMMAND`) or stays up until interrupted; or runs a named scenario
 * with the real kubectl and writes its recording and truth file. A hang-up of the terminal stops it
 * as Ctrl-C does (the command first), then ends the process by SIGHUP (terminal/hang-up.ts). IO code.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { lastOption, parseArgs, UsageError, type ParsedArgs } from '../cli/args.js';
import { openCommands } from '../cli/open-hint.js';
import { endedByHangUp, endOnHangUp } from '../terminal/hang-up.js';
import { safeInline } from '../report/terminal-text.js';
import { listenForStopSignals, signalExitStatus } from '../terminal/stop-signals.js';
import { faultHelp, FaultError, parseFault } from './faults.js';
import { CONTAINERD_DEFAULT_IMAGE } from './containerd-runtime.js';
import { BUSYBOX_IMAGE } from './dockerd.js';
import { DEFAULT_PODS, Lab } from './lab.js';
import { requestLogLine } from './request-log.js';
import type { HopId } from './observations.js';
import type { PodSpec } from './runtime.js';
import type { ClientResult } from './client-runner.js';
import { clientProblems, runScenario, scenarioPaths } from './scenario-runner.js';
import { findScenario, SCENARIOS } from './scenarios.js';
import { labTruth } from './truth.js';

export const LAB_HELP = `Usage: execscope lab [options] [-- COMMAND [ARG]...]

  Starts on 127.0.0.1 a chain the real kubectl can exec into — kube-apiserver → kubelet (→ runtime, CRI
  gRPC, for a one-time token) → CRI streaming server → a local process — each hop its own TCP
  connection, and records every hop into one pcapng (one interface per hop, TLS keys embedded). Prints an "export KUBECONFIG=…" line; then
  kubectl exec -it lab-0 -- sh is a live shell in a directory of the lab, and kubectl port-forward
  pod/lab-0 8080:80 reaches the pod's HTTP server (GET /bytes/N answers N bytes).

  --plain                      plain HTTP apiserver (default: HTTPS with a fresh self-signed certificate)
  --pod [NS/]NAME[:C1,C2,...]  a pod and its containers, the first the default one (repeatable;
                               default: default/lab-0 with container main)
  --fault NAME[=VALUE][@HOP]   inject a fault (repeatable; listed below)
  --dir DIR                    the lab's working directory (default: a new directory under ${tmpdir()})
  --kubeconfig-out FILE        where to write the kubeconfig (default DIR/kubeconfig)
  --record FILE                the recording (default DIR/lab.pcapng); open it with: execscope FILE
  --record-mss BYTES           largest TCP payload per recorded segment (default 65483, loopback's;
                               1448 cuts it as an Ethernet network would)
  --keylog-out FILE            the NSS key log of the apiserver's TLS (default DIR/lab.keylog)
  --truth FILE                 when the lab stops, write what its servers observed (truth file format)
  --apiserver-port PORT        listen on fixed ports instead of free ones, e.g. --kubelet-port 10250
  --kubelet-port PORT          as on a node, so tcpdump -i lo 'tcp port 10250' sees the kubelet hop
  --runtime-port PORT          (the runtime's CRI gRPC) and --cri-port PORT (the streaming server)
  --kubelet-websockets         the 1.36 topology (ExtendWebSocketsToKubelet): the apiserver passes
                               kubectl's v5 WebSocket through, the kubelet translates it to SPDY
  --containerd SOCKET          a real containerd (CRI plugin on) is the runtime: the lab creates its
                               pods there (host network) and the kubelet calls its CRI and streaming
                               server; both legs are relayed and recorded
  --containerd-image REF       the image for those containers (default execscope.local/busybox:1)
  --runtime docker             the docker runtime, as dockershim ran execs: Engine API calls (create,
                               hijacked start, resize, inspect polls) to a docker-shaped server on
                               DIR/docker.sock, recorded as the kubelet→docker hop
  --dockerd SOCKET             with --runtime docker: a real dockerd instead (the lab creates the pods'
                               containers there and removes them when it stops)
  --dockerd-image REF          the image for those containers (default execscope-busybox:1)
  -- COMMAND [ARG]...          run COMMAND with KUBECONFIG set, then stop; exit with its status
  --split-hops OFFSET_MS       also write the recording as one file per hop (FILE.apiserver.pcapng …), hop k's
                               clock off by k × OFFSET_MS, the TLS key log beside them (FILE.keylog), as
                               captures from several nodes would be: execscope FILE.*.pcapng merges them
  --scenario NAME [--out DIR]  run a named scenario with the real kubectl; write DIR/lab-NAME.pcapng and
                               its .truth.json (default DIR: .); --scenario list shows them

  Without -- COMMAND the lab runs until Ctrl-C (SIGINT) or SIGTERM, then completes the recording.

Faults (HOP is apiserver, kubelet or cri):
${faultHelp()}
`;

export async function labCommand(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof UsageError || err instanceof FaultError) {
      process.stderr.write(`execscope lab: ${err.message}\n(see execscope lab --help)\n`);
      return 1;
    }
    throw err;
  }
}

function recordMss(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const mss = Number(value);
  if (!Number.isInteger(mss) || mss < 1 || mss > 65495) throw new UsageError(`--record-mss takes a segment size from 1 to 65495 bytes, not ${JSON.stringify(value)}`);
  return mss;
}

async function run(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const command = split >= 0 ? argv.slice(split + 1) : [];
  const args = parseArgs(joinFaultValues(split >= 0 ? argv.slice(0, split) : argv), {
    flags: ['--plain', '--help', '--kubelet-websockets'],
    options: [
      '--pod',
      '--fault',
      '--dir',
      '--kubeconfig-out',
      '--record',
      '--record-mss',
      '--keylog-out',
      '--truth',
      '--scenario',
      '--out',
      '--containerd',
      '--containerd-image',
      '--split-hops',
      '--runtime',
      '--dockerd',
      '--dockerd-image',
      ...HOP_PORT_FLAGS.map(([flag]) => flag),
    ],
  });
  if (args.flags.has('--help')) {
    process.stdout.write(LAB_HELP);
    return 0;
  }
  if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]} (a command to run goes after --)`);
  const scenario = lastOption(args, '--scenario');
  const splitOffsetMs = splitHops(lastOption(args, '--split-hops'));
  if (scenario !== undefined) {
    return runNamedScenario(scenario, lastOption(args, '--out') ?? '.', splitOffsetMs, { plain: args.flags.has('--plain'), recordMss: recordMss(lastOption(args, '--record-mss')) });
  }
  const options = {
    tls: !args.flags.has('--plain'),
    pods: args.options.get('--pod')?.map(parsePod) ?? DEFAULT_PODS,
    faults: (args.options.get('--fault') ?? []).map(parseFault),
    recordMss: recordMss(lastOption(args, '--record-mss')),
    keyLogPath: resolvePath(lastOption(args, '--keylog-out')),
    kubeconfigPath: resolvePath(lastOption(args, '--kubeconfig-out')),
    kubeletWebSockets: args.flags.has('--kubelet-websockets'),
    containerd: containerdOption(lastOption(args, '--containerd'), lastOption(args, '--containerd-image')),
    dockerRuntime: dockerRuntimeOption(lastOption(args, '--runtime'), args.options.has('--containerd')),
    dockerd: dockerdOption(lastOption(args, '--runtime'), lastOption(args, '--dockerd'), lastOption(args, '--dockerd-image')),
    ports: hopPorts(args),
  };
  // What the end of the command or Ctrl-C leads to, and a hang-up of the terminal too: the lab's
  // servers and processes stopped, the recording completed, the truth and split files written.
  let stopping: Promise<void> | null = null;
  const stop = (lab: Lab) =>
    (stopping ??= (async () => {
      await lab.stop();
      const truthPath = resolvePath(lastOption(args, '--truth'));
      if (truthPath) {
        const truth = labTruth(lab, { scenario: 'interactive', description: command.length ? command.join(' ') : 'interactive lab session', clients: [] });
        writeFileSync(truthPath, `${JSON.stringify(truth, null, 2)}\n`);
      }
      if (splitOffsetMs !== undefined && lab.recordPath) await writeSplit(lab.recordPath, splitOffsetMs);
    })());
  // The watch is on before the lab makes anything (its recording, key log, servers): a SIGHUP during
  // start-up would otherwise end the process by its default action, the recording left incomplete.
  // A hang-up then waits for the start to finish and stops the lab it made. The watch stays to the
  // end: a terminal gone without a SIGHUP shows as EIO on a later write, or to the watch's checks.
  let starting: Promise<Lab> | null = null;
  let running: ReturnType<typeof runCommand> | null = null;
  let hungUp = false;
  // Ctrl-C or SIGTERM while the lab starts stops it once started, as after its start.
  const stopSignals = listenForStopSignals();
  endOnHangUp({
    streams: [process.stdout, process.stderr],
    stop: async () => {
      hungUp = true;
      stopSignals.abandonStart();
      const started = await starting?.catch(() => null);
      if (!started) return;
      await running?.hangUp();
      await stop(started);
    },
  });
  const ownDir = lastOption(args, '--dir') === undefined;
  const dir = resolve(lastOption(args, '--dir') ?? mkdtempSync(join(tmpdir(), 'execscope-lab-')));
  const recordPath = resolvePath(lastOption(args, '--record')) ?? join(dir, 'lab.pcapng');
  /** The FIFO (recording or key log) whose reader the start waits for. */
  let waitingFor = '';
  const onWaitingForReader = (path: string) => {
    waitingFor = safeInline(path, 200);
    process.stderr.write(`execscope lab: waiting for a reader of ${waitingFor} (a FIFO); Ctrl-C stops\n`);
  };
  starting = Lab.start({ ...options, dir, recordPath, onWaitingForReader, abort: stopSignals.startAbandoned });
  let lab: Lab;
  try {
    lab = await starting;
  } catch (err) {
    if (!stopSignals.startAbandoned.aborted) throw err;
    // Abandoned while it waited for a FIFO's reader (Lab.start stopped what it had made, completing a
    // recording it had begun): the directory it was given to work in, if this made it, goes too.
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    if (hungUp) return endedByHangUp();
    const signal = await stopSignals.received;
    process.stderr.write(`execscope lab: stopped by ${signal} while waiting for a reader of ${waitingFor}\n`);
    return signalExitStatus(signal);
  }
  if (hungUp) return endedByHangUp();
  const signalled = await stopSignals.afterStart();
  let exitCode: number;
  if (signalled) {
    exitCode = signalExitStatus(signalled);
  } else if (command.length) {
    describe(lab, true);
    // From here Ctrl-C is the command's (runCommand): the lab stays up until the command is gone.
    stopSignals.dispose();
    running = runCommand(command, lab);
    exitCode = await running.exited;
  } else {
    describe(lab, false);
    // Interactive: a line per request and per session end, so one sees the traffic arrive.
    lab.observations.watch((activity) => process.stderr.write(`${requestLogLine(activity)}\n`));
    await stopSignals.received;
    exitCode = 0;
  }
  await stop(lab);
  const sessions = lab.observations.sessions.length;
  process.stderr.write(`execscope lab: stopped; ${sessions} exec session${sessions === 1 ? '' : 's'} across the hops recorded in ${lab.recordPath}\n`);
  if (lab.recordPath) {
    const [inClone, anywhere] = openCommands(lab.recordPath);
    process.stderr.write(`  open it with: ${inClone}   (inside the execscope clone)\n`);
    process.stderr.write(`           or: ${anywhere}\n`);
  }
  return exitCode;
}

const HOP_PORT_FLAGS: [string, HopId][] = [
  ['--apiserver-port', 'apiserver'],
  ['--kubelet-port', 'kubelet'],
  ['--runtime-port', 'runtime'],
  ['--cri-port', 'cri'],
];

/** --kubelet-port 10250 and the like: the hops that listen on a port of the user's choosing. */
function hopPorts(args: ParsedArgs): Partial<Record<HopId, number>> {
  const ports: Partial<Record<HopId, number>> = {};
  for (const [flag, hop] of HOP_PORT_FLAGS) {
    const value = lastOption(args, flag);
    if (value === undefined) continue;
    const port = Number(value);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`${flag} takes a TCP port from 1 to 65535, not ${JSON.stringify(value)}`);
    ports[hop] = port;
  }
  return ports;
}

function containerdOption(socket: string | undefined, image: string | undefined): { socket: string; image: string } | null {
  if (socket === undefined) {
    if (image !== undefined) throw new UsageError('--containerd-image needs --containerd SOCKET');
    return null;
  }
  return { socket: resolve(socket), image: image ?? CONTAINERD_DEFAULT_IMAGE };
}

/** `--fault idle-drop 30` means `--fault idle-drop=30`. */
function joinFaultValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i - 1] === '--fault' && !argv[i].includes('=') && next !== undefined && /^\d+(\.\d+)?(@[a-z]+)?$/.test(next)) {
      const [value, hop] = next.split('@');
      const [name, at] = argv[i].split('@');
      out.push(`${name}=${value}${hop ? `@${hop}` : at ? `@${at}` : ''}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

function resolvePath(path: string | undefined): string | undefined {
  return path === undefined ? undefined : resolve(path);
}

/** `[NS/]NAME[:C1,C2,...]`. */
export function parsePod(text: string): PodSpec {
  const match = /^(?:([a-z0-9][a-z0-9-]*)\/)?([a-z0-9][a-z0-9.-]*)(?::([a-z0-9][a-z0-9-]*(?:,[a-z0-9][a-z0-9-]*)*))?$/.exec(text);
  if (!match) throw new UsageError(`--pod ${JSON.stringify(text)}: expected [NAMESPACE/]NAME[:CONTAINER,...] (lower-case DNS names)`);
  const [, namespace = 'default', name, containers = 'main'] = match;
  const hex = createHash('sha256').update(`${namespace}/${name}`).digest('hex');
  const uid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { namespace, name, containers: [...new Set(containers.split(','))], uid };
}

function describe(lab: Lab, running: boolean): void {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  err(
    `execscope lab: apiserver ${lab.serverUrl} → kubelet 127.0.0.1:${lab.port('kubelet')} → ` +
      `runtime (CRI gRPC) 127.0.0.1:${lab.port('runtime')} · streaming server 127.0.0.1:${lab.port('cri')}`,
  );
  err(`  pods: ${lab.runtime.pods.map((p) => `${p.namespace}/${p.name} [${p.containers.join(', ')}]`).join(' · ')}`);
  if (lab.options.faults.length) err(`  faults: ${lab.options.faults.map((f) => `${f.name}${f.value !== undefined ? `=${f.value}` : ''}@${f.hop}`).join(' · ')}`);
  err(`  recording every hop to ${lab.recordPath}${lab.keyLogPath ? ` (TLS keys inside it and in ${lab.keyLogPath})` : ''}`);
  if (lab.options.dockerRuntime) {
    const engine = lab.options.dockerd ? `the real dockerd at ${lab.options.dockerd.socket} (image ${lab.options.dockerd.image})` : join(lab.options.dir, 'docker.sock');
    err(`  runtime: docker (dockershim-style Engine API calls to ${engine}, hop 127.0.0.1:${lab.port('docker')})`);
  }
  if (lab.options.containerd) err(`  runtime: containerd at ${lab.options.containerd.socket} (image ${lab.options.containerd.image})`);
  else {
    err(`  containers' working directories: ${join(lab.options.dir, 'containers')}`);
    err(
      lab.runtime.sandbox
        ? `  sandbox: ${lab.runtime.sandbox.description}`
        : `  sandbox: NONE (bubblewrap is not available here): commands in the pods run on this host as you`,
    );
  }
  if (!running) {
    process.stdout.write(`export KUBECONFIG=${lab.kubeconfigPath}\n`);
    err(`  then try: kubectl exec -it ${lab.runtime.pods[0].name} -- sh      (Ctrl-C here stops the lab)`);
  }
}

/** COMMAND on the lab: `exited` with its status; `hangUp` passes the terminal's hang-up on to it (it shares the terminal) and waits for its end. */
function runCommand(command: string[], lab: Lab): { exited: Promise<number>; hangUp(): Promise<void> } {
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, KUBECONFIG: lab.kubeconfigPath } });
  const exited = new Promise<number>((resolveExit) => {
    // Ctrl-C reaches the command through the terminal: the lab stays up until the command is gone.
    const ignore = () => {};
    const forward = () => child.kill('SIGTERM');
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    const done = (code: number) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      resolveExit(code);
    };
    child.once('error', (err) => {
      process.stderr.write(`execscope lab: cannot run ${command[0]}: ${err.message}\n`);
      done(127);
    });
    child.once('exit', (code, signal) => done(code ?? (signal === 'SIGINT' ? 130 : signal ? 143 : 1)));
  });
  return {
    exited,
    hangUp: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGHUP');
      await exited;
    },
  };
}

function splitHops(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!Number.isFinite(ms) || Math.abs(ms) > 86_400_000) throw new UsageError(`--split-hops takes a clock offset in milliseconds, not ${JSON.stringify(value)}`);
  return ms;
}

/** --split-hops: the recording as one file per hop, each hop's clock OFFSET ms further off than the one before. */
async function writeSplit(recordPath: string, offsetMs: number): Promise<void> {
  const { splitRecording } = await import('./split-recording.js');
  const split = await splitRecording(recordPath, recordPath.replace(/\.pcapng$/, ''), offsetMs * 1e6);
  for (const f of split.files) process.stderr.write(`  ${f.interfaceName}: ${f.path} (clock ${f.offsetNs / 1e6 >= 0 ? '+' : ''}${f.offsetNs / 1e6} ms)\n`);
}

async function runNamedScenario(name: string, outDir: string, splitOffsetMs?: number, lab: { plain: boolean; recordMss?: number } = { plain: false }): Promise<number> {
  if (name === 'list') {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(28)} ${s.description}\n`);
    return 0;
  }
  const scenario = findScenario(name);
  if (!scenario) throw new UsageError(`no scenario ${name} (--scenario list shows them)`);
  const paths = scenarioPaths(resolve(outDir), name);
  // A hang-up, Ctrl-C or SIGTERM cuts the scenario short: kubectl killed, the lab stopped, and its
  // recording removed (a recording of half a scenario, with no truth file, is no fixture); then the
  // process ends by SIGHUP, or exits as the signal's status. Once the scenario has run, its split
  // files are written whole first.
  const stopped = new AbortController();
  const stopSignals = listenForStopSignals();
  void stopSignals.received.then(() => stopped.abort());
  const finished = (async () => {
    const { client } = await runScenario(scenario, { ...paths, keyLogPath: join(paths.dir, 'lab.keylog'), ...lab, stopped: stopped.signal });
    if (splitOffsetMs !== undefined) await writeSplit(paths.recordPath, splitOffsetMs);
    return client;
  })();
  const cutShort = finished.then(
    () => false,
    () => {
      if (!stopped.signal.aborted) return false;
      rmSync(paths.recordPath, { force: true });
      rmSync(paths.truthPath, { force: true });
      return true;
    },
  );
  let hungUp = false;
  endOnHangUp({
    streams: [process.stdout, process.stderr],
    stop: async () => {
      hungUp = true;
      stopped.abort();
      await cutShort;
    },
  });
  let client: ClientResult;
  try {
    client = await finished;
  } catch (err) {
    if (!(await cutShort)) throw err;
    return hungUp ? endedByHangUp() : signalExitStatus(await stopSignals.received);
  } finally {
    stopSignals.dispose();
  }
  const problems = clientProblems(scenario, client);
  process.stderr.write(`${problems.length ? 'UNEXPECTED' : 'ok'} ${name}: ${paths.recordPath}\n`);
  for (const p of problems) process.stderr.write(`  ${p}\n`);
  return problems.length ? 1 : 0;
}

/** `--runtime docker` (the lab's own CRI runtime is the default and has no name to give). */
function dockerRuntimeOption(runtime: string | undefined, containerd: boolean): boolean {
  if (runtime === undefined) return false;
  if (runtime !== 'docker') throw new UsageError(`--runtime ${runtime}: only docker is known (containerd: --containerd SOCKET)`);
  if (containerd) throw new UsageError('--runtime docker and --containerd are two different runtimes: pick one');
  return true;
}

function dockerdOption(runtime: string | undefined, socket: string | undefined, image: string | undefined): { socket: string; image: string } | null {
  if (socket === undefined) {
    if (image !== undefined) throw new UsageError('--dockerd-image needs --dockerd SOCKET');
    return null;
  }
  if (runtime !== 'docker') throw new UsageError('--dockerd SOCKET needs --runtime docker');
  return { socket: resolve(socket), image: image ?? BUSYBOX_IMAGE };
}
