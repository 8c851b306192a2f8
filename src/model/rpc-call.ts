/**
 * A gRPC call found in the capture (the kubelet's CRI calls to the runtime, or any other gRPC), with
 * the CRI request and response decoded where execscope knows the RPC. Built by the pipeline from the
 * grpc/ and cri/ layers; read by the reports, the TUI and the cross-hop links.
 */
import type { CriRequest } from '../cri/cri-rpc.js';

export interface RpcCall {
  id: number;
  connectionId: number;
  client: string;
  server: string;
  /** `/runtime.v1.RuntimeService/Exec`; '' when a mid-connection capture missed it and nothing named it. */
  path: string;
  /** The path was inferred from the response (a streaming URL names Exec, Attach or PortForward). */
  inferred?: true;
  service: string;
  method: string;
  /** The CRI API version (`runtime.v1`, `runtime.v1alpha2`), null when the service is not the CRI. */
  cri: string | null;
  startTs: number;
  endTs: number | null;
  /** The client's deadline (`grpc-timeout`), ns. */
  timeoutNs: number | null;
  status: number | null;
  statusName: string | null;
  message: string | null;
  /** RST_STREAM error that ended the call, if one did. */
  reset: string | null;
  messages: { c2s: number; s2c: number };
  /** Decoded request of Exec, ExecSync, Attach and PortForward. */
  request: CriRequest | null;
  /** Exec/Attach/PortForward: the streaming URL returned and its one-time token. */
  url: string | null;
  token: string | null;
  /** ExecSync's exit code (its output is the session's stdout/stderr). */
  exitCode: number | null;
  /** The session this call opened: the streaming session holding its token, or ExecSync's own session. */
  sessionId: number | null;
}
