/**
 * Following a capture while it grows, for every live source: tcpdump's output (`execscope live`), a
 * tap's recording (`execscope tap --ui`, `--json-lines`) and a capture piped in (`execscope -`). The
 * bytes go through the same incremental pipeline as a file; what changed is shown in the TUI or
 * printed as one JSON event per line (see live-events.ts). IO code.
 */
import type { CaptureModel } from '../model/session.js';
import { analyzeCapture, type CaptureInput } from '../pipeline/analyze-capture.js';
import { analyzeOptions, type AnalyzeOptions } from '../pipeline/options.js';
import { terminalSafeJson } from '../report/terminal-text.js';
import { LiveEventDiffer } from './live-events.js';
import { loadTui } from '../ui/load-tui.js';

/**
 * Redraw delay of the TUI on a live source: the pipeline reports within LIVE_PROGRESS_MS of a packet
 * (analyze-capture.ts), the screen follows this much later, well inside the 100 ms a person reads as
 * "at once".
 */
export const LIVE_REDRAW_MS = 25;

/** Prints one JSON event per line while `input` is read; resolves with the exit code once it ends. */
export async function printJsonLines(input: CaptureInput, opts: AnalyzeOptions = analyzeOptions()): Promise<number> {
  const differ = new LiveEventDiffer();
  const emit = (model: CaptureModel) => {
    for (const event of differ.next(model)) printJsonLine(event);
  };
  const model = await analyzeCapture(input, opts, emit);
  emit(model);
  return model.fatal ? 2 : 0;
}

/** One event of the --json-lines stream, inert on a terminal (captured text may hold any control). */
export function printJsonLine(event: object): void {
  process.stdout.write(`${terminalSafeJson(event, 0)}\n`);
}

export interface TuiView {
  /** The title: what is open (a file, "stdin", a tap). */
  title: string;
  /** A file holding every byte the model was built from, for the event inspector and Content; without one they show what the model keeps. */
  readBack?: string;
  /** The keyboard, when stdin carries the capture. */
  keyboard?: NodeJS.ReadStream;
  /** Receives every capture byte before the analyzer (a --save copy of stdin). */
  tee?: (chunk: Uint8Array) => void;
  /** The input grows while it is shown: redraw at the live pace. */
  live: boolean;
}

/** The TUI on `input`; resolves with its exit code when the user quits (the input may still be read). */
export async function openTui(input: CaptureInput, view: TuiView, opts: AnalyzeOptions = analyzeOptions()): Promise<number> {
  delete process.env.CI; // Ink draws only once, at exit, when it believes it runs in CI
  const [{ runTui }, { createEventInspector }, { createCaptureInspector }, { createContentReader }] = await Promise.all([
    loadTui(),
    import('../ui/event-inspector.js'),
    import('../pipeline/capture-inspector.js'),
    import('../pipeline/capture-content-reader.js'),
  ]);
  const readBack = view.readBack;
  // Events can only be selected once the model holding them has been shown, so `shown` is set by then.
  let shown: CaptureModel | null = null;
  return runTui({
    path: view.title,
    load: (onProgress) =>
      analyzeCapture(
        input,
        opts,
        (model, read, total) => {
          shown = model;
          onProgress(model, read, total);
        },
        view.tee,
      ),
    inspector: readBack === undefined ? undefined : (session, event) => createEventInspector(createCaptureInspector(readBack), shown as CaptureModel)(session, event),
    contentReader: readBack === undefined ? undefined : createContentReader(readBack, opts),
    stdin: view.keyboard,
    throttleMs: view.live ? LIVE_REDRAW_MS : undefined,
  });
}
