/**
 * `execscope live`: runs tcpdump (or dumpcap) and feeds what it captures into the same incremental
 * pipeline as a file; opens the TUI following it, or prints JSON lines. Stops the capture program by
 * its PID on q / Ctrl-C / SIGTERM, so a -w file is left complete; on a hang-up of the terminal too,
 * and then the process ends by SIGHUP (terminal/hang-up.ts). IO code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, writeSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { lastOption, parseArgs, UsageError } from '../cli/args.js';
import { analyzeOptions } from '../pipeline/options.js';
import { safeInline } from '../report/terminal-text.js';
import { endOnHangUp } from '../terminal/hang-up.js';
import { captureArgs, captureFailure, captureFilter, DEFAULT_PORTS, droppedPackets, type CaptureTool } from './capture-tool.js';
import { openTui, printJsonLine, printJsonLines } from './follow-capture.js';
import { followKeyLogs } from './key-log-follower.js';

export const LIVE_HELP = `Usage: execscope live [-i IFACE] [-f BPF | --port N ...] [-w FILE] [--json-lines] [--keylog FILE]...

  Captures with tcpdump (or dumpcap) and follows the exec sessions as they happen: the TUI, or one
  JSON object per line with --json-lines (session, data, half-close, reset, status, session-ended,
  finding, warning) for scripts and CI. q or Ctrl-C stops the capture program and leaves FILE complete.

  -i IFACE        interface (default any)
  -f BPF          capture filter (default: tcp port ${DEFAULT_PORTS.join(', ')} and every --port)
  --port N        also capture this TCP port (repeatable)
  -w FILE         keep what was captured (pcap from tcpdump, pcapng from dumpcap; mode 0600)
  --json-lines    print events instead of opening the TUI
  --keylog FILE   NSS key log, followed as it grows: keys appended later decrypt later connections
                  (a secret missing when its packet is decoded is waited for, up to 0.1 s once
                  per connection: one logged just after its packet left is there in time)

  tcpdump needs root or the capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)
`;

export async function liveCommand(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`execscope live: ${safeInline(err.message)}\n(see execscope live --help)\n`);
      return 1;
    }
    throw err;
  }
}

async function run(argv: string[]): Promise<number> {
  const renamed: Record<string, string> = { '-i': '--interface', '-f': '--filter', '-w': '--write' };
  const args = parseArgs(argv.map((a) => renamed[a] ?? a), {
    flags: ['--json-lines', '--help'],
    options: ['--interface', '--filter', '--port', '--write', '--keylog'],
  });
  if (args.flags.has('--help')) {
    process.stdout.write(LIVE_HELP);
    return 0;
  }
  if (args.positionals.length) throw new UsageError(`unexpected argument ${safeInline(args.positionals[0], 80)}`);
  const ports = (args.options.get('--port') ?? []).map((p) => {
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new UsageError(`not a port: ${safeInline(p, 20)}`);
    return Number(p);
  });
  const request = { iface: lastOption(args, '--interface') ?? 'any', filter: lastOption(args, '--filter'), ports };
  const jsonLines = args.flags.has('--json-lines');
  const writeTo = lastOption(args, '--write');
  let keyLogs: ReturnType<typeof followKeyLogs> | null = null;
  try {
    keyLogs = followKeyLogs(args.options.get('--keylog') ?? []);
  } catch (err) {
    throw new UsageError(`cannot read the key log: ${(err as Error).message}`);
  }
  const tool = findTool();
  if (tool === null) return fail(captureFailure(null, '')!);
  let copy: number | null = null;
  if (writeTo) {
    try {
      copy = openSync(writeTo, 'w', 0o600);
    } catch (err) {
      throw new UsageError(`cannot write ${writeTo}: ${(err as Error).message}`);
    }
  }
  const child = spawn(tool, captureArgs(tool, request), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let spawnError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  const ready = new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
      if (/listening on|Capturing on/.test(stderr)) resolve();
    });
  });
  const stop = () => stopCapture(child);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // A hang-up stops the capture program as Ctrl-C does and waits for its last packets (into the -w
  // copy) before the process ends by SIGHUP. The TUI watches for the hang-up itself; without it the
  // watch stays to the end: a terminal gone without a SIGHUP shows only as EIO on a later write.
  const stopOnHangUp = async () => {
    stop();
    await exited;
  };
  if (jsonLines) endOnHangUp({ streams: [process.stdout, process.stderr], stop: stopOnHangUp });
  // Nothing is shown before the capture program captures: a refusal is one line, not an empty TUI.
  const gone = new Promise<false>((resolve) => {
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  if (!(await Promise.race([ready.then(() => true as const), gone]))) {
    child.stdout!.resume(); // drained, so the child's 'close' (all of its stderr read) comes
    await exited;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    keyLogs.stop();
    if (copy !== null) closeSync(copy);
    return fail(captureFailure(tool, stderr, spawnError) ?? `${tool} ended before capturing: ${stderr.trim().split('\n').pop() ?? ''}`);
  }
  if (jsonLines) printJsonLine({ event: 'capturing', tool, pid: child.pid, interface: request.iface, filter: captureFilter(request) });
  // The pipe is read as fast as tcpdump writes and queued: a reader that waited on the decoder
  // would leave tcpdump blocked on a full pipe, its capture buffer overflowing (a 25 MB exec output
  // lost megabytes when chunks were held back).
  const queue: Buffer[] = [];
  let piped = false;
  let wake: (() => void) | null = null;
  child.stdout!.on('data', (chunk: Buffer) => {
    if (copy !== null) for (let at = 0; at < chunk.length; ) at += writeSync(copy, chunk, at);
    queue.push(chunk);
    wake?.();
  });
  child.stdout!.once('close', () => {
    piped = true;
    wake?.();
  });
  const input = {
    name: `${tool} -i ${request.iface}`,
    chunks: (async function* () {
      for (;;) {
        const next = queue.shift();
        if (!next) {
          if (piped) return;
          await new Promise<void>((r) => (wake = r));
          wake = null;
          continue;
        }
        yield next as Uint8Array;
      }
    })(),
  };
  // tcpdump and dumpcap write packets in order: nothing needs to wait for a later packet.
  const opts = analyzeOptions({ keys: keyLogs.keys, reorderHoldNs: 0 });
  let code: number;
  try {
    code = jsonLines ? await printJsonLines(input, opts) : await openTui(input, { title: input.name, readBack: writeTo, live: true, onHangUp: stopOnHangUp }, opts);
  } finally {
    stop();
  }
  const exitCode = await exited;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  keyLogs.stop();
  if (copy !== null) closeSync(copy);
  const failure = captureFailure(tool, stderr, spawnError);
  if (failure && exitCode !== 0) return fail(failure);
  // Only the capture program knows, and it says so when it stops: the decode just saw TCP gaps.
  const dropped = droppedPackets(stderr);
  if (dropped) process.stderr.write(`execscope live: ${tool} dropped ${dropped} packet${dropped === 1 ? '' : 's'} (its capture buffer overflowed): streams show gaps where they were, and findings may follow from them\n`);
  for (const problem of keyLogs.problems.slice(0, 5)) process.stderr.write(`execscope live: ${safeInline(problem, 300)}\n`);
  return code;
}

function stopCapture(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
}

function findTool(): CaptureTool | null {
  for (const tool of ['tcpdump', 'dumpcap'] as const) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      try {
        accessSync(join(dir, tool), constants.X_OK);
        return tool;
      } catch {
        // not here
      }
    }
  }
  return null;
}

function fail(message: string): number {
  process.stderr.write(`execscope live: ${safeInline(message, 400)}\n`);
  return 1;
}

