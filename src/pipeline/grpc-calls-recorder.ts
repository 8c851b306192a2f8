/**
 * gRPC calls into the model: each call becomes an RpcCall; on the CRI its request and response are
 * decoded (Exec, ExecSync, Attach, PortForward), the streaming URL's token is kept for the cross-hop
 * link, and an ExecSync becomes a session of its own with the output and exit code it carried inline.
 */
import { decodeCri } from '../cri/cri-proto.js';
import { criPackageOf, decodeCriRequest, decodeCriResponse, isDecodedCriRpc, streamingToken } from '../cri/cri-rpc.js';
import type { GrpcCall, GrpcMessage, GrpcSink } from '../grpc/grpc-calls.js';
import type { ExecSessionBuilder } from '../k8s/exec-session.js';
import type { FrameOrigin } from '../core/origin.js';
import { criProblem } from '../cri/problems.js';
import type { RpcCall } from '../model/rpc-call.js';
import type { ConnectionScope } from './connection-scope.js';

export function grpcCallsRecorder(scope: ConnectionScope): GrpcSink {
  const { ctx, record } = scope;
  /** `firstRequest`: kept while the method is unknown (a mid-connection capture), until the response names it. */
  const calls = new Map<GrpcCall, { rpc: RpcCall; execSync: ExecSessionBuilder | null; firstRequest: Uint8Array | null }>();
  const where = (call: GrpcCall) => `${scope.where} stream ${call.streamId} ${call.path || '(path unknown)'}`;

  const origin = (call: GrpcCall, ts: number, length: number): FrameOrigin => ({ offset: 0, length, packet: record.firstPacket, ts, lastPacket: record.firstPacket, lastTs: ts });

  return {
    onCallStart(call) {
      const rpc = ctx.newRpc({
        connectionId: record.id,
        client: record.client,
        server: record.server,
        path: call.path,
        service: call.service,
        method: call.method,
        cri: criPackageOf(call.service),
        startTs: call.startTs,
        endTs: null,
        timeoutNs: call.timeoutNs,
        status: null,
        statusName: null,
        message: null,
        reset: null,
        messages: call.messages,
        request: null,
        url: null,
        token: null,
        exitCode: null,
        sessionId: null,
      });
      calls.set(call, { rpc, execSync: null, firstRequest: null });
    },

    onMessage(call, message: GrpcMessage) {
      const entry = calls.get(call);
      if (!entry || !message.bytes) return;
      if (entry.rpc.path === '') {
        if (message.dir === 'c2s') entry.firstRequest ??= message.bytes;
        else inferStreamingRpc(entry, call, message.bytes);
      }
      if (!entry.rpc.cri || !isDecodedCriRpc(entry.rpc.method)) return;
      const { rpc } = entry;
      try {
        if (message.dir === 'c2s') {
          if (rpc.request) return;
          rpc.request = decodeCriRequest(rpc.method, message.bytes);
          if (rpc.method === 'ExecSync') entry.execSync = execSyncSession(rpc, call);
          return;
        }
        const response = decodeCriResponse(rpc.method, message.bytes);
        if (response.url !== undefined) {
          rpc.url = response.url;
          rpc.token = streamingToken(response.url)?.token ?? null;
          if (rpc.token === null) ctx.warn(criProblem('no-token', 'the streaming URL returned carries no /exec|/attach|/portforward token', { where: where(call), connection: record.id }));
        }
        if (response.exitCode !== undefined && entry.execSync) {
          rpc.exitCode = response.exitCode;
          const s = entry.execSync;
          const at = origin(call, message.ts, message.length);
          for (const [name, bytes] of [['stdout', response.stdout], ['stderr', response.stderr]] as const) {
            if (bytes?.length) s.data(s.stream(name, name === 'stdout' ? 1 : 2), 's2c', bytes, 0, bytes.length, at, true, true);
          }
          const code = response.exitCode;
          s.session.exit = code === 0 ? { status: 'Success', code } : { status: 'Failure', code, reason: 'NonZeroExitCode' };
        }
      } catch (err) {
        ctx.warn(criProblem('malformed-message', `${call.method} ${message.dir === 'c2s' ? 'request' : 'response'} is not valid protobuf: ${(err as Error).message}`, { where: where(call), connection: record.id }));
      }
    },

    onCallEnd(call) {
      const entry = calls.get(call);
      if (!entry) return;
      calls.delete(call);
      const { rpc, execSync } = entry;
      Object.assign(rpc, { endTs: call.endTs, status: call.status, statusName: call.statusName, message: call.message, reset: call.reset });
      if (!execSync) return;
      const s = execSync.session;
      if (call.status !== null && call.status !== 0) s.exit = { status: 'Failure', code: null, reason: call.statusName ?? undefined, message: call.message ?? undefined };
      if (call.endTs !== null) execSync.serverSignalledEnd();
      execSync.finish({ ts: call.endTs ?? s.startTs, connectionClosed: call.endTs !== null });
      if (call.endTs === null) s.endTs = null;
    },

    onProblem: (p) => ctx.warn({ ...p, connection: record.id }),
  };

  /**
   * A call whose path was indexed before the capture began: a response that is a streaming URL
   * (`/exec/…`, `/attach/…`, `/portforward/…`) names the RPC, and its kept request is decoded as that.
   */
  function inferStreamingRpc(entry: { rpc: RpcCall; firstRequest: Uint8Array | null }, call: GrpcCall, response: Uint8Array): void {
    let url: string;
    try {
      url = decodeCri('ExecResponse', response).url as string;
    } catch {
      return;
    }
    const kind = url ? streamingToken(url)?.kind : undefined;
    if (!kind) return;
    const method = kind === 'exec' ? 'Exec' : kind === 'attach' ? 'Attach' : 'PortForward';
    Object.assign(entry.rpc, { path: `/runtime.v1.RuntimeService/${method}`, service: 'runtime.v1.RuntimeService', method, cri: 'runtime.v1', inferred: true });
    if (!entry.firstRequest) return;
    try {
      entry.rpc.request = decodeCriRequest(method, entry.firstRequest);
    } catch (err) {
      ctx.warn(criProblem('malformed-message', `request of the ${method} inferred from its response is not valid protobuf: ${(err as Error).message}`, { where: where(call), connection: record.id }));
    }
    entry.firstRequest = null;
  }

  function execSyncSession(rpc: RpcCall, call: GrpcCall): ExecSessionBuilder {
    const req = rpc.request!;
    const b = ctx.newSession(record, {
      method: 'POST',
      target: call.path,
      origin: origin(call, call.startTs, 0),
      transport: 'grpc',
      offeredProtocols: [],
      userAgent: null,
      parsed: { kind: 'exec', hop: 'cri', container: req.containerId, command: req.command ?? [], stdin: false, stdout: true, stderr: true, tty: false, ports: [] },
    });
    b.session.kind = 'execsync';
    b.session.criCall = rpc.id;
    rpc.sessionId = b.session.id;
    return b;
  }
}
