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
  /** Something on the connection matters beyond its record (a docker call): it stays listed. */
  markNotable(): void;
}
