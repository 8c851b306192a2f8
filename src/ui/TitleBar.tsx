/** The top row: what is open and what it holds, and whether decoding stopped early. */
import type { CaptureModel } from '../model/session.js';
import { Line, type Segment } from './Line.js';
import { plural } from '../report/format.js';
import { safeInline } from '../report/terminal-text.js';

export function TitleBar({ path, model, error }: { path: string; model: CaptureModel | null; error: string | null }) {
  const segments: Segment[] = [
    { text: ' execscope ', bold: true, inverse: true },
    { text: `  ${safeInline(path)}`, bold: true },
  ];
  if (error) segments.push({ text: ` · ✗ ${safeInline(error, 120)}`, color: 'red', bold: true });
  if (model?.fatal) segments.push({ text: ` · ✗ ${model.fatal.truncated ? 'truncated' : 'stopped'}: ${safeInline(model.fatal.message, 80)}`, color: 'red' });
  if (model) {
    const c = model.capture;
    segments.push({
      text: ` · ${c.format ?? '?'} · ${plural(c.packets, 'packet')} · ${plural(model.connections.length, 'connection')} · ${plural(model.sessions.length, 'session')}`,
      dim: true,
    });
    if (c.unsupportedLinkTypes.length) segments.push({ text: ` · ! link type ${c.unsupportedLinkTypes.map((t) => safeInline(t)).join(', ')} not decoded`, color: 'yellow' });
    if (model.warnings.length) segments.push({ text: ` · ! ${plural(model.warnings.length, 'warning')} (w)`, color: 'yellow' });
  }
  return <Line segments={segments} />;
}
