/**
 * The Event pane's lower layers for one event, from what the pipeline reads back from the capture:
 * the frame's exact bytes and header fields, the TCP segments that carried them and each packet
 * with its bytes, added to the layers the model itself knows.
 */
import type { CaptureInspector, CapturedUnit, CarriedTlsRecord, CarrierPacket } from '../pipeline/capture-inspector.js';
import type { Direction } from '../core/origin.js';
import { recordContentType, tlsRecordFields } from '../tls/record-framer.js';
import { ContentType, contentTypeName } from '../tls/tls-names.js';
import { isStreamEvent } from './timeline-lanes.js';
import { isoTime } from '../core/time.js';
import type { Field } from '../core/field.js';
import { stdcopyFrameFields } from '../docker/stdcopy.js';
import { httpHeadFields } from '../http/http-head.js';
import type { CaptureModel, ExecSession } from '../model/session.js';
import { safeInline } from '../report/terminal-text.js';
import { spdyFrameFields } from '../spdy/frame-header.js';
import { k8sChannelField } from '../websocket/channel-protocol.js';
import { webSocketFrameFields } from '../websocket/frame-header.js';
import { connectionOf, isTunnelled, modelLayers, type EventInspector, type InspectableEvent, type LayerView } from './event-layers.js';

/** Why a layer over TLS has no bytes when re-reading could not decrypt it. */
const NOT_DECRYPTED = 'no bytes: re-reading the capture did not decrypt this TLS connection';

const PAYLOAD_FIELDS = new Set(['websocket.payload', 'spdy.data', 'spdy.header_block', 'stdcopy.payload']);

/** The frame header's fields, from the protocol's own folder. */
function frameFields(s: ExecSession, e: InspectableEvent, bytes: Uint8Array, inflatedHeaderBlock: Uint8Array | null): Field[] {
  if (s.transport === 'websocket' && !isTunnelled(s, e)) {
    const fields = webSocketFrameFields(bytes);
    const channel = s.kind !== 'portforward' ? k8sChannelField(bytes, fields, s.protocol.includes('base64')) : null;
    return channel ? [...fields.slice(0, -1), channel, ...fields.slice(-1)] : fields;
  }
  // A docker exec's output is stdcopy-framed only without a TTY; other bytes are raw.
  if (s.transport === 'hijacked') return !s.tty && e.dir === 's2c' && e.kind === 'data' ? stdcopyFrameFields(bytes) : [];
  return spdyFrameFields(bytes, inflatedHeaderBlock);
}

/** Where the direction's frames start in its TCP or decrypted stream (after the upgrade's HTTP head); undefined when the capture missed it. */
function framesStart(s: ExecSession, dir: Direction): number | undefined {
  const head = dir === 'c2s' ? s.requestOrigin : s.control.find((c) => c.kind === 'upgrade')?.origin;
  return head && head.length > 0 ? head.offset + head.length : undefined;
}

/**
 * Where the direction's SPDY frames start in the event's byte space, for the header blocks to be
 * inflated in order: after the upgrade's HTTP head, or at the tunnel's first byte; undefined when
 * the event has no header block or the capture missed the upgrade.
 */
function spdyStart(s: ExecSession, e: InspectableEvent, tunnel: boolean): number | undefined {
  if ((s.transport !== 'spdy' && !tunnel) || (isStreamEvent(e) && e.kind === 'data')) return undefined;
  return tunnel ? 0 : framesStart(s, e.dir);
}

/** Why no record is named: re-reading did not decrypt, and the analysis's logs stop before the event's bytes. */
const UNTRACED = 'which records held its bytes is unknown: re-reading did not decrypt them, and the capture’s record log ran out before them (warning pipeline.carrier-budget-spent)';

