/**
 * The terminal hangs up under a command that is not the TUI (the ssh connection drops under
 * `execscope tap`): the command must stop as on Ctrl-C (connections closed, the recording completed,
 * the socket file, the key directory and kubeconfig removed) and then end by SIGHUP, with nothing left
 * running in the terminal's session. Whether its SIGHUP is passed on (`pass`) or not (`keep`: the
 * command learns of the hang-up at its next write, which fails with EIO, or from its watch's look at
 * the terminal). Commands that write no terminal (extract, export, lab --scenario) must not end in
 * Node's exit either (it aborts on a hung-up terminal), nor leave an output cut short. And Ctrl-C or
 * SIGTERM while `tap` or `lab` starts stops what they made, as after their start.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, watch, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { holdFifo } from '../kit/held-fifo.js';
import { until } from '../kit/until.js';
import { CAN_TCPDUMP, strayProcesses } from '../lab/e2e-harness.js';
import { startReplyServer } from '../tap/tap-test-kit.js';
import { hangUpTerminals, LOOK } from './hang-up-kit.js';
import { CLI, type TmuxTerminal } from './tmux.js';

const { dir, start, hangUp } = hangUpTerminals();
let started = 0;

/**
 * A client of the tap that holds its connection open after sending `text`; `closed` once the tap
 * closes it. (A request's head: the redactor holds back bytes until the line they are in is whole.)
 */
function openClient(path: string, text: string): { socket: net.Socket; closed: Promise<unknown> } {
  const socket = net.connect({ path });
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.write(text);
  return { socket, closed };
}

describe.each(['keep', 'pass'] as const)('the hang-up, its SIGHUP passed on by the session leader or not (%s)', (signal) => {
  test('under `execscope tap --listen unix:…` (no TUI), a connection open: stopped as on Ctrl-C, then ended by SIGHUP', async () => {
    const upstream = await startReplyServer({ port: 0, host: '127.0.0.1' }, (received) => received);
    const listen = join(dir, `tap-${started}.sock`);
    const recording = join(dir, `tap-${started++}.pcapng`);
    const clients: net.Socket[] = [];
    try {
      const { t, out } = start(`exec ${process.execPath} ${CLI} tap --listen unix:${listen} --upstream ${upstream.address} -w ${recording}`, signal);
      await t.waitFor(/listening on unix:/);
      const request = 'GET /held-open HTTP/1.1\r\nHost: tap\r\n\r\n';
      const first = openClient(listen, request);
      clients.push(first.socket);
      await t.waitFor(/#1 .*connected/);
      // Without a SIGHUP the tap learns of the hang-up when it next writes: a second client's line.
      const second = () => clients.push(net.connect({ path: listen }).on('error', () => undefined));
      const ended = await hangUp(t, out, signal === 'keep' ? second : undefined);
      expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
      expect(existsSync(listen)).toBe(false);
      await first.closed;
      // The recording is complete: 0600, read to its end without a fault, the request in it.
      expect(statSync(recording).mode & 0o777).toBe(0o600);
      const model = await analyzeCapture(recording, analyzeOptions());
      expect(model.fatal).toBeNull();
      expect(model.connections[0].bytes.c2s).toBe(request.length);
    } finally {
      for (const client of clients) client.destroy();
      await upstream.close();
    }
  });

  test('under `execscope tap kubectl`: its key directory and kubeconfig are removed', async () => {
    const kubeconfig = unreachableKubeconfig();
    const { t, out } = start(`exec ${process.execPath} ${CLI} tap kubectl --kubeconfig ${kubeconfig}`, signal);
    const screen = await t.waitFor(/Ctrl-C stops/);
    const written = /export KUBECONFIG=(\S+)/.exec(screen)![1];
    expect(existsSync(written)).toBe(true);
    // Without a SIGHUP, a connection's line is the tap's next write.
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(screen)![1]);
    const clients: net.Socket[] = [];
    const connect = () => clients.push(net.connect({ host: '127.0.0.1', port }).on('error', () => undefined));
    try {
      const ended = await hangUp(t, out, signal === 'keep' ? connect : undefined);
      expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
      expect(existsSync(join(written, '..'))).toBe(false);
    } finally {
      for (const client of clients) client.destroy();
    }
  });
});

