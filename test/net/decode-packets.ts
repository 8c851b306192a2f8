/** Runs packets through a PacketDecoder and keeps what came out (segment payloads copied out of the packet's bytes, without payloadStart and the header length). */
import type { Packet } from '../../src/capture/packet.js';
import type { Problem } from '../../src/core/problem.js';
import { PacketDecoder, type PacketDecoderStats } from '../../src/net/packet-decoder.js';
import type { IpFragmentReassemblerOptions } from '../../src/net/ip-fragments.js';
import type { TcpSegment } from '../../src/net/tcp.js';

/** A segment's fields with its payload as bytes of its own. */
export type DecodedSegment = Omit<TcpSegment, 'payloadStart' | 'bytes' | 'start' | 'end'> & { payload: Uint8Array };

export interface Decoded {
  segments: DecodedSegment[];
  problems: Problem[];
  stats: PacketDecoderStats;
  /** For each segment, whether payloadStart places its payload in the packet's own bytes. */
  located: boolean[];
}

export function decodePackets(packets: Packet[], opts: { fragments?: IpFragmentReassemblerOptions } = {}): Decoded {
  const segments: DecodedSegment[] = [];
  const problems: Problem[] = [];
  const located: boolean[] = [];
  let current: Packet | null = null;
  const decoder = new PacketDecoder(
    {
      onSegment: (seg) => {
        // The decoder's segment also holds its TCP header's length, which it decodes into it.
        const { payloadStart, headerLength: _headerLength, bytes, start, end, ...fields } = seg as TcpSegment & { headerLength?: number };
        const from = current!.start + payloadStart;
        const payload = bytes.slice(start, end);
        located.push(Buffer.from(current!.bytes.subarray(from, from + payload.length)).equals(payload));
        segments.push({ ...fields, payload });
      },
      onProblem: (p) => problems.push(p),
    },
    opts,
  );
  for (const p of packets) {
    current = p;
    decoder.push(p);
  }
  decoder.end();
  return { segments, problems, stats: decoder.stats, located };
}
