/**
 * The apiserver's TunnelingHandler (apiserver ≥ 1.31, pkg/util/proxy/streamtunnel.go): kubectl's
 * port-forward WebSocket offering `SPDY/3.1+portforward.k8s.io` carries a SPDY connection in its
 * binary messages. The handler upgrades to the kubelet with a SPDY POST (the WebSocket fields replaced
 * by `Upgrade: SPDY/3.1` and the offered protocols stripped of their `SPDY/3.1+` prefix); only once the
 * kubelet answers 101 does it complete the WebSocket handshake, then copies message payloads to the
 * kubelet and the kubelet's bytes out as one binary message per read. A non-101 answer goes back to
 * the client as it came. IO code.
 */
import { rangeView } from '../core/byte-range.js';
import { K8sChannelDecoder } from '../websocket/channel-protocol.js';
import { Opcode } from '../websocket/frame-header.js';
import { WebSocketFrameEncoder } from '../websocket/frame-encoder.js';
import type { HopUpgrade } from './hop-upgrade.js';
import { dialBackend, forwardedHeaders } from './upgrade-proxy.js';
import { requestHead } from './upstream.js';
import { handshakeResponse, refuseBadHandshake } from './ws-channel-server.js';

export const TUNNEL_PREFIX = 'SPDY/3.1+';
export const PORT_FORWARD_TUNNEL_PROTOCOL = `${TUNNEL_PREFIX}portforward.k8s.io`;
const CLOSE_NORMAL = 1000;
/** Request fields that belong to the WebSocket handshake, not to the SPDY upgrade upstream. */
const WEBSOCKET_FIELDS = new Set(['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions']);

export async function tunnelToKubelet(up: HopUpgrade, kubeletPort: number, kubeletTarget: string): Promise<void> {
  const { observations, session, conn, req, socket, head } = up;
  if (refuseBadHandshake(req, socket)) {
    observations.endSession(session, 'rejected-before-upgrade');
    return;
  }
  const spdyProtocols = session.offeredProtocols.filter((p) => p.startsWith(TUNNEL_PREFIX)).map((p) => p.slice(TUNNEL_PREFIX.length));
  const fields = forwardedHeaders(req).filter(([name]) => !WEBSOCKET_FIELDS.has(name.toLowerCase()));
  fields.push(['Connection', 'Upgrade'], ['Upgrade', 'SPDY/3.1'], ...spdyProtocols.map((p): [string, string] => ['X-Stream-Protocol-Version', p]));
  const upstream = await dialBackend(observations, session, socket, kubeletPort, requestHead('POST', kubeletTarget, `127.0.0.1:${kubeletPort}`, fields));
  if (!upstream) return;
  const backend = upstream.socket;
  session.negotiatedProtocol = PORT_FORWARD_TUNNEL_PROTOCOL;
  socket.write(handshakeResponse(req, PORT_FORWARD_TUNNEL_PROTOCOL));
  const encoder = new WebSocketFrameEncoder({ client: false });
  const send = (frame: Uint8Array) => {
    if (!socket.destroyed && !socket.writableEnded) socket.write(frame);
  };
  let inOffset = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    send(encoder.close(CLOSE_NORMAL));
    socket.end();
    socket.once('finish', () => socket.destroy());
    backend.destroy();
    observations.endSession(session, conn.tapped.wasReset ? `reset: ${conn.faultAction ?? 'connection reset'}` : 'clean');
  };
  const decoder = new K8sChannelDecoder(PORT_FORWARD_TUNNEL_PROTOCOL, {
    onChannelData: () => {},
    onChannelClose: () => {},
    onTunnelData: (_dir, bytes, start, end) => {
      if (!backend.destroyed && !backend.write(rangeView(bytes, start, end))) {
        socket.pause();
        backend.once('drain', () => socket.resume());
      }
    },
    onControl: (ev) => {
      if (ev.kind === 'ping') send(encoder.pong(ev.payload));
      else if (ev.kind === 'close') finish();
    },
    onProblem: (p) => session.notes.push(p.message),
  });
  const push = (chunk: Uint8Array) => {
    decoder.push('c2s', chunk, 0, chunk.length, { offset: inOffset, length: chunk.length, packet: 0, ts: 0 });
    inOffset += chunk.length;
  };
  // The kubelet's 101 may have come with its first frames.
  const early = upstream.raw.subarray(upstream.headLength);
  if (early.length) send(encoder.frame(Opcode.Binary, early));
  push(head);
  socket.on('data', push);
  socket.on('end', finish);
  socket.on('close', finish);
  socket.on('error', () => {});
  backend.on('data', (chunk: Buffer) => {
    if (!socket.destroyed && !socket.write(encoder.frame(Opcode.Binary, chunk))) {
      backend.pause();
      socket.once('drain', () => backend.resume());
    }
  });
  backend.on('end', finish);
  backend.on('close', finish);
  backend.on('error', () => {});
  backend.resume();
}