describe.each(['keep', 'pass'] as const)('the hang-up under the lab, its SIGHUP passed on or not (%s)', (signal) => {
  test('`execscope lab` (interactive): stopped as on Ctrl-C (recording completed, truth file written), then ended by SIGHUP', async () => {
    const labDir = join(dir, `lab-${started}`);
    const recording = join(dir, `lab-${started}.pcapng`);
    const truth = join(dir, `lab-${started++}.truth.json`);
    const { t, out } = start(`exec ${process.execPath} ${CLI} lab --plain --dir ${labDir} --record ${recording} --truth ${truth}`, signal);
    const screen = await t.waitFor(/Ctrl-C here stops the lab/);
    const apiserver = /apiserver (http:\/\/127\.0\.0\.1:\d+)/.exec(screen)![1];
    // Without a SIGHUP, a request's line is the lab's next write.
    const request = () => void fetch(`${apiserver}/version`).catch(() => undefined);
    const ended = await hangUp(t, out, signal === 'keep' ? request : undefined);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    expect(statSync(recording).mode & 0o777).toBe(0o600);
    const model = await analyzeCapture(recording, analyzeOptions());
    expect(model.fatal).toBeNull();
    // Written as the lab stops: a lab ended by the signal alone leaves none.
    expect(existsSync(truth)).toBe(true);
  });
});

