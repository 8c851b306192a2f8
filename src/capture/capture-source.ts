import { closeSync, openSync, promises, readSync, statSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DecodeError } from '../core/origin.js';
import { TruncatedCaptureError } from './capture-decoder.js';

/**
 * The record-aligned reader's reads: several 64 KiB loopback records each, and small enough to stay
 * in the CPU's cache beside the decoders' state while they walk it (the issue measured a read floor
 * of 0.14 s with 64 KiB reads and 0.34 s with 1 MiB ones on the same file).
 */
const READ_BYTES = 256 * 1024;
/**
 * Its buffer holds several reads, each after the last: the record a read leaves unfinished is
 * completed by the next in place. When the buffer runs short of room, a short read completes that
 * record where it lies, so the reads go on from the front with nothing to move there (moving it cost
 * kubectl-ws-64k's 64 KiB records ~13 M instructions of memmove, ~30 KB at each of 448 moves); only
 * a record longer than a read still moves.
 */
const RECORD_BUFFER_BYTES = 4 * READ_BYTES;
/**
 * Where the buffer's reads start. A fresh allocation this large sits 16 bytes past a page start, and
 * on our VMs (AMD EPYC) the kernel copies a read 2-3x slower into a destination there than at any
 * other offset (4K aliasing with the page-aligned page cache it copies from): reads that start at
 * the buffer's front every time would all pay it.
 */
const READ_START = 64;

/**
 * An uncompressed capture file read synchronously into one reused buffer, for a decoder that takes
 * whole records (CaptureDecoder.pushRecords): each view continues with what the decoder left
 * unfinished of the last one, so no record is ever assembled elsewhere and the decoders see views of
 * the buffer (valid until the next call). Synchronous reads from the page cache cost less than
 * handing each to the thread pool and waiting for it, or to a reading thread: one that read ahead
 * into shared slots made kubectl-ws-64k slower on our 2-core VMs (0.35 -> 0.54 s; every hand-over
 * woke a sleeping thread, ~6,000 futex calls for 1,300 reads).
 */
export class CaptureFileReader {
  private buffer = new Uint8Array(new ArrayBuffer(READ_START + RECORD_BUFFER_BYTES), READ_START);
  /** The last view: [viewStart, viewEnd) of the buffer. */
  private viewStart = 0;
  private viewEnd = 0;

  private constructor(
    private fd: number | null,
    readonly path: string,
  ) {}

