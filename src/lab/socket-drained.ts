import type { Duplex } from 'node:stream';

/** Resolves once `socket` can take more writes (at once if it can now), or when it closes. */
export function socketDrained(socket: Duplex): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
