#!/usr/bin/env node
/** The execscope command line: analyze, extract, keys, and the TUI. */
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { once } from 'node:events';
import { basename } from 'node:path';
import { parseArgs, lastOption, UsageError, type ParsedArgs } from './cli/args.js';
import { fileErrorReason } from './capture/capture-source.js';
import { analyzeCapture } from './pipeline/analyze-capture.js';
import { analyzeCaptures, createMergedCaptureInspector, mergedStreamSource, type CaptureInput } from './pipeline/merge-captures.js';
import { analyzeOptions, type AnalyzeOptions } from './pipeline/options.js';
import { extractStream, streamSaverFrom, type StreamSource } from './pipeline/stream-extract.js';
import type { CaptureModel, StreamRecord } from './model/session.js';
import { diagnosisReport, type DiagnosisReport } from './report/diagnosis-report.js';
import { modelExitStatus } from './report/exit-status.js';
import { jsonReportText } from './report/json-report.js';
import { keysReport, textReportPieces } from './report/text-report.js';
import { escapeJsonControls, renderTerminalText, safeInline, terminalSafeJson } from './report/terminal-text.js';
import { plural } from './report/format.js';
import { notAKeyLog, TlsKeyLog } from './tls/key-log.js';
import { endByHangUpAtExit, endOnHangUp, mayBeTerminal } from './terminal/hang-up.js';
import { loadTui } from './ui/load-tui.js';
import type { EventInspector } from './ui/event-layers.js';

