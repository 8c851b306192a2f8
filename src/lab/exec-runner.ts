/**
 * The runtime side of one exec/attach session, whatever carries it (SPDY streams or WebSocket
 * channels): stdin into the process (with backpressure: a process that does not read stops the
 * connection's reads, as spdystream's blocked frame workers do; once the process has closed its stdin
 * or exited, stdin is refused for good, as containerd's), stdout/stderr out of it, resizes to
 * its pty, and — once it exited and its output is drained — the Status on the error stream, then the
 * connection closed (kubelet remotecommand ServeExec). Tallies every byte for the truth file.
 */
import type { LabProcess, ProcessResult } from './runtime.js';
import type { LabObservations, SessionObservation } from './observations.js';
import { StreamTally } from './stream-tally.js';
import { internalErrorStatus, nonZeroExitStatus, successStatus } from './status-json.js';

export interface ExecTransport {
  /** Bytes read from, and queued to, the connection so far (for the truth's content boundaries). */
  position(): { read: number; queued: number };
  write(stream: 'stdout' | 'stderr', data: Uint8Array): boolean;
  drained(): Promise<void>;
  /** The process closed this output (SPDY: DATA+FIN on the stream; WebSocket: nothing). */
  endOutput(stream: 'stdout' | 'stderr'): void;
  writeStatus(payload: string): void;
  /** Close the connection (SPDY: resets + GOAWAY; WebSocket: Close 1000). */
  finish(): void;
  pauseInput(): void;
  resumeInput(): void;
}

export interface ExecFaults {
  /** Never write the Status (nor close) after the process ends. */
  noExitStatus?: boolean;
  /** Stop reading the connection at the first stdin byte. */
  stallReader?: boolean;
}

/** v4+ writes a Status JSON always; v1–v3 only a failure's message text. */
export type StatusFormat = 'json' | 'text';

export class ExecRunner {
  private process: LabProcess | null = null;
  private readonly queuedStdin: Uint8Array[] = [];
  private stdinEnded = false;
  private queuedSize: { width: number; height: number } | null = null;
  private stalled = false;
  /** The command's stdin is gone: a stdin frame arriving now stops the connection's reads until the session closes. */
  private stdinRefused = false;
  private connectionGone = false;

  constructor(
    private readonly transport: ExecTransport,
    private readonly observations: LabObservations,
    private readonly session: SessionObservation,
    private readonly statusFormat: StatusFormat,
    private readonly faults: ExecFaults,
  ) {
    session.streams = { stdin: new StreamTally(), stdout: new StreamTally(), stderr: new StreamTally() };
    if (!session.stdin && !session.tty) session.contentEnd.c2s = 0;
  }

  stdinData(bytes: Uint8Array): void {
    if (this.stdinEnded) return;
    this.session.streams!.stdin.add(bytes);
    if (this.stdinRefused) {
      // Nobody takes this frame: the connection's reader waits on it from now on.
      this.transport.pauseInput();
      return;
    }
    const copy = Buffer.from(bytes);
    if (this.faults.stallReader && !this.stalled) {
      this.stalled = true;
      this.session.fault = 'stall-reader: stopped reading the connection at the first stdin byte';
      this.transport.pauseInput();
    }
    const stdin = this.process?.stdin;
    if (!this.process) {
      // Nothing reads stdin before the process runs: spdystream blocks its frame loop on a stream
      // nobody reads (kubernetes/kubernetes#16373), so the client is held back by TCP, not absorbed.
      this.queuedStdin.push(copy);
      this.transport.pauseInput();
    } else if (stdin && !stdin.destroyed && !stdin.write(copy) && !this.stalled) this.holdInputUntilDrained(stdin);
  }

  private holdInputUntilDrained(stdin: NonNullable<LabProcess['stdin']>): void {
    this.transport.pauseInput();
    stdin.once('drain', () => {
      if (!this.stalled && !this.stdinRefused) this.transport.resumeInput();
    });
  }

