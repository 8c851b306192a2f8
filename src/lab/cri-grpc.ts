/**
 * The CRI call between the kubelet and the runtime: gRPC `runtime.v1.RuntimeService/Exec`, `/Attach`
 * and `/PortForward` over cleartext HTTP/2 (a real kubelet uses the runtime's unix socket; the lab puts
 * it on loopback TCP so the recording shows it). The protobuf messages are the decoder's own
 * definitions (src/cri/cri-proto.ts). Both ends: the runtime's server and the kubelet's client. IO code.
 */
import http2 from 'node:http2';
import { decodeCri, encodeCri } from '../cri/cri-proto.js';
import { grpcFrame } from '../grpc/grpc-calls.js';
import type { HopConnection } from './hop-server.js';
import { recordRequest, type LabObservations } from './observations.js';
import { sandboxId, type LabRuntime, type PortForwardRequest, type StreamingRequest } from './runtime.js';

export const EXEC_METHOD = '/runtime.v1.RuntimeService/Exec';
export const ATTACH_METHOD = '/runtime.v1.RuntimeService/Attach';
export const PORT_FORWARD_METHOD = '/runtime.v1.RuntimeService/PortForward';
const GRPC_NOT_FOUND = 5;
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNIMPLEMENTED = 12;
const MAX_MESSAGE_BYTES = 1 << 20;


// --- the runtime's server ---

export interface CriGrpcContext {
  runtime: LabRuntime;
  observations: LabObservations;
  streamingPort: () => number;
}

export function criGrpcServer(ctx: CriGrpcContext): (conn: HopConnection) => void {
  const server = http2.createServer();
  server.on('sessionError', () => {});
  const connections = new WeakMap<object, HopConnection>();
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path'] ?? '');
    recordRequest(ctx.observations, 'runtime', connections.get(stream.session?.socket ?? {}), { method: String(headers[':method'] ?? ''), url: path, headers: { 'user-agent': String(headers['user-agent'] ?? '') } });
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (c: Buffer) => {
      length += c.length;
      if (length <= MAX_MESSAGE_BYTES + 5) chunks.push(c);
    });
    stream.on('error', () => {});
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const kind = path === EXEC_METHOD ? 'exec' : path === ATTACH_METHOD ? 'attach' : path === PORT_FORWARD_METHOD ? 'portforward' : null;
      if (!kind) return fail(stream, GRPC_UNIMPLEMENTED, `unknown method ${path}`);
      if (body.length < 5 || body.readUInt32BE(1) !== body.length - 5) return fail(stream, GRPC_INVALID_ARGUMENT, 'malformed gRPC message');
      let request: StreamingRequest | PortForwardRequest;
      try {
        if (kind === 'portforward') {
          const req = decodeCri('PortForwardRequest', body.subarray(5));
          const pod = ctx.runtime.podBySandboxId(req.pod_sandbox_id as string);
          if (!pod) return fail(stream, GRPC_NOT_FOUND, `pod sandbox "${req.pod_sandbox_id}" not found`);
          request = { kind, namespace: pod.namespace, pod: pod.name, ports: req.port as number[] };
        } else {
          const req = decodeCri(kind === 'exec' ? 'ExecRequest' : 'AttachRequest', body.subarray(5));
          const container = ctx.runtime.containerById(req.container_id as string);
          if (!container) return fail(stream, GRPC_NOT_FOUND, `container "${req.container_id}" not found`);
          const flags = { stdin: req.stdin as boolean, stdout: req.stdout as boolean, stderr: req.stderr as boolean, tty: req.tty as boolean };
          request = { kind, ...container, command: kind === 'exec' ? (req.cmd as string[]) : [], ...flags };
        }
      } catch (err) {
        return fail(stream, GRPC_INVALID_ARGUMENT, (err as Error).message);
      }
      const answer = ctx.runtime.requestToken(request);
      if ('error' in answer) return fail(stream, GRPC_INVALID_ARGUMENT, answer.error);
      const url = `http://127.0.0.1:${ctx.streamingPort()}/${kind}/${answer.token}`;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
      const response = kind === 'exec' ? 'ExecResponse' : kind === 'attach' ? 'AttachResponse' : 'PortForwardResponse';
      stream.end(grpcFrame(encodeCri(response, { url })));
    });
  });
  return (conn) => {
    connections.set(conn.socket, conn);
    server.emit('connection', conn.socket);
  };
}

/** A trailers-only gRPC error response. */
function fail(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) }, { endStream: true });
}

// --- the kubelet's client ---

/** Exec, Attach and PortForward responses are all { url = 1 }. */
async function streamingUrl(call: Promise<{ value: Record<string, unknown> } | { error: string }>): Promise<{ url: string } | { error: string }> {
  const answer = await call;
  if ('error' in answer) return answer;
  const url = answer.value.url as string;
  return url ? { url } : { error: 'CRI response without a URL' };
}

export class CriGrpcClient {
  private session: http2.ClientHttp2Session | null = null;

  constructor(private readonly port: () => number) {}

  /** Exec/Attach: the streaming URL, or the runtime's error message. */
  call(containerId: string, req: StreamingRequest): Promise<{ url: string } | { error: string }> {
    const flags = { tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr };
    const call = req.kind === 'exec' ? this.invoke('Exec', { container_id: containerId, cmd: req.command, ...flags }) : this.invoke('Attach', { container_id: containerId, ...flags });
    return streamingUrl(call);
  }

  /** PortForward for the pod's sandbox: the streaming URL, or the runtime's error message. */
  portForward(pod: Parameters<typeof sandboxId>[0], ports: number[], podSandboxId = sandboxId(pod)): Promise<{ url: string } | { error: string }> {
    return streamingUrl(this.invoke('PortForward', { pod_sandbox_id: podSandboxId, port: ports }));
  }

  /** Any `runtime.v1.RuntimeService` RPC whose messages cri-proto.ts declares: the decoded response, or the error. */
  invoke(rpc: string, request: Record<string, unknown>): Promise<{ value: Record<string, unknown> } | { error: string }> {
    const session = this.connect();
    const stream = session.request({
      ':method': 'POST',
      ':path': `/runtime.v1.RuntimeService/${rpc}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'grpc-go/1.65.0',
    });
    stream.end(grpcFrame(encodeCri(`${rpc}Request`, request)));
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      const take = (headers: http2.IncomingHttpHeaders) => {
        if (headers['grpc-status'] !== undefined) {
          status = String(headers['grpc-status']);
          message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
        }
      };
      stream.on('response', take);
      stream.on('trailers', take);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => resolve({ error: `CRI call failed: ${err.message}` }));
      stream.on('close', () => {
        if (status !== '0') return resolve({ error: message || `CRI call failed (grpc-status ${status ?? 'missing'})` });
        try {
          resolve({ value: decodeCri(`${rpc}Response`, Buffer.concat(chunks).subarray(5)) });
        } catch (err) {
          resolve({ error: `CRI response is not valid protobuf: ${(err as Error).message}` });
        }
      });
    });
  }

  close(): void {
    this.session?.close();
    this.session = null;
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(`http://127.0.0.1:${this.port()}`);
    session.on('error', () => {});
    session.on('close', () => {
      if (this.session === session) this.session = null;
    });
    this.session = session;
    return session;
  }
}