  /**
   * Opens `path`; null when it is not a plain file or is gzip-compressed (readCaptureBytes streams
   * those: a pipe must not block the thread, and gunzip runs on the thread pool).
   */
  static open(path: string): CaptureFileReader | null {
    // A named pipe (`<(zcat c.pcap.gz)`, /dev/stdin on a pipe) is not opened here: opened and closed
    // again, its writer could lose what it wrote in between, and readCaptureBytes opens it once.
    let st: Stats;
    try {
      st = statSync(path);
    } catch (e) {
      throw new Error(`cannot open capture ${path}: ${fileErrorReason(e)}`, { cause: e });
    }
    if (st.isDirectory()) throw new Error(`cannot read capture ${path}: ${REASONS.EISDIR}`);
    if (!st.isFile()) return null;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new Error(`cannot open capture ${path}: ${fileErrorReason(e)}`, { cause: e });
    }
    const reader = new CaptureFileReader(fd, path);
    try {
      const head = reader.next(0, 2);
      if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
        reader.close();
        return null;
      }
      return reader;
    } catch (e) {
      reader.close();
      throw e;
    }
  }

  /**
   * Drops the first `consumed` bytes of the last view and reads on: returns the bytes now buffered,
   * at least `atLeast` of them unless the file ends first (then `ended` is true).
   */
  next(consumed: number, atLeast: number): Uint8Array {
    let start = this.viewStart + consumed;
    let end = this.viewEnd;
    // Nothing taken and enough buffered (the first view after open's look at the head): no read, so
    // a caller sees the file's first records (the TUI: its format) after a single read.
    if (consumed === 0 && end - start >= atLeast) return this.buffer.subarray(start, end);
    while (this.fd !== null) {
      let want = READ_BYTES;
      // The last READ_BYTES of room are kept for completing the record a read leaves unfinished.
      if (this.buffer.length - end < 2 * READ_BYTES && start > 0) {
        const lacking = atLeast - (end - start);
        if (end > start && lacking > 0 && lacking <= this.buffer.length - end) {
          // Only what completes the unfinished record (or its header): the next view ends on a record.
          want = lacking;
        } else {
          this.buffer.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
      }
      if (end === this.buffer.length) {
        if (end >= atLeast) break;
        // A record larger than the buffer: it doubles as the record's bytes arrive, so a corrupt
        // length cannot make it allocate much more than the file holds.
        const grown = new Uint8Array(Math.min(atLeast, 2 * this.buffer.length));
        grown.set(this.buffer.subarray(0, end));
        this.buffer = grown;
      }
      let n: number;
      try {
        n = readSync(this.fd, this.buffer, end, Math.min(want, this.buffer.length - end), null);
      } catch (e) {
        throw new Error(`cannot read capture ${this.path}: ${fileErrorReason(e)}`, { cause: e });
      }
      if (n === 0) {
        this.close();
        break;
      }
      end += n;
      if (end - start >= atLeast) break;
    }
    this.viewStart = start;
    this.viewEnd = end;
    return this.buffer.subarray(start, end);
  }

  /** The file's end was reached: the last view holds everything that is left. */
  get ended(): boolean {
    return this.fd === null;
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Reads a capture file ('-' = stdin) as a stream of chunks for CaptureDecoder, gunzipping on the fly
 * when the content starts with the gzip magic (1f 8b), so `capture.pcap.gz` needs no temporary file.
 * Errors carry the path and a plain reason.
 *
 * A chunk is only valid until the next one is asked for: an uncompressed file is read into one
 * reused buffer (the decoders copy whatever they keep), which makes reading several times faster,
 * and the next chunk is read ahead while the caller works on the current one.
 */
export async function* readCaptureBytes(
  path: string,
  opts: { chunkSize?: number } = {},
): AsyncGenerator<Uint8Array> {
  // Two of these are in use at a time (read-ahead): 2 × 2 MiB stays below the external memory
  // that makes V8 run a full garbage collection early on, which costs more than smaller reads do.
  const chunkSize = opts.chunkSize ?? 2 * 1024 * 1024;
  // A named pipe (`<(zcat c.pcap.gz)`, /dev/stdin on a pipe) or a terminal has no positions to read
  // at: it is streamed, from the one handle opened (another open could miss what was written between).
  let piped: ReturnType<FileHandle['createReadStream']> | null = null;
  if (path !== '-') {
    const handle = await openHandle(path);
    let reading: ReturnType<typeof readAt> | null = null;
    try {
      if (!(await statHandle(handle, path)).isFile()) {
        piped = handle.createReadStream({ highWaterMark: chunkSize });
      } else {
        const magic = new Uint8Array(2);
        const { bytesRead } = await readAt(handle, magic, 0, path);
        if (bytesRead < 2 || magic[0] !== 0x1f || magic[1] !== 0x8b) {
          // Two halves of one buffer: the thread pool reads the next chunk into one half while the
          // caller decodes the other, so decoding rarely waits for the disk or the page cache copy.
          const buffer = new Uint8Array(2 * chunkSize);
          const halves = [buffer.subarray(0, chunkSize), buffer.subarray(chunkSize)];
          let at = 0;
          let half = 0;
          reading = readAt(handle, halves[half], at, path);
          for (;;) {
            const n = (await reading).bytesRead;
            reading = null;
            if (n === 0) return;
            at += n;
            // The other half held the previous chunk, which the caller released by asking for this one.
            reading = readAt(handle, halves[half ^ 1], at, path);
            yield halves[half].subarray(0, n);
            half ^= 1;
          }
        }
      }
    } finally {
      // A caller that stops early leaves a read in flight: let it land before closing the file.
      if (reading) await reading.catch(() => undefined);
      // The stream closes the handle it reads.
      if (!piped) await handle.close();
    }
  }
  const input = path === '-' ? process.stdin : (piped ?? (await openFile(path, chunkSize)));
  const label = path === '-' ? 'stdin' : path;
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  try {
    // Gather the two bytes that tell gzip apart (a chunk may hold just one).
    const head: Uint8Array[] = [];
    let headBytes = 0;
    while (headBytes < 2) {
      const next = await readChunk(chunks, label);
      if (next === null) break;
      head.push(next);
      headBytes += next.length;
    }
    const sniff = new Uint8Array(2);
    let filled = 0;
    for (const chunk of head) {
      const take = chunk.subarray(0, 2 - filled);
      sniff.set(take, filled);
      filled += take.length;
    }
    if (filled < 2 || sniff[0] !== 0x1f || sniff[1] !== 0x8b) {
      yield* head;
      for (let next = await readChunk(chunks, label); next !== null; next = await readChunk(chunks, label)) {
        yield next;
      }
      return;
    }
    const compressed = async function* () {
      yield* head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    };
    // Loaded only for gzip input: plain captures, the common case, start faster without them.
    const [{ pipeline }, { createGunzip }] = await Promise.all([import('node:stream'), import('node:zlib')]);
    const gunzip = pipeline(compressed, createGunzip({ chunkSize: Math.max(chunkSize, MIN_ZLIB_CHUNK) }), () => {
      // errors surface through the iteration below
    });
    let inflated = 0;
    try {
      for await (const chunk of gunzip) {
        inflated += (chunk as Uint8Array).length;
        yield chunk as Uint8Array;
      }
    } catch (e) {
      const message = `cannot decompress capture ${label}: ${fileErrorReason(e)}`;
      // Cut short or corrupt, the compressed bytes still gave a capture up to `inflated`: that is decoded, as a plain capture's is up to its cut.
      const code = (e as { code?: string }).code;
      if (code === 'Z_BUF_ERROR') throw new TruncatedCaptureError(message, `byte ${inflated}`);
      if (code === 'Z_DATA_ERROR') throw new DecodeError(message, `byte ${inflated}`);
      throw new Error(message, { cause: e });
    } finally {
      gunzip.destroy();
    }
  } finally {
    if (input !== process.stdin) input.destroy();
  }
}

/** zlib refuses smaller output chunks. */
const MIN_ZLIB_CHUNK = 64;

async function openHandle(path: string) {
  try {
    // fs.promises is loaded on first use: a plain file, the common case, is read without it.
    return await promises.open(path, 'r');
  } catch (e) {
    throw new Error(`cannot open capture ${path}: ${fileErrorReason(e)}`, { cause: e });
  }
}

async function openFile(path: string, chunkSize: number) {
  return (await openHandle(path)).createReadStream({ highWaterMark: chunkSize });
}

async function statHandle(handle: FileHandle, path: string) {
  try {
    return await handle.stat();
  } catch (e) {
    throw new Error(`cannot read capture ${path}: ${fileErrorReason(e)}`, { cause: e });
  }
}

async function readAt(handle: FileHandle, into: Uint8Array, position: number, path: string) {
  try {
    return await handle.read(into, 0, into.length, position);
  } catch (e) {
    throw new Error(`cannot read capture ${path}: ${fileErrorReason(e)}`, { cause: e });
  }
}

async function readChunk(chunks: AsyncIterator<Uint8Array>, label: string): Promise<Uint8Array | null> {
  try {
    const next = await chunks.next();
    return next.done ? null : next.value;
  } catch (e) {
    throw new Error(`cannot read capture ${label}: ${fileErrorReason(e)}`, { cause: e });
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  EMFILE: 'too many open files',
  Z_DATA_ERROR: 'corrupt gzip data',
  Z_BUF_ERROR: 'gzip data cut short',
};

/** A file error in a few words ("no such file"), else its message. */
export function fileErrorReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  return e instanceof Error ? e.message : String(e);
}
