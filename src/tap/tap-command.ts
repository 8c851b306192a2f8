/**
 * `execscope tap`: the command line of the recording proxy (see tap.ts). Runs until Ctrl-C (SIGINT)
 * or SIGTERM, then closes every connection and completes the recording. IO code.
 */
import { lastOption, parseArgs, UsageError } from '../cli/args.js';
import { safeInline } from '../report/terminal-text.js';
import { startTap, type TapEvent } from './tap.js';
import { parseTapAddress } from './tap-address.js';

export const TAP_HELP = `Usage: execscope tap --listen ADDR --upstream ADDR [-w FILE] [options]

  A recording proxy for one hop: every connection to ADDR is relayed byte for byte to the upstream
  (half-closes, resets and backpressure included) and recorded into FILE (pcapng, mode 0600) as
  synthesised TCP that execscope, Wireshark and tshark read. Credentials are blanked in the recording
  (same length, so offsets stay true), never in what is relayed.

  --listen ADDR      where clients connect: unix:/path (mode 0600), HOST:PORT, or PORT (127.0.0.1)
  --upstream ADDR    the real endpoint: unix:/run/containerd/containerd.sock, HOST:PORT, …
  -w, --write FILE   record into FILE
  --hop NAME         the recording's interface name (default client→UPSTREAM)
  --no-redact        record credentials as they were sent
  --quiet            no line per connection on stderr

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
      process.stderr.write(`execscope tap: ${err.message}\n(see execscope tap --help)\n`);
      return 1;
    }
    throw err;
  }
}

async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv.map((a) => (a === '-w' ? '--write' : a)), {
    flags: ['--no-redact', '--quiet', '--help', '-h'],
    options: ['--listen', '--upstream', '--write', '--hop'],
  });
  if (args.flags.has('--help') || args.flags.has('-h')) {
    process.stdout.write(TAP_HELP);
    return 0;
  }
  if (args.positionals.length) throw new UsageError(`unexpected argument ${safeInline(args.positionals[0], 80)}`);
  const listen = lastOption(args, '--listen');
  const upstream = lastOption(args, '--upstream');
  if (!listen || !upstream) throw new UsageError('--listen and --upstream are both needed');
  const addresses = [listen, upstream].map((a) => {
    try {
      return parseTapAddress(a);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  const recordTo = lastOption(args, '--write');
  const redact = !args.flags.has('--no-redact');
  const quiet = args.flags.has('--quiet');
  const tap = await startTap({
    listen: addresses[0],
    upstream: addresses[1],
    recordTo,
    hopName: lastOption(args, '--hop'),
    redact,
    onEvent: (event) => {
      if (!quiet || event.kind === 'recording-overflow' || event.kind === 'recording-failed') log(describe(event));
    },
  });
  log(
    `listening on ${tap.address} → ${upstream}` +
      (recordTo ? `, recording to ${recordTo}${redact ? ' (credentials blanked)' : ' (credentials kept)'}` : ', not recording') +
      '; Ctrl-C stops',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await tap.stop();
  log(`stopped${recordTo ? `; open the recording with: execscope ${recordTo}` : ''}`);
  return 0;
}

function log(line: string): void {
  process.stderr.write(`execscope tap: ${safeInline(line, 400)}\n`);
}

function describe(event: TapEvent): string {
  switch (event.kind) {
    case 'open':
      return `#${event.id} ${event.client} connected`;
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
  }
}
