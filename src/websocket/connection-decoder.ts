/**
 * Both directions of one WebSocket connection after its 101: a frame decoder and a message assembler
 * per direction (client frames masked, server frames not), permessage-deflate as the 101 negotiated it,
 * and one ping/pong tracker shared by the two directions so pongs find their pings.
 *
 * What the messages mean is the sink's business: the k8s channel protocols (channel-protocol.ts) demux
 * them into exec streams; any other WebSocket is listed with its frames and messages by the pipeline.
 */
import { DirectionPair } from '../core/direction-pair.js';
import type { Direction } from '../core/origin.js';
import { WebSocketFrameDecoder } from './frame-decoder.js';
import { PingPongTracker, WebSocketMessageAssembler, type WebSocketMessageSink } from './message-assembler.js';
import { parsePerMessageDeflate, type PerMessageDeflateParams } from './permessage-deflate.js';

export interface WebSocketConnectionOptions {
  /** Sec-WebSocket-Extensions of the 101 response (permessage-deflate and its parameters). */
  extensions?: string;
  /** Inflated size cap per compressed message. */
  maxInflatedMessageBytes?: number;
  /** Resynchronisation evidence beyond the header: is this first payload byte plausible for a data frame? */
  plausibleFirstPayloadByte?: (opcode: number, byte: number) => boolean;
}

export class WebSocketConnectionDecoder extends DirectionPair<WebSocketFrameDecoder> {
  /** permessage-deflate as negotiated, null when it was not. */
  readonly deflate: PerMessageDeflateParams | null;

  /** `sinkFor` is asked once per direction for the sink of that direction's messages. */
  constructor(sinkFor: (dir: Direction) => WebSocketMessageSink, opts: WebSocketConnectionOptions = {}) {
    const deflate = parsePerMessageDeflate(opts.extensions);
    const pings = new PingPongTracker();
    super((dir) => {
      const assembler = new WebSocketMessageAssembler(sinkFor(dir), {
        dir,
        pings,
        maxInflatedMessageBytes: opts.maxInflatedMessageBytes,
        // Each direction's sender has its own context-takeover parameter (RFC 7692 §7.1.1).
        deflate: deflate && { noContextTakeover: dir === 'c2s' ? deflate.clientNoContextTakeover : deflate.serverNoContextTakeover },
      });
      return new WebSocketFrameDecoder(assembler, {
        expectMasked: dir === 'c2s',
        rsv1Allowed: deflate !== null,
        plausibleFirstPayloadByte: opts.plausibleFirstPayloadByte,
        label: dir,
      });
    });
    this.deflate = deflate;
  }
}
