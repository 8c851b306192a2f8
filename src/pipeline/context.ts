import type { Problem } from '../core/problem.js';
import type { ConnectionRecord } from '../model/session.js';
import type { RpcCall } from '../model/rpc-call.js';
import type { ExecSessionBuilder, SessionRequest } from '../k8s/exec-session.js';
import type { TlsKeyLog } from '../tls/key-log.js';
import type { DockerSessions } from '../docker/docker-sessions.js';
import type { TrafficListingBudget } from './traffic-budget.js';
import type { CarrierLogBudget } from '../core/carrier-log.js';

/** What a connection analyzer needs from the capture-wide pipeline. */
export interface PipelineContext {
  newSession(conn: ConnectionRecord, req: SessionRequest): ExecSessionBuilder;
  /** A refused upgrade: a later SPDY attempt for the same request may fall back from it. */
  sessionRefused(s: ExecSessionBuilder): void;
  /** A gRPC call started: it gets its id and joins the model. */
  newRpc(call: Omit<RpcCall, 'id'>): RpcCall;
  /** The docker Engine API calls of the capture, matched into exec and attach sessions across connections. */
  readonly docker: DockerSessions;
  warn(p: Problem): void;
  /** Shared by every connection's WebSocket and HTTP/2 listing. */
  readonly trafficBudget: TrafficListingBudget;
  /** Shared by every connection's TLS record logs and tunnel logs (which bytes carried which). */
  readonly carrierBudget: CarrierLogBudget;
  /** Secrets from --keylog files and pcapng Decryption Secrets Blocks. */
  readonly keys: TlsKeyLog;
  /** A TLS connection found no keys (a DSB later in the file may still bring them). */
  tlsWithoutKeys(): void;
}
