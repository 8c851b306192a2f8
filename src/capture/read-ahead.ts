import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getSystemErrorName } from 'node:util';
import type { Worker } from 'node:worker_threads';

/**
 * A worker thread that reads a file ahead of its reader into a ring of slots in shared memory, so
 * the copy out of the page cache (a third of the read floor's time, and of a large capture's
 * analysis) runs on another core beside the decoding instead of before it.
 *
 * The slots lie one after another, each filled whole (only the file's last is short), so a record
 * that runs past the end of one slot continues in the next, and the reader's views hold whole
 * records without a copy while it holds the slots they span. Only at the ring's end is what the last
 * slot left unfinished (part of a record) moved, into a headroom before the first slot. A slot
 * belongs to the worker while EMPTY and to the reader while FULL; the reader hands each back once its
 * views have moved past it. The worker starts at the offset the
 * reader gives it, once the reader has seen it boot: until then the reader reads for itself, so a
 * worker that starts late (or never: no threads, another file at the path) costs the reader nothing.
 */
export class ReadAhead {
  /** The headroom, then the slots: slot k's bytes start at headroom + k × slotBytes. */
  readonly bytes: Uint8Array;
  readonly headroom: number;
  readonly slots: number;
  readonly slotBytes: number;
  private readonly control: Int32Array;
  private readonly worker: Worker;
  private nextSlot = 0;
  private stopped = false;

  /**
   * Boots the worker on `path`, which it opens itself and reads only if it is still the file `fd`
   * names (same device and inode), so it never uses the reader's descriptor, which the reader may
   * close at any time.
   */
  constructor(path: string, fd: number, layout: ReadAheadLayout = DEFAULT_LAYOUT) {
    const { dev, ino } = fstatSync(fd);
    ({ headroom: this.headroom, slots: this.slots, slotBytes: this.slotBytes } = layout);
    this.bytes = new Uint8Array(new SharedArrayBuffer(layout.headroom + layout.slots * layout.slotBytes));
    this.control = new Int32Array(new SharedArrayBuffer(4 * (SLOT_STATE + 2 * layout.slots) + 8));
    const workerData: ReadAheadWorkerData = { path, dev, ino, bytes: this.bytes.buffer as SharedArrayBuffer, control: this.control.buffer as SharedArrayBuffer, ...layout };
    // Loaded with the first read-ahead, not with the bundle: smaller files never need it (~2 ms of a start).
    const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    this.worker = new Worker(`(${readAheadWorker})(require('node:fs'), require('node:worker_threads').workerData)`, { eval: true, workerData });
    // It never keeps the process alive: stop() ends its loop, and exiting ends it anyway.
    this.worker.unref();
    this.worker.on('error', () => Atomics.store(this.control, WORKER, FAILED));
  }

  /** The worker has booted and waits for its start: the reader can hand over. */
  get ready(): boolean {
    return Atomics.load(this.control, WORKER) === READY;
  }

  /** Starts the worker reading at `position` (the bytes the reader has read so far). */
  start(position: number): void {
    new Float64Array(this.control.buffer, this.control.byteLength - 8, 1)[0] = position;
    Atomics.store(this.control, GO, GO_READ);
    Atomics.notify(this.control, GO);
  }

  /**
   * Waits for the next slot: the number of bytes it holds from `dataStart(slot)`, 0 at the end of
   * the file. A read error is thrown as the error name (EIO, …) in `code`.
   */
  take(): { slot: number; length: number } {
    const slot = this.nextSlot;
    const state = SLOT_STATE + 2 * slot;
    if (Atomics.load(this.control, state) !== FULL) {
      Atomics.store(this.control, READER_WAITS, 1);
      while (Atomics.load(this.control, state) !== FULL) Atomics.wait(this.control, state, EMPTY);
      Atomics.store(this.control, READER_WAITS, 0);
    }
    const length = this.control[state + 1];
    if (length < 0) throw Object.assign(new Error(getSystemErrorName(length)), { code: getSystemErrorName(length) });
    this.nextSlot = (slot + 1) % this.slots;
    return { slot, length };
  }

  /** The offset in `bytes` where slot `slot`'s data starts. */
  dataStart(slot: number): number {
    return this.headroom + slot * this.slotBytes;
  }

  /** Gives a slot back to the worker to fill again. */
  release(slot: number): void {
    const state = SLOT_STATE + 2 * slot;
    Atomics.store(this.control, state, EMPTY);
    if (Atomics.load(this.control, WORKER_WAITS)) Atomics.notify(this.control, state);
  }

