/**
 * The server end of a Kubernetes channel WebSocket as apimachinery's wsstream.Conn runs it on top of
 * golang.org/x/net/websocket: the handshake (GET only, subprotocol chosen from the client's list in
 * the client's order, 403 with an empty body when none fits), unmasked server frames with one message
 * per write, pings answered with pongs, the v5 CLOSE signal half-closing a read channel, and the close:
 * a Close(1000) frame then TCP close. Used by the apiserver's stream translator (v5.channel.k8s.io) and
 * the CRI streaming server's legacy WebSocket (channel.k8s.io, base64, v4). IO glue around the sans-IO
 * K8sChannelDecoder and WebSocketFrameEncoder.
 */
import { rangeView } from '../core/byte-range.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { K8sChannel, K8sChannelDecoder } from '../websocket/channel-protocol.js';
import { k8sChannelProtocol } from '../websocket/channel-subprotocols.js';
import { WebSocketFrameEncoder } from '../websocket/frame-encoder.js';
import { webSocketAccept } from '../websocket/handshake.js';
import { headerHasToken, headerList, httpResponse, refuse, textError } from './http-replies.js';
import { socketDrained } from './socket-drained.js';

const CLOSE_NORMAL = 1000;

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return headerHasToken(req.headers, 'connection', 'upgrade') && headerHasToken(req.headers, 'upgrade', 'websocket');
}

/** wsstream's handshake: the first protocol the client lists that the server allows ("" when it lists none). */
export function negotiateWebSocketProtocol(req: IncomingMessage, allowed: readonly string[]): string | null {
  const offered = headerList(req.headers, 'sec-websocket-protocol');
  for (const protocol of offered.length ? offered : ['']) if (allowed.includes(protocol)) return protocol;
  return null;
}

/** Refuses a request that is not a well-formed WebSocket handshake (as x/net/websocket does); true if it did. */
export function refuseBadHandshake(req: IncomingMessage, socket: Duplex): boolean {
  if (req.method !== 'GET') {
    refuse(socket, textError(405, 'websocket: method not allowed'));
    return true;
  }
  const key = req.headers['sec-websocket-key'];
  if (req.headers['sec-websocket-version'] !== '13' || typeof key !== 'string' || key.trim() === '') {
    refuse(socket, httpResponse(400, [['Sec-WebSocket-Version', '13']], 'websocket: bad handshake'));
    return true;
  }
  return false;
}

/** The 101 that completes a (well-formed) handshake with `protocol` ("" for none). */
export function handshakeResponse(req: IncomingMessage, protocol: string): Buffer {
  const accept = webSocketAccept(String(req.headers['sec-websocket-key']));
  const headers: [string, string][] = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', accept],
  ];
  if (protocol !== '') headers.push(['Sec-WebSocket-Protocol', protocol]);
  return httpResponse(101, headers);
}

export interface ChannelHandlers {
  /** Payload for a channel the server reads (stdin 0, resize 4); a view valid only during the call. */
  onData(channel: number, data: Uint8Array): void;
  /** The channel will carry no more: v5 CLOSE signal for it, or the connection's read side ended. */
  onChannelClosed(channel: number): void;
  /** The TCP connection closed. */
  onClose(): void;
}

export class WebSocketChannelServer {
  readonly protocol: string;
  private readonly encoder = new WebSocketFrameEncoder({ client: false });
  private readonly base64: boolean;
  private readonly decoder: K8sChannelDecoder;
  private inOffset = 0;
  private readEnded = false;
  private closed = false;
  readonly notes: string[] = [];

