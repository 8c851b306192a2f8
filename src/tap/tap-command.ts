/**
 * `execscope tap`: the command line of the recording proxy (see tap.ts). Runs until Ctrl-C (SIGINT)
 * or SIGTERM, then closes every connection and completes the recording. A hang-up of the terminal
 * stops it the same way, then ends the process by SIGHUP (terminal/hang-up.ts). IO code.
 */
import { readFileSync } from 'node:fs';
import { lastOption, parseArgs, UsageError } from '../cli/args.js';
import { openCommands } from '../cli/open-hint.js';
import { openTui, printJsonLine, printJsonLines } from '../live/follow-capture.js';
import { analyzeOptions } from '../pipeline/options.js';
import { RecordingFeed } from '../record/pcapng-recorder.js';
import { safeInline } from '../report/terminal-text.js';
import { endedByHangUp, endOnHangUp } from '../terminal/hang-up.js';
import { listenForStopSignals, signalExitStatus } from '../terminal/stop-signals.js';
import { KubeconfigError } from './kubeconfig-plan.js';
import { startKubectlTap, type KubectlTap } from './kubectl-tap.js';
import { startTap, type Tap, type TapEvent } from './tap.js';
import { formatTapAddress, parseTapAddress, type TapAddress } from './tap-address.js';

export const TAP_HELP = `Usage: execscope tap kubectl [--kubeconfig FILE] [--context NAME] [-w FILE] [--ui | --json-lines] [options]
       execscope tap --listen ADDR --upstream ADDR [-w FILE] [--ui | --json-lines] [options]

  tap kubectl: between kubectl and the apiserver of your kubeconfig. Terminates kubectl's TLS on
  loopback with a certificate made at start, connects to the apiserver with the kubeconfig's CA,
  tls-server-name and client certificate, and prints an export KUBECONFIG=… line that points kubectl
  at the tap (same context and user: tokens, exec plugins and impersonation pass through). Both legs
  speak HTTP/1.1, so every credential in the recording is found and blanked.


  A recording proxy for one hop: every connection to ADDR is relayed byte for byte to the upstream
  (half-closes, resets and backpressure included) and recorded into FILE (pcapng, mode 0600) as
  synthesised TCP that execscope, Wireshark and tshark read. Credentials are blanked in the recording
  (same length, so offsets stay true), never in what is relayed.

  --listen ADDR      where clients connect: unix:/path (mode 0600), HOST:PORT, or PORT (127.0.0.1)
  --upstream ADDR    the real endpoint: unix:/run/containerd/containerd.sock, HOST:PORT, …
  -w, --write FILE   record into FILE
  --hop NAME         the recording's interface name (default client→UPSTREAM)
  --no-redact        record credentials as they were sent
  --keylog FILE      append the NSS key log of both TLS legs to FILE (0600), for a capture of the
                     encrypted bytes
  --ui               follow the tap in the TUI as it relays (q stops the tap and completes FILE)
  --json-lines       print one JSON event per line as it relays, as execscope live does (session,
                     data, half-close, reset, status, session-ended, finding, warning), after a
                     tapping event (address, upstream, recording, kubeconfig)
  --quiet            no line per connection on stderr (none with --ui either)
  --tls-cert FILE, --tls-key FILE   terminate the clients' TLS with this certificate
  --upstream-tls     speak TLS to the upstream; --upstream-ca FILE to verify it (default: the
                     system's CAs), --upstream-name NAME to check and send as SNI, --insecure to skip
  --kubeconfig FILE, --context NAME (tap kubectl) which kubeconfig and context (default: kubectl's)

  ADDR forms: unix:/path, unix:///path, HOST:PORT, [IPv6]:PORT, PORT. Then point the client at the tap:
    crictl --runtime-endpoint unix:///tmp/cri-tap.sock ps
    docker -H unix:///tmp/docker-tap.sock ps
    kubelet --container-runtime-endpoint=unix:///tmp/cri-tap.sock
`;

export async function tapCommand(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`execscope tap: ${safeInline(err.message)}\n(see execscope tap --help)\n`);
      return 1;
    }
    throw err;
  }
}