describe.each(['keep', 'pass'] as const)('the hang-up under `execscope lab -- kubectl exec -it lab-0 -- sh` (the real kubectl on the terminal), its SIGHUP passed on or not (%s)', (signal) => {
  test("kubectl and the pod's shell end, the lab stops as when the command ends (recording completed, truth file written, key log 0600), then ended by SIGHUP", async () => {
    const labDir = join(dir, `lab-command-${started}`);
    const truth = join(dir, `lab-command-${started++}.truth.json`);
    // HTTPS (the default): the lab writes its TLS key log beside the recording.
    const { t, out } = start(`exec ${process.execPath} ${CLI} lab --dir ${labDir} --truth ${truth} -- kubectl exec -it lab-0 -- sh`, signal);
    await t.waitFor(/^#\s*$/m);
    t.keys('echo through-the-$((6*7))-lab', 'Enter');
    await t.waitFor(/^through-the-42-lab$/m);
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    // The pod's shell runs outside the terminal's session (the lab's runtime started it): stopped by the lab.
    await until(() => strayProcesses(labDir).length === 0, () => `the pod's processes gone: ${strayProcesses(labDir).join(' · ')}`, LOOK);
    const recording = join(labDir, 'lab.pcapng');
    for (const secret of [recording, join(labDir, 'lab.keylog')]) expect(statSync(secret).mode & 0o777).toBe(0o600);
    const model = await analyzeCapture(recording, analyzeOptions());
    expect(model.fatal).toBeNull();
    expect(model.sessions.length).toBeGreaterThan(0);
    expect(existsSync(truth)).toBe(true);
  });
});

/**
 * A SIGHUP while the command starts, before it has finished making what its stop removes. Every
 * step of a start that may wait for ever is given up: kubectl reading a kubeconfig that is a FIFO no
 * one writes (kubectl killed), a key log or recording that is a FIFO no one reads. What the start
 * made is removed, and nothing is left waiting. A command that ends by the SIGHUP's default action
 * leaves what it made.
 */
describe('a hang-up during start-up, its SIGHUP passed on', () => {
  test('`execscope tap kubectl --kubeconfig FIFO -w FILE` while kubectl waits to read the kubeconfig: the start is abandoned, kubectl killed, nothing made', async () => {
    const { tmp, fifo, recording } = kubeconfigFifo('startup');
    const { t, out } = start(`TMPDIR=${tmp} exec ${process.execPath} ${CLI} tap kubectl --kubeconfig ${fifo} -w ${recording}`, 'pass');
    const kubectl = await until(() => childNamed(t, 'kubectl'), 'kubectl reading the kubeconfig', LOOK);
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    await until(() => !existsSync(`/proc/${kubectl}`), `kubectl (${kubectl}) gone`, LOOK);
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(recording)).toBe(false);
  });

  test('`execscope tap kubectl -w FIFO` waiting for the FIFO\'s reader: the start is abandoned, its key directory removed, and nothing waits for a reader', async () => {
    const tmp = join(dir, `tmp-${started}`);
    mkdirSync(tmp);
    const fifo = join(dir, `startup-tap-${started++}.pcapng`);
    execFileSync('mkfifo', [fifo]);
    const { t, out } = start(`TMPDIR=${tmp} exec ${process.execPath} ${CLI} tap kubectl --kubeconfig ${unreachableKubeconfig()} -w ${fifo}`, 'pass');
    await t.waitFor(/waiting for a reader of .* \(a FIFO\); Ctrl-C stops/);
    expect(readdirSync(tmp).length).toBe(1);
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('`execscope tap --listen unix:… --keylog FIFO -w FILE` waiting for the key log\'s reader: the start is abandoned before the socket file and the recording are made', async () => {
    const socket = join(dir, `startup-tap-${started}.sock`);
    const recording = join(dir, `startup-tap-${started}.pcapng`);
    const fifo = join(dir, `startup-tap-${started++}.keylog`);
    execFileSync('mkfifo', [fifo]);
    const { t, out } = start(`exec ${process.execPath} ${CLI} tap --listen unix:${socket} --upstream unix:${socket}.upstream --keylog ${fifo} -w ${recording}`, 'pass');
    await t.waitFor(/waiting for a reader of .*\.keylog \(a FIFO\); Ctrl-C stops/);
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(recording)).toBe(false);
  });

  test('`execscope lab --keylog-out FIFO` waiting for the key log\'s reader: the start is abandoned, the recording it had begun completed, no truth file written', async () => {
    const labDir = join(dir, `startup-lab-${started}`);
    const truth = join(dir, `startup-lab-${started}.truth.json`);
    const recording = join(dir, `startup-lab-${started}.pcapng`);
    const fifo = join(dir, `startup-lab-${started++}.keylog`);
    execFileSync('mkfifo', [fifo]);
    const { t, out } = start(`exec ${process.execPath} ${CLI} lab --dir ${labDir} --record ${recording} --keylog-out ${fifo} --truth ${truth}`, 'pass');
    await t.waitFor(/waiting for a reader of .*\.keylog \(a FIFO\); Ctrl-C stops/);
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    expect((await analyzeCapture(recording, analyzeOptions())).fatal).toBeNull();
    expect(existsSync(truth)).toBe(false);
  });
});

const describeIfTcpdump = CAN_TCPDUMP ? describe : describe.skip;

describeIfTcpdump.each(['keep', 'pass'] as const)('the hang-up under `execscope live --json-lines`, its SIGHUP passed on or not (%s)', (signal) => {
  test('tcpdump is stopped by its PID, the -w copy reads, then the process ends by SIGHUP', async () => {
    const copy = join(dir, `live-${started++}.pcap`);
    // A filter nothing matches (the discard port): a tcpdump left behind would wait for a packet to
    // learn that its reader is gone, and none comes. Nothing is written after the capturing event:
    // without a SIGHUP, live learns of the hang-up only by looking at its terminal.
    const { t, out } = start(`exec ${process.execPath} ${CLI} live -i lo --filter "tcp port 9" -w ${copy} --json-lines`, signal);
    await t.waitFor(/"event":"capturing"/);
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    const model = await analyzeCapture(copy, analyzeOptions());
    expect(model.fatal).toBeNull();
  });
});

describe.each(['keep', 'pass'] as const)('the hang-up under a report, its SIGHUP passed on or not (%s)', (signal) => {
  test('`execscope analyze -` still reading its capture: it ends by SIGHUP, not in Node\'s exit (which aborts on a hung-up terminal)', async () => {
    // The test holds the pipe's writing end (test/kit/held-fifo.ts).
    const fifo = join(dir, `analyze-${started++}`);
    execFileSync('mkfifo', [fifo]);
    const feed = holdFifo(fifo);
    const capture = readFileSync(join('fixtures', 'demo.pcapng'));
    try {
      feed.write(capture.subarray(0, 40_000));
      const { t, out } = start(`exec ${process.execPath} ${CLI} analyze - < ${fifo}`, signal);
      // Nothing is on the screen before the report: wait for node to be running it (its platform's threads started).
      await until(() => nodeRunning(t, 'analyze'), 'node running analyze', LOOK);
      // Without a SIGHUP the report meets the hang-up as it writes: the rest of the capture comes after
      // it (or the report noticed first, by its look at the terminal, and reads no more).
      const rest = () => feed.end(capture.subarray(40_000));
      const ended = await hangUp(t, out, signal === 'keep' ? rest : undefined);
      expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    } finally {
      feed.close();
    }
  });
});

/**
 * Runs `command` in a terminal under the recorder, held until `go`: the shell waits for a line before
 * it execs the command, so its PID (the shell's, then the command's) is known before it runs.
 */
function startHeld(command: string, signal: 'pass' | 'keep'): { t: TmuxTerminal; out: string; pid: () => number; go(): void; started(): number | undefined } {
  const { t, out } = start(`read go; exec ${command}`, signal);
  let pid: number | undefined;
  const shell = () => {
    try {
      return (pid ??= t.programPid());
    } catch {
      return undefined; // not started yet
    }
  };
  return { t, out, pid: () => shell()!, go: () => t.keys('Enter'), started: shell };
}

/** The fresh output of `execscope ARGS... -o/--asciicast FILE` run to its end with no terminal: what a whole file holds. */
function wholeOutput(args: string[], file: string): Buffer {
  execFileSync(process.execPath, [CLI, ...args, file], { stdio: 'ignore', timeout: 60_000 });
  return readFileSync(file);
}

function expectWhole(written: Buffer, whole: Buffer): void {
  expect({ bytes: written.length, same: written.equals(whole) }).toEqual({ bytes: whole.length, same: true });
}

/**
 * The command is frozen (SIGSTOP, by its PID) partway, the terminal hangs up, and it goes on
 * (SIGCONT) once it has lost its terminal and, when the SIGHUP is passed on, once that is sent: it
 * then meets the hang-up mid-work, or finishes its work after it. Either way it must end by SIGHUP,
 * not in Node's exit (which aborts on a hung-up terminal), and leave its output whole or not at all.
 */
async function hangUpFrozen(held: ReturnType<typeof startHeld>, signal: 'pass' | 'keep', freezeWhen: () => Promise<void>) {
  await until(held.started, 'the shell waiting', LOOK);
  const frozen = freezeWhen().then(() => process.kill(held.pid(), 'SIGSTOP'));
  held.go();
  await frozen;
  return hangUp(held.t, held.out, async () => {
    if (signal === 'pass') await until(() => existsSync(`${held.out}.sighup`), 'the SIGHUP passed on', LOOK);
    process.kill(held.pid(), 'SIGCONT');
  });
}

/** Resolves as soon as `name` is made in `directory` (inotify: well before the command that makes it goes much further). */
function made(directory: string, name: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(directory, (_event, changed) => {
      if (changed !== name) return;
      watcher.close();
      resolve();
    });
  });
}

