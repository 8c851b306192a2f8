/**
 * The apiserver's StreamTranslatorHandler (apiserver ≥1.30, pkg/util/proxy/streamtranslator.go):
 * terminates kubectl's WebSocket (v5.channel.k8s.io only), opens its own SPDY POST to the kubelet as
 * client-go's v4 executor does (streams error, stdin, stdout, stderr | resize, each waiting for its
 * SYN_REPLY; PINGs every 5 s unless the no-pings fault imitates 1.30–1.32), copies the streams across,
 * decodes the kubelet's error stream like errorDecoderV4 and writes its own Status on channel 3 before
 * closing the WebSocket. As a ≥ 1.33 apiserver does: its upstream round tripper is built with
 * `PingPeriod: 5 * time.Second` in StreamTranslatorHandler.ServeHTTP (missing before 1.33:
 * kubernetes/kubernetes#128314), and client-go's spdyStreamExecutor.StreamWithContext
 * `defer conn.Close()`s the upstream connection once the streams are done, so the kubelet hop ends
 * with the exec, never lingers until the lab stops (staging/src/k8s.io/apiserver/pkg/util/proxy/
 * streamtranslator.go, staging/src/k8s.io/client-go/tools/remotecommand/spdy.go). IO code.
 */
import { ResizeDecoder } from '../k8s/resize.js';
import type { HopUpgrade } from './hop-upgrade.js';
import type { SessionObservation } from './observations.js';
import { SpdyConnection, type SpdyStream } from './spdy-connection.js';
import { internalErrorStatus, nonZeroExitStatus, successStatus } from './status-json.js';
import { StreamTally } from './stream-tally.js';
import { dialUpgrade, readResponseBody, requestHead, type HeaderPairs } from './upstream.js';
import { K8sChannel, WebSocketChannelServer } from './ws-channel-server.js';

/** client-go remotecommand: what a SPDY executor offers, newest first. */
export const SPDY_CLIENT_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
/** streamtranslator.go: PingPeriod of the upstream SPDY connection (since 1.33). */
export const TRANSLATOR_PING_PERIOD_MS = 5_000;

export interface TranslatorOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  kubeletPort: number;
  kubeletTarget: string;
  /** Fault no-pings: the upstream SPDY leg sends no PINGs (apiserver 1.30–1.32). */
  noPings: boolean;
  /** Fault no-exit-status on this hop: the Status is never written to the WebSocket. */
  noExitStatus: boolean;
  userAgent: string;
}

