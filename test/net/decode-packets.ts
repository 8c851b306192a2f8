/** Runs packets through a PacketDecoder and keeps what came out (segment payloads copied, without payloadStart and the header length). */
import type { Packet } from '../../src/capture/packet.js';
import type { Problem } from '../../src/core/problem.js';
import { PacketDecoder, type PacketDecoderStats } from '../../src/net/packet-decoder.js';
import type { IpFragmentReassemblerOptions } from '../../src/net/ip-fragments.js';
import type { TcpSegment } from '../../src/net/tcp.js';

export interface Decoded {
  segments: Omit<TcpSegment, 'payloadStart'>[];
  problems: Problem[];
  stats: PacketDecoderStats;
  /** For each segment, whether payloadStart places its payload in the packet's own bytes. */
  located: boolean[];
}

export function decodePackets(packets: Packet[], opts: { fragments?: IpFragmentReassemblerOptions } = {}): Decoded {
  const segments: Omit<TcpSegment, 'payloadStart'>[] = [];
  const problems: Problem[] = [];
  const located: boolean[] = [];
  let current: Packet | null = null;
  const decoder = new PacketDecoder(
    {
      onSegment: (seg) => {
        // The decoder's segment also holds its TCP header's length, which it decodes into it.
        const { payloadStart, headerLength: _headerLength, ...fields } = seg as TcpSegment & { headerLength?: number };
        const from = current!.start + payloadStart;
        located.push(Buffer.from(current!.bytes.subarray(from, from + seg.payload.length)).equals(seg.payload));
        segments.push({ ...fields, payload: seg.payload.slice() });
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
