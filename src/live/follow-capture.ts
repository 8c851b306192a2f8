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
import { TlsKeyLog } from '../tls/key-log.js';
import { LiveEventDiffer } from './live-events.js';
import { loadTui } from '../ui/load-tui.js';

/**
 * Redraw delay of the TUI on a live source: the pipeline reports within LIVE_PROGRESS_MS of a packet
 * (analyze-capture.ts), the screen follows this much later, well inside the 100 ms a person reads as
 * "at once".
 */
export const LIVE_REDRAW_MS = 25;
/**
 * While reports keep coming (a burst, a file piped in) the TUI gets at most one per this long: a
 * redraw of a large model costs milliseconds, and redrawing after every report took 3.4-4.5 s of CPU
 * to load 241 MB from stdin against 2.1-2.6 s before (2.7-3.3 s with this). After a quiet spell a
 * report goes through at once.
 */
const BUSY_REPORT_MS = 100;

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
  /** A line the title keeps whole, whatever else gives way (the tap's `export KUBECONFIG=…`). */
  note?: string;
  /** A file holding every byte the model was built from, for the event inspector and Content; without one they show what the model keeps. */
  readBack?: string;
  /** The keyboard, when stdin carries the capture. */
  keyboard?: NodeJS.ReadStream;
  /** Receives every capture byte before the analyzer (a --save copy of stdin). */
  tee?: (chunk: Uint8Array) => void;
  /** The input grows while it is shown: redraw at the live pace. */
  live: boolean;
  /** What must still be done if the terminal hangs up (RunTuiOptions.onHangUp). */
  onHangUp?: () => Promise<void> | void;
}

/** The TUI on `input`; resolves with its exit code when the user quits (the input may still be read). */
export async function openTui(input: CaptureInput, view: TuiView, given: AnalyzeOptions = analyzeOptions()): Promise<number> {
  delete process.env.CI; // Ink draws only once, at exit, when it believes it runs in CI
  const [{ runTui }, { createEventInspector }, { createCaptureInspector }, { createContentReader }, { createStreamSaver }] = await Promise.all([
    loadTui(),
    import('../ui/event-inspector.js'),
    import('../pipeline/capture-inspector.js'),
    import('../pipeline/capture-content-reader.js'),
    import('../pipeline/stream-extract.js'),
  ]);
  const readBack = view.readBack;
  // One key log for the analysis and the inspector: what re-reading decrypts is what the analysis
  // decrypted (the capture's own DSBs and the TLS 1.2 sessions it learnt are added to it).
  const keys = given.keys ?? new TlsKeyLog();
  const opts = { ...given, keys };
  // Events can only be selected once the model holding them has been shown, so `shown` is set by then.
  let shown: CaptureModel | null = null;
  return runTui({
    path: view.title,
    note: view.note,
    live: view.live,
    load: (onProgress) => {
      let passedAt = -Infinity;
      let held: NodeJS.Timeout | null = null;
      let latest: Parameters<typeof onProgress> | null = null;
      const pass = () => {
        held = null;
        passedAt = performance.now();
        shown = latest![0];
        onProgress(...latest!);
      };
      return analyzeCapture(
        input,
        opts,
        (model, read, total) => {
          latest = [model, read, total];
          if (!view.live) return pass();
          const since = performance.now() - passedAt;
          if (since >= BUSY_REPORT_MS) pass();
          else held ??= setTimeout(pass, BUSY_REPORT_MS - since);
        },
        view.tee,
      ).finally(() => {
        if (held) clearTimeout(held);
      });
    },
    inspector: readBack === undefined ? undefined : (session, event, also) => createEventInspector(createCaptureInspector(readBack, keys), shown as CaptureModel)(session, event, also),
    contentReader: readBack === undefined ? undefined : createContentReader(readBack, opts),
    // S saves from the kept head, or from readBack where the head is not enough.
    saver: createStreamSaver(readBack, opts),
    stdin: view.keyboard,
    throttleMs: view.live ? LIVE_REDRAW_MS : undefined,
    onHangUp: view.onHangUp,
  });
}
