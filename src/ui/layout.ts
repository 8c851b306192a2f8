/** How the terminal's rows are shared between the panes, depending on which one has the focus. */
import type { Pane } from './ui-state.js';

export interface PaneLayout {
  /** Rows of each pane, its title line included; 0 hides the pane. */
  sessions: number;
  timeline: number;
  detail: number;
  /** The bottom pane shows the event's layers, or the session's content when that has the focus. */
  detailPane: 'event' | 'content';
}

/** Rows taken by the title bar and the status bar. */
export const CHROME_ROWS = 2;
const MIN_DETAIL = 2;

/**
 * The focused pane gets the room it needs; the others shrink to a title and their selected row.
 * `listRows` is how many sessions (or connections) there are, `laneCount` the timeline's lanes.
 */
export function layoutPanes(rows: number, pane: Pane, listRows: number, laneCount: number): PaneLayout {
  const body = Math.max(0, rows - CHROME_ROWS);
  const listWant = Math.max(2, listRows + 1);
  const timelineWant = laneCount + 2;
  let sessions: number;
  let timeline: number;
  switch (pane) {
    case 'sessions':
      sessions = Math.min(listWant, Math.max(3, Math.floor(body * 0.4)));
      timeline = timelineWant;
      break;
    case 'timeline':
      sessions = Math.min(listWant, Math.max(2, Math.floor(body * 0.2)));
      timeline = timelineWant;
      break;
    case 'event':
      sessions = Math.min(listWant, 2);
      timeline = Math.min(timelineWant, Math.max(3, Math.floor(body * 0.3)));
      break;
    case 'content':
      sessions = Math.min(listWant, 2);
      timeline = Math.min(timelineWant, Math.max(3, Math.floor(body * 0.25)));
      break;
  }
  sessions = Math.min(sessions, body);
  timeline = Math.max(0, Math.min(timeline, body - sessions - MIN_DETAIL));
  return { sessions, timeline, detail: body - sessions - timeline, detailPane: pane === 'content' ? 'content' : 'event' };
}
