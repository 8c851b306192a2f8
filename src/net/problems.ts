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
