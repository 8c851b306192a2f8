/** Runs the EventInspector for the selected event; answers for an event that is no longer selected are dropped. */
import { useEffect, useState } from 'react';
import type { ExecSession } from '../model/session.js';
import type { EventInspector, InspectableEvent, LayerView } from './event-layers.js';

export type Inspection =
  | { status: 'none' }
  | { status: 'loading' }
  | { status: 'done'; layers: LayerView[] }
  | { status: 'failed'; message: string };

type Answer = { event: InspectableEvent; result: Inspection };

export function useInspection(inspector: EventInspector | undefined, session: ExecSession | null, event: InspectableEvent | null): Inspection {
  const [answer, setAnswer] = useState<Answer | null>(null);
  useEffect(() => {
    if (!inspector || !session || !event) return;
    let current = true;
    inspector(session, event).then(
      (layers) => current && setAnswer({ event, result: { status: 'done', layers } }),
      (err: unknown) => current && setAnswer({ event, result: { status: 'failed', message: err instanceof Error ? err.message : String(err) } }),
    );
    return () => {
      current = false;
    };
  }, [inspector, session, event]);
  if (!inspector || !session || !event) return { status: 'none' };
  return answer && answer.event === event ? answer.result : { status: 'loading' };
}
