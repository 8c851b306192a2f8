/**
 * The CRI streaming server's port-forward (cri-streaming portforward/httpstream.go; SPDY only, the
 * one protocol `portforward.k8s.io`): streams come in pairs sharing a `requestid` — error, then data —
 * both naming the `port`; once a pair is complete the runtime connects to that port of the pod
 * (containerd: inside the sandbox's network namespace; the lab: the pod's loopback service) and copies
 * both ways until either side finishes, then closes both streams. A failure is written on the error
 * stream as `error forwarding port P to pod …`. IO code.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { HopConnection } from './hop-server.js';
import { httpResponse, refuse, spdySwitchingProtocols, textError } from './http-replies.js';
import type { ForwardObservation, LabObservations, SessionObservation } from './observations.js';
import type { PodServices } from './pod-services.js';
import { sandboxId, type LabRuntime, type PortForwardRequest } from './runtime.js';
import { SpdyConnection, type SpdyStream } from './spdy-connection.js';
import { StreamTally } from './stream-tally.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

export interface PortForwardContext {
  runtime: LabRuntime;
  observations: LabObservations;
  podServices: PodServices;
}

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
}

export function servePortForward(
  ctx: PortForwardContext,
  conn: HopConnection,
  socket: Duplex,
  head: Buffer,
  request: PortForwardRequest,
  session: SessionObservation,
): void {
  if (!session.offeredProtocols.includes(PORT_FORWARD_PROTOCOL)) {
    const message = `unable to upgrade: unable to negotiate protocol: client supports [${session.offeredProtocols.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`;
    session.httpStatus = 403;
    refuse(socket, session.offeredProtocols.length ? httpResponse(403, [['X-Accepted-Stream-Protocol-Versions', PORT_FORWARD_PROTOCOL]], `${message}\n`) : textError(400, 'unable to upgrade: X-Stream-Protocol-Version is required'));
    ctx.observations.endSession(session, 'rejected-before-upgrade');
    return;
  }
  session.httpStatus = 101;
  session.negotiatedProtocol = PORT_FORWARD_PROTOCOL;
  socket.write(spdySwitchingProtocols(PORT_FORWARD_PROTOCOL));
  const pod = ctx.runtime.findPod(request.namespace, request.pod);
  const pairs = new Map<string, Pair>();
  const spdy: SpdyConnection = new SpdyConnection(socket, {
    role: 'server',
    onStream: (stream) => {
      spdy.replyTo(stream);
      const requestId = stream.headers['requestid']?.[0];
      const type = stream.type;
      if (requestId === undefined || (type !== 'data' && type !== 'error')) {
        session.notes.push(`stream ${stream.id}: ${requestId === undefined ? 'no requestID header' : `unexpected stream type "${type}"`}`);
        stream.reset();
        return;
      }
      const pair = pairs.get(requestId) ?? {};
      pairs.set(requestId, pair);
      pair[type] = stream;
      if (pair.data && pair.error) forward(ctx, spdy, session, request, pod ? sandboxId(pod) : '', requestId, pair.data, pair.error);
    },
    onClose: () => {
      const how = conn.faultAction ?? 'connection reset';
      ctx.observations.endSession(session, conn.tapped.wasReset ? `reset: ${how}` : 'clean');
    },
  });
  spdy.push(head);
}

function forward(ctx: PortForwardContext, spdy: SpdyConnection, session: SessionObservation, request: PortForwardRequest, sandbox: string, requestId: string, data: SpdyStream, error: SpdyStream): void {
  const port = Number(data.headers['port']?.[0]);
  const fwd: ForwardObservation = { port, requestId, toPod: new StreamTally(), fromPod: new StreamTally(), error: null };
  session.forwards.push(fwd);
  const finish = () => {
    data.close();
    error.close();
  };
  const fail = (reason: string) => {
    fwd.error = `error forwarding port ${port} to pod ${sandbox}, uid : ${reason}`;
    error.write(Buffer.from(fwd.error));
    finish();
  };
  const target = Number.isInteger(port) ? ctx.podServices.target(request.namespace, request.pod, port) : undefined;
  if (target === undefined) {
    // What the client sends on the data stream still arrives here (and goes nowhere): it is counted.
    data.consume((bytes) => fwd.toPod.add(bytes));
    fail(`failed to connect to localhost:${data.headers['port']?.[0] ?? ''} inside namespace "${sandbox}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6: address localhost: no suitable address found `);
    return;
  }
  const pod = net.connect(target, '127.0.0.1');
  let done = false;
  // containerd copies both ways and stops at the first direction to finish.
  const stop = () => {
    if (done) return;
    done = true;
    pod.destroy();
    finish();
  };
  data.consume(
    (bytes) => {
      fwd.toPod.add(bytes);
      pod.write(bytes);
    },
    (how) => (how === 'fin' ? pod.end() : stop()),
  );
  pod.on('data', (chunk: Buffer) => {
    fwd.fromPod.add(chunk);
    if (!data.write(chunk)) {
      pod.pause();
      void spdy.drained().then(() => pod.resume());
    }
  });
  pod.on('end', stop);
  pod.on('close', stop);
  pod.on('error', (err) => {
    if (!done && fwd.fromPod.length === 0) fail(err.message);
  });
}
