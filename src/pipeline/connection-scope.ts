import type { ExecSessionBuilder, SessionRequest } from '../k8s/exec-session.js';
import type { ConnectionRecord } from '../model/session.js';
import type { PipelineContext } from './context.js';

/** What the protocol consumers of one connection share. */
export interface ConnectionScope {
  readonly ctx: PipelineContext;
  readonly record: ConnectionRecord;
  /** "client→server", the start of every Problem's where. */
  readonly where: string;
  newSession(req: SessionRequest): ExecSessionBuilder;
  /** A docker call used the connection: it stays listed, and in memory (its docker session may name it after it ended). */
  markDockerCall(): void;
}
