/**
 * The guided walk: a session's events in protocol order (the order they happened on the wire), from
 * the request to the last frame. Repetitions would drown the story — a 25 MB stdout is thousands of
 * frames, an idle shell hundreds of pings — so the first of each kind of repeated event is a step
 * and counts the later ones it stands for; every event that changes the session's state (opens,
 * replies, half-closes, resizes, the Status, the end) is a step of its own.
 */
import type { ControlEvent, ExecSession, StreamEvent } from '../model/session.js';
import type { SessionEventRef } from './explain-event.js';

export type WalkStep = SessionEventRef & {
  /** Later events like this one that the step stands for, their payload bytes and the time of the last. */
  repeats: number;
  repeatBytes: number;
  lastTs: number;
};

/** Streams whose data events repeat without changing the session's state. */
const BULK_STREAMS = /^(stdin|stdout|stderr|data)/;
const REPEATED_CONTROL = new Set<ControlEvent['kind']>(['ping', 'pong', 'window-update', 'flow-control', 'rst']);

/** The request as an event: the pipeline records the HTTP head as the session's request origin. */
export function requestEvent(s: ExecSession): ControlEvent {
  const recorded = s.control.find((c) => c.kind === 'request');
  if (recorded) return recorded;
  const q = s.target.indexOf('?');
  return { kind: 'request', ts: s.requestOrigin.lastTs, dir: 'c2s', detail: `${s.method} ${q < 0 ? s.target : s.target.slice(0, q)}`, origin: s.requestOrigin };
}

/** Key grouping the events one step stands for; null: the event is always a step. */
function repeatKey(ref: SessionEventRef): string | null {
  const e = ref.event;
  if (ref.stream) {
    if (e.kind === 'data' && BULK_STREAMS.test(ref.stream.name)) return `data ${ref.stream.name} ${e.dir}`;
    if (e.kind === 'reset') return `reset ${e.dir}`;
    return null;
  }
  return REPEATED_CONTROL.has(e.kind as ControlEvent['kind']) ? `${e.kind} ${e.dir}` : null;
}

/** Every event of the session with its stream, in time order (the request first). */
export function sessionEvents(s: ExecSession): SessionEventRef[] {
  const request = requestEvent(s);
  const refs: SessionEventRef[] = [{ stream: null, event: request }];
  // A stream reset is also listed on the control lane: the stream's own event says more.
  const streamResets = new Set<string>();
  for (const r of s.streams) {
    for (const e of r.events) {
      refs.push({ stream: r, event: e });
      if (e.kind === 'reset') streamResets.add(`${e.dir} ${e.origin.offset}`);
    }
  }
  for (const c of s.control) {
    if (c === request) continue;
    if (c.kind === 'rst' && c.origin && streamResets.has(`${c.dir} ${c.origin.offset}`)) continue;
    refs.push({ stream: null, event: c });
  }
  // Several frames complete in one packet: one direction's frames then follow their order in the stream.
  return refs.sort((a, b) => {
    if (a.event === request || b.event === request) return a.event === request ? -1 : 1;
    const dt = a.event.ts - b.event.ts;
    if (dt !== 0 || a.event.dir !== b.event.dir) return dt;
    return (a.event.origin?.offset ?? 0) - (b.event.origin?.offset ?? 0);
  });
}

export function walkSteps(s: ExecSession): WalkStep[] {
  const steps: WalkStep[] = [];
  const byKey = new Map<string, WalkStep>();
  for (const ref of sessionEvents(s)) {
    const key = repeatKey(ref);
    const seen = key === null ? undefined : byKey.get(key);
    if (seen) {
      seen.repeats++;
      seen.repeatBytes += ref.event.kind === 'data' ? (ref.event as StreamEvent).length : 0;
      seen.lastTs = ref.event.ts;
      continue;
    }
    const step: WalkStep = { ...ref, repeats: 0, repeatBytes: 0, lastTs: ref.event.ts };
    steps.push(step);
    if (key !== null) byKey.set(key, step);
  }
  return steps;
}
