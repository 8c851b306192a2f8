/**
 * The layers that carried one timeline event, top (k8s stream) to bottom (packets), as the Event
 * pane shows them. The model knows the upper layers and the origins (TCP offsets, packet numbers);
 * the bytes of the lower layers need the capture re-read, which an EventInspector does.
 */
import type { Field } from '../core/field.js';
import { carriersOf, carriersThrough, type CarrierLog } from '../core/carrier-log.js';
import type { Direction, FrameOrigin } from '../core/origin.js';
import type { CaptureModel, ControlEvent, ExecSession, StreamEvent, StreamRecord } from '../model/session.js';
import { isSpdyTunnel } from '../report/outcome.js';
import { isoTime } from '../core/time.js';
import { formatBytes, formatOffset, quoteArgv } from '../report/format.js';
import { targetLabel } from '../report/session-summary.js';
import { safeInline } from '../report/terminal-text.js';
import { isStreamEvent } from './timeline-lanes.js';

export type InspectableEvent = StreamEvent | ControlEvent;

export type LayerKind = 'stream' | 'frame' | 'tls' | 'http' | 'tcp' | 'packet';

/** [start, end) */
export interface ByteRange {
  start: number;
  end: number;
}

export interface LayerView {
  kind: LayerKind;
  /** "stdout · channel 1", "WebSocket binary frame", "TLS 1.3 application_data record", "packet 57". */
  title: string;
  /** Field lines shown under the title (flags, lengths, masking, addresses, times). Plain text, already safe. */
  lines: string[];
  /** Where this layer's part of the event lies, in the layer's own byte space ("stdout stream", "TCP s2c", "packet 57"). */
  range: (ByteRange & { space: string }) | null;
  /** Bytes the hex view shows when this layer is selected (a packet, a record, a frame…), null when unknown. */
  bytes: Uint8Array | null;
  /** The part of `bytes` that belongs to this layer / carried the event. */
  highlight: ByteRange | null;
  /** The protocol's own field descriptions of `bytes` (offsets into `bytes`), when its folder has them. */
  fields?: Field[];
  /** Why `bytes` is null, when it is not that they come from re-reading the capture. */
  missing?: string;
}

/**
 * Re-reads the capture to describe the layers under one event (frame header fields, TLS records,
 * TCP segments, packets) with their bytes. Implemented by the pipeline; the App works without one.
 * `also.packet`: a packet a warning points at, shown as a layer of its own when it carried none of the event's bytes.
 */
export type EventInspector = (session: ExecSession, event: InspectableEvent, also?: { packet?: number }) => Promise<LayerView[]>;

const SPDY_STREAM_FRAMES: Record<StreamEvent['kind'], string> = {
  open: 'SYN_STREAM',
  reply: 'SYN_REPLY',
  data: 'DATA frame',
  'half-close': 'DATA frame with FIN',
  reset: 'RST_STREAM',
  established: 'DATA frame',
};

const WS_STREAM_FRAMES: Record<StreamEvent['kind'], string> = {
  open: 'message',
  reply: 'message',
  data: 'binary message',
  'half-close': 'CLOSE signal message [255, channel]',
  reset: 'message',
  established: 'empty message (connection established)',
};

/** What a stream event without payload is on the wire. */
const NO_PAYLOAD: Record<Exclude<StreamEvent['kind'], 'data'>, string> = {
  open: 'it opens the stream',
  reply: 'it accepts the stream',
  'half-close': 'a FIN: the sender has finished writing this stream',
  reset: 'it aborts the stream',
  established: 'it says the connection is up',
};

const SPDY_CONTROL_FRAMES: Partial<Record<ControlEvent['kind'], string>> = {
  ping: 'PING frame',
  pong: 'PING frame (reply)',
  'window-update': 'WINDOW_UPDATE frame',
  settings: 'SETTINGS frame',
  rst: 'RST_STREAM frame',
  goaway: 'GOAWAY frame',
};

const WS_CONTROL_FRAMES: Partial<Record<ControlEvent['kind'], string>> = {
  ping: 'ping frame',
  pong: 'pong frame',
  close: 'close frame',
};

/** The stream an event belongs to (by identity), or null for control events. */
export function streamOf(session: ExecSession, event: InspectableEvent): StreamRecord | null {
  if (!isStreamEvent(event)) return null;
  return session.streams.find((r) => r.events.includes(event)) ?? null;
}

/** Payload bytes [offset, offset+length) of a stream when the kept head covers them, else null. */
export function streamSlice(r: StreamRecord, offset: number, length: number): Uint8Array | null {
  if (offset + length > r.headBytes) return null;
  const out = new Uint8Array(length);
  let pos = 0;
  let filled = 0;
  for (const chunk of r.head) {
    const a = Math.max(offset, pos);
    const b = Math.min(offset + length, pos + chunk.length);
    if (b > a) {
      out.set(chunk.subarray(a - pos, b - pos), a - offset);
      filled += b - a;
    }
    pos += chunk.length;
    if (pos >= offset + length) break;
  }
  return filled === length ? out : null;
}

