/** Wire format between WorkerStreamHasher and its worker: records of [handle u32][length u32][bytes]. */
export const DIGEST = 0xffffffff;

export interface HashBatch {
  buffer: ArrayBuffer;
  used: number;
  /** Set on the batch that a flush() waits for. */
  flushId: number | null;
}

export interface HashBatchReply {
  buffer: ArrayBuffer;
  digests: [number, string][];
  flushId: number | null;
}
