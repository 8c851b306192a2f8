/** Where a decoding warning points in the panes: the event carrying its packet, or its connection. */
import type { Problem } from '../core/problem.js';
import type { CaptureModel } from '../model/session.js';
import { buildLanes } from './timeline-lanes.js';
import type { WarningTarget } from './ui-state.js';

/**
 * The session on the warning's connection and, on its lanes, the event whose packets include the
 * warning's packet (else the one nearest to it); the connection alone when no session runs on it.
 */
export function warningTarget(model: CaptureModel, w: Problem): WarningTarget | null {
  if (w.connection === undefined) return null;
  const sessions = model.sessions.filter((s) => s.connectionId === w.connection);
  if (sessions.length === 0) return model.connections.some((c) => c.id === w.connection) ? { connection: w.connection } : null;
  let best: { session: number; lane: number; item: number; distance: number } | null = null;
  for (const s of sessions) {
    buildLanes(s, model.sessions).forEach((lane, li) =>
      lane.items.forEach((it, ii) => {
        const o = it.event.origin;
        if (!o || w.packet === undefined) return;
        const distance = w.packet < o.packet ? o.packet - w.packet : w.packet > o.lastPacket ? w.packet - o.lastPacket : 0;
        if (!best || distance < best.distance) best = { session: s.id, lane: li, item: ii, distance };
      }),
    );
  }
  const found = best as { session: number; lane: number; item: number } | null;
  return found ? { session: found.session, lane: found.lane, item: found.item, problem: w } : { session: sessions[0].id, lane: 0, item: -1 };
}
