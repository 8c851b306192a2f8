/**
 * `execscope export`: decodes the capture, then writes the chosen session as an asciicast recording
 * and/or a timeline picture (SVG, PNG). Stream bytes beyond the kept head are read back from the
 * capture, as the TUI's Content pane does.
 */
import { open, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '../cli/args.js';
import { hopChain } from '../model/cross-hop.js';
import type { CaptureModel, ExecSession } from '../model/session.js';
import { analyzeCapture, canReadCaptureAgain } from '../pipeline/analyze-capture.js';
import { analyzeOptions, type AnalyzeOptions } from '../pipeline/options.js';
import { createContentReader } from '../pipeline/capture-content-reader.js';
import { headBuffer } from '../ui/content.js';
import { asciicast } from './asciicast.js';
import { svgToPng } from './png.js';
import { timelineSvg } from './timeline-svg.js';

export interface ExportRequest {
  keyLogs: AnalyzeOptions['keyLogs'];
  asciicast: { path: string; stdin: boolean } | null;
  svg: string | null;
  png: string | null;
  /** One line for the user per file written or thing left out. */
  report: (line: string) => void;
  /** Told of each file's write as it starts (so a hang-up can let it finish). */
  writing?: (file: Promise<void>) => void;
  /** The error to end with when `file` cannot be written (by default the file system's own). */
  cannotWrite?: (file: string, error: unknown) => Error;
}

/** Frames kept per stream for the recording's timing (the analyzer's default is lower). */
const MAX_EVENTS_PER_STREAM = 200_000;

async function writeCast(path: string, model: CaptureModel, s: ExecSession, opts: AnalyzeOptions, req: ExportRequest & { asciicast: { path: string; stdin: boolean } }): Promise<void> {
  if (s.kind === 'portforward') throw new UsageError(`session ${s.id} is a port-forward: it has no terminal to replay`);
  if (s.state === 'upgrade-failed') throw new UsageError(`session ${s.id} was refused (HTTP ${s.httpStatus ?? '?'}): nothing to replay`);
  const wanted = s.streams.filter((r) => r.name === 'stdout' || r.name === 'stderr' || (req.asciicast.stdin && r.name === 'stdin'));
  const read = createContentReader(path, opts);
  // A pipe (stdin, `<(…)`) was read once and is spent: beyond its kept head a stream is what the head holds, and the notes say so.
  const readAgain = canReadCaptureAgain(path);
  const bytes = new Map<string, Uint8Array>();
  for (const r of wanted) bytes.set(r.name, r.bytes <= r.headBytes || !readAgain ? headBuffer(r) : await read(s, r));
  const cast = asciicast(s, bytes, { stdin: req.asciicast.stdin, originNs: model.capture.originNs });
  // A recording holds what was typed and shown (passwords, tokens): only its owner reads it.
  await write(req, req.asciicast.path, cast.text, 0o600);
  req.report(`wrote ${cast.events} events of session ${s.id}${s.tty ? '' : ' (no TTY: stdout and stderr as lines)'} to ${req.asciicast.path}`);
  for (const note of cast.notes) req.report(`  note: ${note}`);
  if (!readAgain && wanted.some((r) => r.bytes > r.headBytes)) req.report('  note: a pipe cannot be read again past what was kept: export from a file (a copy: analyze - --save FILE) for the whole stream');
}


function write(req: ExportRequest, path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const file = writeWithMode(path, data, mode).catch((e: unknown) => {
    throw req.cannotWrite?.(path, e) ?? e;
  });
  req.writing?.(file);
  return file;
}

/**
 * `mode` is the file's whether it is made or replaced: writeFile's applies only to a file it makes, so
 * a recording written over an existing world-readable file stayed readable. Set before the data goes
 * in; only on a regular file (a terminal or /dev/null given as FILE keeps its own).
 */
async function writeWithMode(path: string, data: string | Uint8Array, mode: number | undefined): Promise<void> {
  if (mode === undefined) return writeFile(path, data);
  const handle = await open(path, 'w', mode);
  try {
    if ((await handle.stat()).isFile()) await handle.chmod(mode);
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

export async function exportSession(path: string, id: number, req: ExportRequest): Promise<CaptureModel> {
  const opts = analyzeOptions({ keyLogs: req.keyLogs, maxEventsPerStream: MAX_EVENTS_PER_STREAM });
  const model = await analyzeCapture(path, opts);
  const s = model.sessions.find((x) => x.id === id);
  // A file that is no capture (or is cut before the session) says so rather than "no session".
  if (!s) throw new UsageError(model.fatal && model.sessions.length === 0 ? model.fatal.message : `no session ${id} in ${path} (it has ${model.sessions.length})`);
  if (req.asciicast) await writeCast(path, model, s, opts, { ...req, asciicast: req.asciicast });
  if (req.svg || req.png) {
    const chain = hopChain(model.sessions, s);
    const picture = timelineSvg(chain, model, `execscope · ${basename(path)} · session ${s.id}${chain.length > 1 ? ` and its hops ${chain.map((h) => `#${h.id}`).join(' → ')}` : ''}`);
    if (req.svg) {
      await write(req, req.svg, picture.svg);
      req.report(`wrote the timeline of ${chain.length > 1 ? `${chain.length} hops` : `session ${s.id}`} (${picture.width}×${picture.height}) to ${req.svg}`);
    }
    if (req.png) {
      await write(req, req.png, await svgToPng(picture.svg));
      req.report(`wrote the timeline as PNG to ${req.png}`);
    }
  }
  return model;
}