  /** Ends the worker's loop; it closes its own descriptor. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.control, GO, GO_STOP);
    Atomics.notify(this.control, GO);
    // A worker about to sleep on a full slot finds it changed, so it cannot miss this.
    for (let s = SLOT_STATE; s < this.control.length - 2; s += 2) {
      Atomics.store(this.control, s, STOPPED);
      Atomics.notify(this.control, s);
    }
  }
}

export interface ReadAheadLayout {
  slots: number;
  slotBytes: number;
  /** The largest unfinished record moved before the first slot at the ring's end; a larger one is gathered apart. */
  headroom: number;
}

/**
 * Four slots of 256 KiB (the size of the reader's own reads, several 64 KiB loopback records each)
 * behind a headroom of 128 KiB: 1.125 MiB in all, which stays within a core's cache as the worker
 * writes it and the reader walks the records' headers.
 */
const DEFAULT_LAYOUT: ReadAheadLayout = { slots: 4, slotBytes: 256 * 1024, headroom: 128 * 1024 };

interface ReadAheadWorkerData extends ReadAheadLayout {
  path: string;
  dev: number;
  ino: number;
  bytes: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

// control[]: the worker's state (0 booting, READY, FAILED), the reader's order (0 wait, GO_READ,
// GO_STOP), whether the worker or the reader sleeps on a slot (each side wakes the other only then:
// it sets its flag before it checks the slot, and the other changes the slot before it reads the
// flag), then each slot's state (EMPTY, FULL, STOPPED) and length (bytes read, 0 at the end of the file, a
// negative errno on an error); a float64 at the end holds the offset to start from.
const WORKER = 0;
const GO = 1;
const WORKER_WAITS = 2;
const READER_WAITS = 3;
const SLOT_STATE = 4;
const READY = 1;
const FAILED = 2;
const GO_READ = 1;
const GO_STOP = 2;
const EMPTY = 0;
const FULL = 1;
const STOPPED = 2;

/**
 * The worker's whole program, run from its source text (`eval`), so it needs no file of its own in
 * the bundle or the tests: it may use nothing from outside but its arguments (bundlers rewrite
 * `require`, so even Node's modules come in as one), and the constants above are repeated as
 * literals (the ring's protocol, documented there).
 */
function readAheadWorker(fs: typeof import('node:fs'), data: ReadAheadWorkerData): void {
  const control = new Int32Array(data.control);
  const bytes = new Uint8Array(data.bytes);
  let fd = -1;
  try {
    fd = fs.openSync(data.path, 'r');
    const st = fs.fstatSync(fd);
    if (st.dev !== data.dev || st.ino !== data.ino) throw new Error('another file');
  } catch {
    if (fd >= 0) fs.closeSync(fd);
    Atomics.store(control, 0, 2); // FAILED: the reader goes on reading for itself
    return;
  }
  try {
    Atomics.store(control, 0, 1); // READY
    Atomics.wait(control, 1, 0); // until GO is READ or STOP
    if (Atomics.load(control, 1) !== 1) return;
    let position = new Float64Array(data.control, data.control.byteLength - 8, 1)[0];
    for (let slot = 0; ; slot = (slot + 1) % data.slots) {
      const state = 4 + 2 * slot;
      if (Atomics.load(control, state) === 1) {
        Atomics.store(control, 2, 1); // WORKER_WAITS
        while (Atomics.load(control, state) === 1 && Atomics.load(control, 1) !== 2) Atomics.wait(control, state, 1);
        Atomics.store(control, 2, 0);
      }
      if (Atomics.load(control, 1) === 2) return;
      // Filled whole, so the next slot's bytes continue this one's: a read stops short only at the end.
      const start = data.headroom + slot * data.slotBytes;
      let length = 0;
      try {
        for (;;) {
          const n = fs.readSync(fd, bytes, start + length, data.slotBytes - length, position + length);
          length += n;
          if (n === 0 || length === data.slotBytes) break;
        }
      } catch (e) {
        length = (e as { errno?: number }).errno ?? -5; // EIO when Node gives none
      }
      control[state + 1] = length;
      Atomics.store(control, state, 1); // FULL
      if (Atomics.load(control, 3)) Atomics.notify(control, state); // READER_WAITS
      if (length <= 0) return;
      position += length;
    }
  } finally {
    fs.closeSync(fd);
  }
}
