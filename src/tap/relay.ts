/**
 * Copies one proxied connection both ways, byte for byte, and reports what it copied to a recording.
 *
 * Nothing is altered, dropped, reordered or held: each chunk read from one side is recorded (its
 * receipt time is the recording's timestamp) and written to the other side at once. Backpressure is
 * the sockets' own: when a side's write buffer is full, reading from the other side pauses until it
 * drains, so a slow reader slows the writer and memory stays bounded (one chunk per direction beyond
 * the sockets' buffers). A FIN is passed on as a FIN after the data before it (half-close, either
 * direction); a reset is passed on as a reset (a unix socket, which has none, is closed instead). IO.
 */
import net from 'node:net';
import type { Direction } from '../core/origin.js';
import type { ConnectionRecording } from '../record/pcapng-recorder.js';
import type { CredentialRedactor, RecordedPiece } from './credential-redactor.js';

/** One side of the relay: the stream carrying the bytes (a TLS socket when TLS is terminated) and the socket under it. */
export interface RelayEnd {
  stream: net.Socket;
  raw: net.Socket;
}

export interface RelayResult {
  bytes: Record<Direction, number>;
  /** How the connection ended: both sides closed normally, or one side's reset (or failure) ended it. */
  end: 'closed' | 'reset';
  /** The side whose reset or failure ended it. */
  by?: 'client' | 'upstream';
  /** The failure, when it was not a plain reset. */
  error?: string;
}

/** Totals over every relay of a tap, updated as bytes move. */
export interface RelayStats {
  relayed: Record<Direction, number>;
  /** Directions whose reading is paused now because the other side's write buffer is full. */
  pausedReads: number;
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Starts copying between `client` and `upstream` (both connected; the client may be paused) and
 * calls `done` once when both are closed.
 */
export function relay(
  client: RelayEnd,
  upstream: RelayEnd,
  recording: { connection: ConnectionRecording; redactor: CredentialRedactor | null } | null,
  stats: RelayStats,
  done: (result: RelayResult) => void,
): void {
  const bytes: Record<Direction, number> = { c2s: 0, s2c: 0 };
  let result: Omit<RelayResult, 'bytes'> = { end: 'closed' };
  let open = 2;

  const record = (pieces: RecordedPiece[]) => {
    for (const piece of pieces) recording?.connection.data(piece.dir, piece.bytes);
  };
  const recordData = (dir: Direction, chunk: Buffer) => {
    if (!recording) return;
    if (recording.redactor) record(recording.redactor.push(dir, chunk));
    else recording.connection.data(dir, chunk);
  };
  const ended: Record<Direction, boolean> = { c2s: false, s2c: false };
  const recordEnd = (dir: Direction, how: 'fin' | 'reset') => {
    ended[dir] = true;
    if (!recording) return;
    if (recording.redactor) record(recording.redactor.finish(dir));
    recording.connection[how](dir);
  };
  /**
   * `dir`'s sender closed without an end the tap saw (stop() destroys every relayed stream): it sends
   * no more, so what the redactor held for it (a head without its last line, a tail that might have
   * begun a secret) is recorded now, checked as at an end, instead of being lost. The recording shows
   * no FIN or reset the wire did not carry: the connection was open when the tap stopped.
   */
  const recordHeld = (dir: Direction) => {
    if (ended[dir] || !recording?.redactor) return;
    ended[dir] = true;
    record(recording.redactor.finish(dir));
  };

  const copy = (from: RelayEnd, to: RelayEnd, dir: Direction) => {
    let paused = false;
    const setPaused = (now: boolean) => {
      if (now === paused) return;
      paused = now;
      stats.pausedReads += now ? 1 : -1;
      if (now) from.stream.pause();
      else from.stream.resume();
    };
    from.stream.on('data', (chunk: Buffer) => {
      bytes[dir] += chunk.length;
      stats.relayed[dir] += chunk.length;
      recordData(dir, chunk);
      if (to.stream.destroyed) return; // the connection is being torn down
      if (!to.stream.write(chunk)) setPaused(true);
    });
    to.stream.on('drain', () => setPaused(false));
    to.stream.on('close', () => setPaused(false));
    from.stream.on('end', () => {
      recordEnd(dir, 'fin');
      if (!to.stream.destroyed) to.stream.end();
    });
  };

  const fail = (side: 'client' | 'upstream', err: NodeJS.ErrnoException) => {
    if (result.by) return;
    const [failed, other] = side === 'client' ? [client, upstream] : [upstream, client];
    result = { end: 'reset', by: side, error: err.code && RESET_CODES.has(err.code) ? undefined : err.message };
    recordEnd(side === 'client' ? 'c2s' : 's2c', 'reset');
    failed.stream.destroy();
    resetEnd(other);
  };

  const closed = () => {
    if (--open > 0) return;
    done({ bytes, ...result });
  };

  for (const [end, side] of [
    [client, 'client'],
    [upstream, 'upstream'],
  ] as const) {
    end.stream.on('error', (err: NodeJS.ErrnoException) => fail(side, err));
    if (end.raw !== end.stream) end.raw.on('error', (err: NodeJS.ErrnoException) => fail(side, err));
    end.stream.on('close', () => {
      recordHeld(side === 'client' ? 'c2s' : 's2c');
      closed();
    });
  }
  copy(client, upstream, 'c2s');
  copy(upstream, client, 's2c');
  client.stream.resume();
  upstream.stream.resume();
}

/** Ends `end` with a reset where the transport has one (TCP), else closes it. */
export function resetEnd(end: RelayEnd): void {
  if (end.raw.destroyed) {
    end.stream.destroy();
    return;
  }
  // A unix socket has no reset; resetAndDestroy() refuses any handle but TCP.
  const tcp = end.raw.remoteFamily === 'IPv4' || end.raw.remoteFamily === 'IPv6';
  if (tcp) end.raw.resetAndDestroy();
  else end.raw.destroy();
  end.stream.destroy();
}
