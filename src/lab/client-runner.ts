/**
 * Runs a real kubectl against the lab: with piped stdio, or on a pseudo-terminal driven by a script
 * (keys typed once the screen shows what is awaited, window resizes), with a harness timeout for
 * scenarios that are meant to hang; for `kubectl port-forward`, HTTP requests through the local port
 * it opens, then Ctrl-C. Reports what kubectl printed and returned. IO code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { resizePty, spawnInPty } from './pty-helper.js';
import { StreamTally } from './stream-tally.js';
import type { ClientRecord } from './truth.js';

export type TtyStep =
  /** Keys to type. */
  | { type: string }
  /** Wait until the terminal output (since start) contains this text. */
  | { expect: string }
  | { resize: { width: number; height: number } }
  | { sleepMs: number };

export interface ClientScript {
  /** kubectl's arguments. */
  args: string[];
  /** Extra environment, e.g. KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false. */
  env?: Record<string, string>;
  /**
   * Bytes piped to kubectl's stdin (then closed); none: stdin closed at once. Large inputs are made
   * when the run starts (a function), so loading the scenarios (every lab start does) costs no memory.
   */
  stdin?: Buffer | (() => Buffer);
  /** Run kubectl on a terminal of this size, driven by `steps`. */
  tty?: { size: { width: number; height: number }; steps: TtyStep[] };
  /** Kill kubectl after this long (a scenario that hangs on purpose). */
  killAfterMs?: number;
  /**
   * kubectl port-forward: once it prints where it listens, GET each path there (a new connection
   * each), then interrupt it as Ctrl-C would.
   */
  forward?: { paths: string[] };
}

export interface ClientResult {
  record: ClientRecord;
  stdout: Buffer;
  stderr: string;
}

const STEP_TIMEOUT_MS = 15_000;
const MAX_KEPT_OUTPUT = 64 << 20;

/** Runs kubectl as `script` says; `stopped` aborted kills it (its process group), as the harness's own timeout does. */
export async function runKubectl(kubectl: string, script: ClientScript, env: NodeJS.ProcessEnv, stopped?: AbortSignal): Promise<ClientResult> {
  const started = Date.now();
  const fullEnv = { ...env, ...script.env };
  const child: ChildProcess = script.tty ? spawnInPty([kubectl, ...script.args], { env: fullEnv, size: script.tty.size }) : spawn(kubectl, script.args, { env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const stdoutTally = new StreamTally();
  const stdoutChunks: Buffer[] = [];
  let kept = 0;
  let stderr = '';
  let screen = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    stdoutTally.add(chunk);
    if (kept < MAX_KEPT_OUTPUT) {
      stdoutChunks.push(chunk);
      kept += chunk.length;
    }
    if (script.tty) {
      screen += chunk.toString('latin1');
      for (const w of waiters) w();
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 1 << 20) stderr += chunk.toString('utf8');
  });
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // kubectl leads its own process group: it must not outlive a harness that exits early.
  const killOnExit = () => killTree(child);
  process.on('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  let killed = false;
  const killTimer = script.killAfterMs
    ? setTimeout(() => {
        killed = true;
        killTree(child);
      }, script.killAfterMs)
    : null;
  const stop = () => {
    killed = true;
    killTree(child);
  };
  stopped?.addEventListener('abort', stop, { once: true });
  void exited.then(() => stopped?.removeEventListener('abort', stop));
  const stdinTally = script.stdin ? new StreamTally() : null;
  let forwarded: ForwardedRequest[] | null = null;
  if (script.tty) {
    await drive(child, script.tty.steps, () => screen, waiters).catch((err: Error) => {
      stderr += `\n[harness] ${err.message}\n`;
      killed = true;
      killTree(child);
    });
  } else if (script.forward) {
    child.stdin!.end();
    const local = () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(Buffer.concat(stdoutChunks).toString('utf8'))?.[1];
    child.stdout!.on('data', () => {
      for (const w of waiters) w();
    });
    try {
      await waitFor(() => local() !== undefined, waiters, 'kubectl never said where it forwards from', child);
      forwarded = [];
      for (const path of script.forward.paths) {
        // A request the pod refused makes kubectl ≥ 1.23 end the whole port-forward: no more requests then.
        const r = await get(Number(local()), path).catch((err: Error): ForwardedRequest => ({ path, status: 0, body: new StreamTally().digest(), error: err.message }));
        forwarded.push(r);
        if (r.error !== undefined) break;
      }
      // After a refused request kubectl is left to exit by itself (the harness timeout covers it if it does not).
      if (!forwarded.some((r) => r.error !== undefined)) child.kill('SIGINT');
    } catch (err) {
      stderr += `\n[harness] ${(err as Error).message}\n`;
      killed = true;
      killTree(child);
    }
  } else if (script.stdin) {
    const stdin = typeof script.stdin === 'function' ? script.stdin() : script.stdin;
    stdinTally!.add(stdin);
    child.stdin!.end(stdin);
  } else {
    child.stdin!.end();
  }
  const code = await exited;
  if (killTimer) clearTimeout(killTimer);
  return {
    stdout: Buffer.concat(stdoutChunks),
    stderr,
    record: {
      kind: 'kubectl',
      argv: ['kubectl', ...script.args],
      env: script.env ?? {},
      stdin_sent: stdinTally?.digest() ?? null,
      stdout_received: stdoutTally.digest(),
      stderr_text: stderr,
      exit_code: killed ? null : code,
      killed_by_harness: killed,
      duration_s: Math.round((Date.now() - started) / 10) / 100,
      ...(forwarded ? { forwarded } : {}),
    },
  };
}

export interface ForwardedRequest {
  path: string;
  status: number;
  body: ReturnType<StreamTally['digest']>;
  /** Why the request got no response (kubectl closed the forwarded connection). */
  error?: string;
}

/** One GET on a connection of its own (Connection: close), through kubectl's local port. */
function get(port: number, path: string): Promise<ForwardedRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: STEP_TIMEOUT_MS }, (res) => {
      const body = new StreamTally();
      res.on('data', (chunk: Buffer) => body.add(chunk));
      res.on('end', () => resolve({ path, status: res.statusCode ?? 0, body: body.digest() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} through port ${port} timed out`)));
    req.on('error', reject);
  });
}

async function drive(child: ChildProcess, steps: TtyStep[], screen: () => string, waiters: Set<() => void>): Promise<void> {
  for (const step of steps) {
    if ('type' in step) child.stdin!.write(step.type);
    else if ('resize' in step) resizePty(child, step.resize.width, step.resize.height);
    else if ('sleepMs' in step) await new Promise((r) => setTimeout(r, step.sleepMs));
    else await waitFor(() => screen().includes(step.expect), waiters, `terminal never showed ${JSON.stringify(step.expect)}`, child);
  }
}

function waitFor(test: () => boolean, waiters: Set<() => void>, failure: string, child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    if (test()) return resolve();
    const done = (err?: Error) => {
      waiters.delete(check);
      clearTimeout(timer);
      child.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      if (test()) done();
    };
    const onClose = () => done(new Error(`${failure} (kubectl exited)`));
    const timer = setTimeout(() => done(new Error(failure)), STEP_TIMEOUT_MS);
    waiters.add(check);
    child.once('close', onClose);
  });
}

/** kubectl and whatever it started (it leads its own process group; on a pty the helper kills its session). */
function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  if (child.stdio.length > 3) {
    child.kill('SIGTERM');
    return;
  }
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
