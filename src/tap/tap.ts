/**
 * `execscope tap`: a recording proxy for one hop. Listens (loopback unless told otherwise, or a unix
 * socket, mode 0600), connects each accepted connection to the upstream, relays it byte for byte
 * (see relay.ts) and records every connection into a pcapng (mode 0600) as synthesised TCP on one
 * interface named for the hop, with credentials blanked by default (see credential-redactor.ts).
 *
 * Programmatic use (tests of other hops drive real clients through it):
 *
 *   const tap = await startTap({ listen: 'unix:/tmp/x/tap.sock', upstream: 'unix:/run/containerd/containerd.sock',
 *                                recordTo: '/tmp/x/cri.pcapng' });
 *   // point the client at tap.address ('unix:/tmp/x/tap.sock'; for TCP '127.0.0.1:PORT', port 0 picks one)
 *   await tap.stop();   // closes the listener and every relayed connection, completes the recording
 *
 * Addresses are `unix:/path`, `HOST:PORT`, `[IPv6]:PORT` or `PORT` (loopback). Recorded endpoints are
 * the real IPv4 addresses and ports; unix-socket and IPv6 connections get made-up loopback IPv4 ones
 * (clients 127.0.1.x, the upstream 127.0.0.2), which the interface description states. IO code.
 */