  /**
   * Completes the handshake on `socket` (the 101 is written here) or refuses it (then returns null).
   * `readChannels`: the channels the client may write (wsstream's ReadChannel slots).
   */
  static accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    allowedProtocols: readonly string[],
    readChannels: ReadonlySet<number>,
    handlers: ChannelHandlers,
  ): WebSocketChannelServer | null {
    if (refuseBadHandshake(req, socket)) return null;
    const protocol = negotiateWebSocketProtocol(req, allowedProtocols);
    if (protocol === null) {
      // x/net/websocket: a failed Handshake func answers 403 with no body and closes.
      socket.end(Buffer.from('HTTP/1.1 403 Forbidden\r\n\r\n'));
      return null;
    }
    socket.write(handshakeResponse(req, protocol));
    return new WebSocketChannelServer(socket, protocol, readChannels, handlers, head);
  }

  private constructor(
    private readonly socket: Duplex,
    protocol: string,
    private readonly readChannels: ReadonlySet<number>,
    private readonly handlers: ChannelHandlers,
    /** Bytes that came with the request; decoded when begin() is called. */
    private head: Buffer,
  ) {
    this.protocol = protocol;
    this.base64 = k8sChannelProtocol(protocol).codec === 'base64';
    this.decoder = new K8sChannelDecoder(protocol, {
      onChannelData: (ev) => {
        if (ev.end > ev.start && this.readChannels.has(ev.channel)) handlers.onData(ev.channel, rangeView(ev.bytes, ev.start, ev.end));
      },
      onChannelClose: (ev) => {
        if (this.readChannels.has(ev.channel)) handlers.onChannelClosed(ev.channel);
      },
      onControl: (ev) => {
        if (ev.dir !== 'c2s') return;
        if (ev.kind === 'ping') this.send(this.encoder.pong(ev.payload));
        // x/net/websocket reads a Close frame as EOF (and does not echo it): the read loop ends.
        else if (ev.kind === 'close') this.endReads();
      },
      onProblem: (p) => {
        this.notes.push(p.message);
        // wsstream aborts the connection on a malformed CLOSE signal; other oddities are skipped.
        if (p.message.startsWith('v5 CLOSE signal')) this.close();
      },
    });
    socket.pause();
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('end', () => this.endReads());
    socket.on('error', () => {});
    socket.on('close', () => {
      this.endReads();
      if (!this.closed) {
        this.closed = true;
        handlers.onClose();
      }
    });
  }

  /** Starts reading: call once the handlers can take events. */
  begin(): void {
    const head = this.head;
    this.head = Buffer.alloc(0);
    this.push(head);
    this.socket.resume();
  }

  /** Closed, or the client's side ended (x/net/websocket's read loop then closes the connection). */
  get isClosed(): boolean {
    return this.closed || this.readEnded || this.socket.destroyed;
  }

  /** One message on `channel` (binary, or base64 text for the base64 protocols); false when the socket is full. */
  write(channel: number, data: Uint8Array): boolean {
    const frame = this.base64 ? this.encoder.base64ChannelMessage(channel, data) : this.encoder.channelMessage(channel, data);
    return this.send(frame);
  }

  /** Resolves once the socket takes more. */
  drained(): Promise<void> {
    return socketDrained(this.socket);
  }

  /** x/net/websocket Conn.Close: Close(1000) frame, then close the TCP connection. */
  close(): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.send(this.encoder.close(CLOSE_NORMAL));
    this.socket.end();
    // Like Go closing the file descriptor: what the peer still sends is not read.
    this.socket.once('finish', () => this.socket.destroy());
  }

  pauseInput(): void {
    this.socket.pause();
  }

  resumeInput(): void {
    this.socket.resume();
  }

  private send(frame: Uint8Array): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return true;
    return this.socket.write(frame);
  }

  private push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.readEnded) return;
    this.decoder.push('c2s', chunk, 0, chunk.length, { offset: this.inOffset, length: chunk.length, packet: 0, ts: 0 });
    this.inOffset += chunk.length;
  }

  private endReads(): void {
    if (this.readEnded) return;
    this.readEnded = true;
    for (const channel of this.readChannels) this.handlers.onChannelClosed(channel);
  }
}

export { K8sChannel };