/** The TLS layer from the records that held the event's bytes: the first application_data one's bytes and fields, every one listed. */
function fillTlsLayer(layer: LayerView, dir: Direction, records: readonly CarriedTlsRecord[], traced: boolean): void {
  const shown = records.find((r) => recordContentType(r.bytes) === ContentType.applicationData) ?? records[0];
  // The analysis's answer (the model's lines after the connection's) gives way to the records read back.
  if (shown || !traced) layer.lines = layer.lines.slice(0, 1);
  if (!traced) layer.lines.push(UNTRACED);
  if (!shown) return;
  for (const r of records) {
    const o = r.origin;
    const packets = o.packet === o.lastPacket ? `packet ${o.packet}` : `packets ${o.packet}–${o.lastPacket}`;
    layer.lines.push(`${r === shown ? '▸ ' : ''}${contentTypeName(recordContentType(r.bytes))} record, TCP ${dir} bytes ${o.offset}–${o.offset + o.length - 1} (${o.length} B), ${packets}`);
  }
  layer.bytes = shown.bytes;
  layer.highlight = { start: 0, end: shown.bytes.length };
  layer.range = { space: `TCP ${dir}`, start: shown.origin.offset, end: shown.origin.offset + shown.origin.length };
  layer.fields = tlsRecordFields(shown.bytes, !shown.afterChangeCipherSpec);
}

/** "packets 7, 9–11" */
function packetList(packets: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < packets.length; ) {
    let j = i;
    while (j + 1 < packets.length && packets[j + 1] === packets[j] + 1) j++;
    runs.push(i === j ? `${packets[i]}` : `${packets[i]}–${packets[j]}`);
    i = j + 1;
  }
  return `packet${packets.length > 1 ? 's' : ''} ${runs.join(', ')}`;
}

const span = (offset: number, length: number) => `${offset}–${offset + length - 1} (${length} B)`;

/**
 * The WebSocket frames whose payload carried a tunnelled event's bytes: each frame and the payload
 * bytes holding the event's, over TLS the records holding those, and exactly the packets that carried them.
 */
function tunnelFrameLines(dir: Direction, tls: boolean, found: CapturedUnit): string[] {
  const n = found.tunnelFrameCount;
  if (n === 0) return [];
  const listed = n > found.tunnelFrames.length ? ` (the first ${found.tunnelFrames.length} listed)` : '';
  const lines = [`carried in ${n} WebSocket frame${n > 1 ? 's' : ''}${listed}, at ${tls ? 'TLS plaintext' : 'TCP'} ${dir} bytes:`];
  for (const f of found.tunnelFrames) {
    // Re-read without the keys, the frame's header is not seen again: the analysis logged its payload bytes.
    lines.push(`  ${f.frame ? span(f.frame.offset, f.frame.length) : 'a frame’s payload'}, the event’s ${span(f.held.offset, f.held.length)}`);
    const end = f.records.reduce((e, r) => Math.max(e, r.offset + r.length), 0);
    const records = !tls ? '' : f.records.length === 1 ? `record TCP ${dir} ${span(f.records[0].offset, f.records[0].length)} · ` : `${f.records.length} records TCP ${dir} ${f.records[0]?.offset ?? 0}–${end - 1} · `;
    lines.push(`    ${records}${f.packets.length ? packetList(f.packets) : 'no packet read'}`);
  }
  return lines;
}

/** "TCP 50040 → 18112 · seq 1 ack 194 · ACK, PSH · win 512 · 193 B" from the segment's header fields. */
function segmentLine(c: CarrierPacket): string {
  const tcp = c.headers.find((h) => h.layer === 'tcp');
  const v = (id: string) => tcp?.fields.find((f) => f.id === id)?.value ?? '?';
  const flags = /\((.*)\)/.exec(v('tcp.flags'))?.[1] ?? v('tcp.flags');
  const carried = c.flag ? `${c.flag} at stream byte ${c.streamOffset + c.payloadLength}` : `stream bytes ${c.streamOffset}–${c.streamOffset + c.payloadLength - 1} (${c.payloadLength} B)`;
  return `packet ${c.packet.index}: seq ${v('tcp.seq_raw')} ack ${v('tcp.ack_raw')} · ${flags} · win ${v('tcp.window_size_value')} · ${carried}`;
}

