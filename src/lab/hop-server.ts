/**
 * The listening side of one hop: a TCP server on 127.0.0.1 (free port) whose every accepted
 * connection is tapped into the recording, optionally wrapped in TLS (key log lines reported), and
 * subject to the hop's connection-level faults (reset after N bytes, idle drop). IO code.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Endpoint } from '../capture/synthetic-tcp.js';
import type { PcapngRecorder } from '../record/pcapng-recorder.js';
import { TappedSocket } from './tapped-socket.js';

export interface HopTls {
  key: string;
  cert: string;
  /** ALPN protocols offered, in preference order (the apiserver: h2, http/1.1). */
  alpn: string[];
  onKeyLog(line: string): void;
}

/** Faults that act on the TCP connection rather than on a protocol. */
export interface ConnectionFaults {
  /** RST the connection once this many bytes (both directions) passed after the upgrade request. */
  resetAfterUpgradedBytes?: number;
  /** Close a connection that carried no byte for this long, as a load balancer's idle timeout does. */
  idleDropMs?: number;
}

export interface HopConnection {
  /** What the protocol reads and writes: the TLS socket on HTTPS hops, else the tapped socket. */
  socket: Duplex;
  tapped: TappedSocket;
  client: Endpoint;
  server: Endpoint;
  /** Negotiated ALPN protocol (TLS hops), or false. */
  alpn: string | false;
  /** The protocol switched (upgrade request seen): byte-count faults start counting here. */
  markUpgraded(): void;
  /** A description of what a connection-level fault did, for the truth file; null if none acted. */
  faultAction: string | null;
}

export interface HopServerOptions {
  hopIndex: number;
  recorder: PcapngRecorder | null;
  tls?: HopTls;
  faults?: ConnectionFaults;
  /** The port to listen on (default 0: a free one). */
  port?: number;
  onConnection(conn: HopConnection): void;
}

export class HopServer {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async listen(opts: HopServerOptions): Promise<HopServer> {
    const tlsServer = opts.tls ? tls.createServer({ ALPNProtocols: opts.tls.alpn }) : null;
    const context = opts.tls ? tls.createSecureContext({ key: opts.tls.key, cert: opts.tls.cert }) : null;
    const server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const hop = new HopServer(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (raw) => {
      hop.sockets.add(raw);
      raw.on('close', () => hop.sockets.delete(raw));
      const client = { ip: '127.0.0.1', port: raw.remotePort ?? 0 };
      const serverEnd = { ip: '127.0.0.1', port: hop.port };
      const tapped = new TappedSocket(raw, opts.recorder?.connection(opts.hopIndex, client, serverEnd) ?? null);
      tapped.on('error', () => {});
      const conn: HopConnection = {
        socket: tapped,
        tapped,
        client,
        server: serverEnd,
        alpn: false,
        markUpgraded: () => {},
        faultAction: null,
      };
      applyFaults(conn, opts.faults ?? {});
      if (!opts.tls || !tlsServer || !context) {
        opts.onConnection(conn);
        return;
      }
      const secure = new tls.TLSSocket(tapped, {
        isServer: true,
        server: tlsServer,
        secureContext: context,
        ALPNProtocols: opts.tls.alpn,
      });
      const onKeyLog = opts.tls.onKeyLog;
      secure.on('keylog', (line: Buffer) => onKeyLog(line.toString('latin1')));
      secure.on('error', () => tapped.destroy());
      secure.once('secure', () => {
        // What node's own tls.Server does on 'secure' (http2 waits for it otherwise).
        (secure as tls.TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
        conn.socket = secure;
        conn.alpn = secure.alpnProtocol ?? false;
        opts.onConnection(conn);
      });
    });
    return hop;
  }

  /** Stops listening and destroys every connection still open. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function applyFaults(conn: HopConnection, faults: ConnectionFaults): void {
  const { resetAfterUpgradedBytes, idleDropMs } = faults;
  if (resetAfterUpgradedBytes === undefined && idleDropMs === undefined) return;
  let counting = false;
  let upgradedBytes = 0;
  let idleTimer: NodeJS.Timeout | null = null;
  const armIdle = () => {
    if (idleDropMs === undefined) return;
    if (idleTimer) idleTimer.refresh();
    else {
      idleTimer = setTimeout(() => {
        conn.faultAction = `idle-drop: closed after ${idleDropMs} ms without traffic`;
        conn.tapped.destroy();
      }, idleDropMs);
    }
  };
  conn.markUpgraded = () => {
    counting = true;
  };
  conn.tapped.setListener({
    onBytes: (_dir, length) => {
      armIdle();
      if (!counting || resetAfterUpgradedBytes === undefined || conn.faultAction !== null) return;
      upgradedBytes += length;
      if (upgradedBytes >= resetAfterUpgradedBytes) {
        conn.faultAction = `reset-mid-stream: RST after ${upgradedBytes} bytes`;
        // After the current chunk has been handed on, like a middlebox that cuts mid-flow.
        setImmediate(() => conn.tapped.resetAndDestroy());
      }
    },
  });
  armIdle();
  conn.tapped.once('close', () => {
    if (idleTimer) clearTimeout(idleTimer);
  });
}
