/** An upgrade request a hop's server has taken over, as its handlers (proxy, translator, tunnel) get it. */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HopConnection } from './hop-server.js';
import type { LabObservations, SessionObservation } from './observations.js';

export interface HopUpgrade {
  observations: LabObservations;
  /** What the hop records of this request. */
  session: SessionObservation;
  conn: HopConnection;
  req: IncomingMessage;
  socket: Duplex;
  /** Bytes that came after the request head. */
  head: Buffer;
}
