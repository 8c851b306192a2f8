/**
 * A session's timeline as an SVG picture small enough to paste into an issue: the lanes the TUI
 * shows (upgrade, one per stream, control) with their events and notes, the hang doctor's findings,
 * and for a linked exec every hop stacked on one time axis with the latencies between them.
 *
 * Pure: it reads the model and returns the SVG text. All text is set in a monospace font and sized
 * by its character count, so labels, notes and ticks are laid out in columns that cannot overlap;
 * captured strings are neutralised (safeInline) and XML-escaped.
 */
import { diagnose, type Finding } from '../diagnose/diagnose.js';
import type { CaptureModel, ExecSession } from '../model/session.js';
import { hopLabel, protocolLabel } from '../report/outcome.js';
import { formatDuration, formatSignedDuration } from '../core/time.js';
import { commandLabel, sessionOutcome, targetLabel, type Severity } from '../report/session-summary.js';
import { safeInline } from '../report/terminal-text.js';
import { streamColor, type InkColor } from '../ui/theme.js';
import { buildLanes, isStreamEvent, sessionEnd, type Lane, type TimelineItem } from '../ui/timeline-lanes.js';

const WIDTH = 1200;
const FONT = 12;
/** Advance of one character of DejaVu Sans Mono / Liberation Mono at FONT px (0.6 em), rounded up. */
const CHAR = 7.3;
const PAD = 16;
const LABEL_CHARS = 14;
const NOTE_CHARS = 34;
const PLOT_X0 = PAD + LABEL_CHARS * CHAR + 12;
const PLOT_X1 = WIDTH - PAD - NOTE_CHARS * CHAR - 12;
const NOTE_X = PLOT_X1 + 12;
const LANE_H = 20;
const LINE_H = 17;
/** Events closer than this (px) on one lane are drawn as one mark. */
const BIN_PX = 2;

const COLORS: Record<InkColor, string> = {
  red: '#c62828',
  yellow: '#b7791f',
  green: '#2e7d32',
  cyan: '#00838f',
  blue: '#1565c0',
  magenta: '#8e24aa',
  gray: '#616161',
  white: '#424242',
};

const SEVERITY_COLOR: Record<Severity, string> = { ok: COLORS.green, warn: COLORS.yellow, error: COLORS.red, info: COLORS.gray };
const SEVERITY_SYMBOL: Record<Severity, string> = { ok: '✓', warn: '!', error: '✗', info: '·' };

export interface TimelinePicture {
  svg: string;
  width: number;
  height: number;
  /** Lane labels per hop, top to bottom (what a viewer should find in the picture). */
  lanes: string[][];
}

