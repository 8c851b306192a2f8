/**
 * The Events pane: every event of the session, one row each, in time order across all lanes (as
 * Wireshark's packet list or mitmproxy's flow list). Selecting a row selects that event, so the
 * Timeline, the Event pane and Content follow it.
 */
import { Box } from 'ink';
import type { ExecSession } from '../model/session.js';
import { formatBytes, formatOffset } from '../report/format.js';
import { fitMiddle, fitRight, fitWidth } from '../report/terminal-cells.js';
import { safeInline } from '../report/terminal-text.js';
import { payloadPreview } from './EventDetail.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { scrollWindow } from './SessionList.js';
import { streamColor } from './theme.js';
import { isStreamEvent, type Lane } from './timeline-lanes.js';

export interface EventListProps {
  session: ExecSession | null;
  lanes: readonly Lane[];
  /** Every event in time order (ui-state's timeOrder). */
  order: readonly { lane: number; item: number }[];
  /** Position of the selected event in `order`, -1 when none is. */
  selected: number;
  focused: boolean;
  /** Rows, title included. */
  height: number;
}

const LANE_WIDTH = 9;

/** Which way the event went: → client to server, ← server to client. */
function arrow(dir: 'c2s' | 's2c'): string {
  return dir === 'c2s' ? '→' : '←';
}

/** Rows [first, first + count) the pane shows, the selected one in view. */
export function eventListWindow(total: number, selected: number, height: number): { first: number; rows: number; header: boolean } {
  const header = height >= 4;
  const rows = Math.max(0, height - 1 - (header ? 1 : 0));
  return { first: scrollWindow(total, Math.max(0, selected), rows), rows, header };
}

function eventRow(session: ExecSession, lane: Lane, itemIndex: number, n: number, selected: boolean, focused: boolean): Segment[] {
  const item = lane.items[itemIndex];
  const e = item.event;
  const color = streamColor(lane.kind === 'stream' ? (lane.stream?.name ?? '') : lane.kind);
  let what: string;
  if (!isStreamEvent(e)) what = `${e.kind}${e.detail ? ` · ${safeInline(e.detail)}` : ''}`;
  else if (e.kind === 'data') what = `data ${formatBytes(e.length)} ${payloadPreview(lane, item)}`.trimEnd();
  else what = `${e.kind}${e.detail ? ` (${safeInline(e.detail)})` : ''}`;
  return [
    { text: selected ? '▸ ' : '  ', color: 'cyan', bold: true },
    { text: fitRight(String(n), 5), inverse: selected && focused, bold: selected },
    { text: ' ' + fitRight(formatOffset(item.ts - session.startTs), 10) + ' ', dim: true },
    { text: fitMiddle(lane.label, LANE_WIDTH) + ' ', color, bold: selected },
    { text: arrow(e.dir) + ' ', dim: true },
    { text: what, bold: selected },
  ];
}

export function EventList(p: EventListProps) {
  if (p.height <= 0) return null;
  const { first, rows, header } = eventListWindow(p.order.length, p.selected, p.height);
  const info: Segment[] = [
    { text: p.selected >= 0 ? `${p.selected + 1} of ${p.order.length}` : `${p.order.length}`, dim: true },
    { text: ' · in time order across lanes · , . step', dim: true },
  ];
  const lines: Segment[][] = [];
  if (p.session) {
    for (let i = first; i < Math.min(p.order.length, first + rows); i++) {
      const at = p.order[i];
      lines.push(eventRow(p.session, p.lanes[at.lane], at.item, i + 1, i === p.selected, p.focused));
    }
  }
  if (lines.length === 0 && rows > 0) lines.push([{ text: p.session ? '  this session has no events' : '  no session selected', dim: true }]);
  return (
    <Box flexDirection="column" height={p.height}>
      <PaneTitle title="Events" focused={p.focused} info={info} />
      {header ? <Line segments={[{ text: `  ${fitRight('#', 5)} ${fitRight('time', 10)} ${fitWidth('lane', LANE_WIDTH)}   event`, dim: true, bold: true }]} /> : null}
      {lines.slice(0, rows).map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
