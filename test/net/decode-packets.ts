/** Runs packets through a PacketDecoder and keeps what came out (segment payloads copied). */
import type { Packet } from '../../src/capture/packet.js';
import type { Problem } from '../../src/core/problem.js';
import { PacketDecoder, type PacketDecoderStats } from '../../src/net/packet-decoder.js';
import type { IpFragmentReassemblerOptions } from '../../src/net/ip-fragments.js';
import type { TcpSegment } from '../../src/net/tcp.js';

export interface Decoded {
  segments: TcpSegment[];
  problems: Problem[];
  stats: PacketDecoderStats;
  /** For each segment, whether its payload was a view into the packet's own bytes. */
  views: boolean[];
}

export function decodePackets(packets: Packet[], opts: { fragments?: IpFragmentReassemblerOptions } = {}): Decoded {
  const segments: TcpSegment[] = [];
  const problems: Problem[] = [];
  const views: boolean[] = [];
  let current: Packet | null = null;
  const decoder = new PacketDecoder(
    {
      onSegment: (seg) => {
        views.push(seg.payload.buffer === current!.bytes.buffer);
        segments.push({ ...seg, payload: seg.payload.slice() });
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
  return { segments, problems, stats: decoder.stats, views };
}
