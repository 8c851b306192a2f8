/** Runs the EventInspector for the selected event; answers for an event that is no longer selected are dropped. */
import { useEffect, useState } from 'react';
import type { ExecSession } from '../model/session.js';
import type { EventInspector, InspectableEvent, LayerView } from './event-layers.js';

export type Inspection =
  | { status: 'none' }
  | { status: 'loading' }
  | { status: 'done'; layers: LayerView[] }
  | { status: 'failed'; message: string };

type Answer = { event: InspectableEvent; packet: number | undefined; result: Inspection };

/**
 * Re-reading a large capture is slow: the inspector is asked only once the selection has rested
 * this long, so holding an arrow key does not start a read per event.
 */
export const INSPECT_DELAY_MS = 100;

/** `packet`: a warning's packet to show too (see EventInspector). */
export function useInspection(inspector: EventInspector | undefined, session: ExecSession | null, event: InspectableEvent | null, packet?: number): Inspection {
  const [answer, setAnswer] = useState<Answer | null>(null);
  useEffect(() => {
    if (!inspector || !session || !event) return;
    let current = true;
    const timer = setTimeout(() => {
      inspector(session, event, packet === undefined ? undefined : { packet }).then(
        (layers) => current && setAnswer({ event, packet, result: { status: 'done', layers } }),
        (err: unknown) => current && setAnswer({ event, packet, result: { status: 'failed', message: err instanceof Error ? err.message : String(err) } }),
      );
    }, INSPECT_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [inspector, session, event, packet]);
  if (!inspector || !session || !event) return { status: 'none' };
  return answer && answer.event === event && answer.packet === packet ? answer.result : { status: 'loading' };
}
