/**
 * A merged file's clock offset as the reports show it: "+2.00 s (1 exec seen on both sides of the
 * apiserver→kubelet hop with a.pcapng: causality allows ≥ +1.96 s)", and in the JSON.
 */
import type { CaptureFile } from '../model/session.js';
import { formatSignedDuration } from '../core/time.js';

export function clockOffsetText(f: CaptureFile): string {
  return `${formatSignedDuration(f.clockOffsetNs)} (${f.clockOffsetFrom})`;
}

/** The JSON's: the range causality allows as numbers too, null where nothing bounds it. */
export function clockOffsetJson(f: CaptureFile): { clockOffsetMs: number; clockOffsetMinMs: number | null; clockOffsetMaxMs: number | null; clockOffsetFrom: string } {
  const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : null);
  return { clockOffsetMs: f.clockOffsetNs / 1e6, clockOffsetMinMs: ms(f.clockOffsetMinNs), clockOffsetMaxMs: ms(f.clockOffsetMaxNs), clockOffsetFrom: f.clockOffsetFrom };
}
