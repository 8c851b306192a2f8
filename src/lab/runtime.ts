/**
 * The lab's container runtime: pods and containers that are working directories of the lab, exec as
 * a real local process in that directory (on a pty when tty is asked for), and the one-time tokens
 * a CRI runtime hands the kubelet for its streaming server (cri-streaming's request cache: single
 * use, expiring after a minute). IO code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { resizePty, spawnInPty } from './pty-helper.js';
import { detectSandbox, type Sandbox } from './sandbox.js';

export interface PodSpec {
  namespace: string;
  name: string;
  /** Container names; the first is the default one. */
  containers: string[];
  uid: string;
}

/** What the kubelet asks the runtime for (CRI ExecRequest / AttachRequest). */
export interface StreamingRequest {
  kind: 'exec' | 'attach';
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** What the kubelet asks the runtime for with CRI PortForward: a pod sandbox and its ports. */
export interface PortForwardRequest {
  kind: 'portforward';
  namespace: string;
  pod: string;
  ports: number[];
}

export type ProcessResult =
  | { kind: 'exited'; exitCode: number }
  /** The process never ran (the runtime's exec failed): the Status is an InternalError. */
  | { kind: 'failed'; message: string };

export interface LabProcess {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  resize(width: number, height: number): void;
  /** Settles once the process exited and its output pipes are drained and closed. */
  done: Promise<ProcessResult>;
  kill(): void;
}

interface MainProcess {
  proc: LabProcess;
  viewers: Set<{ stdout: PassThrough | null; stderr: PassThrough | null }>;
}

/** The container's CRI id (64 hex digits, as containerd's), stable for a pod uid and container name. */
export function containerId(pod: PodSpec, container: string): string {
  return createHash('sha256').update(`${pod.uid}/${container}`).digest('hex');
}

/** The pod's CRI sandbox id (64 hex digits), stable for its uid. */
export function sandboxId(pod: PodSpec): string {
  return createHash('sha256').update(`${pod.uid}/sandbox`).digest('hex');
}

/** cri-streaming's CacheTTL. */
const TOKEN_TTL_MS = 60_000;

export class LabRuntime {
  private readonly tokens = new Map<string, { request: StreamingRequest | PortForwardRequest; expires: number }>();
  /** Process groups started (kept after exit: a background job may outlive its parent). */
  private readonly groups = new Set<number>();
  /** Containers' main processes, for attach. */
  private readonly mains = new Map<string, MainProcess>();
  /** pty helpers: stopped with SIGTERM so that they kill their terminal's whole session first. */
  private readonly ptyHelpers = new Map<number, ChildProcess>();
  private execCounter = 0;

  /** What isolates the pods' commands from this host (null: nothing, they run as the lab's user). */
  readonly sandbox: Sandbox | null;

  constructor(
    private readonly rootDir: string,
    readonly pods: readonly PodSpec[],
  ) {
    for (const pod of pods) for (const c of pod.containers) mkdirSync(this.containerDir(pod.namespace, pod.name, c), { recursive: true });
    this.sandbox = pods.length ? detectSandbox(this.containerDir(pods[0].namespace, pods[0].name, pods[0].containers[0])) : null;
  }

  /** The container a CRI container id names. */
  containerById(id: string): { namespace: string; pod: string; container: string } | undefined {
    for (const pod of this.pods) {
      for (const container of pod.containers) if (containerId(pod, container) === id) return { namespace: pod.namespace, pod: pod.name, container };
    }
    return undefined;
  }

  /** The pod a CRI sandbox id names. */
  podBySandboxId(id: string): PodSpec | undefined {
    return this.pods.find((p) => sandboxId(p) === id);
  }

  findPod(namespace: string, name: string): PodSpec | undefined {
    return this.pods.find((p) => p.namespace === namespace && p.name === name);
  }

  containerDir(namespace: string, pod: string, container: string): string {
    return join(this.rootDir, namespace, pod, container);
  }

  /**
   * CRI Exec/Attach/PortForward: validates the container (or pod) and returns a single-use token for
   * the streaming server.
   */
  requestToken(request: StreamingRequest | PortForwardRequest): { token: string } | { error: string } {
    const pod = this.findPod(request.namespace, request.pod);
    if (request.kind === 'portforward') {
      if (!pod) return { error: `pod sandbox "${request.namespace}/${request.pod}" not found` };
    } else {
      if (!pod || !pod.containers.includes(request.container)) {
        return { error: `container "${request.container}" in pod "${request.namespace}/${request.pod}" not found` };
      }
      if (request.kind === 'exec' && request.command.length === 0) return { error: 'cmd cannot be empty' };
    }
    const now = Date.now();
    for (const [t, entry] of this.tokens) if (entry.expires <= now) this.tokens.delete(t);
    const token = randomBytes(6).toString('base64url');
    this.tokens.set(token, { request, expires: now + TOKEN_TTL_MS });
    return { token };
  }

  /** The request a token stands for, once; undefined for unknown, used or expired tokens. */
  consumeToken(token: string): StreamingRequest | PortForwardRequest | undefined {
    const entry = this.tokens.get(token);
    this.tokens.delete(token);
    if (!entry || entry.expires <= Date.now()) return undefined;
    return entry.request;
  }

  /**
   * Where execs run instead of here (the docker runtime: through the Engine API, whose lab server
   * runs them with startLocal); null: here.
   */
  execVia: ((request: StreamingRequest) => LabProcess) | null = null;

  start(request: StreamingRequest): LabProcess {
    return this.execVia ? this.execVia(request) : this.startLocal(request);
  }