import { lstatSync, unlinkSync, chmodSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { Endpoint } from '../capture/synthetic-tcp.js';
import { PcapngRecorder, RecordingClock, type RecordingFeed } from '../record/pcapng-recorder.js';
import { KeyLogFile, openOutputFile } from '../record/recording-file.js';
import { CredentialRedactor } from './credential-redactor.js';
import { relay, resetEnd, type RelayEnd, type RelayResult, type RelayStats } from './relay.js';
import { formatTapAddress, parseTapAddress, type TapAddress } from './tap-address.js';

export interface TapOptions {
  listen: string | TapAddress;
  upstream: string | TapAddress;
  /** pcapng to record into (created or truncated, mode 0600); a FIFO is waited on for its reader. */
  recordTo?: string;
  /** Append the NSS key log of both TLS legs' handshakes here (created 0600), through one descriptor held until stop(); a FIFO is waited on for its reader. */
  keyLogTo?: string;
  /** Told once for each FIFO (`keyLogTo`, `recordTo`) whose reader the start waits for. */
  onWaitingForReader?(path: string): void;
  /** Abandons the start while it waits (for a FIFO's reader): startTap rejects with its reason. */
  abort?: AbortSignal;
  /** The recording, as it is made, for a reader in this process (`--ui`, `--json-lines`); ends at stop(). */
  feed?: RecordingFeed;
  /** The recording's interface name; default "client→UPSTREAM". */
  hopName?: string;
  /** Blank credentials in the recording (default true). The relayed bytes are never changed. */
  redact?: boolean;
  /** Strings blanked wherever they appear in the recording (tokens the caller knows). */
  secrets?: readonly string[];
  /** Connection lifecycle, for logs and tests. */
  onEvent?(event: TapEvent): void;
  /** TLS on either leg; without it bytes are relayed (and recorded) as they are. */
  tls?: TapTls;
  /** Bytes the recorder may queue for the disk before it leaves data out (as a TCP gap). */
  maxQueuedRecordingBytes?: number;
}

export interface TapTls {
  /** Terminate the clients' TLS with this certificate and key (PEM); the recording then holds plaintext. */
  server?: { cert: string; key: string };
  /** Speak TLS to the upstream. `servername` is checked against its certificate (and sent as SNI). */
  upstream?: { ca?: string; insecure?: boolean; servername?: string; cert?: string; key?: string };
  /** ALPN protocols offered on both legs (the kubectl tap: only http/1.1). */
  alpn?: string[];
}

export type TapEvent =
  | { kind: 'open'; id: number; client: string }
  | { kind: 'upstream-failed'; id: number; client: string; error: string }
  | { kind: 'client-failed'; id: number; client: string; error: string }
  | ({ kind: 'close'; id: number; client: string } & RelayResult)
  | { kind: 'recording-overflow'; droppedBytes: number }
  | { kind: 'recording-failed'; error: string }
  | { kind: 'key-log-failed'; error: string };

export interface Tap {
  /** Where clients connect: `unix:/path` or `HOST:PORT` (the port the system picked for port 0). */
  readonly address: string;
  readonly listening: TapAddress;
  /** Connections being relayed now. */
  readonly activeConnections: number;
  /** Bytes relayed so far and reads paused by backpressure now, over all connections. */
  readonly stats: Readonly<RelayStats>;
  /** Bytes the tap holds for its sockets (written, not yet taken by the kernel): stays small under backpressure. */
  readonly bufferedBytes: number;
  /** Stops accepting, closes every relayed connection, completes the recording. */
  stop(): Promise<void>;
}

const RECORDED_UPSTREAM_IP = '127.0.0.2';
/** Port recorded for a unix-socket upstream (an HTTP port, so tools dissect HTTP without being told). */
const RECORDED_UNIX_PORT = 80;
const EPHEMERAL_FIRST = 32768;
const EPHEMERAL_COUNT = 28232;

export async function startTap(options: TapOptions): Promise<Tap> {
  const listenAt = typeof options.listen === 'string' ? parseTapAddress(options.listen) : options.listen;
  const upstreamAt = typeof options.upstream === 'string' ? parseTapAddress(options.upstream) : options.upstream;
  const emit = options.onEvent ?? (() => undefined);
  const redact = options.redact ?? true;
  // Opened first, a FIFO's reader waited for with the thread free: a Ctrl-C meanwhile is heard.
  const readerWait = { abort: options.abort, onWaiting: options.onWaitingForReader };
  const keyLog = options.keyLogTo ? await KeyLogFile.open(options.keyLogTo, { append: true, ...readerWait }, (err) => emit({ kind: 'key-log-failed', error: err.message })) : null;
  const onKeyLog = keyLog ? (line: Buffer) => keyLog.write(line.toString('latin1')) : null;
  let fd: number | undefined;
  try {
    fd = options.recordTo ? await openOutputFile(options.recordTo, readerWait) : undefined;
  } catch (err) {
    keyLog?.close();
    throw err;
  }
  const recorder =
    options.recordTo || options.feed
      ? new PcapngRecorder(
          options.recordTo ?? null,
          [{ name: options.hopName ?? `client→${formatTapAddress(upstreamAt)}`, description: recordingDescription(listenAt, upstreamAt) }],
          new RecordingClock(),
          {
            fd,
            feed: options.feed,
            maxQueuedBytes: options.maxQueuedRecordingBytes,
            onOverflow: (droppedBytes) => emit({ kind: 'recording-overflow', droppedBytes }),
            onWriteError: (err) => emit({ kind: 'recording-failed', error: err.message }),
          },
        )
      : null;
  /** Ends being relayed, and sockets still connecting or handshaking: stop() closes both. */
  const live = new Set<RelayEnd>();
  const connecting = new Set<net.Socket>();
  const stats: RelayStats = { relayed: { c2s: 0, s2c: 0 }, pausedReads: 0 };
  let nextId = 1;
  let active = 0;
  const closedAll: (() => void)[] = [];

  const secureContext = options.tls?.server ? tls.createSecureContext(options.tls.server) : null;

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    const id = nextId++;
    const clientName = listenAt.kind === 'unix' ? `unix#${id}` : `${socket.remoteAddress}:${socket.remotePort}`;
    const pending = new Set<net.Socket>([socket]);
    const track = (s: net.Socket) => {
      pending.add(s);
      connecting.add(s);
    };
    connecting.add(socket);
    active++;
    let settled = false;
    const finished = () => {
      for (const s of pending) connecting.delete(s);
      if (--active === 0) for (const resolve of closedAll.splice(0)) resolve();
    };
    const failed = (side: 'client' | 'upstream', error: string | null, ends: RelayEnd[]) => {
      if (settled) return;
      settled = true;
      if (error !== null) emit({ kind: side === 'client' ? 'client-failed' : 'upstream-failed', id, client: clientName, error });
      // The hop's answer to a refused or unreachable upstream: the client's connection is reset.
      for (const end of ends) resetEnd(end);
      for (const s of pending) s.destroy();
      finished();
    };
    socket.setNoDelay?.(true);
    socket.on('error', () => undefined); // a client failing early is seen when its handshake or relay fails
    const client = acceptClient(socket, secureContext, options.tls, onKeyLog, track);
    const upstream = connectUpstream(upstreamAt, options.tls, onKeyLog, track);
    client.catch((err: Error) => failed('client', err.message, []));
    upstream.catch((err: Error) => failed('upstream', err.message, [{ stream: socket, raw: socket }]));
    void Promise.all([client, upstream]).then(([clientEnd, upstreamEnd]) => {
      if (settled) return;
      settled = true;
      emit({ kind: 'open', id, client: clientName });
      const connection = recorder?.connection(0, ...recordedEndpoints(id, socket, upstreamEnd.raw, upstreamAt));
      const relayed = new Set([clientEnd, upstreamEnd]);
      for (const end of relayed) live.add(end);
      relay(
        clientEnd,
        upstreamEnd,
        connection ? { connection, redactor: redact ? new CredentialRedactor({ secrets: options.secrets }) : null } : null,
        stats,
        (result) => {
          for (const end of relayed) live.delete(end);
          emit({ kind: 'close', id, client: clientName, ...result });
          finished();
        },
      );
    }, () => undefined);
  });

  await listen(server, listenAt);
  const bound = server.address();
  const listening: TapAddress =
    listenAt.kind === 'unix' || bound === null || typeof bound === 'string' ? listenAt : { kind: 'tcp', host: listenAt.host, port: bound.port };
  let stopping: Promise<void> | null = null;

  return {
    address: formatTapAddress(listening),
    listening,
    stats,
    get activeConnections() {
      return active;
    },
    get bufferedBytes() {
      let sum = 0;
      for (const end of live) sum += end.stream.writableLength;
      return sum;
    },
    stop() {
      stopping ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        const allClosed = active === 0 ? Promise.resolve() : new Promise<void>((resolve) => closedAll.push(resolve));
        for (const end of live) end.stream.destroy();
        for (const s of connecting) s.destroy();
        await Promise.all([serverClosed, allClosed]);
        await recorder?.close();
        keyLog?.close();
      })();
      return stopping;
    },
  };
}