function dirText(s: ExecSession, dir: 'c2s' | 's2c'): string {
  return dir === 'c2s' ? `${s.client} → ${s.server}` : `${s.server} → ${s.client}`;
}

function byteSpan(start: number, length: number): string {
  return length > 0 ? `${start}–${start + length - 1}` : `${start} (empty)`;
}

/** The connection that carried an event: a docker exec's calls each have their own. */
export function connectionOf(s: ExecSession, e: InspectableEvent): number {
  return (!isStreamEvent(e) && e.connectionId) || s.connectionId;
}

function dockerFrameTitle(s: ExecSession, e: InspectableEvent): string {
  if (e.kind === 'request' || e.kind === 'poll') return `HTTP/1.1 ${e.dir === 'c2s' ? 'request' : 'response'} (Engine API)`;
  if (e.kind === 'upgrade') return 'HTTP/1.1 response head (hijack)';
  if (!isStreamEvent(e)) return `TCP ${e.kind}`;
  if (e.dir === 'c2s') return `raw stdin bytes${e.kind === 'half-close' ? ': TCP FIN (stdin EOF)' : ''}`;
  return s.tty ? 'raw TTY output' : `stdcopy frame (8-byte header: stream type, size)`;
}

/**
 * The event is a frame of the SPDY connection tunnelled in the session's WebSocket messages (not one
 * of the WebSocket's own frames, nor the upgrade): its origin counts the tunnel's bytes.
 */
export function isTunnelled(s: ExecSession, e: InspectableEvent): boolean {
  return isSpdyTunnel(s) && (isStreamEvent(e) || e.tunnelled === true);
}

function frameTitle(s: ExecSession, e: InspectableEvent): string {
  if (s.transport === 'hijacked') return dockerFrameTitle(s, e);
  const tunnel = isTunnelled(s, e);
  const ws = s.transport === 'websocket' && !tunnel;
  const where = tunnel ? ' in the WebSocket tunnel' : '';
  if (isStreamEvent(e)) return `${ws ? 'WebSocket' : 'SPDY'} ${(ws ? WS_STREAM_FRAMES : SPDY_STREAM_FRAMES)[e.kind]}${where}`;
  if (e.kind === 'request') return 'HTTP/1.1 request head';
  if (e.kind === 'upgrade') return 'HTTP/1.1 response head';
  if (e.kind === 'gap') return 'TCP gap (bytes missing from the capture)';
  const name = (ws ? WS_CONTROL_FRAMES : SPDY_CONTROL_FRAMES)[e.kind] ?? `${e.kind} frame`;
  return `${ws ? 'WebSocket' : 'SPDY'} ${name}${where}`;
}

function packetLines(model: CaptureModel, o: FrameOrigin): string[] {
  const at = (ts: number) => {
    const iso = isoTime(model.capture.originNs, ts);
    return iso ? `${iso} (${formatOffset(ts)})` : formatOffset(ts);
  };
  const lines =
    o.packet === o.lastPacket
      ? [`packet ${o.packet} · ${at(o.ts)}`]
      : [`packet ${o.packet} · first byte · ${at(o.ts)}`, `packet ${o.lastPacket} · last byte · ${at(o.lastTs)}`];
  if (model.capture.linkTypes.length) lines.push(`link type ${model.capture.linkTypes.join(', ')}`);
  return lines;
}

/**
 * Which records held the event's plaintext, from the analysis's record log (in a tunnel, through its
 * tunnel log first: `tunnelLog` null when there is none); '' when the logs do not reach it.
 */
function heldBy(recordLog: CarrierLog, tunnelLog: CarrierLog | null | undefined, dir: Direction, o: FrameOrigin): string {
  const through = tunnelLog === undefined ? [{ spans: carriersOf(recordLog, o.offset, o.length) }] : tunnelLog && carriersThrough(tunnelLog, recordLog, o.offset, o.length);
  if (!through || through.some((t) => !t.spans)) return '';
  let first = Infinity;
  let end = -Infinity;
  const records = new Set<number>();
  // Folded, not spread: an event may span more records than a call takes arguments.
  for (const t of through) {
    for (const r of t.spans!) {
      records.add(r.offset);
      first = Math.min(first, r.offset);
      end = Math.max(end, r.offset + r.length);
    }
  }
  if (records.size === 0) return '';
  return records.size === 1 ? `held by the record at TCP ${dir} bytes ${byteSpan(first, end - first)} (${end - first} B)` : `held by ${records.size} records at TCP ${dir} bytes ${byteSpan(first, end - first)}`;
}