const HELP: Record<string, string> = {
  main: `execscope — decode Kubernetes exec traffic (kubectl exec / attach / port-forward) from captures

Usage:
  execscope CAPTURE [--keylog FILE]...     open the TUI (prints the text summary when stdout is not a terminal)
  execscope CAPTURE CAPTURE...             several captures of one exec (one per node) merged into one view,
                                           clocks lined up; a --keylog after a CAPTURE is that file's
  execscope - [--save FILE]                the TUI on a capture piped in, following it live; --save keeps
                                           a copy, from which the Event pane shows packets and bytes
  execscope analyze CAPTURE [options]      summarise every exec session (text or JSON)
  execscope extract CAPTURE --session N --stream NAME -o FILE
                                           write one stream's exact bytes
  execscope diagnose CAPTURE... [--json]   the hang doctor's findings only: exit 0 nothing wrong, 1 a fault
                                           found, 2 the capture is truncated or corrupt or unusable
  execscope keys CAPTURE [--keylog FILE]... list TLS connections and whether keys decrypt them
  execscope export CAPTURE --session N [--asciicast FILE] [--svg FILE] [--png FILE]
                                           replay a session in asciinema, or draw its timeline
  execscope lab [options]                  run a local kubectl-exec chain on loopback and record it
  execscope live [-i IFACE] [--port N] [--json-lines]
                                           capture with tcpdump and follow exec sessions as they happen
  execscope tap --listen ADDR --upstream ADDR -w FILE
                                           a recording proxy for one hop (TCP or unix sockets)
  execscope help [COMMAND]                 this text, or a command's
  execscope --version                      the version

CAPTURE is a pcap or pcapng file, optionally gzip-compressed, or - for stdin
(tcpdump -w - | execscope analyze -; tcpdump -U -w - | execscope - follows a tap live in the TUI).
Exit status: 0 ok, 1 usage or unreadable input, 2 capture truncated or corrupt (results up to the cut are printed).
`,
  analyze: `Usage: execscope analyze CAPTURE... [--json | --text] [--explain] [--hash] [--connections] [--keylog FILE]... [--save FILE]

  --text          readable per-session summary (default)
  --explain       walk each session's events in protocol order, each explained: what it does, who
                  sent it and why, where in Kubernetes it comes from, and the protocol fact's source
  --json          one JSON document: capture, sessions, connections, warnings
  --hash          add the sha256 of every stream's exact bytes (text: a line under each stream)
  --connections   also list every TCP connection and its HTTP requests (text mode)
  --keylog FILE   NSS key log for TLS decryption (repeatable)
  --save FILE     CAPTURE is - (stdin): also write what was read to FILE (decompressed)
`,
  export: `Usage: execscope export CAPTURE --session N [--asciicast FILE [--stdin]] [--svg FILE] [--png FILE] [--keylog FILE]...

  --asciicast FILE  the session's terminal as an asciicast v2 recording (asciinema play FILE shows
                    what the user saw, timed as captured; resizes as "r" events). Without a TTY,
                    stdout and stderr each start on their own line. The file is mode 0600.
  --stdin           also record what was typed (stdin) as "i" events
  --svg FILE        the timeline as a picture: lanes, events, findings, and for an exec linked across
                    hops every hop stacked on one time axis with the latencies between them
  --png FILE        the same picture as PNG (rendered by resvg)
  --keylog FILE     NSS key log for TLS decryption (repeatable)
`,
  diagnose: `Usage: execscope diagnose CAPTURE [--keylog FILE]... [CAPTURE [--keylog FILE]...]... [--json]

  The hang doctor's verdict on every session that has one: the cause first, with the hop where it
  happened and the evidence from the capture, then what followed from it; notes that are not faults.
  Exit status: 0 nothing wrong, 1 a fault found, 2 the capture is truncated or corrupt, or an input
  cannot be used (a missing file, a key log that is not one, bad usage).

  --json          one JSON document: sessions with their diagnosis (cause, consequences, notes)
  --keylog FILE   NSS key log for TLS decryption (repeatable); after a CAPTURE, for that file only

  Several CAPTUREs (one per node: the client's, the control plane's, the worker's) are one view: each
  file's clock is lined up with the first's from the hops of one exec both saw, and the offset shown.
`,
  keys: `Usage: execscope keys CAPTURE [--keylog FILE]...

  Lists every TLS connection (SNI, version, cipher suite, ALPN) and whether the key logs given with
  --keylog, or embedded in the pcapng as Decryption Secrets Blocks, decrypt it.
`,
  extract: `Usage: execscope extract CAPTURE --session N --stream NAME [--from client|server] -o FILE [--raw] [--keylog FILE]...

  Writes the exact bytes carried on one stream of one session (after base64 decoding where the
  protocol uses it).

  --session N     the session's number, as analyze prints it (#N)
  --stream NAME   stdin, stdout, stderr, error, resize (port-forward: data:PORT:REQUEST)
  -o FILE         where the bytes go; an existing FILE is replaced only once the stream is found.
                  -o - writes to stdout: on a terminal the bytes are shown neutralised (escape
                  sequences and other controls made visible, as the report shows them, at most 16 MiB)
  --raw           with -o - on a terminal: the bytes as they are (a captured escape sequence then
                  acts on the terminal)
  --from SIDE     only what the client or the server sent (a port-forward data stream carries both:
                  --from server is what came back from the pod)
  --keylog FILE   NSS key log for TLS decryption (repeatable)
`,
};

async function followPipeKeyLogs(args: ParsedArgs) {
  const { followKeyLogs } = await import('./live/key-log-follower.js');
  try {
    return followKeyLogs(args.options.get('--keylog') ?? []);
  } catch (e) {
    throw new UsageError(`cannot read key log: ${(e as Error).message}`);
  }
}

async function keyLogs(args: ParsedArgs): Promise<AnalyzeOptions['keyLogs']> {
  return readKeyLogs(args.options.get('--keylog') ?? []);
}

