/**
 * The hijacked connection of a docker exec or attach: the client's bytes are stdin as they are, and
 * its half-close (TCP FIN, the docker CLI's CloseWrite) is stdin's EOF; the server's bytes are the
 * TTY's output as they are, or without a TTY stdcopy frames of stdout, stderr and systemerr.
 */
import { rangeView } from '../core/byte-range.js';
import type { ExecSessionBuilder } from '../k8s/exec-session.js';
import type { StreamRecorder } from '../k8s/stream-recorder.js';
import type { UpgradedTransport } from '../k8s/upgraded-transport.js';
import type { Direction, FrameOrigin, StreamOrigin } from '../core/origin.js';
import type { ConnectionRecord } from '../model/session.js';
import { dockerProblem } from './problems.js';
import { looksMultiplexed, STDCOPY_STREAMS, StdcopyDecoder } from './stdcopy.js';

/** How the stream's connection ended: `closed` false when it was still open at the end of the capture. */
export interface StreamEnd {
  ts: number;
  closed: boolean;
  firstClose?: { ts: number; by: 'client' | 'server'; reset: boolean };
  serverReset?: boolean;
}

/** Enough of the server's first bytes to tell stdcopy headers from a TTY's output. */
const SNIFF_BYTES = 4;

const atPacket = (offset: number, packet: number, ts: number): FrameOrigin => ({ offset, length: 0, packet, ts, lastPacket: packet, lastTs: ts });

export class DockerStreamTransport implements UpgradedTransport {
  private demux: StdcopyDecoder | null = null;
  /** Server bytes held while it is not known whether they are multiplexed. */
  private held: { data: Uint8Array; origin: StreamOrigin }[] = [];
  private heldBytes = 0;
  private readonly next: Record<Direction, number> = { c2s: 0, s2c: 0 };
  private firstClose: StreamEnd['firstClose'];
  private clientClosed = false;
  private serverReset = false;

  constructor(
    private readonly b: ExecSessionBuilder,
    private readonly conn: ConnectionRecord,
    private readonly where: string,
    /** null: unknown (the create call is not in the capture), decided from the first bytes. */
    private tty: boolean | null,
    private readonly onEnd: (end: StreamEnd) => void,
  ) {
    if (tty === false) this.demux = this.makeDemux();
  }

  push(dir: Direction, bytes: Uint8Array, start: number, end: number, origin: StreamOrigin): void {
    this.next[dir] = origin.offset + end - start;
    if (dir === 'c2s') {
      this.b.data(this.stdin(), 'c2s', bytes, start, end, { ...origin, lastPacket: origin.packet, lastTs: origin.ts }, true, true);
      return;
    }
    const data = rangeView(bytes, start, end);
    if (this.tty === null) {
      this.held.push({ data: data.slice(), origin });
      this.heldBytes += data.length;
      if (this.heldBytes < SNIFF_BYTES) return;
      this.decide();
      return;
    }
    this.output(data, origin);
  }

  gap(dir: Direction, offset: number, length: number): void {
    this.next[dir] = offset + length;
    if (dir === 's2c' && this.tty === null) this.decide();
    if (dir === 's2c' && this.demux) this.demux.gap(offset, length);
    else {
      const message = `${length} bytes of ${dir === 'c2s' ? 'stdin' : 'output'} missing from the capture (TCP gap)`;
      this.b.warn(dockerProblem('stream-gap', message, { where: `${this.where} ${dir} offset ${offset}`, connection: this.conn.id, direction: dir, offset }));
    }
  }

  /** A side closed its half of the connection: for the client, stdin's EOF. */
  close(dir: Direction, how: 'fin' | 'rst', ts: number, packet: number): void {
    this.firstClose ??= { ts, by: dir === 'c2s' ? 'client' : 'server', reset: how === 'rst' };
    const at = atPacket(this.next[dir], packet, ts);
    if (how === 'rst') {
      for (const r of this.b.session.streams) this.b.findStream(r.name)?.mark('reset', dir, at, 'connection reset');
    } else if (dir === 'c2s') {
      // A client without stdin half-closes at once: that is no stdin stream.
      if (this.b.session.stdin || this.b.findStream('stdin')) this.stdin().mark('half-close', 'c2s', at, 'TCP FIN: the client closed its write side (stdin EOF)');
    } else {
      for (const r of this.b.session.streams) if (r.dataDir === 's2c') this.b.findStream(r.name)?.mark('half-close', 's2c', at, 'TCP FIN from the server');
    }
    if (this.clientClosed) return;
    if (dir === 'c2s') this.clientClosed = true;
    else if (how === 'rst') this.serverReset = true;
  }

  end(): void {
    if (this.tty === null) this.decide();
    this.demux?.end();
    this.onEnd({ ts: this.conn.endTs ?? this.firstClose?.ts ?? 0, closed: this.firstClose !== undefined, firstClose: this.firstClose, serverReset: this.serverReset });
  }

  private stdin(): StreamRecorder {
    return this.b.stream('stdin', 0);
  }

  private output(data: Uint8Array, origin: StreamOrigin): void {
    if (this.demux) this.demux.push(data, origin);
    else this.b.data(this.b.stream('stdout', 1), 's2c', data, 0, data.length, { ...origin, lastPacket: origin.packet, lastTs: origin.ts }, true, true);
  }

  private decide(): void {
    const head = Buffer.concat(this.held.map((h) => h.data));
    this.tty = !looksMultiplexed(head);
    this.b.session.tty = this.tty;
    const how = this.tty ? 'does not start with a stdcopy header, so it is taken as raw (TTY)' : 'starts with a stdcopy header, so it is taken as multiplexed';
    if (head.length) this.b.warn(dockerProblem('tty-inferred', `whether this exec has a TTY is not in the capture: its output ${how}`, { where: this.where, connection: this.conn.id }));
    if (!this.tty) this.demux = this.makeDemux();
    const held = this.held;
    this.held = [];
    for (const h of held) this.output(h.data, h.origin);
  }

  private makeDemux(): StdcopyDecoder {
    return new StdcopyDecoder(
      {
        onPayload: (stream, piece, frame, first, last) => this.b.data(this.b.stream(stream, STDCOPY_STREAMS.indexOf(stream)), 's2c', piece, 0, piece.length, frame, first, last),
        onProblem: (p) => this.b.warn({ ...p, connection: this.conn.id }),
      },
      this.where,
    );
  }
}
