/**
 * The CRI call between the kubelet and the runtime: gRPC `runtime.v1.RuntimeService/Exec` and
 * `/Attach` over cleartext HTTP/2 (a real kubelet uses the runtime's unix socket; the lab puts it on
 * loopback TCP so the recording shows it). Protobuf messages as cri-api's api.proto defines them:
 * ExecRequest{container_id=1, cmd=2, tty=3, stdin=4, stdout=5, stderr=6},
 * AttachRequest{container_id=1, stdin=2, tty=3, stdout=4, stderr=5},
 * PortForwardRequest{pod_sandbox_id=1, port=2 (repeated int32, packed)}, Exec/Attach/PortForwardResponse{url=1}.
 * Both ends: the runtime's server and the kubelet's client. IO code.
 */
import http2 from 'node:http2';
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

// --- protobuf (only the wire types these messages use: varint 0, length-delimited 2) ---

type Field = { field: number; value: number | Buffer };

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

export function encodeMessage(fields: { field: number; value: string | boolean | number[] }[]): Buffer {
  const parts: Buffer[] = [];
  for (const { field, value } of fields) {
    if (Array.isArray(value)) {
      // proto3 packs repeated scalars: one length-delimited field of varints.
      const packed = Buffer.concat(value.map(varint));
      if (packed.length) parts.push(varint((field << 3) | 2), varint(packed.length), packed);
    } else if (typeof value === 'boolean') {
      if (value) parts.push(varint(field << 3), varint(1)); // proto3: false is not written
    } else {
      const bytes = Buffer.from(value, 'utf8');
      parts.push(varint((field << 3) | 2), varint(bytes.length), bytes);
    }
  }
  return Buffer.concat(parts);
}

export function decodeMessage(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const readVarint = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (at >= buf.length || mul > 2 ** 49) throw new Error('truncated varint');
      const b = buf[at++];
      n += (b & 0x7f) * mul;
      if (!(b & 0x80)) return n;
      mul *= 128;
    }
  };
  while (at < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const type = key & 7;
    if (type === 0) fields.push({ field, value: readVarint() });
    else if (type === 2) {
      const length = readVarint();
      if (at + length > buf.length) throw new Error('truncated field');
      fields.push({ field, value: buf.subarray(at, at + length) });
      at += length;
    } else throw new Error(`unsupported wire type ${type}`);
  }
  return fields;
}

/** gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, message. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** Varints packed in a length-delimited field (repeated int32). */
function unpackVarints(buf: Buffer): number[] {
  const out: number[] = [];
  let n = 0;
  let mul = 1;
  for (const b of buf) {
    n += (b & 0x7f) * mul;
    mul *= 128;
    if (!(b & 0x80)) {
      out.push(n);
      n = 0;
      mul = 1;
    }
  }
  return out;
}

export function encodePortForwardRequest(sandbox: string, ports: number[]): Buffer {
  return encodeMessage([
    { field: 1, value: sandbox },
    { field: 2, value: ports },
  ]);
}

function decodePortForwardRequest(message: Buffer): { sandboxId: string; ports: number[] } {
  const out = { sandboxId: '', ports: [] as number[] };
  for (const { field, value } of decodeMessage(message)) {
    if (field === 1 && Buffer.isBuffer(value)) out.sandboxId = value.toString('utf8');
    else if (field === 2) out.ports.push(...(Buffer.isBuffer(value) ? unpackVarints(value) : [value]));
  }
  return out;
}

export function encodeStreamingRequest(containerId: string, req: StreamingRequest): Buffer {
  if (req.kind === 'exec') {
    return encodeMessage([
      { field: 1, value: containerId },
      ...req.command.map((c) => ({ field: 2, value: c })),
      { field: 3, value: req.tty },
      { field: 4, value: req.stdin },
      { field: 5, value: req.stdout },
      { field: 6, value: req.stderr },
    ]);
  }
  return encodeMessage([
    { field: 1, value: containerId },
    { field: 2, value: req.stdin },
    { field: 3, value: req.tty },
    { field: 4, value: req.stdout },
    { field: 5, value: req.stderr },
  ]);
}

function decodeStreamingRequest(kind: 'exec' | 'attach', message: Buffer): { containerId: string; command: string[]; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } {
  const out = { containerId: '', command: [] as string[], stdin: false, stdout: false, stderr: false, tty: false };
  const flags: Record<number, 'tty' | 'stdin' | 'stdout' | 'stderr'> = kind === 'exec' ? { 3: 'tty', 4: 'stdin', 5: 'stdout', 6: 'stderr' } : { 2: 'stdin', 3: 'tty', 4: 'stdout', 5: 'stderr' };
  for (const { field, value } of decodeMessage(message)) {
    if (field === 1 && Buffer.isBuffer(value)) out.containerId = value.toString('utf8');
    else if (field === 2 && kind === 'exec' && Buffer.isBuffer(value)) out.command.push(value.toString('utf8'));
    else if (flags[field] && typeof value === 'number') out[flags[field]] = value !== 0;
  }
  return out;
}

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
          const req = decodePortForwardRequest(body.subarray(5));
          const pod = ctx.runtime.podBySandboxId(req.sandboxId);
          if (!pod) return fail(stream, GRPC_NOT_FOUND, `pod sandbox "${req.sandboxId}" not found`);
          request = { kind, namespace: pod.namespace, pod: pod.name, ports: req.ports };
        } else {
          const req = decodeStreamingRequest(kind, body.subarray(5));
          const container = ctx.runtime.containerById(req.containerId);
          if (!container) return fail(stream, GRPC_NOT_FOUND, `container "${req.containerId}" not found`);
          request = { kind, ...container, command: req.command, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, tty: req.tty };
        }
      } catch (err) {
        return fail(stream, GRPC_INVALID_ARGUMENT, (err as Error).message);
      }
      const answer = ctx.runtime.requestToken(request);
      if ('error' in answer) return fail(stream, GRPC_INVALID_ARGUMENT, answer.error);
      const url = `http://127.0.0.1:${ctx.streamingPort()}/${kind}/${answer.token}`;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
      stream.end(grpcFrame(encodeMessage([{ field: 1, value: url }])));
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

export class CriGrpcClient {
  private session: http2.ClientHttp2Session | null = null;

  constructor(private readonly port: () => number) {}

  /** Exec/Attach: the streaming URL, or the runtime's error message. */
  call(containerId: string, req: StreamingRequest): Promise<{ url: string } | { error: string }> {
    return this.unary(req.kind === 'exec' ? EXEC_METHOD : ATTACH_METHOD, encodeStreamingRequest(containerId, req));
  }

  /** PortForward for the pod's sandbox: the streaming URL, or the runtime's error message. */
  portForward(pod: Parameters<typeof sandboxId>[0], ports: number[]): Promise<{ url: string } | { error: string }> {
    return this.unary(PORT_FORWARD_METHOD, encodePortForwardRequest(sandboxId(pod), ports));
  }

  private unary(method: string, message: Buffer): Promise<{ url: string } | { error: string }> {
    const session = this.connect();
    const stream = session.request({
      ':method': 'POST',
      ':path': method,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'grpc-go/1.65.0',
    });
    stream.end(grpcFrame(message));
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
        const body = Buffer.concat(chunks);
        const url = decodeMessage(body.subarray(5)).find((f) => f.field === 1)?.value;
        resolve(Buffer.isBuffer(url) ? { url: url.toString('utf8') } : { error: 'CRI response without a URL' });
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