/** Text for an attribute or element: neutralised first (a control character is not even allowed in XML, and resvg refuses it), then escaped. */
function esc(text: string): string {
  return safeInline(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Neutralised, cut to `chars` characters (one column each in a monospace font). */
function fitText(text: string, chars: number): string {
  const cps = Array.from(safeInline(text));
  return cps.length <= chars ? cps.join('') : cps.slice(0, Math.max(0, chars - 1)).join('') + '…';
}

function textEl(x: number, y: number, text: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ` ${attrs}` : ''}>${esc(text)}</text>`;
}

/** Round tick steps (1, 2, 5 × 10^k ns) giving at most `max` ticks over `span`. */
function tickStep(span: number, max: number): number {
  const raw = span / max;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

interface Axis {
  t0: number;
  t1: number;
  x(ts: number): number;
}

function axisFor(t0: number, t1: number): Axis {
  const span = Math.max(1, t1 - t0);
  return { t0, t1: t0 + span, x: (ts) => PLOT_X0 + ((ts - t0) / span) * (PLOT_X1 - PLOT_X0) };
}

function markFor(item: TimelineItem, x: number, y: number, color: string): string {
  const e = item.event;
  const k = e.kind;
  const s = `stroke="${color}"`;
  if (isStreamEvent(e)) {
    switch (k) {
      case 'open':
        return `<path d="M${x - 3},${y - 5}L${x + 3},${y}L${x - 3},${y + 5}Z" fill="${color}"/>`;
      case 'reply':
        return `<path d="M${x + 3},${y - 5}L${x - 3},${y}L${x + 3},${y + 5}Z" fill="none" ${s}/>`;
      case 'half-close':
        return `<line x1="${x}" y1="${y - 7}" x2="${x}" y2="${y + 7}" ${s} stroke-width="2"/>`;
      case 'reset':
        return `<path d="M${x - 4},${y - 4}L${x + 4},${y + 4}M${x - 4},${y + 4}L${x + 4},${y - 4}" ${s} stroke-width="2"/>`;
      case 'established':
        return `<circle cx="${x}" cy="${y}" r="3" fill="${color}"/>`;
      default:
        return '';
    }
  }
  switch (k) {
    case 'request':
      return `<circle cx="${x}" cy="${y}" r="4" fill="white" ${s} stroke-width="1.5"/>`;
    case 'upgrade':
      return `<circle cx="${x}" cy="${y}" r="4" fill="${color}"/>`;
    case 'ping':
      return `<circle cx="${x}" cy="${y}" r="2.5" fill="${color}"/>`;
    case 'pong':
      return `<circle cx="${x}" cy="${y}" r="2.5" fill="white" ${s}/>`;
    case 'rst':
    case 'gap':
      return `<path d="M${x - 4},${y - 4}L${x + 4},${y + 4}M${x - 4},${y + 4}L${x + 4},${y - 4}" stroke="${COLORS.red}" stroke-width="2"/>`;
    default:
      return `<rect x="${x - 3}" y="${y - 3}" width="6" height="6" fill="${color}"/>`;
  }
}

/** One lane's marks: data summed per bin (height by volume), other events one mark per kind per bin. */
function laneMarks(lane: Lane, axis: Axis, y: number, color: string): string[] {
  const out: string[] = [];
  const data = new Map<number, number>();
  const seen = new Set<string>();
  for (const it of lane.items) {
    const bin = Math.round(axis.x(it.ts) / BIN_PX);
    if (it.event.kind === 'data') {
      data.set(bin, (data.get(bin) ?? 0) + Math.max(1, it.length));
      continue;
    }
    const key = `${bin} ${it.event.kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(markFor(it, bin * BIN_PX, y, color));
  }
  const max = Math.max(1, ...data.values());
  for (const [bin, bytes] of data) {
    const h = 4 + 10 * (Math.log(bytes + 1) / Math.log(max + 1));
    out.unshift(`<rect x="${bin * BIN_PX - 1}" y="${(y - h / 2).toFixed(1)}" width="${BIN_PX}" height="${h.toFixed(1)}" fill="${color}"/>`);
  }
  return out;
}

function laneColor(lane: Lane): string {
  return COLORS[streamColor(lane.kind === 'stream' ? (lane.stream?.name ?? '') : lane.kind)];
}

/** "+44.8 ms" from `from` ("−2.10 ms": before it); "—" when either time is unknown. */
function after(from: number | null, to: number | null): string {
  return from === null || to === null ? '—' : formatSignedDuration(to - from);
}

/** Lines cross headlines: a white outline under the glyphs keeps the text readable. */
const HALO = 'paint-order="stroke" stroke="white" stroke-width="4" stroke-linejoin="round"';

function firstOutput(s: ExecSession): number | null {
  let first: number | null = null;
  for (const r of s.streams) {
    if (r.name !== 'stdout' && r.name !== 'stderr' && !r.name.startsWith('data')) continue;
    const e = r.events.find((x) => x.kind === 'data' && x.length > 0 && x.dir === 's2c');
    if (e && (first === null || e.ts < first)) first = e.ts;
  }
  return first;
}

function statusAt(s: ExecSession): number | null {
  return s.streams.find((r) => r.name === 'error')?.events.find((e) => e.kind === 'data')?.ts ?? null;
}

/**
 * The latencies of one hop against the hop before it (nearer kubectl): how long after that hop's
 * request this one was asked, answered, saw its first output and its Status.
 */
function hopLatency(prev: ExecSession, s: ExecSession): string {
  return [
    `request ${after(prev.requestOrigin.lastTs, s.requestOrigin.lastTs)}`,
    `101 ${after(prev.upgradeTs, s.upgradeTs)}`,
    `first output ${after(firstOutput(s), firstOutput(prev))} back`,
    `Status ${after(statusAt(s), statusAt(prev))} back`,
  ].join(' · ');
}

/** The picture of `chain` (one session, or the sessions of one exec across hops, nearest kubectl first). */
export function timelineSvg(chain: readonly ExecSession[], model: Pick<CaptureModel, 'sessions' | 'connections'>, title: string): TimelinePicture {
  const all = model.sessions;
  const t0 = Math.min(...chain.map((s) => s.startTs));
  const t1 = Math.max(...chain.map((s) => sessionEnd(s)));
  const axis = axisFor(t0, t1);
  const body: string[] = [];
  const lanesShown: string[][] = [];
  const maxChars = Math.floor((WIDTH - 2 * PAD) / CHAR);
  let y = PAD + 14;
  const head = chain[0];
  body.push(textEl(PAD, y, fitText(title, maxChars), 'font-size="14" font-weight="bold"'));
  y += LINE_H + 2;
  const summary = `${head.kind} ${targetLabel(head)} ${commandLabel(head)} · ${chain.length} hop${chain.length > 1 ? 's' : ''} · ${sessionOutcome(head, all).text}`;
  body.push(textEl(PAD, y, fitText(summary, maxChars), `fill="${COLORS.gray}"`));
  y += LINE_H;

  const anchors: { request: { x: number; y: number } }[] = [];
  for (let h = 0; h < chain.length; h++) {
    const s = chain[h];
    y += 16;
    const outcome = sessionOutcome(s, all);
    const dur = s.endTs !== null ? formatDuration(s.endTs - s.startTs) : 'open';
    const headline = `#${s.id} ${hopLabel(s)} · ${protocolLabel(s)} · ${dur} · ${SEVERITY_SYMBOL[outcome.severity]} ${outcome.text}`;
    body.push(textEl(PAD, y, fitText(headline, maxChars), `font-weight="bold" fill="${SEVERITY_COLOR[outcome.severity]}" ${HALO}`));
    y += LINE_H;
    if (h > 0) {
      body.push(textEl(PAD + 2 * CHAR, y, fitText(`after #${chain[h - 1].id}: ${hopLatency(chain[h - 1], s)}`, maxChars - 2), `fill="${COLORS.gray}" ${HALO}`));
      y += LINE_H;
    }
    const lanes = buildLanes(s, all);
    lanesShown.push(lanes.map((l) => l.label));
    const top = y;
    for (const lane of lanes) {
      const mid = y + LANE_H / 2;
      const color = laneColor(lane);
      body.push(`<g class="lane" data-lane="${esc(lane.key)}">`);
      body.push(textEl(PAD, mid + 4, fitText(lane.label, LABEL_CHARS), `fill="${color}" class="lane-label"`));
      if (lane.lineFrom !== null && lane.lineTo !== null) {
        body.push(`<line x1="${axis.x(lane.lineFrom).toFixed(1)}" y1="${mid}" x2="${Math.max(axis.x(lane.lineFrom) + 1, axis.x(lane.lineTo)).toFixed(1)}" y2="${mid}" stroke="${color}" stroke-opacity="0.45" stroke-width="2"/>`);
      }
      body.push(...laneMarks(lane, axis, mid, color));
      const request = lane.kind === 'upgrade' ? lane.items.find((i) => i.event.kind === 'request') : undefined;
      if (request) anchors[h] = { request: { x: axis.x(request.ts), y: mid } };
      body.push(textEl(NOTE_X, mid + 4, fitText(lane.note, NOTE_CHARS), `fill="${SEVERITY_COLOR[lane.noteSeverity]}" class="lane-note"`));
      body.push('</g>');
      y += LANE_H;
    }
    const findings: Finding[] = diagnose(s, all, model.connections); // connections: backpressure causes need the TCP windows
    for (const f of findings) {
      const color = f.severity === 'error' ? COLORS.red : f.severity === 'warn' ? COLORS.yellow : COLORS.gray;
      if (f.at !== null) {
        const x = axis.x(f.at).toFixed(1);
        body.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${y}" stroke="${color}" stroke-dasharray="4 3"/>`);
      }
      const at = f.at !== null ? ` (at +${formatDuration(Math.max(0, f.at - s.startTs))}, dashed)` : '';
      const sym = f.severity === 'error' ? '✗' : f.severity === 'warn' ? '!' : '·';
      y += 2;
      body.push(textEl(PAD + 2 * CHAR, y + 12, fitText(`${sym} ${f.rule} ${f.title}${at}`, maxChars - 2), `fill="${color}" class="finding" ${HALO}`));
      y += LINE_H;
    }
  }
  // Each hop's request joined to the next one's: the exec travelling down the chain.
  for (let h = 1; h < chain.length; h++) {
    const a = anchors[h - 1]?.request;
    const b = anchors[h]?.request;
    if (a && b) body.push(`<line x1="${a.x.toFixed(1)}" y1="${a.y + 5}" x2="${b.x.toFixed(1)}" y2="${b.y - 5}" stroke="${COLORS.gray}" stroke-dasharray="2 3"/>`);
  }

  // The time axis, under everything.
  y += 12;
  body.push(`<line x1="${PLOT_X0}" y1="${y}" x2="${PLOT_X1}" y2="${y}" stroke="${COLORS.gray}"/>`);
  const step = tickStep(axis.t1 - axis.t0, 8);
  for (let t = 0; t0 + t <= axis.t1 + 1; t += step) {
    const x = axis.x(t0 + t);
    body.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + 4}" stroke="${COLORS.gray}"/>`);
    body.push(textEl(x, y + 16, t === 0 ? '0' : `+${formatDuration(t)}`, `text-anchor="middle" fill="${COLORS.gray}" class="tick"`));
  }
  y += 30;
  const legend = '▷ open  ◁ reply  | half-close  × reset  ▮ data (height: volume)  ○ request  ● 101  • ping  ∘ pong  ▪ close/goaway';
  body.push(textEl(PAD, y, fitText(legend, maxChars), `fill="${COLORS.gray}" class="legend"`));
  const height = Math.ceil(y + PAD);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans Mono, Liberation Mono, monospace" font-size="${FONT}">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    ...body,
    '</svg>',
  ].join('\n');
  return { svg: svg + '\n', width: WIDTH, height, lanes: lanesShown };
}