export function translateToSpdy(up: HopUpgrade, opts: TranslatorOptions): void {
  const { observations, session, conn, req, socket, head } = up;
  const readChannels = new Set<number>();
  if (opts.stdin) readChannels.add(K8sChannel.Stdin);
  if (opts.tty) readChannels.add(K8sChannel.Resize);
  const tallies = { stdin: new StreamTally(), stdout: new StreamTally(), stderr: new StreamTally() };
  session.streams = tallies;
  const upstream = new UpstreamExec(opts, session);
  let resizeOffset = 0;
  const resizeDecoder = new ResizeDecoder({
    onResize: (size) => {
      session.resizes.push({ width: size.width, height: size.height });
      upstream.resize(size.width, size.height);
    },
    onProblem: (p) => session.notes.push(p.message),
  });
  const ws = WebSocketChannelServer.accept(req, socket, head, ['v5.channel.k8s.io'], readChannels, {
    onData: (channel, data) => {
      if (channel === K8sChannel.Stdin) {
        tallies.stdin.add(data);
        upstream.stdin(Buffer.from(data));
      } else if (channel === K8sChannel.Resize) {
        resizeDecoder.push(data, { offset: resizeOffset, length: data.length, packet: 0, ts: 0 });
        resizeOffset += data.length;
      }
    },
    onChannelClosed: (channel) => {
      if (channel === K8sChannel.Stdin) upstream.stdinEnd();
    },
    onClose: () => {
      upstream.clientGone();
      // This leg is over; the upstream session, if still running, goes on to its end on its own leg.
      if (conn.tapped.wasReset) observations.endSession(session, `reset: ${conn.faultAction ?? 'connection reset'}`);
      else if (session.statusJson !== null) observations.endSession(session, 'clean');
      else observations.endSession(session, `aborted: ${conn.faultAction ?? 'the client left'} before the Status`);
    },
  });
  if (!ws) {
    session.httpStatus = 403;
    observations.endSession(session, 'rejected-before-upgrade');
    return;
  }
  session.httpStatus = 101;
  session.negotiatedProtocol = ws.protocol;
  // Connection established: an empty message on the lowest writable channel.
  ws.write(opts.stdout ? K8sChannel.Stdout : opts.stderr ? K8sChannel.Stderr : K8sChannel.Error, new Uint8Array(0));
  upstream.output = (name, data) => {
    if (ws.isClosed) return true;
    tallies[name].add(data);
    return ws.write(name === 'stdout' ? K8sChannel.Stdout : K8sChannel.Stderr, data);
  };
  upstream.drained = () => ws.drained();
  upstream.pauseClient = () => ws.pauseInput();
  upstream.resumeClient = () => ws.resumeInput();
  ws.begin();
  void upstream.run().then((status) => {
    if (session.endedAt !== null) return; // the lab stopped first
    const end = () => {
      const gone = conn.faultAction ?? 'the client left';
      const how = conn.tapped.wasReset ? `reset: ${conn.faultAction ?? 'connection reset'}` : session.statusJson === null ? `aborted: ${gone} before the Status` : 'clean';
      observations.endSession(session, how);
    };
    if (opts.noExitStatus) {
      session.fault = 'no-exit-status: the translator never wrote the Status';
      return;
    }
    if (!ws.isClosed) {
      ws.write(K8sChannel.Error, Buffer.from(status));
      session.statusJson = status;
      ws.close();
    }
    end();
  });
}

/** client-go's v4 SPDY executor toward the kubelet, fed from the WebSocket. */
class UpstreamExec {
  output: (name: 'stdout' | 'stderr', data: Uint8Array) => boolean = () => true;
  drained: () => Promise<void> = () => Promise.resolve();
  pauseClient: () => void = () => {};
  resumeClient: () => void = () => {};
  running = true;
  private spdy: SpdyConnection | null = null;
  private stdinStream: SpdyStream | null = null;
  private resizeStream: SpdyStream | null = null;
  /** Input that arrived before the streams existed (the client is paused meanwhile). */
  private readonly early: Buffer[] = [];
  private earlyEnd = false;
  private readonly earlySizes: string[] = [];
  private gone = false;

  constructor(
    private readonly opts: TranslatorOptions,
    private readonly session: SessionObservation,
  ) {}

  stdin(data: Buffer): void {
    if (!this.stdinStream) {
      this.early.push(data);
      this.pauseClient();
      return;
    }
    if (!this.stdinStream.write(data)) {
      this.pauseClient();
      void this.spdy!.drained().then(() => this.resumeClient());
    }
  }

  stdinEnd(): void {
    if (this.stdinStream) this.stdinStream.close();
    else this.earlyEnd = true;
  }

  resize(width: number, height: number): void {
    // json.Encoder in client-go's resize loop: one object per line.
    const line = `${JSON.stringify({ Width: width, Height: height })}\n`;
    if (this.resizeStream) this.resizeStream.write(Buffer.from(line));
    else this.earlySizes.push(line);
  }

  /** The WebSocket went away: stdin ends, output is dropped; the upstream session runs to its end. */
  clientGone(): void {
    this.gone = true;
    this.stdinEnd();
  }

  /** Runs the upstream session; resolves with the Status to write on the WebSocket. */
  async run(): Promise<string> {
    try {
      return await this.stream();
    } catch (err) {
      return internalErrorStatus((err as Error).message);
    } finally {
      this.running = false;
      this.spdy?.close();
    }
  }

