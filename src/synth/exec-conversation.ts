/**
 * Scripted exec sessions as kubectl and a server would speak them (HTTP upgrade, then SPDY/3.1 or
 * WebSocket v5 channel frames), turned into Ethernet frames by SyntheticTcpConnection. The benchmark
 * generator and the demo capture are built from these.
 */
import { SyntheticTcpConnection } from '../capture/synthetic-tcp.js';
import { SpdyFrameEncoder } from '../spdy/frame-encoder.js';
import { WebSocketFrameEncoder } from '../websocket/frame-encoder.js';

export type Frames = Uint8Array[];

const ascii = (s: string) => new TextEncoder().encode(s);
export const SUCCESS_STATUS = ascii('{"metadata":{},"status":"Success"}');

export interface ExecScript {
  transport: 'spdy' | 'websocket';
  pod: string;
  command: string[];
  stdin: boolean;
  tty: boolean;
}

function execTarget(s: ExecScript): string {
  const q = s.command.map((c) => `command=${encodeURIComponent(c).replace(/%20/g, '+')}`);
  q.push('container=main');
  if (s.stdin) q.push('stdin=true');
  q.push('stdout=true');
  if (!s.tty) q.push('stderr=true');
  if (s.tty) q.push('tty=true');
  return `/api/v1/namespaces/default/pods/${s.pod}/exec?${q.join('&')}`;
}

/** One exec session on its own TCP connection; each method returns the frames it put on the wire. */
export class ExecConversation {
  readonly tcp: SyntheticTcpConnection;
  private readonly spdyClient = new SpdyFrameEncoder();
  private readonly spdyServer = new SpdyFrameEncoder();
  private readonly wsClient = new WebSocketFrameEncoder({ client: true, maskKeys: () => 0x5a5a5a5a });
  private readonly wsServer = new WebSocketFrameEncoder({ client: false });
  /** SPDY stream id per k8s stream name, in client-go's creation order. */
  private readonly ids = new Map<string, number>();

  constructor(
    readonly script: ExecScript,
    clientPort: number,
    serverPort: number,
    mss: number,
  ) {
    this.tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: clientPort }, { ip: '10.0.0.1', port: serverPort }, mss);
  }

  /** TCP handshake, the upgrade request and its 101, and stream setup. */
  open(): Frames {
    const ws = this.script.transport === 'websocket';
    const reply = [
      'HTTP/1.1 101 Switching Protocols',
      'Connection: Upgrade',
      ...(ws ? ['Upgrade: websocket', 'Sec-Websocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-Websocket-Protocol: v5.channel.k8s.io'] : ['Upgrade: SPDY/3.1', 'X-Stream-Protocol-Version: v4.channel.k8s.io']),
      '',
      '',
    ].join('\r\n');
    const frames = [...this.tcp.handshake(), ...this.tcp.send('c2s', this.request()), ...this.tcp.send('s2c', ascii(reply))];
    if (ws) return [...frames, ...this.tcp.send('s2c', this.wsServer.channelMessage(1, new Uint8Array(0)))];
    const s = this.script;
    const names = ['error', ...(s.stdin ? ['stdin'] : []), 'stdout', ...(s.tty ? ['resize'] : ['stderr'])];
    names.forEach((name, i) => {
      const id = 2 * i + 1;
      this.ids.set(name, id);
      frames.push(...this.tcp.send('c2s', this.spdyClient.synStream(id, { streamtype: name })));
      frames.push(...this.tcp.send('s2c', this.spdyServer.synReply(id, {})));
    });
    return frames;
  }

  /** The upgrade request answered with an error Status instead of a 101 (e.g. a proxy refusing WebSocket). */
  refused(status: number, reason: string, message: string): Frames {
    const body = ascii(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: status }));
    const head = ascii([`HTTP/1.1 ${status} ${reason}`, 'Content-Type: application/json', `Content-Length: ${body.length}`, '', ''].join('\r\n'));
    return [...this.tcp.handshake(), ...this.tcp.send('c2s', this.request()), ...this.tcp.send('s2c', Buffer.concat([head, body])), ...this.tcp.close()];
  }

  private request(): Uint8Array {
    const s = this.script;
    const ws = s.transport === 'websocket';
    const head = [
      `${ws ? 'GET' : 'POST'} ${execTarget(s)} HTTP/1.1`,
      'Host: 10.0.0.1:6443',
      'User-Agent: kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07',
      'Connection: Upgrade',
      ...(ws
        ? ['Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol: v5.channel.k8s.io', 'Sec-WebSocket-Version: 13']
        : ['Upgrade: SPDY/3.1', ...['v5', 'v4', 'v3', 'v2'].map((v) => `X-Stream-Protocol-Version: ${v}.channel.k8s.io`), 'X-Stream-Protocol-Version: channel.k8s.io']),
      '',
      '',
    ].join('\r\n');
    return ascii(head);
  }

  /**
   * Bytes on a k8s stream (stdin and resize from the client, others from the server), one frame or
   * message per payload. Several payloads go out in one TCP send, so segments fill up to the MSS and
   * frames straddle segment boundaries, as when a loopback sender outpaces its reader.
   */
  write(stream: 'stdin' | 'stdout' | 'stderr' | 'error' | 'resize', ...payloads: Uint8Array[]): Frames {
    const fromClient = stream === 'stdin' || stream === 'resize';
    const dir = fromClient ? 'c2s' : 's2c';
    const channel = ['stdin', 'stdout', 'stderr', 'error', 'resize'].indexOf(stream);
    const frames = payloads.map((payload) =>
      this.script.transport === 'websocket'
        ? (fromClient ? this.wsClient : this.wsServer).channelMessage(channel, payload)
        : (fromClient ? this.spdyClient : this.spdyServer).data(this.ids.get(stream) ?? 0, payload),
    );
    return this.tcp.send(dir, frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }

  /** A keepalive from the client and its answer (SPDY PING echoed, WebSocket ping/pong). */
  ping(id: number): Frames {
    if (this.script.transport === 'websocket') {
      return [...this.tcp.send('c2s', this.wsClient.ping()), ...this.tcp.send('s2c', this.wsServer.pong())];
    }
    return [...this.tcp.send('c2s', this.spdyClient.ping(id)), ...this.tcp.send('s2c', this.spdyServer.ping(id))];
  }

  /** Client's stdin EOF: SPDY DATA+FIN, or the v5 CLOSE signal. */
  closeStdin(): Frames {
    if (this.script.transport === 'websocket') return this.tcp.send('c2s', this.wsClient.closeChannel(0));
    return this.tcp.send('c2s', this.spdyClient.data(this.ids.get('stdin') ?? 0, new Uint8Array(0), { fin: true }));
  }

  /** Status on the error stream, then the server's orderly end and the TCP close. */
  finish(status: Uint8Array = SUCCESS_STATUS): Frames {
    const frames = this.write('error', status);
    if (this.script.transport === 'websocket') {
      frames.push(...this.tcp.send('s2c', this.wsServer.close(1000)));
    } else {
      for (const id of this.ids.values()) frames.push(...this.tcp.send('s2c', this.spdyServer.rstStream(id, 5)));
      frames.push(...this.tcp.send('s2c', this.spdyServer.goAway(0)));
    }
    return [...frames, ...this.tcp.close()];
  }
}
