/**
 * The top row: what is open and what it holds, and whether decoding stopped early. When the row is
 * too narrow for all of it, the notes give way in order of how little they matter: the packets and
 * connections to short forms (`633 pkts`), the packets and the link type away, the path to its file
 * name, the sessions and warnings to short forms, then the format, the connections and the program's
 * name away, the path cut in its middle; the sessions, the warnings and what went wrong stay.
 */
import cellWidth from '../report/cell-width.js';
import type { CaptureModel } from '../model/session.js';
import { Line, type Segment } from './Line.js';
import { plural } from '../report/format.js';
import { fitMiddle } from '../report/terminal-cells.js';
import { safeInline } from '../report/terminal-text.js';

/**
 * One note of the title: its forms, longest first ('' leaves it out), and the rank at which it gives
 * way from each form to the next (lower ranks give way first).
 */
interface TitleNote {
  forms: string[];
  ranks: number[];
  style: Omit<Segment, 'text'>;
  /** Put before the notes, with no separator (the program's name, the path). */
  lead?: boolean;
}

const SEP = ' · ';
/** Room what went wrong keeps, at least, once the notes before it have given way. */
const ERROR_ROOM = 24;
/** Notes of this rank and above (the program's name, the path, the sessions…) give way to what went wrong only in part. */
const NAME_RANK = 14;
/** A path that does not fit keeps this many cells, its start and its end. */
const PATH_CELLS = 12;

function basename(path: string): string {
  const cut = path.replace(/\/+$/, '').lastIndexOf('/');
  return cut < 0 ? path : path.slice(cut + 1);
}

/** "633 packets", its short form ("633 pkts"; `short` is [one, several]) and nothing. */
function countNote(n: number, word: string, short: readonly [string, string], ranks: number[]): TitleNote {
  return { forms: [plural(n, word), `${n} ${short[n === 1 ? 0 : 1]}`, ''], ranks, style: { dim: true } };
}

function notesOf(path: string, note: string | null, model: CaptureModel | null): TitleNote[] {
  const name = safeInline(path);
  const base = basename(name);
  const notes: TitleNote[] = [
    { forms: [' execscope ', ''], ranks: [14], style: { bold: true, inverse: true }, lead: true },
    { forms: [`  ${name}`, `  ${base}`, `  ${fitMiddle(base, PATH_CELLS).trimEnd()}`, ''], ranks: [5, 15, 20], style: { bold: true }, lead: true },
  ];
  // The tap's export line is what the user came for: it never gives way.
  if (note) notes.push({ forms: [safeInline(note)], ranks: [], style: { bold: true, color: 'cyan' } });
  if (!model) return notes;
  const c = model.capture;
  notes.push({ forms: [c.format ?? '?', ''], ranks: [8], style: { dim: true } });
  notes.push(countNote(c.packets, 'packet', ['pkt', 'pkts'], [1, 3]));
  if (c.linkTypes.length) notes.push({ forms: [c.linkTypes.map((t) => safeInline(t)).join(', '), ''], ranks: [4], style: { dim: true } });
  // Every connection seen, the plain ones counted instead of listed included.
  notes.push(countNote(model.connections.length + (model.unlistedConnections?.connections ?? 0), 'connection', ['conn', 'conns'], [2, 13]));
  notes.push(countNote(model.sessions.length, 'session', ['sess', 'sess'], [6, 21]));
  if (c.unsupportedLinkTypes.length) {
    const types = c.unsupportedLinkTypes.map((t) => safeInline(t)).join(', ');
    notes.push({ forms: [`! link type ${types} not decoded`, `! ${types} undecoded`, ''], ranks: [7, 23], style: { color: 'yellow' } });
  }
  if (model.warnings.length) {
    const n = model.warnings.length;
    notes.push({ forms: [`! ${plural(n, 'warning')} (w)`, `! ${n} warn (w)`, ''], ranks: [7, 22], style: { color: 'yellow' } });
  }
  return notes;
}

/** The notes in the forms `form` gives, a note left out where its form is ''. */
function shown(notes: readonly TitleNote[], form: readonly number[]): Segment[] {
  const out: Segment[] = [];
  notes.forEach((n, i) => {
    const text = n.forms[form[i]];
    if (text) out.push({ text: n.lead || !out.length ? text : SEP + text, ...n.style });
  });
  return out;
}

const widthOf = (segments: readonly Segment[]) => segments.reduce((w, s) => w + cellWidth(s.text), 0);

/**
 * The title's segments for a row `width` columns wide. `note` is a line the user must be able to
 * read whole (the tap's `export KUBECONFIG=…`); `error` is why loading failed.
 */
export function titleSegments(path: string, note: string | null, model: CaptureModel | null, error: string | null, width: number): Segment[] {
  const notes = notesOf(path, note, model);
  const problems = [error && `✗ ${safeInline(error, 120)}`, model?.fatal && `✗ ${model.fatal.truncated ? 'truncated' : 'stopped'}: ${safeInline(model.fatal.message, 80)}`]
    .filter((t): t is string => !!t)
    .map((t): Segment => ({ text: SEP + t, color: 'red', bold: true }));
  // What went wrong comes last, where the row's end is cut: the counts give way for all of it, the
  // name and the sessions for up to half the row.
  const problemCells = widthOf(problems);
  const kept = Math.min(problemCells, Math.max(ERROR_ROOM, Math.floor(width / 2)));
  const form = notes.map(() => 0);
  const steps = notes.flatMap((n, i) => n.ranks.map((rank, k) => ({ rank, i, to: k + 1 }))).sort((a, b) => a.rank - b.rank);
  for (const step of steps) {
    if (widthOf(shown(notes, form)) + (step.rank < NAME_RANK ? problemCells : kept) <= width) break;
    form[step.i] = step.to;
  }
  return [...shown(notes, form), ...problems];
}

export function TitleBar({ path, note = null, model, error, width }: { path: string; note?: string | null; model: CaptureModel | null; error: string | null; width: number }) {
  return <Line segments={titleSegments(path, note, model, error, width)} />;
}