/** The client's end, once its TLS handshake (when the tap terminates TLS) is done. */
function acceptClient(socket: net.Socket, context: tls.SecureContext | null, options: TapTls | undefined, onKeyLog: ((line: Buffer) => void) | null, track: (s: net.Socket) => void): Promise<RelayEnd> {
  if (!context) return Promise.resolve({ stream: socket, raw: socket });
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: options?.alpn });
  track(secure);
  if (onKeyLog) secure.on('keylog', onKeyLog);
  return new Promise((resolve, reject) => {
    secure.once('secure', () => {
      secure.off('error', reject);
      resolve({ stream: secure, raw: socket });
    });
    secure.once('error', reject);
    secure.once('close', () => reject(new Error('closed during the TLS handshake')));
  });
}

/** The upstream's end, connected (and its TLS handshake done when the upstream speaks TLS). */
function connectUpstream(at: TapAddress, options: TapTls | undefined, onKeyLog: ((line: Buffer) => void) | null, track: (s: net.Socket) => void): Promise<RelayEnd> {
  const raw = at.kind === 'unix' ? net.connect({ path: at.path, allowHalfOpen: true }) : net.connect({ host: at.host, port: at.port, allowHalfOpen: true });
  track(raw);
  const up = options?.upstream;
  return new Promise<RelayEnd>((resolve, reject) => {
    raw.once('error', reject);
    raw.once('close', () => reject(new Error('closed while connecting')));
    raw.once('connect', () => {
      raw.setNoDelay?.(true);
      if (!up) {
        raw.off('error', reject);
        resolve({ stream: raw, raw });
        return;
      }
      const host = at.kind === 'tcp' ? at.host : undefined;
      const secure = tls.connect({
        socket: raw,
        ca: up.ca,
        cert: up.cert,
        key: up.key,
        rejectUnauthorized: !up.insecure,
        // SNI carries names only; an address is checked against the certificate's IP SANs.
        servername: up.servername ?? (host && net.isIP(host) === 0 ? host : undefined),
        ...(up.servername ? { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(up.servername!, cert) } : {}),
        ALPNProtocols: options?.alpn,
      });
      track(secure);
      if (onKeyLog) secure.on('keylog', onKeyLog);
      secure.once('error', reject);
      secure.once('secureConnect', () => {
        secure.off('error', reject);
        raw.off('error', reject);
        resolve({ stream: secure, raw });
      });
    });
  });
}

async function listen(server: net.Server, at: TapAddress): Promise<void> {
  if (at.kind === 'unix') await removeStaleSocket(at.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve();
    };
    if (at.kind === 'unix') server.listen({ path: at.path }, ready);
    else server.listen({ host: at.host, port: at.port }, ready);
  });
  // The socket file gives whoever can open it the hop: owner only, as the recording.
  if (at.kind === 'unix') chmodSync(at.path, 0o600);
}

/** A socket file left by a tap that died is removed; one something still answers on is not, nor any other file. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; not replacing it`);
  const answered = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answered) throw new Error(`${path} is in use: something is listening on it`);
  unlinkSync(path);
}

function recordingDescription(listenAt: TapAddress, upstreamAt: TapAddress): string {
  const made: string[] = [];
  if (listenAt.kind === 'unix') made.push('unix-socket clients recorded as 127.0.1.x');
  if (upstreamAt.kind === 'unix') made.push(`the upstream recorded as ${RECORDED_UPSTREAM_IP}:${RECORDED_UNIX_PORT}`);
  const tail = made.length ? ` (${made.join(', ')})` : '';
  return `execscope tap ${formatTapAddress(listenAt)} → ${formatTapAddress(upstreamAt)}${tail}`;
}

function recordedEndpoints(id: number, client: net.Socket, upstream: net.Socket, upstreamAt: TapAddress): [Endpoint, Endpoint] {
  const madeClient: Endpoint = {
    ip: `127.0.1.${1 + (Math.floor(id / EPHEMERAL_COUNT) % 254)}`,
    port: EPHEMERAL_FIRST + (id % EPHEMERAL_COUNT),
  };
  const clientEnd = client.remoteFamily === 'IPv4' ? { ip: client.remoteAddress!, port: client.remotePort! } : madeClient;
  const serverEnd =
    upstream.remoteFamily === 'IPv4'
      ? { ip: upstream.remoteAddress!, port: upstream.remotePort! }
      : { ip: RECORDED_UPSTREAM_IP, port: upstreamAt.kind === 'tcp' ? upstreamAt.port : RECORDED_UNIX_PORT };
  return [clientEnd, serverEnd];
}