function readKeyLogs(files: readonly string[]): Promise<AnalyzeOptions['keyLogs']> {
  return Promise.all(
    files.map(async (f) => {
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read key log ${f}: ${fileErrorReason(e)}`);
      }
      const wrong = notAKeyLog(text);
      if (wrong) throw new UsageError(`key log ${f} ${wrong}`);
      return { text, source: f };
    }),
  );
}

/**
 * CAPTURE… with their key logs: a --keylog after a capture is that capture's (one node's key log),
 * one before every capture applies to them all.
 */
async function captureInputs(args: ParsedArgs, command: string): Promise<CaptureInput[]> {
  if (!args.positionals.length) throw new UsageError(`${command} needs a CAPTURE (see execscope help ${command})`);
  if (args.positionals.length > 1 && args.positionals.includes('-')) throw new UsageError('- (stdin) is one capture on its own: it cannot be merged with others');
  refuseTerminalStdin(args.positionals, command);
  const files = args.options.get('--keylog') ?? [];
  const places = args.optionPlaces.get('--keylog') ?? [];
  return Promise.all(
    args.positionals.map(async (path, i) => ({ path, keyLogs: await readKeyLogs(files.filter((_, k) => places[k] === 0 || places[k] === i + 1)) })),
  );
}

const capturesName = (inputs: readonly CaptureInput[]) => inputs.map((i) => basename(i.path)).join(' + ');

function capturePath(args: ParsedArgs, command: string): string {
  // Opening the TUI is `execscope CAPTURE`: it has no command name of its own to tell the user.
  const [who, topic] = command === 'open' ? ['execscope', ''] : [command, ` ${command}`];
  if (args.positionals.length !== 1) throw new UsageError(`${who} needs exactly one CAPTURE (see execscope help${topic})`);
  refuseTerminalStdin(args.positionals, command);
  return args.positionals[0];
}

/** `-` with stdin a terminal would wait, silent, for a capture to be typed in: refused, saying how to pipe one. */
function refuseTerminalStdin(paths: readonly string[], command: string): void {
  if (!paths.includes('-') || !mayBeTerminal(0) || !process.stdin.isTTY) return;
  const example = command === 'open' ? 'execscope -' : `execscope ${command} -`;
  throw new UsageError(`- reads the capture from stdin, which is a terminal here: pipe one in (tcpdump -U -w - ... | ${example})`);
}

/** Writes the pieces to stdout in batches of about 1 MiB, waiting for a slow reader (a pipe to less). */
async function writeOut(pieces: Iterable<string>, end = ''): Promise<void> {
  let batch: string[] = [];
  let held = 0;
  const direct = stdoutIsFileOrNull();
  const flush = async () => {
    const text = batch.join('');
    batch = [];
    held = 0;
    if (direct) return writeAllSync(1, Buffer.from(text));
    if (!process.stdout.write(text)) await once(process.stdout, 'drain');
  };
  for (const piece of pieces) {
    batch.push(piece);
    held += piece.length;
    if (held >= 1 << 20) await flush();
  }
  batch.push(end);
  await flush();
}

/**
 * Whether stdout is a file or a memory device (/dev/null), which writeOut writes with writeSync: Node's
 * stream for it, a SyncWriteStream that writes synchronously too, would load node:stream's modules
 * (~9 M instructions, callgrind, `node -e "process.stdout.write('x')"` against `writeSync(1, 'x')`,
 * stdout /dev/null). A pipe or a terminal keeps the stream: a pipe's reader may be slow, and a
 * terminal's hang-up is heard through it.
 */
function stdoutIsFileOrNull(): boolean {
  try {
    const stat = fstatSync(1);
    return stat.isFile() || (stat.isCharacterDevice() && !mayBeTerminal(1));
  } catch {
    return false;
  }
}

/** Writes all of `bytes` to `fd` (a write may take part of them). */
function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
}

/** Prints what stopped or prevented decoding, if anything; returns the exit status for it. */
function reportFatal(model: CaptureModel): number {
  const c = model.capture;
  if (c.unsupportedLinkTypes.length) {
    process.stderr.write(`execscope: unsupported link type ${c.unsupportedLinkTypes.join(', ')}: those packets were not decoded\n`);
  }
  if (model.fatal) process.stderr.write(`execscope: ${safeInline(model.fatal.message)}\n`);
  return modelExitStatus(model);
}

/**
 * The reports (analyze, diagnose) hold this many ended connections, with their sessions, in memory;
 * later ones wait in a private temporary file until the report reads them back one by one: 200,000
 * unanswered exec upgrades peaked at 813 MB with every record held (README, Resource bounds).
 */
const ENDED_CONNECTIONS_HELD = 1000;

async function analyze(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--json', '--text', '--explain', '--hash', '--connections', '--help'], options: ['--keylog', '--save'] });
  if (args.flags.has('--help')) return help('analyze');
  const inputs = await captureInputs(args, 'analyze');
  const path = inputs[0].path;
  const json = args.flags.has('--json');
  const explain = args.flags.has('--explain');
  if (json && args.flags.has('--text')) throw new UsageError('--json and --text ask for two different outputs: give one');
  if (json && explain) throw new UsageError('--explain is for the text summary, not --json');
  if (json && args.flags.has('--connections')) throw new UsageError('--connections is for the text summary, not --json (its connections are always listed)');
  const hash = args.flags.has('--hash');
  const saved = saveCopy(args, path);
  let model: CaptureModel;
  try {
    const opts = analyzeOptions({ hash, keepEvents: explain, headBytes: json ? 0 : 4096, endedConnectionsHeld: ENDED_CONNECTIONS_HELD });
    model = saved ? await analyzeCapture(path, { ...opts, keyLogs: inputs[0].keyLogs }, undefined, saved.write) : await analyzeCaptures(inputs, opts);
  } finally {
    saved?.close();
  }
  try {
    if (json) await writeOut(jsonReportText(model, { hash }, escapeJsonControls), '\n');
    else await writeOut(textReportPieces(model, { connections: args.flags.has('--connections'), name: capturesName(inputs), explain, hash }));
  } finally {
    model.spilled?.close();
  }
  return reportFatal(model);
}

async function diagnoseCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--json', '--help'], options: ['--keylog'] });
  if (args.flags.has('--help')) return help('diagnose');
  const inputs = await captureInputs(args, 'diagnose');
  const model = await analyzeCaptures(inputs, analyzeOptions({ keepEvents: false, headBytes: 4096, endedConnectionsHeld: ENDED_CONNECTIONS_HELD }));
  let report: DiagnosisReport;
  try {
    report = diagnosisReport(model, capturesName(inputs));
  } finally {
    model.spilled?.close();
  }
  await writeOut([args.flags.has('--json') ? terminalSafeJson(report.json) + '\n' : report.text]);
  const fatal = reportFatal(model);
  return fatal || (report.faulty ? 1 : 0);
}

async function extract(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--help', '--raw'], options: ['--session', '--stream', '--from', '-o', '--output', '--keylog'] });
  if (args.flags.has('--help')) return help('extract');
  const path = capturePath(args, 'extract');
  const session = Number(lastOption(args, '--session'));
  const stream = lastOption(args, '--stream');
  const outPath = lastOption(args, '-o') ?? lastOption(args, '--output');
  if (!Number.isInteger(session) || session < 1) throw new UsageError('extract needs --session N (a session number from analyze)');
  if (!stream) throw new UsageError('extract needs --stream NAME');
  if (!outPath) throw new UsageError('extract needs -o FILE');
  const from = lastOption(args, '--from');
  if (from !== undefined && from !== 'client' && from !== 'server') throw new UsageError(`--from takes client or server, not ${JSON.stringify(from)}`);
  // A hang-up stops the extract where it is (there is no one to tell): a file cut short is removed,
  // never left looking complete; one already finished stays. Then the process ends by SIGHUP. Heard
  // before the file is made: a SIGHUP with no handler yet would end the process with the file empty.
  let finished = false;
  let file: ExtractOutput | null = null;
  endOnHangUp({
    streams: terminalOutputs(),
    stop: () => {
      if (!finished) file?.abandon();
    },
  });
  if (outPath !== '-') file = new ExtractOutput(outPath, path);
  const out = file ?? (process.stdout.isTTY && !args.flags.has('--raw') ? new NeutralisedTerminal() : process.stdout);
  let written = 0;
  const target = { session, stream, dir: from === undefined ? undefined : from === 'client' ? ('c2s' as const) : ('s2c' as const) };
  // A reader that goes away (`extract -o - | head`) fails stdout's writes (EPIPE): the next byte
  // stops the extract with that error, told in one line as analyze tells it.
  let stdoutFailed: Error | null = null;
  if (out === process.stdout) process.stdout.on('error', (e) => (stdoutFailed ??= e));
  const write = (b: Uint8Array) => {
    if (stdoutFailed) throw stdoutFailed;
    written += b.length;
    // A file is written at once; the others keep or queue the bytes, which are the reader's until the next chunk.
    out.write(out === file ? b : Buffer.from(b));
  };
  let model: CaptureModel;
  let rec: StreamRecord | undefined;
  try {
    model = await extractStream(path, analyzeOptions({ keyLogs: await keyLogs(args) }), target, write);
    if (out === process.stdout) await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    if (stdoutFailed) throw stdoutFailed;
    const s = model.sessions.find((x) => x.id === session);
    if (!s) throw new UsageError(`no session ${session} in ${path} (it has ${model.sessions.length})`);
    rec = s.streams.find((r) => r.name === stream);
    if (!rec) throw new UsageError(`session ${session} has no stream ${stream} (it has ${s.streams.map((r) => r.name).join(', ') || 'none'})`);
  } catch (e) {
    file?.abandon();
    throw e;
  }
  if (out instanceof NeutralisedTerminal) out.end();
  file?.finish();
  finished = true;
  if (file) process.stderr.write(`wrote ${written} bytes of session ${session} ${safeInline(stream)}${from ? ` sent by the ${from}` : ''} to ${safeInline(outPath)}\n`);
  // --from the side that sent nothing on a stream the other side filled (--from client on stdout) is
  // most likely the wrong side: said, as 0 bytes alone would not say why.
  if (from && written === 0 && rec.bytes > 0) {
    const other = from === 'client' ? 'server' : 'client';
    process.stderr.write(`session ${session} ${safeInline(stream)} has no bytes from the ${from}: its ${plural(rec.bytes, 'byte')} came from the ${other} (--from ${other})\n`);
  }
  return reportFatal(model);
}

/**
 * `extract -o FILE`: opened before the capture is read, so a path that cannot be written fails at
 * once, but never truncated then: what FILE held is replaced only by an extract that found its
 * stream (a mistyped session number leaves it as it was, and a FILE it made is removed). FILE may
 * not be the capture itself, which writing would destroy before it is read.
 */
class ExtractOutput {
  private fd: number | null;
  private readonly made: boolean;
  private at = 0;

  constructor(
    readonly path: string,
    capture: string,
  ) {
    if (isSameFile(path, capture)) throw new UsageError(`-o ${path} is the capture itself: writing it would destroy what is to be read`);
    this.made = statOrNull(path) === null;
    try {
      this.fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o666);
    } catch (e) {
      throw new UsageError(`cannot write ${path}: ${fileErrorReason(e)}`);
    }
  }

  write(bytes: Uint8Array): void {
    if (this.fd === null) return;
    writeAllSync(this.fd, bytes);
    this.at += bytes.length;
  }

  /** Everything was written: the file is those bytes (an older, longer content cut off). */
  finish(): void {
    if (this.fd === null) return;
    if (fstatSync(this.fd).isFile()) ftruncateSync(this.fd, this.at);
    closeSync(this.fd);
    this.fd = null;
  }

  /** The extract failed or was stopped: a file it made or began to overwrite is removed, one it never touched stays. */
  abandon(): void {
    if (this.fd === null) return;
    const regular = fstatSync(this.fd).isFile();
    closeSync(this.fd);
    this.fd = null;
    if (regular && (this.made || this.at > 0)) rmSync(this.path, { force: true });
  }
}

/** Whether both paths name one existing file (a link to the capture is the capture); - (stdin) is no file. */
function isSameFile(a: string, b: string): boolean {
  const [x, y] = [a, b].map((p) => (p === '-' ? null : statOrNull(p)));
  return x !== null && y !== null && x.dev === y.dev && x.ino === y.ino;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * `extract -o -` on a terminal: the stream's bytes shown as the report shows captured text (controls
 * and escape sequences visible, never acting), rendered at the end from at most MAX_SHOWN bytes.
 */
class NeutralisedTerminal {
  static readonly MAX_SHOWN = 16 << 20;
  private readonly chunks: Uint8Array[] = [];
  private held = 0;
  private dropped = 0;

  write(chunk: Uint8Array): void {
    const room = NeutralisedTerminal.MAX_SHOWN - this.held;
    if (room < chunk.length) this.dropped += chunk.length - Math.max(0, room);
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.held += kept.length;
  }

  end(): void {
    for (const line of renderTerminalText(this.chunks)) process.stdout.write(`${line}\n`);
    if (this.dropped) process.stdout.write(`… ${this.dropped} more bytes not shown: -o FILE writes them all\n`);
  }
}

async function exportSession(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--help', '--stdin'], options: ['--session', '--asciicast', '--svg', '--png', '--keylog'] });
  if (args.flags.has('--help')) return help('export');
  const path = capturePath(args, 'export');
  const id = Number(lastOption(args, '--session'));
  if (!Number.isInteger(id) || id < 1) throw new UsageError('export needs --session N (a session number from analyze)');
  const cast = lastOption(args, '--asciicast');
  const svgPath = lastOption(args, '--svg');
  const pngPath = lastOption(args, '--png');
  if (!cast && !svgPath && !pngPath) throw new UsageError('export needs --asciicast FILE, --svg FILE or --png FILE');
  if (args.flags.has('--stdin') && !cast) throw new UsageError('--stdin adds typed input to --asciicast');
  const outputs = [
    ['--asciicast', cast],
    ['--svg', svgPath],
    ['--png', pngPath],
  ].filter((o): o is [string, string] => o[1] !== undefined);
  for (const [i, [option, file]] of outputs.entries()) {
    if (isSameFile(file, path)) throw new UsageError(`${option} ${file} is the capture itself: writing it would destroy what is to be read`);
    const other = outputs.slice(i + 1).find(([, f]) => f === file || isSameFile(f, file));
    if (other) throw new UsageError(`${option} and ${other[0]} name the same file ${file}: one would overwrite the other`);
  }
  const { exportSession: run } = await import('./export/export-session.js');
  // A hang-up ends the export by SIGHUP, but not in the middle of writing a file: none is left cut short.
  const writes: Promise<void>[] = [];
  endOnHangUp({ streams: terminalOutputs(), stop: () => Promise.allSettled(writes).then(() => undefined) });
  const model = await run(path, id, {
    cannotWrite: (file, e) => new UsageError(`cannot write ${file}: ${fileErrorReason(e)}`),
    writing: (file) => writes.push(file),
    keyLogs: await keyLogs(args),
    asciicast: cast ? { path: cast, stdin: args.flags.has('--stdin') } : null,
    svg: svgPath ?? null,
    png: pngPath ?? null,
    report: (line) => process.stderr.write(`${safeInline(line)}\n`),
  });
  return reportFatal(model);
}

async function keys(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--help'], options: ['--keylog'] });
  if (args.flags.has('--help')) return help('keys');
  const path = capturePath(args, 'keys');
  reportsEndOnHangUp();
  const model = await analyzeCapture(path, analyzeOptions({ keepEvents: false, headBytes: 0, keyLogs: await keyLogs(args) }));
  await writeOut([keysReport(model)]);
  return reportFatal(model);
}

async function open(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--help'], options: ['--keylog', '--save'] });
  if (args.flags.has('--help')) return help('main');
  if (args.positionals.length > 1 || !process.stdout.isTTY) return process.stdout.isTTY ? openMerged(args) : analyze(argv);
  const path = capturePath(args, 'open');
  const live = path === '-';
  const saved = saveCopy(args, path);
  // A live pipe follows its key logs as they grow: keys appended later decrypt later connections.
  const followed = live ? await followPipeKeyLogs(args) : null;
  const opts = followed ? analyzeOptions({ keys: followed.keys }) : analyzeOptions({ keyLogs: await keyLogs(args) });
  // A capture piped in (`tcpdump -U -w - | execscope -`) takes stdin: keys come from the terminal itself.
  const keyboard = live ? await openTerminalInput() : undefined;
  const { openTui } = await import('./live/follow-capture.js');
  const code = await openTui(
    path,
    {
      title: live ? `stdin${saved ? ` → ${saved.path}` : ''}` : path,
      // Piped bytes cannot be read again: without a copy, events show the layers the model keeps, streams their head.
      readBack: live ? saved?.path : path,
      keyboard,
      tee: saved?.write,
      live,
    },
    opts,
  );
  saved?.close();
  followed?.stop();
  if (live) {
    process.stderr.write(
      'execscope: stopped reading the pipe; the program writing into it (tcpdump) ends at its next packet, or now with Ctrl-C in its terminal (or kill its PID)\n',
    );
  }
  // Quitting while the capture still loads leaves the pipeline running (it cannot be cancelled).
  process.exit(code);
}

/**
 * The TUI on several captures merged. The Event pane re-reads each event from the file it came from,
 * decrypting with that file's key log as the analysis filled it; Content and S read streams back there too.
 */
async function openMerged(args: ParsedArgs): Promise<number> {
  if (args.options.has('--save')) throw new UsageError('--save keeps a copy of one capture read from stdin');
  const inputs = await captureInputs(args, 'open');
  delete process.env.CI;
  const [{ runTui }, { createEventInspector }, { contentReaderFrom }] = await Promise.all([
    loadTui(),
    import('./ui/event-inspector.js'),
    import('./pipeline/capture-content-reader.js'),
  ]);
  const keys = inputs.map(() => new TlsKeyLog());
  const opts = analyzeOptions();
  // Events and streams can only be selected once the merged model has been shown: these are set by then.
  let inspector: EventInspector | null = null;
  let source: StreamSource = () => null;
  const code = await runTui({
    path: capturesName(inputs),
    load: (onProgress) =>
      analyzeCaptures(
        inputs,
        opts,
        (model, read, total) => {
          inspector = createEventInspector(createMergedCaptureInspector(model, keys), model);
          source = mergedStreamSource(model, keys, opts);
          onProgress(model, read, total);
        },
        keys,
      ),
    inspector: (session, event, also) => inspector?.(session, event, also) ?? Promise.resolve([]),
    contentReader: contentReaderFrom((session) => source(session)),
    saver: streamSaverFrom((session) => source(session)),
  });
  process.exit(code);
}

/**
 * --save FILE: a copy of a capture read from stdin. Written synchronously before the analyzer sees
 * each chunk, so the copy already holds every packet an event of the model names.
 */
function saveCopy(args: ParsedArgs, capture: string): { path: string; write: (chunk: Uint8Array) => void; close: () => void } | null {
  const path = lastOption(args, '--save');
  if (path === undefined) return null;
  if (capture !== '-') throw new UsageError('--save keeps a copy of a capture read from stdin (-): this one is a file already');
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${fileErrorReason(e)}`);
  }
  return { path, write: (chunk) => writeAllSync(fd, chunk), close: () => closeSync(fd) };
}

/** The controlling terminal as a keyboard, when stdin carries the capture; undefined without one. */
async function openTerminalInput(): Promise<NodeJS.ReadStream | undefined> {
  const [{ openSync }, { ReadStream }] = await Promise.all([import('node:fs'), import('node:tty')]);
  try {
    return new ReadStream(openSync('/dev/tty', 'r')) as NodeJS.ReadStream;
  } catch {
    return undefined;
  }
}

async function help(topic: string): Promise<number> {
  // The lab's and the tap's help live with them, loaded only when asked for.
  const text =
    topic === 'lab'
      ? (await import('./lab/lab-command.js')).LAB_HELP
      : topic === 'tap'
        ? (await import('./tap/tap-command.js')).TAP_HELP
        : topic === 'live'
          ? (await import('./live/live-command.js')).LIVE_HELP
          : // help and version have no page of their own: the main one tells them.
            (HELP[topic] ?? (COMMANDS.includes(topic) ? HELP.main : undefined));
  if (text === undefined) throw new UsageError(`no help for ${safeInline(topic)}: execscope help lists the commands`);
  await writeOut([text]);
  return 0;
}

const COMMANDS = ['analyze', 'extract', 'keys', 'export', 'diagnose', 'lab', 'tap', 'live', 'help', 'version'];

/** Edit distance between two short words (insertions, deletions, substitutions, swaps of neighbours). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** A word that is no file but close to a command ("analyse", "extact") is a mistyped command. */
function mistypedCommand(word: string): string | null {
  if (word.startsWith('-') || word.includes('/') || existsSync(word)) return null;
  const lower = word.toLowerCase();
  const best = COMMANDS.map((c) => ({ c, d: editDistance(lower, c) })).sort((x, y) => x.d - y.d)[0];
  return best.d <= Math.max(1, Math.floor(best.c.length / 3)) ? best.c : null;
}

async function version(): Promise<number> {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  await writeOut([`execscope ${pkg.version}\n`]);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
      return help('main');
    case '--version':
    case '-V':
    case 'version':
      return version();
    case 'help':
      return help(rest[0] ?? 'main');
    case 'analyze':
      reportsEndOnHangUp();
      return analyze(rest);
    case 'extract':
      return extract(rest);
    case 'keys':
      return keys(rest);
    case 'export':
      return exportSession(rest);
    case 'diagnose':
      reportsEndOnHangUp();
      // diagnose's 1 is "a fault found": input it cannot use is trouble, 2, as grep and diff do.
      return diagnoseCommand(rest).catch((e: unknown) => {
        reportError(e);
        return 2;
      });
    case 'lab':
      return (await import('./lab/lab-command.js')).labCommand(rest);
    case 'tap':
      return (await import('./tap/tap-command.js')).tapCommand(rest);
    case 'live':
      return (await import('./live/live-command.js')).liveCommand(rest);
    default: {
      const meant = mistypedCommand(command);
      if (meant) throw new UsageError(`unknown command ${safeInline(command)}: did you mean ${meant}? (execscope help lists the commands)`);
      return open(argv);
    }
  }
}

/**
 * A report written to a terminal that hangs up: there is nothing to stop (the spill file is unlinked
 * as it is opened), but a normal exit, after the EIO of a write without a SIGHUP, would abort in
 * Node's ResetStdio: the process ends by SIGHUP instead (terminal/hang-up.ts). Only a terminal hangs
 * up: an output that is a pipe, a file or a socket is not watched, so its stream is not made at start
 * (Node's stream for a pipe loads net and its streams: ~15 M instructions, callgrind, `node -e
 * "process.stderr"` with stderr a pipe against `node -e 0`).
 */
function reportsEndOnHangUp(): void {
  endOnHangUp({ streams: terminalOutputs() });
}

/** stdout and stderr, those of them that may be terminals (the others cannot hang up). */
function terminalOutputs(): NodeJS.WriteStream[] {
  const streams: NodeJS.WriteStream[] = [];
  if (mayBeTerminal(1)) streams.push(process.stdout);
  if (mayBeTerminal(2)) streams.push(process.stderr);
  return streams;
}

function reportError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`execscope: ${safeInline(msg)}\n`);
}

endByHangUpAtExit();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    reportError(e);
    process.exitCode = 1;
  },
);
