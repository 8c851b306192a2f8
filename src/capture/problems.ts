import { defineProblems } from '../core/problem.js';

/** Problems of the capture file's blocks (offsets are byte offsets in the file). */
export const captureProblem = defineProblems('capture', {
  /** A pcapng block or record shorter than its fixed fields. */
  'block-too-short': 'warning',
  /** A record, option or secrets length reaching past its block. */
  'block-overrun': 'warning',
  'undefined-interface': 'warning',
  /** A Decryption Secrets Block of a type execscope does not use. */
  'secrets-ignored': 'note',
});
