/**
 * One stream's exact payload bytes, read back from a capture: what `execscope extract` writes, what
 * the Content pane shows beyond the kept head, and what the TUI saves to a file (S).
 */
import { closeSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Direction } from '../core/origin.js';
import type { CaptureModel, ExecSession, StreamRecord } from '../model/session.js';
import { analyzeCapture } from './analyze-capture.js';
import type { AnalyzeOptions, StreamTap } from './options.js';

/** Which stream to read: a session's stream by name, optionally only the bytes going one way. */
export type ExtractTarget = Omit<StreamTap, 'write'>;

/** Reads the capture again, handing `write` every payload byte of the target stream in order; resolves to the model. */
export function extractStream(path: string, opts: AnalyzeOptions, target: ExtractTarget, write: (bytes: Uint8Array) => void): Promise<CaptureModel> {
  return analyzeCapture(path, { ...opts, hash: false, hasher: null, keepEvents: false, headBytes: 0, tap: { ...target, write } });
}

export interface SaveRequest {
  session: ExecSession;
  stream: StreamRecord;
  /** Only these stream bytes [start, end) (one event's payload), or the whole stream. */
  range: { start: number; end: number } | null;
  /** Only the bytes going this way (a port-forward stream carries both). */
  dir?: Direction;
  path: string;
}

export interface StreamSaver {
  /** Writes what a SaveRequest asks for to a new file (mode 0600); resolves to the bytes written. */
  (req: SaveRequest): Promise<number>;
  /** A name to offer for a save: `path` if no file has it, else the first of NAME-2.EXT, NAME-3.EXT… none has. */
  freePath(path: string): string;
}

/** The stream's kept head, when it holds every byte asked for. */
function fromHead(req: SaveRequest): Uint8Array[] | null {
  const r = req.stream;
  if (req.dir !== undefined && req.dir !== r.dataDir) return null;
  const end = req.range?.end ?? r.bytes;
  if (end > r.headBytes) return null;
  const start = req.range?.start ?? 0;
  const out: Uint8Array[] = [];
  let at = 0;
  for (const chunk of r.head) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + chunk.length);
    if (to > from) out.push(chunk.subarray(from - at, to - at));
    at += chunk.length;
  }
  return out;
}

/**
 * Where a session's streams are read back from: the capture, the options to decode it with and the
 * session's id in it (several captures merged renumber sessions); null when nothing can be read again (a pipe).
 */
export type StreamSource = (session: ExecSession) => { path: string; opts: AnalyzeOptions; session: number } | null;

/** One capture (undefined: a pipe) whose sessions are the model's. */
export function captureSource(capture: string | undefined, opts: AnalyzeOptions): StreamSource {
  return (session) => (capture === undefined ? null : { path: capture, opts, session: session.id });
}

/**
 * Saves from the stream's kept head when that holds the bytes, else by reading `capture` again (the
 * way `extract` does). Without a capture to read (a pipe), only what the head holds can be saved.
 * The file must not exist yet: a save never overwrites.
 */
export function createStreamSaver(capture: string | undefined, opts: AnalyzeOptions): StreamSaver {
  return streamSaverFrom(captureSource(capture, opts));
}

/** createStreamSaver, reading each session's streams back from where `source` says. */
export function streamSaverFrom(source: StreamSource): StreamSaver {
  return Object.assign(save, { freePath });
  async function save(req: SaveRequest): Promise<number> {
    const head = fromHead(req);
    const readBack = head ? null : source(req.session);
    if (!head && readBack === null) {
      throw new Error(`only the first ${req.stream.headBytes} bytes of ${req.stream.name} were kept and a pipe cannot be read again (--save FILE keeps a copy)`);
    }
    const fd = openSync(req.path, 'wx', 0o600);
    let written = 0;
    const put = (bytes: Uint8Array) => {
      writeSync(fd, bytes);
      written += bytes.length;
    };
    try {
      if (head) head.forEach(put);
      else {
        const start = req.range?.start ?? 0;
        const end = req.range?.end ?? Infinity;
        let at = 0;
        await extractStream(readBack!.path, readBack!.opts, { session: readBack!.session, stream: req.stream.name, dir: req.dir }, (bytes) => {
          const from = Math.max(start, at);
          const to = Math.min(end, at + bytes.length);
          if (to > from) put(bytes.subarray(from - at, to - at));
          at += bytes.length;
        });
      }
    } catch (err) {
      closeSync(fd);
      unlinkSync(req.path);
      throw err;
    }
    closeSync(fd);
    return written;
  }
}

function freePath(path: string): string {
  // lstat, not exists: a symbolic link, even one pointing nowhere, makes the save's open fail too.
  const taken = (p: string) => lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  if (!taken(path)) return path;
  const dot = path.lastIndexOf('.');
  const [stem, ext] = dot > path.lastIndexOf('/') + 1 ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
  let n = 2;
  while (taken(`${stem}-${n}${ext}`)) n++;
  return `${stem}-${n}${ext}`;
}
