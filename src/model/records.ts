/**
 * The sessions and connections of a capture model as the reports read them: counted, in id order one
 * at a time, or by id — whether every record is held in the model's lists or the pipeline spilled the
 * ended ones (`CaptureModel.spilled`) so that memory stays bounded whatever the capture's size. A
 * report never holds more than the record it is writing (and the few its hop links name).
 */
import type { CaptureModel, ConnectionRecord, ExecSession } from './session.js';

/** Sessions by id, and the SPDY retry that fell back from a refused WebSocket session. */
export interface SessionIndex {
  get(id: number): ExecSession | undefined;
  /** The session whose `fallbackFrom` is `id`. */
  retryOf(id: number): ExecSession | undefined;
}

/** A model's list of sessions (the TUI's, the tests'), a map of them by id, or an index that reads spilled ones back. */
export type SessionsById = readonly ExecSession[] | ReadonlyMap<number, ExecSession> | SessionIndex;

export function sessionById(all: SessionsById, id: number | null): ExecSession | undefined {
  if (id === null) return undefined;
  return isList(all) ? all.find((s) => s.id === id) : all.get(id);
}

export function retryOf(all: SessionsById, id: number): ExecSession | undefined {
  if (isList(all)) return all.find((s) => s.fallbackFrom === id);
  if ('retryOf' in all) return all.retryOf(id);
  for (const s of all.values()) if (s.fallbackFrom === id) return s;
  return undefined;
}

/** Connections by id (the hang doctor's backpressure rules read the TCP windows of a session's connection). */
export interface ConnectionsById {
  connection(id: number): ConnectionRecord | undefined;
  /** Whether connection `id` has `zeroWindows`: asked for every session, answered for a spilled one without reading it back. */
  hasZeroWindows(id: number): boolean;
}

const isList = (all: SessionsById): all is readonly ExecSession[] => Array.isArray(all);

/**
 * Ended sessions and connections the pipeline moved out of the model's lists (pipeline/spill-file.ts
 * keeps them in a private temporary file). Each read returns a copy: nothing changes a record once it
 * is spilled.
 */
export interface SpilledRecords {
  readonly sessionCount: number;
  readonly connectionCount: number;
  /** The latest end (or start, while open) among the spilled connections, 0 when none. */
  readonly lastConnectionTs: number;
  /** Ids of the spilled sessions, ascending. */
  sessionIds(): Iterable<number>;
  session(id: number): ExecSession | undefined;
  /** The id of the spilled session whose `fallbackFrom` is `id`. */
  retryIdOf(id: number): number | undefined;
  /** Ids of the spilled connections, ascending. */
  connectionIds(): Iterable<number>;
  connection(id: number): ConnectionRecord | undefined;
  /** Whether the spilled connection `id` has `zeroWindows`. */
  hasZeroWindows(id: number): boolean;
  /** Gives the file back; the records cannot be read after. */
  close(): void;
}

type Lists = Pick<CaptureModel, 'sessions' | 'connections' | 'spilled'>;

/** Two sources ascending by id (the pipeline hands ids out in order) merged into id order; `spilled` is read only as it is reached. */
export function* inIdOrder<T extends { id: number }>(held: readonly T[], spilled: Iterable<T>): Generator<T> {
  let i = 0;
  for (const r of spilled) {
    while (i < held.length && held[i].id < r.id) yield held[i++];
    yield r;
  }
  while (i < held.length) yield held[i++];
}

/** The records `read` finds for `ids`, in their order. */
function* readBack<T>(ids: Iterable<number>, read: (id: number) => T | undefined): Generator<T> {
  for (const id of ids) {
    const r = read(id);
    if (r) yield r;
  }
}

/** Views of spilled models, made once: such a model is final, and a view's lookups are worth keeping. */
const spilledViews = new WeakMap<Lists, CaptureRecords>();

/** The model's records as the reports read them. */
export function recordsOf(model: Lists): CaptureRecords {
  if (!model.spilled) return new CaptureRecords(model);
  let view = spilledViews.get(model);
  if (!view) spilledViews.set(model, (view = new CaptureRecords(model)));
  return view;
}

/** The model's sessions by id: its list, or, when ended ones were spilled, the view that reads them back. */
export function sessionsOf(model: Lists): SessionsById {
  return model.spilled ? recordsOf(model) : model.sessions;
}

export class CaptureRecords implements SessionIndex, ConnectionsById {
  private heldSessions: Map<number, ExecSession> | null = null;
  private heldConnections: Map<number, ConnectionRecord> | null = null;

  constructor(private readonly model: Lists) {}

  get sessionCount(): number {
    return this.model.sessions.length + (this.model.spilled?.sessionCount ?? 0);
  }

  get connectionCount(): number {
    return this.model.connections.length + (this.model.spilled?.connectionCount ?? 0);
  }

  sessions(): Iterable<ExecSession> {
    const spilled = this.model.spilled;
    return spilled ? inIdOrder(this.model.sessions, readBack(spilled.sessionIds(), (id) => spilled.session(id))) : this.model.sessions;
  }

  connections(): Iterable<ConnectionRecord> {
    const spilled = this.model.spilled;
    return spilled ? inIdOrder(this.model.connections, readBack(spilled.connectionIds(), (id) => spilled.connection(id))) : this.model.connections;
  }

  get(id: number): ExecSession | undefined {
    this.heldSessions ??= new Map(this.model.sessions.map((s) => [s.id, s]));
    return this.heldSessions.get(id) ?? this.model.spilled?.session(id);
  }

  retryOf(id: number): ExecSession | undefined {
    const held = this.model.sessions.find((s) => s.fallbackFrom === id);
    if (held) return held;
    const spilled = this.model.spilled?.retryIdOf(id);
    return spilled === undefined ? undefined : this.model.spilled?.session(spilled);
  }

  connection(id: number): ConnectionRecord | undefined {
    return this.held(id) ?? this.model.spilled?.connection(id);
  }

  hasZeroWindows(id: number): boolean {
    const held = this.held(id);
    return held ? held.zeroWindows.length > 0 : (this.model.spilled?.hasZeroWindows(id) ?? false);
  }

  private held(id: number): ConnectionRecord | undefined {
    this.heldConnections ??= new Map(this.model.connections.map((c) => [c.id, c]));
    return this.heldConnections.get(id);
  }

  /** The latest end (or start, while open) of any connection: where the capture's traffic stops. */
  lastConnectionTs(): number {
    return this.model.connections.reduce((t, c) => Math.max(t, c.endTs ?? c.startTs), this.model.spilled?.lastConnectionTs ?? 0);
  }
}