  private async stream(): Promise<string> {
    const { opts } = this;
    const headers: HeaderPairs = [
      ['User-Agent', opts.userAgent],
      ['Content-Length', '0'],
      ['Connection', 'Upgrade'],
      ['Upgrade', 'SPDY/3.1'],
      ...SPDY_CLIENT_PROTOCOLS.map((p): [string, string] => ['X-Stream-Protocol-Version', p]),
    ];
    const response = await dialUpgrade(opts.kubeletPort, requestHead('POST', opts.kubeletTarget, `127.0.0.1:${opts.kubeletPort}`, headers));
    this.session.upstreamClientAddr = `127.0.0.1:${response.socket.localPort}`;
    if (response.status !== 101) {
      const body = (await readResponseBody(response)).toString('utf8').trim();
      throw new Error(`unable to upgrade connection: ${body}`);
    }
    const spdy = new SpdyConnection(response.socket, { role: 'client', pingPeriodMs: opts.noPings ? 0 : TRANSLATOR_PING_PERIOD_MS });
    this.spdy = spdy;
    spdy.push(response.raw.subarray(response.headLength));
    response.socket.resume();

    const errorStream = await spdy.createStream({ streamType: 'error' });
    const errorBytes: Buffer[] = [];
    const errorDone = ended(errorStream, (d) => errorBytes.push(Buffer.from(d)));
    if (opts.stdin) this.stdinStream = await spdy.createStream({ streamType: 'stdin' });
    const outputs: Promise<void>[] = [];
    if (opts.stdout) outputs.push(this.copyOut(await spdy.createStream({ streamType: 'stdout' }), 'stdout'));
    if (opts.stderr && !opts.tty) outputs.push(this.copyOut(await spdy.createStream({ streamType: 'stderr' }), 'stderr'));
    if (opts.tty) {
      this.resizeStream = await spdy.createStream({ streamType: 'resize' });
      for (const line of this.earlySizes.splice(0)) this.resizeStream.write(Buffer.from(line));
    }
    if (this.stdinStream) {
      for (const chunk of this.early.splice(0)) this.stdinStream.write(chunk);
      if (this.earlyEnd || this.gone) this.stdinStream.close();
    }
    this.resumeClient();
    await Promise.all(outputs);
    await errorDone;
    return translateStatus(Buffer.concat(errorBytes));
  }

  private copyOut(stream: SpdyStream, name: 'stdout' | 'stderr'): Promise<void> {
    return ended(stream, (data) => {
      if (this.gone) return;
      if (!this.output(name, data)) {
        this.spdy!.pauseInput();
        void this.drained().then(() => this.spdy!.socket.resume());
      }
    });
  }
}

function ended(stream: SpdyStream, onData: (d: Uint8Array) => void): Promise<void> {
  return new Promise((resolve) => stream.consume(onData, () => resolve()));
}

/**
 * errorDecoderV4 on the kubelet's error stream, then what the translator writes for the result:
 * nothing read → Success (client-go treats an empty error stream as success); a NonZeroExitCode →
 * its own NonZeroExitCode Status; any other failure → an InternalError around the message.
 */
export function translateStatus(bytes: Buffer): string {
  if (bytes.length === 0) return successStatus();
  let status: { status?: unknown; reason?: unknown; message?: unknown; details?: { causes?: { reason?: string; message?: string }[] } };
  try {
    status = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return internalErrorStatus(`error stream protocol error: ${(err as Error).message} in ${JSON.stringify(bytes.toString('utf8'))}`);
  }
  if (status.status === 'Success') return successStatus();
  if (status.status !== 'Failure') return internalErrorStatus('error stream protocol error: unknown error');
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    if (!cause) return internalErrorStatus('error stream protocol error: no ExitCode cause given');
    const rc = /^\d{1,3}$/.test(cause.message ?? '') ? Number(cause.message) : NaN;
    if (!(rc <= 255)) return internalErrorStatus(`error stream protocol error: invalid exit code value ${JSON.stringify(cause.message)}`);
    return nonZeroExitStatus(`command terminated with exit code ${rc}`, rc);
  }
  return internalErrorStatus(typeof status.message === 'string' ? status.message : '');
}
