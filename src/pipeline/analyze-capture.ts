/** Feeds a capture file (or stdin) through the pipeline: the IO edge of the sans-IO analyzer. */
import { stat, statSync } from 'node:fs';
import { CaptureFileReader, readCaptureBytes } from '../capture/capture-source.js';
import type { StreamHasher } from '../k8s/stream-hasher.js';
import type { CaptureModel } from '../model/session.js';
import { nodeV8 } from '../core/node-modules.js';
import { DecodeError } from '../core/origin.js';
import { CaptureAnalyzer } from './capture-analyzer.js';
import type { AnalyzeOptions } from './options.js';

/**
 * Milliseconds on a monotonic clock, for the read loop's time slices and progress: `performance`
 * would load Node's perf_hooks into every run (~2 ms of a start) for what process.uptime() tells.
 */
const nowMs = (): number => process.uptime() * 1000;

/** A capture file, '-' for stdin, or bytes arriving from elsewhere (a tcpdump the caller runs). */
export type CaptureInput = string | { name: string; chunks: AsyncIterable<Uint8Array> };

export type ProgressListener = (model: CaptureModel, bytesRead: number, totalBytes: number | null) => void;

const PROGRESS_EVERY = 4 << 20;
/**
 * A live capture (tcpdump, a tap's recording, a pipe) trickles in: what arrives is reported at once
 * after a quiet spell and within this long while packets keep coming, so a new session or event is
 * shown well within 100 ms of its packet (the README's figures) without a report per packet.
 */
const LIVE_PROGRESS_MS = 40;
/**
 * A file is reported once its header is read (the title shows its format), after its first slice,
 * then at most this often: each report redraws the TUI, and redrawing every few MiB left loading a
 * fraction of the CPU (1% of 1 GB read in 2 s).
 */
const FILE_PROGRESS_EVERY_MS = 250;
/** Longest a synchronous run of file reads and decoding keeps the event loop waiting. */
const SLICE_MS = 20;
/**
 * A heap this large (garbage included) holds a few thousand open connections, or a model of ~10,000
 * sessions or more. Well below the heap of the 10,000 connections the analyzer keeps open at once
 * (~40 MB live), so that the bound is in place before V8 sizes the heap from their first full
 * collection: at 64 MB, one came at 57 MB and let the heap grow to 229 MB before the next.
 */
const LARGE_HEAP_BYTES = 32 << 20;

/**
 * V8 lets its heap grow to up to 4× what survived its last full collection before collecting again:
 * 200,000 exec sessions (~200 MB live) peaked at 1.3 GB, and 60,000 unanswered upgrades (10,000 open
 * at once, ~95 MB live then) grew the heap to 340 MB before the bound took hold when it waited for a
 * 320 MB heap (peak RSS 477 MB). Once the heap is large, it is told to collect at 1.3× (V8's
 * --heap-growing-percent, read at every collection): more full collections for less peak memory.
 * 200,000 unanswered upgrades (~48 MB live): peak RSS 198 MB at 1.5×, 187 MB at 1.3× (24 s CPU
 * either way); at 2× and before the open connections' diet, 348 MB for 35 s (the heap to mark was
 * larger). Bench typing capture: 185 MB, 8.7 s CPU at 2×; 172 MB, 7.0 s at 1.5×; 168 MB, 7.7 s at
 * 1.3× (load 7–8). Smaller heaps keep V8's own choice, where the factor costs little memory and
 * extra collections would cost time.
 */
function boundHeapGrowth(heapUsed: number): void {
  if (heapGrowthBounded || heapUsed < LARGE_HEAP_BYTES) return;
  heapGrowthBounded = true;
  nodeV8().setFlagsFromString('--heap-growing-percent=30');
}
let heapGrowthBounded = false;

/**
 * The young generation's two semi-spaces start at 1 MiB each, and V8 doubles them, up to 16 MiB each,
 * whenever more than their size survived scavenges since the last doubling: 10,000 open sessions grew
 * them to 32 MiB of RSS beside ~70 MB of records. Node reads --max-semi-space-size only as it starts,
 * but --semi-space-growth-factor at every doubling: set to 1 once the two reach 8 MiB, they stay there.
 * That size also costs the least time: typing 2000 sessions × 100 keystrokes, in instructions
 * (callgrind, --single-threaded, the cap given on the command line), 7,818 M with 1 MiB semi-spaces
 * never grown, 7,503 M capped at 4 MiB, 7,626 M at 8 MiB, 7,726 M at V8's 16.
 */
