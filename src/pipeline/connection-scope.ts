import type { ExecSessionBuilder, SessionRequest } from '../k8s/exec-session.js';
import type { ConnectionRecord } from '../model/session.js';
import type { PipelineContext } from './context.js';
import type { StreamConsumer } from './stream-consumer.js';

/** What the protocol consumers of one connection share. */
export interface ConnectionScope {
  readonly ctx: PipelineContext;
  readonly record: ConnectionRecord;
  /** "client→server", the start of every Problem's where. */
  readonly where: string;
  newSession(req: SessionRequest): ExecSessionBuilder;
  /** A docker call used the connection: it stays listed, and in memory (its docker session may name it after it ended). */
  markDockerCall(): void;
  /** The consumer of a CONNECT tunnel's bytes (a fresh connection inside this one); `insideTls`: the tunnel runs in TLS plaintext. */
  tunnel(insideTls: boolean): StreamConsumer;
}
