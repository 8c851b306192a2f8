/** How the terminal's rows are shared between the panes, depending on which one has the focus. */
import type { Pane } from './ui-state.js';

export interface PaneLayout {
  /** Rows of each pane, its title line included; 0 hides the pane. */
  sessions: number;
  timeline: number;
  events: number;
  detail: number;
  /**
   * The bottom row of panes: the event's layers, or the session's content when that has the focus;
   * both side by side (Event left, Content right) where the terminal is wide enough.
   */
  detailPane: 'event' | 'content' | 'both';
  /** Columns of the Event pane when both share the bottom row. */
  eventWidth: number;
}

/** Rows taken by the title bar and the status bar. */
export const CHROME_ROWS = 2;
const MIN_DETAIL = 2;
/** From this many columns Content stands beside the Event pane instead of taking its place. */
export const SIDE_BY_SIDE_COLUMNS = 160;
/** From this many body rows the panes without the focus keep a few rows more than their selected one. */
const TALL_BODY = 40;

export interface PaneNeeds {
  /** Rows the top list would like: its entries and column names. */
  list: number;
  /** Lanes on the timeline (hop rows included). */
  lanes: number;
  /** Events of the selected session. */
  events: number;
}

/**
 * The focused pane gets the room it needs; the others shrink to a title and their selected row (a
 * few rows more on a tall terminal). With `explain` on, its panel takes the right of the bottom row.
 */
export function layoutPanes(rows: number, columns: number, pane: Pane, need: PaneNeeds, explain = false): PaneLayout {
  const body = Math.max(0, rows - CHROME_ROWS);
  const listWant = Math.max(2, need.list + 1);
  const timelineWant = need.lanes + 2;
  // Title, column names, one row per event.
  const eventsWant = Math.max(2, need.events + 2);
  const aside = body >= TALL_BODY ? Math.floor(body * 0.15) : 2;
  let sessions: number;
  let timeline: number;
  let events = aside;
  switch (pane) {
    case 'sessions':
      sessions = Math.min(listWant, Math.max(3, Math.floor(body * 0.4)));
      timeline = timelineWant;
      break;
    case 'timeline':
      sessions = Math.min(listWant, Math.max(2, Math.floor(body * 0.2)));
      timeline = timelineWant;
      break;
    case 'events':
      sessions = Math.min(listWant, 2);
      timeline = Math.min(timelineWant, Math.max(3, Math.floor(body * 0.25)));
      events = Math.max(4, Math.floor(body * 0.4));
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
  events = Math.max(0, Math.min(events, eventsWant, body - sessions - timeline - MIN_DETAIL));
  const both = columns >= SIDE_BY_SIDE_COLUMNS && !explain;
  return {
    sessions,
    timeline,
    events,
    detail: body - sessions - timeline - events,
    detailPane: both ? 'both' : pane === 'content' ? 'content' : 'event',
    eventWidth: both ? Math.floor(columns / 2) : columns,
  };
}