  /**
   * The command closed its stdin (a write failed with EPIPE) or exited while the client still had
   * stdin open: the rest is never read. containerd's exec IO (internal/cri/io/exec_io.go) copies the
   * stdin stream into the process with io.Copy, which returns on EPIPE, and closes the stream's reader
   * when the process exits; the next stdin frame then waits for a reader, and spdystream's frame
   * queue and connection reader with it (kubernetes/kubernetes#16373). Until the kubelet's ServeExec
   * writes the Status and closes (every stream reset, GOAWAY), the client's stdin backs up in TCP:
   * whatever it sent after the command stopped reading crosses this hop after the Status or not at
   * all — never into a reader that discards it. A client sending no stdin is not held up (PINGs are
   * still read and answered).
   */
  private refuseStdin(): void {
    if (this.stdinEnded || this.connectionGone) return;
    this.stdinRefused = true;
  }

  stdinEnd(): void {
    if (this.stdinEnded) return;
    this.stdinEnded = true;
    this.session.contentEnd.c2s ??= this.transport.position().read;
    if (this.process) this.process.stdin?.end();
  }

  resize(width: number, height: number): void {
    this.session.resizes.push({ width, height });
    if (this.process) this.process.resize(width, height);
    else this.queuedSize = { width, height };
  }

  /** The connection went away before the session finished: stdin ends, output has nowhere to go. */
  connectionClosed(how: string): void {
    if (this.session.endedAt !== null) return;
    this.connectionGone = true;
    this.stdinEnd();
    if (!this.process) this.observations.endSession(this.session, how);
    else this.session.notes.push(how);
  }

  async run(proc: LabProcess, command: readonly string[]): Promise<void> {
    this.process = proc;
    proc.stdin?.on('error', () => this.refuseStdin());
    proc.stdin?.on('close', () => this.refuseStdin());
    const queued = this.queuedStdin.splice(0);
    const room = queued.reduce((ok, chunk) => (proc.stdin?.write(chunk) ?? true) && ok, true);
    if (this.stdinEnded) proc.stdin?.end();
    if (queued.length && !this.stalled && !this.stdinRefused) {
      if (room || !proc.stdin) this.transport.resumeInput();
      else this.holdInputUntilDrained(proc.stdin);
    }
    if (this.queuedSize) proc.resize(this.queuedSize.width, this.queuedSize.height);
    this.pipeOutput(proc, 'stdout');
    this.pipeOutput(proc, 'stderr');
    const result = await proc.done;
    if (this.session.endedAt !== null) return; // the lab stopped first
    this.refuseStdin();
    if (result.kind === 'exited') this.session.processExitCode = result.exitCode;
    if (this.connectionGone) {
      this.observations.endSession(this.session, `aborted: ${this.session.notes.at(-1) ?? 'connection closed'} before the Status`);
      return;
    }
    if (this.faults.noExitStatus) {
      this.session.fault = 'no-exit-status: the process ended, the Status was never sent';
      return; // left open: the lab marks it hung when it stops
    }
    const status = statusFor(result, command, this.statusFormat);
    if (status !== null) {
      this.transport.writeStatus(status);
      this.session.statusJson = status;
    }
    this.session.contentEnd.s2c = this.transport.position().queued;
    this.transport.finish();
    this.observations.endSession(this.session, 'clean');
  }

  private pipeOutput(proc: LabProcess, name: 'stdout' | 'stderr'): void {
    const out = proc[name];
    if (!out) return;
    const tally = this.session.streams![name];
    out.on('data', (chunk: Buffer) => {
      if (this.connectionGone) return;
      tally.add(chunk);
      if (!this.transport.write(name, chunk)) {
        out.pause();
        void this.transport.drained().then(() => out.resume());
      }
    });
    out.on('end', () => {
      if (!this.connectionGone) this.transport.endOutput(name);
    });
  }
}

/** What the kubelet's ServeExec writes for the result (null: v1–v3 success writes nothing). */
export function statusFor(result: ProcessResult, command: readonly string[], format: StatusFormat): string | null {
  let json: string;
  let text: string;
  if (result.kind === 'failed') {
    const message = `error executing command in container: ${result.message}`;
    json = internalErrorStatus(message);
    text = `Internal error occurred: ${message}`;
  } else if (result.exitCode !== 0) {
    const message = `error executing command [${command.join(' ')}], exit code ${result.exitCode}`;
    json = nonZeroExitStatus(message, result.exitCode);
    text = `command terminated with non-zero exit code: ${message}`;
  } else {
    return format === 'json' ? successStatus() : null;
  }
  return format === 'json' ? json : text;
}
