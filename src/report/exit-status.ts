/** The exit status every front end (analyze, diagnose, the TUI) gives for what it decoded. */
import type { CaptureModel } from '../model/session.js';

/** 2 when decoding stopped early (truncated, corrupt, not a capture) or no link type could be decoded; else 0. */
export function modelExitStatus(model: CaptureModel): 0 | 2 {
  const c = model.capture;
  if (model.fatal) return 2;
  return c.unsupportedLinkTypes.length === c.linkTypes.length && c.linkTypes.length ? 2 : 0;
}
