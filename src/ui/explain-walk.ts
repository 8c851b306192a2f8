/**
 * Explain mode in the TUI: the selected event explained (src/explain) beside its layers, and the
 * guided walk — n/p step through the session's walk (explain/walk.ts, protocol order) selecting
 * each step's event on its lane, so a teacher can narrate one exec from the upgrade to the exit code.
 */
import type { SessionEventRef } from '../explain/explain-event.js';
import type { WalkStep } from '../explain/walk.js';
import { isStreamEvent, type Lane, type TimelineItem } from './timeline-lanes.js';
import { selectItem, type UiContext, type UiState } from './ui-state.js';

export interface WalkPosition {
  lane: number;
  item: number;
  /** Index of the step in the walk. */
  step: number;
}

/** Where each step's event sits on the lanes (the request is the upgrade lane's request item). */
export function walkPositions(lanes: readonly Lane[], steps: readonly WalkStep[]): WalkPosition[] {
  const where = new Map<object, { lane: number; item: number }>();
  let request: { lane: number; item: number } | undefined;
  lanes.forEach((l, lane) =>
    l.items.forEach((it, item) => {
      where.set(it.event, { lane, item });
      if (l.kind === 'upgrade' && it.event.kind === 'request') request ??= { lane, item };
    }),
  );
  return steps.flatMap((st, step) => {
    const at = !st.stream && st.event.kind === 'request' ? (where.get(st.event) ?? request) : where.get(st.event);
    return at ? [{ ...at, step }] : [];
  });
}

/**
 * The walk position of the selection: its own step, or for an event a step stands for (a repeated
 * frame), the last step not later than it; -1 before the first.
 */
export function walkIndex(s: UiState, ctx: UiContext): number {
  const positions = ctx.walk ?? [];
  const exact = positions.findIndex((p) => p.lane === s.lane && p.item === s.item);
  if (exact >= 0) return exact;
  const ts = ctx.lanes[s.lane]?.items[s.item]?.ts;
  if (ts === undefined) return -1;
  let at = -1;
  positions.forEach((p, i) => {
    if ((ctx.lanes[p.lane]?.items[p.item]?.ts ?? Infinity) <= ts) at = i;
  });
  return at;
}

/**
 * n (dir 1) / p (-1): the next or previous step of the walk, explained in the Event pane. From the
 * session list the walk starts at its first step, the request.
 */
export function stepWalk(s: UiState, ctx: UiContext, dir: 1 | -1): UiState {
  const positions = ctx.walk ?? [];
  if (positions.length === 0) return s;
  const at = s.pane === 'sessions' ? -1 : walkIndex(s, ctx);
  const next = at < 0 ? 0 : Math.max(0, Math.min(positions.length - 1, at + dir));
  const p = positions[next];
  return { ...selectItem(s, ctx, p.lane, p.item), pane: 'event', explain: true };
}

export function toggleExplain(s: UiState): UiState {
  return { ...s, explain: !s.explain };
}

/** The selected timeline item as an event of its session, for explainEvent (null: a stream event off its stream's lane). */
export function eventRef(lane: Lane, item: TimelineItem): SessionEventRef | null {
  const e = item.event;
  if (!isStreamEvent(e)) return { stream: null, event: e };
  return lane.stream ? { stream: lane.stream, event: e } : null;
}
