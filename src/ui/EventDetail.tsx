/**
 * The Event pane: the selected event through every layer that carried it (k8s stream → frame →
 * TLS → HTTP → TCP → packets), the selected layer's fields, and a hex + ASCII view of its bytes
 * with its own range highlighted.
 */
import { Box } from 'ink';
import type { ExecSession } from '../model/session.js';
import { formatBytes, formatOffset } from '../report/format.js';
import type { Field } from '../core/field.js';
import { streamSlice, type ByteRange, type LayerKind, type LayerView } from './event-layers.js';
import { bytesPerRow, highlightRow, hexRows } from './hex-view.js';
import { Line, type Segment } from './Line.js';
import { PaneTitle } from './PaneTitle.js';
import { safeInline, utf8CutLength } from '../report/terminal-text.js';
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
  /** Selected field of the selected layer, -1: none (the layer's own highlight). */
  selectedField?: number;
  /** Rows the hex view is scrolled from where it shows the highlight. */
  hexScroll?: number;
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
  const cut = e.length > max;
  return `“${safeInline(decoder.decode(cut ? bytes.subarray(0, utf8CutLength(bytes)) : bytes))}${cut ? '…' : ''}”`;
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

/** The hex view's rows for `bytes`: a heading, then the rows around the highlight, moved by `scroll` rows. */
function hexLines(layer: LayerView, hl: ByteRange | null, width: number, rows: number, scroll: number): Segment[][] {
  if (rows <= 0) return [];
  if (!layer.bytes) return [[{ text: `    ${layer.missing ?? 'no bytes for this layer here (they come from re-reading the capture)'}`, dim: true }]];
  // A heading with no row of bytes under it would name rows it does not show.
  if (rows < 2) return [];
  const per = bytesPerRow(width);
  const label = layer.range ? `${layer.range.space} ${layer.range.start}–${Math.max(layer.range.start, layer.range.end - 1)}` : layer.title;
  const total = Math.ceil(layer.bytes.length / per);
  const room = rows - 1;
  const firstRow = Math.max(0, Math.min(highlightRow(hl, per) + scroll, total - room));
  // Which rows show comes first: on a narrow pane the heading's end is cut.
  const head: Segment[] = [
    { text: total > room ? `    rows ${firstRow + 1}–${Math.min(total, firstRow + room)}/${total} (PgUp/PgDn) ·` : '', dim: true },
    { text: `${total > room ? ' ' : '    '}bytes of ${label}`, dim: true },
    { text: hl && hl.end > hl.start ? ` · [highlighted] ${hl.start}–${hl.end - 1} (${formatBytes(hl.end - hl.start)}) of ${formatBytes(layer.bytes.length)}` : '', color: 'cyan' },
  ];
  const body = hexRows(layer.bytes, hl, per, firstRow, room).map((r): Segment[] => [
    { text: `${r.offsetText}`, dim: true },
    ...r.hex.map((h) => ({ text: h.text, color: h.highlighted ? ('cyan' as const) : undefined, inverse: h.highlighted })),
    { text: '  ' },
    ...r.ascii.map((a) => ({ text: a.text, color: a.highlighted ? ('cyan' as const) : undefined, inverse: a.highlighted, dim: !a.highlighted })),
  ]);
  return [head, ...body];
}

/** Where a field lies: its bytes, or for a decoded field (a SPDY header) its range in the decoded bytes (the encoded ones are highlighted). */
function fieldPlace(f: Field): string {
  const span = (offset: number, length: number) => `${offset}${length > 1 ? `–${offset + length - 1}` : ''}`;
  return f.decoded ? `${f.decoded.space} ${span(f.decoded.offset, f.decoded.length)}` : span(f.offset, f.length);
}

/** One field row under its layer: label, value (captured text, made safe) and where it lies. */
function fieldLine(f: Field, last: boolean, selected: boolean): Segment[] {
  return [
    { text: selected ? '▸' : ' ', color: 'cyan', bold: true },
    { text: ` ${last ? ' ' : '│'}      ` },
    { text: `${safeInline(f.label, 40)}: ${safeInline(f.value, 160)}`, inverse: selected, color: selected ? 'cyan' : undefined },
    { text: ` ${fieldPlace(f)}`, dim: true },
  ];
}