function analysisLines(c: CarrierPacket): string[] {
  return c.analysis.map((p) => `! ${p.code}: ${safeInline(p.message)}`);
}

/** One packet: every header's fields, the TCP payload, and what TCP analysis says of the segment. */
function packetLayer(model: CaptureModel, c: CarrierPacket): LayerView {
  const carried = c.streamOffset >= 0;
  const stream = carried && c.payloadLength > 0 ? ` (stream bytes ${c.streamOffset}–${c.streamOffset + c.payloadLength - 1})` : '';
  const payload: Field = { id: 'tcp.payload', label: 'TCP payload', offset: c.payloadStart, length: c.payloadLength, value: `${c.payloadLength} bytes${stream}` };
  // A stream's end is the TCP header's flags: those bytes are the event's.
  const flags = c.flag ? c.headers.find((h) => h.layer === 'tcp')?.fields.find((f) => f.id === 'tcp.flags') : undefined;
  return {
    kind: 'packet',
    title: `packet ${c.packet.index}`,
    lines: [
      `${isoTime(model.capture.originNs, c.packet.ts) ?? ''} · ${c.packet.origLen} bytes on the wire, ${c.packet.data.length} captured · interface ${c.packet.interfaceId}`,
      c.headers.map((h) => `${h.name} ${h.start}–${h.end - 1}`).join(' · ') + ` · payload at byte ${c.payloadStart}`,
      ...(carried ? [] : ['a packet a warning points at: it carries none of this event’s bytes']),
      ...(c.flag ? [`its TCP ${c.flag} flag is the event: the sender ${c.flag === 'FIN' ? 'finished writing' : 'reset the connection'} at stream byte ${c.streamOffset + c.payloadLength}`] : []),
      ...analysisLines(c),
    ],
    range: flags
      ? { space: `packet ${c.packet.index}`, start: flags.offset, end: flags.offset + flags.length }
      : { space: `packet ${c.packet.index}`, start: c.payloadStart, end: c.payloadStart + c.payloadLength },
    bytes: c.packet.data,
    highlight: flags ? { start: flags.offset, end: flags.offset + flags.length } : carried ? { start: c.payloadStart, end: c.payloadStart + c.payloadLength } : null,
    fields: [...c.headers.flatMap((h) => h.fields.map((f) => ({ ...f, label: `${h.name} ${f.label}` }))), payload],
  };
}

