import { defineProblems } from '../core/problem.js';

/** Problems of the docker Engine API layer: the hijacked stream and the calls around it. */
export const dockerProblem = defineProblems('docker', {
  /** A stdcopy header with a stream type other than 0–3: the rest is not demultiplexed. */
  'stdcopy-unknown-stream': 'error',
  /** The multiplexed stream ended inside a frame. */
  'stdcopy-truncated': 'warning',
  /** Bytes of the hijacked stream missing from the capture. */
  'stream-gap': 'warning',
  /** A start whose create call was not captured: command and TTY unknown. */
  'create-not-captured': 'note',
  /** Whether the exec has a TTY was read from its first output bytes. */
  'tty-inferred': 'note',
});