/** The selected field of the selected layer, or -1 (the layer itself). */
function selectedFieldOf(layer: LayerView | undefined, field: number | undefined): number {
  return layer?.fields && field !== undefined && field < layer.fields.length ? field : -1;
}

/**
 * The layer tree's lines (each with the layer it belongs to, -1 for a note) and which of them the
 * pane shows: the selected layer's lines and fields open under it when the pane has the focus, or
 * room to spare without it; a tree taller than the pane keeps the selected layer or field in sight.
 * Walking a layer's fields, its bytes keep up to half the pane; else the layers come first.
 */
export function layerTree(p: Pick<EventDetailProps, 'layers' | 'selectedLayer' | 'selectedField' | 'focused' | 'height' | 'width' | 'inspection'>): {
  lines: { layer: number; segments: Segment[] }[];
  first: number;
  rows: number;
} {
  const rows = p.height - 1;
  const sel = Math.min(Math.max(0, p.selectedLayer), p.layers.length - 1);
  const layer = sel >= 0 ? p.layers[sel] : undefined;
  const fieldSel = selectedFieldOf(layer, p.selectedField);
  const roomy = sel >= 0 && rows - p.layers.length - p.layers[sel].lines.length >= 6;
  const lines: { layer: number; segments: Segment[] }[] = [];
  let selLine = 0;
  p.layers.forEach((l, i) => {
    const expanded = (p.focused || roomy) && i === sel;
    const last = i === p.layers.length - 1;
    if (i === sel) selLine = lines.length;
    lines.push({ layer: i, segments: layerLine(l, i, p.layers.length, i === sel && fieldSel < 0, expanded) });
    if (!expanded) return;
    for (const text of l.lines) lines.push({ layer: i, segments: [{ text: `  ${last ? ' ' : '│'}      ${text}` }] });
    (l.fields ?? []).forEach((f, k) => {
      if (k === fieldSel) selLine = lines.length;
      lines.push({ layer: i, segments: fieldLine(f, last, k === fieldSel) });
    });
  });
  if (p.inspection.status === 'loading') lines.push({ layer: -1, segments: [{ text: '  … re-reading the capture for TLS, TCP segments and packets', dim: true }] });
  if (p.inspection.status === 'failed') lines.push({ layer: -1, segments: [{ text: `  ! could not re-read the capture: ${safeInline(p.inspection.message, 120)}`, color: 'yellow' }] });
  const hexNeed = layer?.bytes ? Math.ceil(layer.bytes.length / bytesPerRow(p.width)) + 1 : 1;
  const hexBudget = Math.min(hexNeed, fieldSel >= 0 ? Math.max(2, Math.floor(rows / 2)) : 2);
  // With no row left for the tree once the bytes have theirs, the rows are the tree's: the layer ↑↓ moves stays in sight.
  const treeRows = Math.max(0, Math.min(lines.length, rows - hexBudget >= 1 ? rows - hexBudget : rows));
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
  // The selected field's bytes are highlighted, else the layer's own part.
  const layer = sel >= 0 ? p.layers[sel] : undefined;
  const fieldSel = selectedFieldOf(layer, p.selectedField);
  const selectedField = fieldSel >= 0 ? layer!.fields![fieldSel] : null;
  const hl = selectedField ? { start: selectedField.offset, end: selectedField.offset + selectedField.length } : (layer?.highlight ?? null);
  const hex = layer ? hexLines(layer, hl, p.width, rows - tree.length, p.hexScroll ?? 0) : [];
  return (
    <Box flexDirection="column" height={p.height}>
      <PaneTitle title="Event" focused={p.focused} info={info} />
      {[...tree, ...hex].map((segments, i) => (
        <Line key={i} segments={segments} />
      ))}
    </Box>
  );
}