/** Resolves as soon as `pid` is node (the shell has exec'd it), long before it has read its capture. */
function nodeStarted(pid: () => number): Promise<void> {
  return until(() => readFileSync(`/proc/${pid()}/cmdline`, 'utf8').startsWith(process.execPath), 'node started', { everyMs: 1 }).then(() => undefined);
}

describe.each(['keep', 'pass'] as const)('the hang-up under `execscope extract -o FILE` (%s)', (signal) => {
  test('ended by SIGHUP, the file whole or removed (never cut short)', async () => {
    const args = ['extract', join('fixtures', 'demo.pcapng'), '--session', '3', '--stream', 'stdout', '-o'];
    const whole = wholeOutput(args, join(dir, `extract-whole-${started}`));
    const name = `extract-${started++}`;
    const held = startHeld(`${process.execPath} ${CLI} ${args.join(' ')} ${join(dir, name)}`, signal);
    // Frozen as the file is made, before the capture is read.
    const ended = await hangUpFrozen(held, signal, () => made(dir, name));
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    if (existsSync(join(dir, name))) expectWhole(readFileSync(join(dir, name)), whole);
  });
});

describe.each([
  ['export', (file: string) => ['export', join('fixtures', 'demo.pcapng'), '--session', '3', '--asciicast', file]],
  ['keys', () => ['keys', join('fixtures', 'tls-ws-dsb.pcapng')]],
] as const)('a hang-up without a SIGHUP under `execscope %s`, which goes on to finish', (_command, argsFor) => {
  test('ended by SIGHUP, not in Node\'s exit; an output file whole or not at all', async () => {
    const file = join(dir, `finished-${started++}`);
    const args = argsFor(file);
    const whole = args.includes(file) ? wholeOutput(args.slice(0, -1), file) : null;
    if (whole) execFileSync('rm', [file]);
    const held = startHeld(`${process.execPath} ${CLI} ${args.join(' ')}`, 'keep');
    const ended = await hangUpFrozen(held, 'keep', () => nodeStarted(held.pid));
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    if (whole && existsSync(file)) expectWhole(readFileSync(file), whole);
  });
});

