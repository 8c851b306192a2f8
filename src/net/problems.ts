import { defineProblems } from '../core/problem.js';

/** Problems of the link layer (per packet). */
export const linkProblem = defineProblems('link', {
  'unsupported-link-type': 'warning',
  /** The snaplen cut a packet short: the missing bytes become TCP gaps. */
  'snaplen-cut': 'warning',
  /** A header that cannot be parsed: the packet is skipped. */
  malformed: 'warning',
});

/** Problems of IPv4/IPv6 fragment reassembly. */
export const ipProblem = defineProblems('ip', {
  'fragment-out-of-range': 'warning',
  /** Overlapping fragments with different bytes (a classic evasion): the first copy is kept. */
  'fragment-overlap-differs': 'warning',
  'fragments-dropped': 'warning',
});

/** Problems of TCP reassembly (offsets are stream offsets of the direction). */
export const tcpProblem = defineProblems('tcp', {
  'too-many-connections': 'warning',
  'syn-isn-changed': 'warning',
  'beyond-window': 'warning',
  'after-fin': 'warning',
  'retransmission-differs': 'warning',
  'reassembly-buffer-full': 'warning',
  'fin-moved': 'warning',
  /** Bytes the capture does not hold (lost by the capture, not by TCP). */
  gap: 'warning',
});

/**
 * Wireshark's TCP sequence analysis (tcp.analysis.*), per segment, with its severities: notes for
 * what TCP repairs by itself, warnings for what stalls a stream or means the capture lost packets.
 */
const TCP_ANALYSIS = {
  retransmission: 'note',
  'fast-retransmission': 'note',
  'spurious-retransmission': 'note',
  'out-of-order': 'warning',
  'previous-segment-not-captured': 'warning',
  'acked-unseen-segment': 'warning',
  'duplicate-ack': 'note',
  'zero-window': 'warning',
  'window-full': 'warning',
} as const;
export const tcpAnalysisProblem = defineProblems('tcp', TCP_ANALYSIS);

/** Whether a problem is TCP analysis of a segment (tcp.retransmission…) rather than a reassembly problem. */
export function isTcpAnalysis(code: string): boolean {
  return code.startsWith('tcp.') && code.slice(4) in TCP_ANALYSIS;
}

/** Whether a TCP analysis code says the segment sent bytes again (Wireshark's retransmission flags). */
export function isRetransmission(code: string): boolean {
  return code === 'tcp.retransmission' || code === 'tcp.fast-retransmission' || code === 'tcp.spurious-retransmission';
}
