/** A merged file's clock offset as the reports show it: "+2.00 s (1 exec seen on both sides of the apiserver→kubelet hop with a.pcapng)". */
import type { CaptureFile } from '../model/session.js';
import { formatSignedDuration } from '../core/time.js';

export function clockOffsetText(f: CaptureFile): string {
  return `${formatSignedDuration(f.clockOffsetNs)} (${f.clockOffsetFrom})`;
}