describe.each(['keep', 'pass'] as const)('the hang-up under `execscope lab --scenario` running the real kubectl (%s)', (signal) => {
  test('kubectl and the lab stopped by PID, the half-made recording removed, then ended by SIGHUP', async () => {
    const outDir = join(dir, `scenario-${started++}`);
    // kubectl exec lab-0 -- sh -c 'sleep 55; echo awake': the hang-up comes while it sleeps.
    const { t, out } = start(`exec ${process.execPath} ${CLI} lab --scenario idle-pinged --out ${outDir}`, signal);
    // kubectl runs in a session of its own (the scenario runner detaches it): the lab must stop it.
    const kubectl = await until(() => childNamed(t, 'kubectl'), 'kubectl running', LOOK);
    // The session is open once the pod's shell runs (its working directory is the lab's).
    await until(() => strayProcesses(outDir).length > 0, "the pod's shell running", LOOK);
    const ended = await hangUp(t, out);
    expect(ended).toMatchObject({ code: null, signal: 'SIGHUP' });
    await until(() => !existsSync(`/proc/${kubectl}`), `kubectl (${kubectl}) gone`, LOOK);
    await until(() => strayProcesses(outDir).length === 0, () => `the pod's processes gone: ${strayProcesses(outDir).join(' · ')}`, LOOK);
    expect(readdirSync(outDir).filter((f) => f.startsWith('lab-'))).toEqual([]);
  });
});

/** The PID of a child named `name` of the terminal's program, if there is one. */
function childNamed(t: TmuxTerminal, name: string): number | undefined {
  const program = spawnSync('pgrep', ['-P', String(t.panePid())], { encoding: 'utf8', timeout: 10_000 }).stdout.trim();
  return program ? childOf(Number(program), name) : undefined;
}

