/**
 * Worker thread of WorkerStreamHasher: applies batches of (handle, bytes) updates and digest requests
 * in order, and hands each batch buffer back for reuse.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { DIGEST, type HashBatch } from './hash-batch.js';

const hashes = new Map<number, Hash>();
const port = parentPort;
if (!port) throw new Error('hash-worker must run as a worker thread');

port.on('message', (batch: HashBatch) => {
  const bytes = new Uint8Array(batch.buffer, 0, batch.used);
  const view = new DataView(batch.buffer);
  const digests: [number, string][] = [];
  for (let at = 0; at < batch.used; ) {
    const handle = view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    at += 8;
    if (length === DIGEST) {
      const h = hashes.get(handle);
      hashes.delete(handle);
      digests.push([handle, (h ?? createHash('sha256')).digest('hex')]);
      continue;
    }
    let h = hashes.get(handle);
    if (!h) hashes.set(handle, (h = createHash('sha256')));
    h.update(bytes.subarray(at, at + length));
    at += length;
  }
  port.postMessage({ buffer: batch.buffer, digests, flushId: batch.flushId }, [batch.buffer]);
});