  /** Starts the request's command in its container's directory. */
  startLocal(request: StreamingRequest): LabProcess {
    const cwd = this.containerDir(request.namespace, request.pod, request.container);
    const execId = `${(++this.execCounter).toString(16).padStart(8, '0')}${randomBytes(28).toString('hex')}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: cwd,
      HOSTNAME: request.pod,
      LANG: process.env.LANG ?? 'C.UTF-8',
    };
    if (request.tty) env.TERM = 'xterm';
    const problem = lookPath(request.command[0] ?? '', cwd, env.PATH!);
    if (problem !== null) return failedProcess(execFailure(execId, request.command[0] ?? '', problem));
    const argv = this.sandbox ? this.sandbox.wrap(request.command, cwd) : request.command;
    const child = request.tty
      ? spawnInPty(argv, { cwd, env })
      : spawn(argv[0], argv.slice(1), {
          cwd,
          env,
          detached: true,
          stdio: [request.stdin ? 'pipe' : 'ignore', request.stdout ? 'pipe' : 'ignore', request.stderr ? 'pipe' : 'ignore'],
        });
    if (child.pid !== undefined) {
      if (request.tty) this.ptyHelpers.set(child.pid, child);
      else this.groups.add(child.pid);
    }
    if (request.tty) child.stderr?.resume(); // the helper's own complaints
    const done = new Promise<ProcessResult>((resolveDone) => {
      child.once('error', (err) => resolveDone({ kind: 'failed', message: execFailure(execId, request.command[0], (err as Error).message) }));
      child.once('close', (code, signal) => {
        resolveDone({ kind: 'exited', exitCode: code ?? 128 + signalNumber(signal) });
      });
    });
    return {
      stdin: request.stdin ? child.stdin : null,
      stdout: request.stdout ? child.stdout : null,
      stderr: !request.tty && request.stderr ? child.stderr : null,
      resize: (width, height) => {
        if (request.tty) resizePty(child, width, height);
      },
      done,
      kill: () => (request.tty ? child.kill('SIGTERM') : killGroup(child.pid)),
    };
  }

  /**
   * CRI Attach: connects to the container's main process — a shell started by the first attach (on
   * a pty if that attach asked for one), shared by every attach after it while it runs. Its output
   * goes to every attached session; the session ends when it exits (Success, as AttachContainer
   * reports it); stdin is attached once (closing it ends the shell, like stdinOnce).
   */
  attach(request: StreamingRequest): LabProcess {
    const key = `${request.namespace}/${request.pod}/${request.container}`;
    let main = this.mains.get(key);
    if (!main) {
      const proc = this.startLocal({ ...request, kind: 'exec', command: ['sh'], stdin: true, stdout: true, stderr: !request.tty });
      const created: MainProcess = { proc, viewers: new Set() };
      main = created;
      for (const name of ['stdout', 'stderr'] as const) {
        proc[name]?.on('data', (chunk: Buffer) => {
          for (const v of created.viewers) v[name]?.write(chunk);
        });
        proc[name]?.on('end', () => {
          for (const v of created.viewers) v[name]?.end();
        });
      }
      void proc.done.then(() => this.mains.delete(key));
      this.mains.set(key, main);
    }
    const attached = main;
    const viewer = {
      stdout: request.stdout ? new PassThrough() : null,
      stderr: request.stderr && !request.tty && attached.proc.stderr ? new PassThrough() : null,
    };
    attached.viewers.add(viewer);
    return {
      stdin: request.stdin ? attached.proc.stdin : null,
      stdout: viewer.stdout,
      stderr: viewer.stderr,
      resize: (width, height) => attached.proc.resize(width, height),
      done: attached.proc.done.then((result): ProcessResult => {
        attached.viewers.delete(viewer);
        return result.kind === 'failed' ? result : { kind: 'exited', exitCode: 0 };
      }),
      kill: () => attached.proc.kill(),
    };
  }

  /** The last resort when the lab's own process exits without stop(): synchronous signals only. */
  killAllNow(): void {
    for (const pid of this.groups) killGroup(pid);
    for (const helper of this.ptyHelpers.values()) helper.kill('SIGTERM');
  }

  /** Stops every process the runtime started (their whole process groups). */
  async killAll(): Promise<void> {
    for (const pid of this.groups) killGroup(pid);
    this.groups.clear();
    const helpers = [...this.ptyHelpers.values()];
    this.ptyHelpers.clear();
    await Promise.all(
      helpers.map(async (helper) => {
        if (helper.exitCode !== null || helper.signalCode !== null) return;
        const exited = new Promise((r) => helper.once('exit', r));
        helper.kill('SIGTERM');
        const late = setTimeout(() => killGroup(helper.pid), 1000);
        await exited;
        clearTimeout(late);
      }),
    );
  }
}

/** The text a containerd + runc exec failure reaches the kubelet with. */
function execFailure(execId: string, command: string, reason: string): string {
  return (
    `failed to exec in container: failed to start exec "${execId}": OCI runtime exec failed: exec failed: ` +
    `unable to start container process: exec: "${command}": ${reason}: unknown`
  );
}

/** Go's exec.LookPath in the container: null when runnable, else runc's reason. */
function lookPath(command: string, cwd: string, path: string): string | null {
  if (command === '') return 'executable file not found in $PATH';
  const candidates = command.includes('/') ? [resolve(cwd, command)] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES' && command.includes('/')) return 'permission denied';
    }
  }
  return command.includes('/') ? 'no such file or directory' : 'executable file not found in $PATH';
}

function failedProcess(message: string): LabProcess {
  return { stdin: null, stdout: null, stderr: null, resize: () => {}, done: Promise.resolve({ kind: 'failed', message }), kill: () => {} };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (SIGNALS[signal] ?? 0);
}