/** Whether the terminal's program is node running `command`, past its start-up (Node's platform threads are started before any JavaScript runs). */
function nodeRunning(t: TmuxTerminal, command: string): boolean {
  try {
    const pid = t.programPid();
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(command)) return false;
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) >= 5;
  } catch {
    return false;
  }
}

/** For `tap kubectl --kubeconfig FIFO -w RECORDING` with TMPDIR=TMP: a FIFO no one writes, where to record, and a TMPDIR of its own (for its key directory). */
function kubeconfigFifo(test: string): { tmp: string; fifo: string; recording: string } {
  const tmp = join(dir, `tmp-${started}`);
  mkdirSync(tmp);
  const fifo = join(dir, `${test}-kubeconfig-${started}`);
  const recording = join(dir, `${test}-tap-${started++}.pcapng`);
  execFileSync('mkfifo', [fifo]);
  return { tmp, fifo, recording };
}

/** A kubeconfig `tap kubectl` reads (with the real kubectl) at start; its apiserver is never dialled. */
function unreachableKubeconfig(): string {
  const kubeconfig = join(dir, `kubeconfig-${started++}`);
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:9', 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'hang-up-token' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return kubeconfig;
}

describe('a character device on stdio that is not a terminal (a printer, /dev/net/tun)', () => {
  const device = ['/dev/net/tun', '/dev/fuse'].find((path) => existsSync(path));
  (device ? test : test.skip)(`\`execscope --help < ${device}\` ends normally: it never had a terminal to lose`, () => {
    const stdin = openSync(device!, 'r');
    const run = spawnSync(process.execPath, [CLI, '--help'], { stdio: [stdin, 'pipe', 'pipe'], timeout: 30_000 });
    closeSync(stdin);
    expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
  });
});

