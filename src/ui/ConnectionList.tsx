/** Every TCP connection, exec or not (discovery GETs, TLS, unknown TCP), shown when asked with `c`. */
import { Box } from 'ink';
import type { ConnectionRecord } from '../model/session.js';
import { formatDuration } from '../core/time.js';
import { formatBytes, plural } from '../report/format.js';
import { fitWidth, fitRight } from '../report/terminal-cells.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { sessionListWindow } from './SessionList.js';
import { safeInline } from '../report/terminal-text.js';

export interface ConnectionListProps {
  connections: readonly ConnectionRecord[];
  total: number;
  selectedId: number | null;
  focused: boolean;
  height: number;
  width: number;
  filter: string;
  /** Ended plain-HTTP connections counted, not listed (model.unlistedConnections). */
  unlisted: number;
}

/** "GET /version → 200 (+3 more)", a WebSocket's frames, the TLS server name, or what was seen. */
export function connectionSummary(c: ConnectionRecord): string {
  const first = c.requests[0];
  const parts: string[] = [];
  if (first) {
    parts.push(`${safeInline(first.method)} ${safeInline(first.target, 60)} → ${first.status ?? '—'}`);
    if (c.requests.length > 1) parts.push(`(+${c.requests.length - 1} more)`);
  }
  if (c.tls) parts.push(`${safeInline(c.tls.version ?? 'TLS')} ${safeInline(c.tls.sni ?? '')} ${safeInline(c.tls.alpn ?? '')}${c.tls.keysFound === false ? ' no keys' : ''}`.replace(/ +/g, ' ').trim());
  if (c.websocket) parts.push(plural(Object.values(c.websocket.frameCounts).reduce((n, counts) => Object.values(counts).reduce((m, k) => m + k, n), 0), 'frame'));
  if (c.gaps.length) parts.push(`${c.gaps.length} gaps`);
  if (!parts.length) parts.push(c.protocol === 'empty' ? 'no payload' : 'not decoded');
  return parts.join(' ');
}

/** Bytes and duration columns only from 100 columns: below that the summary needs the room. */
function connectionRow(c: ConnectionRecord, selected: boolean, focused: boolean, width: number): Segment[] {
  const wide = width >= 100;
  const duration = c.endTs === null ? 'open' : formatDuration(c.endTs - c.startTs);
  const row: Segment[] = [
    { text: selected ? '▸ ' : '  ', color: 'cyan', bold: true },
    { text: `${fitRight(String(c.id), 3)} `, inverse: selected && focused, bold: selected },
    { text: fitWidth(`${c.client} → ${c.server}`, wide ? 44 : 33) + ' ', bold: selected },
    { text: fitWidth(c.protocol, wide ? 9 : 5) + ' ', color: c.protocol === 'unknown' ? 'yellow' : 'blue' },
    { text: fitWidth(c.sessionIds.length ? `exec #${c.sessionIds.join(',#')}` : '—', 8) + ' ', color: c.sessionIds.length ? 'green' : undefined, dim: !c.sessionIds.length },
  ];
  if (wide) {
    row.push({ text: fitRight(formatBytes(c.bytes.c2s + c.bytes.s2c), 9) + ' ', dim: true });
    row.push({ text: fitRight(duration, 9) + ' ', dim: true });
  }
  row.push({ text: connectionSummary(c), color: c.gaps.length ? 'yellow' : undefined });
  return row;
}

/** The column names over the rows, aligned with connectionRow's columns. */
function headerRow(width: number): Segment[] {
  const wide = width >= 100;
  const columns = `  ${fitRight('#', 3)} ${fitWidth('client → server', wide ? 44 : 33)} ${fitWidth(wide ? 'protocol' : 'proto', wide ? 9 : 5)} ${fitWidth('session', 8)} ${wide ? `${fitRight('bytes', 9)} ${fitRight('duration', 9)} ` : ''}`;
  // The last column's name in the room it has: a cut name reads as a typo.
  const text = columns + (columns.length + 'requests, TLS'.length <= width ? 'requests, TLS' : 'info');
  return [{ text, dim: true, bold: true }];
}

export function ConnectionList(p: ConnectionListProps) {
  if (p.height <= 0) return null;
  const selected = Math.max(0, p.connections.findIndex((c) => c.id === p.selectedId));
  const { header, rows, first } = sessionListWindow(p.connections.length, selected, p.height);
  const without = p.connections.filter((c) => c.sessionIds.length === 0).length;
  const info: Segment[] = [{ text: `${p.connections.length}${p.filter ? ` of ${p.total}` : ''} · ${without} without an exec session · esc back`, dim: true }];
  if (p.unlisted) info.push({ text: ` · ${p.unlisted} more plain HTTP counted, not listed`, dim: true });
  if (p.filter) info.push({ text: ` · filter “${safeInline(p.filter, 60)}”`, color: 'yellow' });
  const lines = p.connections.slice(first, first + rows).map((c, i) => connectionRow(c, first + i === selected, p.focused, p.width));
  return (
    <Box flexDirection="column" height={p.height}>
      <PaneTitle title="Connections" focused={p.focused} info={info} />
      {header ? <Line segments={headerRow(p.width)} /> : null}
      {lines.map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
      {lines.length === 0 && rows > 0 ? <Line segments={[{ text: p.filter ? '  no connection matches the filter (esc clears it)' : '  no connection (yet)', dim: true }]} /> : null}
    </Box>
  );
}