/** The layers the model itself knows for an event, used until (or without) an EventInspector. */
export function modelLayers(model: CaptureModel, s: ExecSession, event: InspectableEvent): LayerView[] {
  const layers: LayerView[] = [];
  const stream = streamOf(s, event);
  const rel = formatOffset(event.ts - s.startTs);
  if (isStreamEvent(event) && stream) {
    const unit =
      s.transport === 'hijacked'
        ? s.tty || stream.dataDir === 'c2s'
          ? 'raw'
          : `stdcopy type ${stream.id}`
        : s.transport === 'websocket' && !isSpdyTunnel(s)
          ? `channel ${stream.id}`
          : `SPDY stream ${stream.id}`;
    const payload = event.kind === 'data' && event.length > 0;
    const bytes = payload ? streamSlice(stream, event.streamOffset, event.length) : null;
    const lines = [`${event.kind}${event.kind === 'data' ? ` ${formatBytes(event.length)}` : ''} at ${rel} · ${dirText(s, event.dir)}`];
    if (event.kind === 'data') lines.push(`stream bytes ${byteSpan(event.streamOffset, event.length)} of ${formatBytes(stream.bytes)}`);
    if (event.detail) lines.push(safeInline(event.detail));
    if (payload && !bytes) lines.push('payload beyond the kept head: bytes need the capture re-read');
    layers.push({
      kind: 'stream',
      title: `${safeInline(stream.name)} · ${unit}`,
      lines,
      range: event.kind === 'data' ? { space: `${safeInline(stream.name)} stream`, start: event.streamOffset, end: event.streamOffset + event.length } : null,
      bytes,
      highlight: bytes ? { start: 0, end: bytes.length } : null,
      missing: payload ? undefined : `this event carries no stream bytes (${event.kind === 'data' ? 'an empty data frame' : NO_PAYLOAD[event.kind]})`,
    });
  }
  const o = event.origin;
  // Over TLS the pipeline's origins count decrypted bytes, and name the packet ending each record.
  const connectionId = connectionOf(s, event);
  const tls = model.connections.find((c) => c.id === connectionId)?.tls ?? null;
  // Tunnelled frames count bytes of the SPDY stream inside the WebSocket messages.
  const tunnel = isTunnelled(s, event);
  const space = `${tunnel ? 'tunnelled SPDY' : tls ? 'TLS plaintext' : 'TCP'} ${event.dir}`;
  const frameLines = isStreamEvent(event) ? [] : [safeInline(event.detail), `at ${rel} · ${connectionId === s.connectionId ? dirText(s, event.dir) : `connection ${connectionId}`}`];
  if (o) frameLines.push(`${space} bytes ${byteSpan(o.offset, o.length)} (${formatBytes(o.length)})`);
  layers.push({
    kind: event.kind === 'request' || event.kind === 'upgrade' || event.kind === 'poll' ? 'http' : 'frame',
    title: frameTitle(s, event),
    lines: frameLines,
    range: o ? { space, start: o.offset, end: o.offset + o.length } : null,
    bytes: null,
    highlight: null,
  });
  if (tls) {
    const carried = o ? heldBy(tls.plaintextCarriers[event.dir], tunnel ? (model.connections.find((c) => c.id === connectionId)?.websocket?.tunnelCarriers?.[event.dir] ?? null) : undefined, event.dir, o) : '';
    const about = [
      tls.keysFound === false ? 'no key in the key log for this connection' : 'decrypted with the key log',
      tls.sni ? `SNI ${safeInline(tls.sni)}` : '',
      tls.alpn ? `ALPN ${safeInline(tls.alpn)}` : '',
      tls.cipherSuite ? safeInline(tls.cipherSuite) : '',
    ].filter(Boolean);
    // The first line is the connection's; the others, the analysis's answer, give way to the records read back.
    layers.push({
      kind: 'tls',
      title: `${safeInline(tls.version ?? 'TLS')} application data`,
      lines: [about.join(' · '), carried, ...(carried ? ['their bytes and packets need the capture re-read'] : [])],
      range: null,
      bytes: null,
      highlight: null,
    });
  }
  if (event.kind !== 'request' && event.kind !== 'upgrade' && event.kind !== 'poll') {
    layers.push({
      kind: 'http',
      title: `HTTP/1.1 upgrade · ${s.method} → ${s.httpStatus ?? 'no answer'} ${safeInline(s.protocol)}`.trimEnd(),
      lines: [
        `${s.kind} ${targetLabel(s)} ${quoteArgv(s.command)}`.trimEnd(),
        safeInline(s.target, 200),
        `offered ${s.offeredProtocols.map((p) => safeInline(p)).join(', ') || '—'}`,
      ],
      range: null,
      bytes: null,
      highlight: null,
    });
  }
  if (o) {
    layers.push({
      kind: 'tcp',
      title: `TCP ${connectionId === s.connectionId ? dirText(s, event.dir) : `connection ${connectionId} ${event.dir}`}`,
      lines: [
        tunnel
          ? `connection ${connectionId}${tls ? ' (TLS)' : ''} · the SPDY bytes travel in WebSocket binary messages`
          : tls
            ? `connection ${connectionId} (TLS)`
            : `stream bytes ${byteSpan(o.offset, o.length)} · connection ${connectionId}`,
      ],
      range: tls || tunnel ? null : { space, start: o.offset, end: o.offset + o.length },
      bytes: null,
      highlight: null,
    });
    layers.push({
      kind: 'packet',
      title: o.packet === o.lastPacket ? `packet ${o.packet}` : `packets ${o.packet}–${o.lastPacket}`,
      lines: packetLines(model, o),
      range: null,
      bytes: null,
      highlight: null,
    });
  }
  return layers;
}