async function run(argv: string[]): Promise<number> {
  const kubectlMode = argv[0] === 'kubectl';
  const args = parseArgs((kubectlMode ? argv.slice(1) : argv).map((a) => (a === '-w' ? '--write' : a)), {
    flags: ['--no-redact', '--quiet', '--help', '--upstream-tls', '--insecure', '--ui', '--json-lines'],
    options: ['--listen', '--upstream', '--write', '--hop', '--keylog', '--tls-cert', '--tls-key', '--upstream-ca', '--upstream-name', '--kubeconfig', '--context'],
  });
  if (args.flags.has('--help')) {
    process.stdout.write(TAP_HELP);
    return 0;
  }
  if (args.positionals.length) throw new UsageError(`unexpected argument ${safeInline(args.positionals[0], 80)}`);
  const recordTo = lastOption(args, '--write');
  const redact = !args.flags.has('--no-redact');
  const quiet = args.flags.has('--quiet');
  const keyLogTo = lastOption(args, '--keylog');
  if (args.flags.has('--ui') && args.flags.has('--json-lines')) throw new UsageError('--ui and --json-lines: one or the other');
  const follow = args.flags.has('--ui') ? 'ui' : args.flags.has('--json-lines') ? 'json-lines' : null;
  // What the tap records, fed as it is recorded into the pipeline that shows it.
  const feed = follow ? new RecordingFeed() : undefined;
  // A line on stderr would scribble over the TUI: the connections are in it, other lines wait until it is closed.
  const held: string[] = [];
  const log = (line: string) => (follow === 'ui' ? held.push(line) : logLine(line));
  const perConnection = !quiet && follow !== 'ui';
  const onEvent = (event: TapEvent) => {
    if (perConnection || event.kind === 'recording-overflow' || event.kind === 'recording-failed' || event.kind === 'key-log-failed') log(describe(event));
  };
  // The watch is on before anything is made that the stop removes (the key directory and kubeconfig,
  // the socket file, the recording): a SIGHUP during start-up would otherwise end the process by
  // its default action and leave them. A hang-up then waits for the start to finish and stops what
  // it made. Without the TUI (which watches for it itself) the watch stays to the end: the last
  // lines are written after the stop, and a terminal gone without a SIGHUP shows then, as EIO.
  let starting: Promise<{ stop(): Promise<void> }> | null = null;
  let printed: Promise<number> | null = null;
  let hungUp = false;
  const stopSignals = listenForStopSignals();
  /** What the start waits for that may never come: kubectl reading the kubeconfig, then a FIFO's reader (key log or recording). */
  let waitingFor = 'kubectl to read the kubeconfig';
  const onWaitingForReader = (path: string) => {
    waitingFor = `a reader of ${safeInline(path, 200)}`;
    logLine(`waiting for ${waitingFor} (a FIFO); Ctrl-C stops`);
  };
  /** The start was abandoned while it waited (what it made is removed as on any failed start). */
  const abandoned = async (): Promise<number> => {
    if (hungUp) return endedByHangUp();
    const signal = await stopSignals.received;
    logLine(`stopped by ${signal} while waiting for ${waitingFor}`);
    return signalExitStatus(signal);
  };
  const unwatch = endOnHangUp({
    streams: [process.stdout, process.stderr],
    stop: async () => {
      hungUp = true;
      stopSignals.abandonStart();
      await (await starting?.catch(() => null))?.stop();
      // The events of what was recorded before the stop come out before the process ends.
      await printed;
    },
  });
  let stop: () => Promise<void>;
  let upstreamText: string;
  let address: string;
  let kubeconfig: string | null = null;
  if (kubectlMode) {
    const listen = lastOption(args, '--listen');
    if (listen) parseAddress(listen);
    const kubectlStarting = startKubectlTap({
      kubeconfig: lastOption(args, '--kubeconfig'),
      context: lastOption(args, '--context'),
      listen,
      recordTo,
      onWaitingForReader,
      abort: stopSignals.startAbandoned,
      feed,
      keyLogTo,
      redact,
      onEvent,
    });
    starting = kubectlStarting;
    let kubectlTap: KubectlTap;
    try {
      kubectlTap = await kubectlStarting;
    } catch (err) {
      if (stopSignals.startAbandoned.aborted) return abandoned();
      if (err instanceof KubeconfigError) throw new UsageError(err.message);
      throw err;
    }
    if (hungUp) return endedByHangUp();
    const signal = await stopSignals.afterStart();
    if (signal) return stoppedWhileStarting(kubectlTap.stop, signal);
    for (const warning of kubectlTap.plan.warnings) log(warning);
    stop = kubectlTap.stop;
    address = kubectlTap.tap.address;
    upstreamText = `the apiserver at ${formatTapAddress(kubectlTap.plan.upstream)}${kubectlTap.plan.clientCertificate ? " (presenting the kubeconfig's client certificate)" : ''}`;
    kubeconfig = kubectlTap.kubeconfigPath;
    // stdout carries only JSON lines with --json-lines: the line is in the tapping event, and on stderr.
    if (follow === 'json-lines') logLine(`point kubectl at the tap: export KUBECONFIG=${kubeconfig}`);
    else process.stdout.write(`export KUBECONFIG=${kubeconfig}\n`);
  } else {
    const listen = lastOption(args, '--listen');
    const upstream = lastOption(args, '--upstream');
    if (!listen || !upstream) throw new UsageError('--listen and --upstream are both needed (or: execscope tap kubectl)');
    const tlsCert = lastOption(args, '--tls-cert');
    const tlsKey = lastOption(args, '--tls-key');
    if (!tlsCert !== !tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
    const upstreamTls = args.flags.has('--upstream-tls') || args.options.has('--upstream-ca') || args.flags.has('--insecure');
    const upstreamCa = lastOption(args, '--upstream-ca');
    const tapStarting = startTap({
      listen: parseAddress(listen),
      upstream: parseAddress(upstream),
      recordTo,
      keyLogTo,
      onWaitingForReader,
      abort: stopSignals.startAbandoned,
      feed,
      hopName: lastOption(args, '--hop'),
      redact,
      onEvent,
      tls:
        tlsCert || upstreamTls
          ? {
              server: tlsCert ? { cert: readFileSync(tlsCert, 'utf8'), key: readFileSync(tlsKey!, 'utf8') } : undefined,
              upstream: upstreamTls
                ? { ca: upstreamCa ? readFileSync(upstreamCa, 'utf8') : undefined, insecure: args.flags.has('--insecure') || undefined, servername: lastOption(args, '--upstream-name') }
                : undefined,
            }
          : undefined,
    });
    starting = tapStarting;
    let tap: Tap;
    try {
      tap = await tapStarting;
    } catch (err) {
      if (stopSignals.startAbandoned.aborted) return abandoned();
      throw err;
    }
    if (hungUp) return endedByHangUp();
    const signal = await stopSignals.afterStart();
    if (signal) return stoppedWhileStarting(() => tap.stop(), signal);
    stop = () => tap.stop();
    address = tap.address;
    upstreamText = upstream;
  }
  log(
    `listening on ${address} → ${upstreamText}` +
      (recordTo ? `, recording to ${recordTo}${redact ? ' (credentials blanked)' : ' (credentials kept)'}` : ', not recording') +
      (follow === 'ui' ? '; q stops' : '; Ctrl-C stops'),
  );
  const signalled = stopSignals.received;
  const input = { name: `tap ${kubectlMode ? 'kubectl' : address}`, chunks: feed! };
  // The recorder writes each connection's segments in order: nothing needs to wait for a later packet.
  const opts = analyzeOptions({ reorderHoldNs: 0 });
  let code = 0;
  if (follow === null) {
    await signalled;
    await stop();
  } else if (follow === 'json-lines') {
    printJsonLine({ event: 'tapping', address, upstream: upstreamText, recording: recordTo ?? null, ...(kubeconfig ? { kubeconfig } : {}) });
    printed = printJsonLines(input, opts);
    await signalled;
    await stop();
    code = await printed;
  } else {
    unwatch();
    // q and Ctrl-C (a key to the TUI) close it; a signal stops the tap, then the TUI ends with the process.
    void signalled.then(async () => {
      await stop();
      process.exit(0);
    });
    const note = kubeconfig ? `export KUBECONFIG=${kubeconfig}` : undefined;
    code = await openTui(input, { title: input.name, note, readBack: recordTo, live: true, onHangUp: () => stop() }, opts);
    await stop();
  }
  for (const line of held.splice(0)) logLine(line);
  if (recordTo) {
    const [inClone, anywhere] = openCommands(recordTo);
    logLine(`stopped; open the recording with: ${inClone} (inside the execscope clone), or: ${anywhere}`);
  } else logLine('stopped');
  return code;
}

/** Ctrl-C or SIGTERM came while the tap started: what it made is stopped (recording completed, key directory and kubeconfig removed). */
async function stoppedWhileStarting(stop: () => Promise<void>, signal: 'SIGINT' | 'SIGTERM'): Promise<number> {
  await stop();
  logLine(`stopped by ${signal} while starting`);
  return signalExitStatus(signal);
}

function parseAddress(text: string): TapAddress {
  try {
    return parseTapAddress(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function logLine(line: string): void {
  process.stderr.write(`execscope tap: ${safeInline(line, 400)}\n`);
}

function describe(event: TapEvent): string {
  switch (event.kind) {
    case 'open':
      return `#${event.id} ${event.client} connected`;
    case 'client-failed':
      return `#${event.id} ${event.client}: ${event.error}`;
    case 'upstream-failed':
      return `#${event.id} ${event.client}: upstream failed (${event.error}); the client was reset`;
    case 'close':
      return (
        `#${event.id} ${event.client} closed: ${event.bytes.c2s} bytes up, ${event.bytes.s2c} down` +
        (event.end === 'reset' ? `, ended by the ${event.by}'s ${event.error ? `failure (${event.error})` : 'reset'}` : '')
      );
    case 'recording-overflow':
      return `the disk fell behind: connection bytes are being left out of the recording (shown there as TCP gaps)`;
    case 'recording-failed':
      return `recording stopped: ${event.error}`;
    case 'key-log-failed':
      return `key log stopped (no more lines are written to it): ${event.error}`;
  }
}