describe('Ctrl-C or SIGTERM while a command starts (no terminal: the signal sent by PID)', () => {
  /**
   * Runs `execscope ARGS` in a process group of its own, held in its start-up by a FIFO nothing ever
   * opens from the other end: `signal` is sent once `held` says so, and the start must give up.
   */
  async function signalDuringStart(args: string[], env: NodeJS.ProcessEnv, held: (pid: number) => boolean, signal: 'SIGINT' | 'SIGTERM') {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore', detached: true, env: { ...process.env, ...env } });
    try {
      await until(() => held(child.pid!), 'the start-up held', LOOK);
      child.kill(signal);
      // Bounded, so that the finally below stops what a command that never ends leaves running.
      return await until(() => exited(child), 'the command ending', LOOK);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  test('`execscope tap kubectl`, Ctrl-C while kubectl waits to read the kubeconfig (a FIFO no one writes): the start is abandoned at once, kubectl killed, nothing made, exit 130', async () => {
    const { tmp, fifo, recording } = kubeconfigFifo('signal');
    const args = ['tap', 'kubectl', '--kubeconfig', fifo, '-w', recording];
    let kubectl: number | undefined;
    const ended = await signalDuringStart(args, { TMPDIR: tmp }, (pid) => (kubectl = childOf(pid, 'kubectl')) !== undefined, 'SIGINT');
    expect(ended).toEqual({ code: 130, signal: null });
    await until(() => !existsSync(`/proc/${kubectl}`), `kubectl (${kubectl}) gone`, LOOK);
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(recording)).toBe(false);
  });

  test('`execscope lab --keylog-out FIFO`, SIGTERM while it waits for the key log\'s reader: the start is abandoned at once (the recording it had begun completed, no truth file), exit 143', async () => {
    const labDir = join(dir, `signal-lab-${started}`);
    const truth = join(dir, `signal-lab-${started}.truth.json`);
    const recording = join(dir, `signal-lab-${started}.pcapng`);
    const fifo = join(dir, `signal-lab-${started++}.keylog`);
    execFileSync('mkfifo', [fifo]);
    const args = ['lab', '--dir', labDir, '--record', recording, '--truth', truth, '--keylog-out', fifo];
    // Its recording made: the start has gone on to the key log, which nothing will ever read.
    const ended = await signalDuringStart(args, {}, () => existsSync(recording), 'SIGTERM');
    expect(ended).toEqual({ code: 143, signal: null });
    expect((await analyzeCapture(recording, analyzeOptions())).fatal).toBeNull();
    expect(existsSync(truth)).toBe(false);
  });

  test('`execscope lab --record FIFO`, Ctrl-C while it waits for the FIFO\'s reader: the start is abandoned at once (no truth file, no directory of its own left), exit 130', async () => {
    const tmp = join(dir, `tmp-${started}`);
    mkdirSync(tmp);
    const truth = join(dir, `signal-lab-${started}.truth.json`);
    const fifo = join(dir, `signal-lab-${started++}.pcapng`);
    execFileSync('mkfifo', [fifo]);
    const args = ['lab', '--record', fifo, '--truth', truth];
    // Its own directory made: the start is under way, and nothing will ever read the FIFO.
    const ended = await signalDuringStart(args, { TMPDIR: tmp }, () => readdirSync(tmp).length > 0, 'SIGINT');
    expect(ended).toEqual({ code: 130, signal: null });
    expect(existsSync(truth)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('`execscope tap kubectl -w FIFO`, SIGTERM while it waits for the FIFO\'s reader: the start is abandoned (key directory removed), exit 143', async () => {
    const tmp = join(dir, `tmp-${started}`);
    mkdirSync(tmp);
    const fifo = join(dir, `signal-tap-${started++}.pcapng`);
    execFileSync('mkfifo', [fifo]);
    const args = ['tap', 'kubectl', '--kubeconfig', unreachableKubeconfig(), '-w', fifo];
    // Its key directory made: the start has gone on to the recording, which nothing will ever read.
    const ended = await signalDuringStart(args, { TMPDIR: tmp }, () => readdirSync(tmp).length > 0, 'SIGTERM');
    expect(ended).toEqual({ code: 143, signal: null });
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('`execscope lab --scenario` running the real kubectl, Ctrl-C: kubectl and the lab stopped, the half-made recording removed, exit 130', async () => {
    const outDir = join(dir, `signal-scenario-${started++}`);
    mkdirSync(outDir);
    const child = spawn(process.execPath, [CLI, 'lab', '--scenario', 'idle-pinged', '--out', outDir], { stdio: 'ignore', detached: true });
    try {
      // kubectl exec lab-0 -- sh -c 'sleep 55; echo awake': the signal comes while it sleeps, once the pod's shell runs.
      const kubectl = await until(() => childOf(child.pid!, 'kubectl'), 'kubectl running', LOOK);
      await until(() => strayProcesses(outDir).length > 0, "the pod's shell running", LOOK);
      child.kill('SIGINT');
      expect(await until(() => exited(child), 'the lab ending', LOOK)).toEqual({ code: 130, signal: null });
      await until(() => !existsSync(`/proc/${kubectl}`), `kubectl (${kubectl}) gone`, LOOK);
      await until(() => strayProcesses(outDir).length === 0, () => `the pod's processes gone: ${strayProcesses(outDir).join(' · ')}`, LOOK);
      expect(readdirSync(outDir).filter((f) => f.startsWith('lab-'))).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

/** How a child process ended, once it has. */
function exited(child: ChildProcess): { code: number | null; signal: string | null } | undefined {
  return child.exitCode === null && child.signalCode === null ? undefined : { code: child.exitCode, signal: child.signalCode };
}

/** The PID of a child of `pid` named `name`, if there is one. */
function childOf(pid: number, name: string): number | undefined {
  const found = spawnSync('pgrep', ['-P', String(pid), '-x', name], { encoding: 'utf8', timeout: 10_000 });
  return found.status === 0 ? Number(found.stdout.trim().split('\n')[0]) : undefined;
}
