/**
 * The Event pane: the selected event through every layer that carried it (k8s stream → frame →
 * TLS → HTTP → TCP → packets), the selected layer's fields, and a hex + ASCII view of its bytes
 * with its own range highlighted.
 */
import { Box } from 'ink';
import type { ExecSession } from '../model/session.js';
import { formatBytes, formatOffset } from '../report/format.js';
import { streamSlice, type LayerKind, type LayerView } from './event-layers.js';
import { bytesPerRow, highlightRow, hexRows } from './hex-view.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { safeInline } from '../report/terminal-text.js';
import { streamColor } from './theme.js';
import type { Inspection } from './use-inspection.js';
import { isStreamEvent, itemTitle, type Lane, type TimelineItem } from './timeline-lanes.js';

export interface EventDetailProps {
  session: ExecSession | null;
  lane: Lane | null;
  item: TimelineItem | null;
  layers: readonly LayerView[];
  inspection: Inspection;
  selectedLayer: number;
  focused: boolean;
  height: number;
  width: number;
}

const KIND_LABEL: Record<LayerKind, string> = { stream: 'k8s', frame: 'frame', tls: 'TLS', http: 'HTTP', tcp: 'TCP', packet: 'packet' };

const decoder = new TextDecoder();

/** A short quoted preview of a data event's payload when the kept head has it. */
export function payloadPreview(lane: Lane, item: TimelineItem, max = 40): string {
  const e = item.event;
  if (!lane.stream || !isStreamEvent(e) || e.kind !== 'data' || e.length === 0) return '';
  const bytes = streamSlice(lane.stream, e.streamOffset, Math.min(e.length, max));
  if (!bytes) return '';
  return `“${safeInline(decoder.decode(bytes))}${e.length > max ? '…' : ''}”`;
}

function layerLine(layer: LayerView, i: number, count: number, selected: boolean, expanded: boolean): Segment[] {
  const branch = i === count - 1 ? '└' : '├';
  const first = !expanded && layer.lines[0] ? ` · ${layer.lines[0]}` : '';
  return [
    { text: selected ? '▸' : ' ', color: 'cyan', bold: true },
    { text: `${branch} ${KIND_LABEL[layer.kind].padEnd(6)} `, dim: true },
    { text: layer.title, bold: selected, inverse: selected && expanded },
    { text: first, dim: true },
  ];
}

function hexLines(layer: LayerView, width: number, rows: number): Segment[][] {
  if (rows <= 0) return [];
  if (!layer.bytes) return [[{ text: '    no bytes for this layer here (they come from re-reading the capture)', dim: true }]];
  const per = bytesPerRow(width);
  const hl = layer.highlight;
  const label = layer.range ? `${layer.range.space} ${layer.range.start}–${Math.max(layer.range.start, layer.range.end - 1)}` : layer.title;
  const head: Segment[] = [
    { text: `    bytes of ${label}`, dim: true },
    { text: hl && hl.end > hl.start ? ` · [highlighted] ${hl.start}–${hl.end - 1} (${formatBytes(hl.end - hl.start)}) of ${formatBytes(layer.bytes.length)}` : '', color: 'cyan' },
  ];
  const total = Math.ceil(layer.bytes.length / per);
  const room = rows - 1;
  const firstRow = Math.max(0, Math.min(highlightRow(hl, per), total - room));
  const body = hexRows(layer.bytes, hl, per, firstRow, room).map((r): Segment[] => [
    { text: `${r.offsetText}`, dim: true },
    ...r.hex.map((h) => ({ text: h.text, color: h.highlighted ? ('cyan' as const) : undefined, inverse: h.highlighted })),
    { text: '  ' },
    ...r.ascii.map((a) => ({ text: a.text, color: a.highlighted ? ('cyan' as const) : undefined, inverse: a.highlighted, dim: !a.highlighted })),
  ]);
  return [head, ...body];
}

/**
 * The layer tree's lines (each with the layer it belongs to, -1 for a note) and which of them the
 * pane shows: the selected layer's fields open under it when the pane has the focus, or room to
 * spare without it; a tree taller than the pane keeps the selected layer in sight.
 */
export function layerTree(p: Pick<EventDetailProps, 'layers' | 'selectedLayer' | 'focused' | 'height' | 'inspection'>): { lines: { layer: number; segments: Segment[] }[]; first: number; rows: number } {
  const rows = p.height - 1;
  const sel = Math.min(Math.max(0, p.selectedLayer), p.layers.length - 1);
  const roomy = sel >= 0 && rows - p.layers.length - p.layers[sel].lines.length >= 6;
  const lines: { layer: number; segments: Segment[] }[] = [];
  let selLine = 0;
  p.layers.forEach((layer, i) => {
    const expanded = (p.focused || roomy) && i === sel;
    if (i === sel) selLine = lines.length;
    lines.push({ layer: i, segments: layerLine(layer, i, p.layers.length, i === sel, expanded) });
    if (expanded) for (const l of layer.lines) lines.push({ layer: i, segments: [{ text: `  ${i === p.layers.length - 1 ? ' ' : '│'}      ${l}` }] });
  });
  if (p.inspection.status === 'loading') lines.push({ layer: -1, segments: [{ text: '  … re-reading the capture for TLS, TCP segments and packets', dim: true }] });
  if (p.inspection.status === 'failed') lines.push({ layer: -1, segments: [{ text: `  ! could not re-read the capture: ${safeInline(p.inspection.message, 120)}`, color: 'yellow' }] });
  const treeRows = Math.min(lines.length, rows);
  const first = Math.max(0, Math.min(selLine - Math.floor(treeRows / 2), lines.length - treeRows));
  return { lines, first, rows: treeRows };
}

export function EventDetail(p: EventDetailProps) {
  if (p.height <= 0) return null;
  const rows = p.height - 1;
  if (!p.session || !p.lane || !p.item) {
    return (
      <Box flexDirection="column" height={p.height}>
        <PaneTitle title="Event" focused={p.focused} info={[{ text: 'no event selected · ⏎ on a session, then ←→ on the timeline', dim: true }]} />
      </Box>
    );
  }
  const color = streamColor(p.lane.kind === 'stream' ? (p.lane.stream?.name ?? '') : p.lane.kind);
  const info: Segment[] = [
    { text: itemTitle(p.lane, p.item), color, bold: true },
    { text: ` at ${formatOffset(p.item.ts - p.session.startTs)} `, dim: true },
    { text: payloadPreview(p.lane, p.item) },
  ];
  const sel = Math.min(Math.max(0, p.selectedLayer), p.layers.length - 1);
  const { lines, first: firstLine, rows: treeRows } = layerTree(p);
  const tree = lines.slice(firstLine, firstLine + treeRows).map((l) => l.segments);
  const hex = sel >= 0 ? hexLines(p.layers[sel], p.width, rows - tree.length) : [];
  return (
    <Box flexDirection="column" height={p.height}>
      <PaneTitle title="Event" focused={p.focused} info={info} />
      {[...tree, ...hex].map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
