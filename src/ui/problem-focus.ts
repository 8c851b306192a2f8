/**
 * Where a decoding warning points inside the Event pane: the layer of the protocol that reported it
 * (a TCP, IP or link finding on its packet, a WebSocket, SPDY or HTTP/2 violation on the frame, an
 * HTTP one on the head, a TLS one on the record) and, in that layer's bytes, the problem's origin:
 * from its byte to the end of the unit in a stream layer, the reporting header in a packet.
 */
import type { Problem } from '../core/problem.js';
import { safeInline } from '../report/terminal-text.js';
import type { ByteRange, LayerKind, LayerView } from './event-layers.js';

const LAYER_OF: Record<string, LayerKind> = {
  link: 'packet',
  ip: 'packet',
  tcp: 'packet',
  capture: 'packet',
  tls: 'tls',
  http: 'http',
  http2: 'frame',
  grpc: 'frame',
  cri: 'frame',
  spdy: 'frame',
  websocket: 'frame',
  docker: 'frame',
  k8s: 'stream',
  pipeline: 'frame',
};

/** Field id prefixes of each packet header a finding may come from. */
const HEADER_FIELDS: Record<string, readonly string[]> = { tcp: ['tcp.'], ip: ['ip.', 'ipv6.'], link: ['eth.', 'sll.', 'null.', 'vlan.'] };

function targetLayer(layers: readonly LayerView[], p: Problem): number {
  const kind = LAYER_OF[p.code.slice(0, p.code.indexOf('.'))] ?? 'frame';
  const packet = p.packet === undefined ? -1 : layers.findIndex((l) => l.kind === 'packet' && l.title === `packet ${p.packet}`);
  if (kind === 'packet') return packet >= 0 ? packet : layers.findIndex((l) => l.kind === 'tcp');
  const own = layers.findIndex((l) => l.kind === kind);
  return own >= 0 ? own : packet;
}

/** The bytes of `layer` the problem points at, or null when its place is not in them. */
function originRange(layer: LayerView, p: Problem): ByteRange | null {
  if (!layer.bytes) return null;
  if (layer.kind === 'packet') {
    const prefixes = HEADER_FIELDS[p.code.slice(0, p.code.indexOf('.'))] ?? HEADER_FIELDS.tcp;
    const header = (layer.fields ?? []).filter((f) => f.id !== 'tcp.payload' && prefixes.some((x) => f.id.startsWith(x)));
    if (!header.length) return null;
    return { start: Math.min(...header.map((f) => f.offset)), end: Math.max(...header.map((f) => f.offset + f.length)) };
  }
  const r = layer.range;
  if (!r || p.offset === undefined || p.offset < r.start || p.offset >= r.end || (p.direction && !r.space.endsWith(p.direction))) return null;
  return { start: p.offset - r.start, end: Math.min(layer.bytes.length, r.end - r.start) };
}

/**
 * The layers with the problem's layer marked (its origin highlighted, the problem as its first line)
 * and that layer's index, -1 when no layer is the problem's; the layers as given without a problem.
 */
export function focusProblem(layers: readonly LayerView[], p: Problem | null): { layers: readonly LayerView[]; layer: number } {
  if (!p) return { layers, layer: -1 };
  const at = targetLayer(layers, p);
  if (at < 0) return { layers, layer: -1 };
  const layer = layers[at];
  const origin = originRange(layer, p);
  const line = `! ${safeInline(p.code)}: ${safeInline(p.message, 200)}${origin ? ` · bytes ${origin.start}–${origin.end - 1} highlighted` : ''}`;
  const marked: LayerView = { ...layer, lines: [line, ...layer.lines], highlight: origin ?? layer.highlight };
  return { layers: layers.map((l, i) => (i === at ? marked : l)), layer: at };
}