const YOUNG_GENERATION_BYTES = 8 << 20;
/**
 * Below this heap the semi-spaces cannot have reached 4 MiB each (the rest of the heap is ~6 MB from
 * the start): node:v8, loaded to look at them, stays out of short runs.
 */
const YOUNG_GENERATION_CHECKED_FROM = 12 << 20;

/**
 * The semi-spaces grow by committing memory, which heapTotal counts: found short of
 * YOUNG_GENERATION_BYTES by some bytes, they cannot reach it before the heap's total has risen as much
 * above its lowest since (should the old generation give back as much at that moment, the look only
 * waits for the heap's next rise). So they are looked at again only then: semi-spaces that never grew
 * that far (capped by --max-semi-space-size, or young objects dying young) were looked at in every
 * slice of reading, and for every chunk of a pipe.
 */
let youngGenerationShort = 0;
/** The heap's smallest total since the semi-spaces were last looked at. */
let heapTotalLowestSinceLook = Infinity;

function boundYoungGeneration(heapTotal: number): void {
  if (youngGenerationBounded || heapTotal < YOUNG_GENERATION_CHECKED_FROM) return;
  heapTotalLowestSinceLook = Math.min(heapTotalLowestSinceLook, heapTotal);
  if (heapTotal < heapTotalLowestSinceLook + youngGenerationShort) return;
  const v8 = nodeV8();
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (young !== undefined && young.space_size < YOUNG_GENERATION_BYTES) {
    youngGenerationShort = YOUNG_GENERATION_BYTES - young.space_size;
    heapTotalLowestSinceLook = heapTotal;
    return;
  }
  youngGenerationBounded = true;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
let youngGenerationBounded = false;

/**
 * V8 optimizes a function once it has run through its interrupt budget a few times (66 KB of bytecode
 * each by default). In a capture of large packets the per-packet code runs little per megabyte, so it
 * stays in the baseline tier for the first ~100 MB, and again for a while after each of the ~20
 * deoptimizations that paths first taken mid-capture cause (the first prune of closed tuples, the
 * first segment of another hop): kubectl-ws-64k's main thread spent ~16,500 instructions a packet from
 * 50 to 100 MB and ~2,700 from 150 MB on. A large file is therefore read with a quarter of the budget
 * from its first packet (callgrind, main thread, NODE_EXTRA_CA_CERTS unset): kubectl-ws-64k 441 → 353
 * M instructions, kubectl-ws-1448 1,055 → 977 M, for 10% more compiling on V8's other threads. Lowered
 * only once the first views showed large packets, it saved little (64k 383 M, 1448 none): the early
 * optimizations are the gain. Small packets make the code hot within the first megabyte anyway, and
 * many sessions' shapes then cost more re-optimizing than it saves (typing.pcap kept at a quarter:
 * main thread −4%, all threads +11%), so the look at the capture's first BULK_LOOK_PACKETS (or MB)
 * gives V8's budget back for them (main thread 7.5–7.8 → 7.2 G, all threads no more than without it,
 * 10.3–10.9 G). Short runs never load node:v8 (~15 M instructions) for it. Set after the bundle's code
 * cache, whose flags must match, was read; it holds for the rest of the process.
 */
const BULK_LOOK_BYTES = 4 << 20;
const BULK_LOOK_PACKETS = 2000;
const BULK_MEAN_PACKET_BYTES = 512;
const BULK_CAPTURE_BYTES = 32 << 20;
/** V8's own (Node 20), given back when the look finds small packets. */
const DEFAULT_INTERRUPT_BUDGET = 67584;
const BULK_INTERRUPT_BUDGET = DEFAULT_INTERRUPT_BUDGET >> 2;
type BulkTiering = 'unset' | 'lowered' | 'decided';
let bulkTiering: BulkTiering = 'unset';
/** At the start of a file of BULK_CAPTURE_BYTES or more: the budget lowered until the look. */
function lowerBudgetForLargeFile(total: number | null): void {
  if (bulkTiering !== 'unset' || total === null || total < BULK_CAPTURE_BYTES) return;
  bulkTiering = 'lowered';
  nodeV8().setFlagsFromString(`--interrupt-budget=${BULK_INTERRUPT_BUDGET}`);
}
/** After BULK_LOOK_BYTES or BULK_LOOK_PACKETS: large packets keep (or, from a pipe, get) the lower budget; small ones give it back. */
function lookForBulkCapture(capture: { bytesRead: number; packets: number }): void {
  if (bulkTiering === 'decided' || (capture.bytesRead < BULK_LOOK_BYTES && capture.packets < BULK_LOOK_PACKETS)) return;
  const bulk = capture.bytesRead >= BULK_MEAN_PACKET_BYTES * capture.packets;
  if (bulk !== (bulkTiering === 'lowered')) nodeV8().setFlagsFromString(`--interrupt-budget=${bulk ? BULK_INTERRUPT_BUDGET : DEFAULT_INTERRUPT_BUDGET}`);
  bulkTiering = 'decided';
}

/**
 * Run between slices of reading: keeps the heap's growth in bounds (above). At most every SLICE_MS, as a
 * file's slices come: process.memoryUsage reads the process's RSS too (~10 µs), and a pipe's chunks are
 * 64 KiB, a live capture's a packet or two.
 */
function boundHeap(): void {
  if (heapGrowthBounded && youngGenerationBounded) return;
  const now = nowMs();
  if (now - heapBoundedAt < SLICE_MS) return;
  heapBoundedAt = now;
  // process.memoryUsage tells the heap's size and use (V8's total and used_heap_size) without loading node:v8 into every run.
  const { heapTotal, heapUsed } = process.memoryUsage();
  boundYoungGeneration(heapTotal);
  boundHeapGrowth(heapUsed);
}
let heapBoundedAt = -Infinity;

/**
 * `tee` receives every capture byte (decompressed) before the analyzer sees it, e.g. to keep a copy
 * of a capture piped in: the copy's offsets are those of the model's origins.
 */
export async function analyzeCapture(path: CaptureInput, opts: AnalyzeOptions, onProgress?: ProgressListener, tee?: (chunk: Uint8Array) => void): Promise<CaptureModel> {
  const first = await analyzeOnce(path, opts, onProgress, tee);
  if (!first.keysArrivedLate) return first.model;
  // A pipe (stdin, a named pipe, `<(zcat …)`) cannot be read again: its later secrets decrypt only what followed them.
  if (typeof path !== 'string' || !canReadCaptureAgain(path)) {
    first.model.capture.secretsCameLate = true;
    return first.model;
  }
  // Secrets stored after the connections they decrypt: decode again with them known from the start.
  first.model.spilled?.close();
  return (await analyzeOnce(path, { ...opts, keyLogs: [...opts.keyLogs, ...first.embeddedKeyLogs] }, onProgress)).model;
}

/**
 * Whether `path` can be read a second time: a plain file. Stdin and a named pipe (`<(zcat …)`) are
 * streamed once and spent.
 */
export function canReadCaptureAgain(path: string): boolean {
  if (path === '-') return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function analyzeOnce(path: CaptureInput, opts: AnalyzeOptions, onProgress?: ProgressListener, tee?: (chunk: Uint8Array) => void): Promise<CaptureAnalyzer> {
  // Unreadable files are reported by the readers, with the friendlier message.
  // Asynchronous on purpose: the caller (the TUI) finishes its own start in that turn of the event
  // loop, before the first slice of reading; with a synchronous stat each of its next steps waited
  // for a slice, and the bench's TUI answered its first key ~0.2 s later.
  // node:fs's stat rather than node:fs/promises', which would load its streams and readline into every run.
  const total = typeof path !== 'string' || path === '-' ? null : await new Promise<number | null>((resolve) => stat(path, (err, st) => resolve(err ? null : st.size)));
  // Loaded only when hashing: worker threads are not needed otherwise, and startup shows in short runs.
  const ownHasher = opts.hash && !opts.hasher ? new (await import('./worker-hasher.js')).WorkerStreamHasher() : null;
  const hasher = opts.hasher ?? ownHasher;
  const analyzer = new CaptureAnalyzer({ ...opts, hasher });
  lowerBudgetForLargeFile(total);
  try {
    const file = typeof path !== 'string' || path === '-' || tee ? null : CaptureFileReader.open(path);
    if (file) await readFile(file, analyzer, hasher, onProgress, total);
    else await readStream(path, analyzer, hasher, onProgress, total, tee);
    analyzer.end();
    await hasher?.flush();
  } finally {
    ownHasher?.close();
  }
  onProgress?.(analyzer.model, analyzer.model.capture.bytesRead, total);
  return analyzer;
}

/**
 * A plain file: read synchronously, record-aligned, so the decoders work on views of one buffer. The
 * thread is handed back to the event loop every SLICE_MS (progress, keys in the TUI, a Content
 * read-back beside it) and whenever the hash worker falls behind, never to wait for the disk.
 */
async function readFile(file: CaptureFileReader, analyzer: CaptureAnalyzer, hasher: StreamHasher | null | undefined, onProgress: ProgressListener | undefined, total: number | null): Promise<void> {
  let sliceStart = nowMs();
  let lastReport = -Infinity;
  let formatReported = false;
  try {
    for (let view = file.next(0, 1); ; ) {
      const used = analyzer.pushRecords(view);
      if (used === null) return;
      if (file.ended) {
        // What is left is a record cut by the end of the file: push() reports it as a truncation.
        if (used < view.length) analyzer.push(view.subarray(used));
        return;
      }
      if (onProgress && !formatReported && analyzer.model.capture.format !== null) {
        // The file header (pcapng: and its first interface) came in the first view: shown at once.
        formatReported = true;
        onProgress(analyzer.model, analyzer.model.capture.bytesRead, total);
      }
      view = file.next(used, analyzer.recordBytesNeeded);
      lookForBulkCapture(analyzer.model.capture);
      const behind = hasher?.backlog();
      if (behind) await behind;
      if (nowMs() - sliceStart < SLICE_MS) continue;
      boundHeap();
      if (onProgress && sliceStart - lastReport >= FILE_PROGRESS_EVERY_MS) {
        lastReport = sliceStart;
        onProgress(analyzer.model, analyzer.model.capture.bytesRead, total);
      }
      await new Promise(setImmediate);
      sliceStart = nowMs();
    }
  } finally {
    file.close();
  }
}

/** stdin, gzip and other streams: chunks as they come, reported as a live capture trickles in. */
async function readStream(path: CaptureInput, analyzer: CaptureAnalyzer, hasher: StreamHasher | null | undefined, onProgress: ProgressListener | undefined, total: number | null, tee?: (chunk: Uint8Array) => void): Promise<void> {
  let nextReport = PROGRESS_EVERY;
  let lastReportAt = -Infinity;
  let read = 0;
  // What arrived just before a pause in a live capture is reported once the pause has lasted a while.
  let trailing: NodeJS.Timeout | null = null;
  const report = () => {
    if (trailing) clearTimeout(trailing);
    trailing = null;
    nextReport = read + PROGRESS_EVERY;
    lastReportAt = nowMs();
    onProgress?.(analyzer.model, read, total);
  };
  try {
    for await (const chunk of typeof path === 'string' ? readCaptureBytes(path) : path.chunks) {
      read += chunk.length;
      tee?.(chunk);
      if (!analyzer.push(chunk)) break;
      lookForBulkCapture(analyzer.model.capture);
      boundHeap();
      const behind = hasher?.backlog();
      if (behind) await behind;
      if (!onProgress) continue;
      const since = nowMs() - lastReportAt;
      if (read >= nextReport || since >= LIVE_PROGRESS_MS) report();
      else trailing ??= setTimeout(report, LIVE_PROGRESS_MS - since);
    }
  } catch (e) {
    // The reader's bytes stopped at damage (gzip cut short or corrupt): what came before is decoded.
    if (!(e instanceof DecodeError)) throw e;
    analyzer.fail(e);
  } finally {
    if (trailing) clearTimeout(trailing);
  }
}