export function createEventInspector(read: CaptureInspector, model: CaptureModel): EventInspector {
  return async (s, event, also) => {
    const layers = modelLayers(model, s, event);
    if (!event.origin) return layers;
    // A docker exec's calls each have their own connection.
    const connectionId = connectionOf(s, event);
    const tls = model.connections.find((c) => c.id === connectionId)?.tls;
    const tunnel = isTunnelled(s, event);
    const tunnelFrom = tunnel ? framesStart(s, event.dir) : undefined;
    // A tunnel's offsets say nothing of TCP's without the WebSocket frames they are counted in.
    if (tunnel && tunnelFrom === undefined) return layers;
    const websocket = model.connections.find((c) => c.id === connectionId)?.websocket;
    const found = await read({
      connectionId,
      dir: event.dir,
      origin: event.origin,
      tunnel: tunnelFrom === undefined ? undefined : { from: tunnelFrom, subprotocol: s.protocol, extensions: websocket?.extensions ?? '', portForward: s.kind === 'portforward', carriers: websocket?.tunnelCarriers?.[event.dir] },
      spdyFrom: spdyStart(s, event, tunnel),
      tls: !!tls,
      tlsRecordLog: tls?.plaintextCarriers[event.dir],
      alsoPacket: also?.packet,
    });
    const frameLayer = layers.find((l) => l.kind === 'frame' || (l.kind === 'http' && (event.kind === 'request' || event.kind === 'upgrade' || event.kind === 'poll')));
    // A raw stream's end (a docker exec's) is the TCP FIN or RST of its packet: no byte of it.
    const bare = event.origin.length === 0 && (event.kind === 'half-close' || event.kind === 'reset');
    if (frameLayer && bare) frameLayer.missing = `this event carries no bytes: it is a TCP ${event.kind === 'reset' ? 'RST' : 'FIN'} (a flag of packet ${event.origin.packet})`;
    else if (frameLayer && tls && !found.decrypted) frameLayer.missing = NOT_DECRYPTED;
    else if (frameLayer) {
      frameLayer.bytes = found.bytes;
      frameLayer.highlight = { start: 0, end: found.bytes.length };
      const fields = frameLayer.kind === 'frame' ? frameFields(s, event, found.bytes, found.inflatedHeaderBlock) : httpHeadFields(found.bytes);
      frameLayer.fields = fields;
      // A frame's payload is what carried the event; its header fields are listed above.
      const payload = fields.find((f) => PAYLOAD_FIELDS.has(f.id));
      if (payload) frameLayer.highlight = { start: payload.offset, end: found.bytes.length };
    }
    if (frameLayer && tunnel) frameLayer.lines.push(...tunnelFrameLines(event.dir, !!tls, found));
    // The upgrade request under a stream event: its head, read back from where it was sent.
    const upgradeLayer = layers.find((l) => l.kind === 'http' && l !== frameLayer);
    const request = s.requestOrigin;
    if (upgradeLayer && request.length > 0 && connectionId === s.connectionId) {
      const head = await read({ connectionId, dir: 'c2s', origin: request, tls: !!tls, tlsRecordLog: tls?.plaintextCarriers.c2s });
      if (tls && !head.decrypted) upgradeLayer.missing = NOT_DECRYPTED;
      else {
        upgradeLayer.bytes = head.bytes;
        upgradeLayer.highlight = { start: 0, end: head.bytes.length };
        upgradeLayer.range = { space: `${tls ? 'TLS plaintext' : 'TCP'} c2s`, start: request.offset, end: request.offset + request.length };
        upgradeLayer.fields = httpHeadFields(head.bytes);
      }
    }
    const tlsLayer = layers.find((l) => l.kind === 'tls');
    if (tlsLayer) fillTlsLayer(tlsLayer, event.dir, found.tlsRecords, found.traced);
    const tcpLayer = layers.find((l) => l.kind === 'tcp');
    const first = found.carriers[0];
    if (tcpLayer) {
      if (tls) tcpLayer.lines.push(`TLS ${tls.version ?? ''}: offsets are in the decrypted stream; packets below are those of its records`.replace('  ', ' '));
      for (const c of found.carriers) tcpLayer.lines.push(segmentLine(c), ...analysisLines(c));
      for (const r of found.resent) {
        tcpLayer.lines.push(`packet ${r.packet} also carried stream bytes ${r.offset}–${r.offset + r.length - 1} (${r.length} B): ${r.code}, a copy reassembly did not use`);
      }
      const more = found.unlisted;
      if (more) tcpLayer.lines.push(`and ${more.count} more packet${more.count > 1 ? 's' : ''} carried it (between packets ${more.first} and ${more.last}), not listed: the first ${found.carriers.length} are`);
      const header = first?.headers.find((h) => h.layer === 'tcp');
      if (first && header) {
        tcpLayer.bytes = first.packet.data;
        tcpLayer.highlight = { start: header.start, end: header.end };
        tcpLayer.range = { space: `packet ${first.packet.index}`, start: header.start, end: header.end };
        tcpLayer.fields = header.fields;
      }
    }
    const packetLayers = [...found.carriers, ...(found.alsoPacket ? [found.alsoPacket] : [])].map((c) => packetLayer(model, c));
    const firstPacket = layers.findIndex((l) => l.kind === 'packet');
    if (!found.traced && firstPacket >= 0) layers[firstPacket].lines.push('the packets where its records completed: which carried them is unknown (see the TLS layer)');
    if (packetLayers.length && firstPacket >= 0) layers.splice(firstPacket, 1, ...packetLayers);
    return layers;
  };
}
