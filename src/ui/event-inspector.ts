/**
 * The Event pane's lower layers for one event, from what the pipeline reads back from the capture:
 * the frame's exact bytes and header fields, the TCP segments that carried them and each packet
 * with its bytes, added to the layers the model itself knows.
 */
import { linkTypeName } from '../net/link-layer.js';
import type { CaptureInspector } from '../pipeline/capture-inspector.js';
import { isoTime } from '../core/time.js';
import { isSpdyTunnel } from '../report/outcome.js';
import type { Field } from '../core/field.js';
import { stdcopyFrameFields } from '../docker/stdcopy.js';
import type { CaptureModel, ExecSession } from '../model/session.js';
import { safeInline } from '../report/terminal-text.js';
import { spdyFrameFields } from '../spdy/frame-header.js';
import { webSocketFrameFields } from '../websocket/frame-header.js';
import { connectionOf, modelLayers, type EventInspector, type InspectableEvent, type LayerView } from './event-layers.js';

const PAYLOAD_FIELDS = new Set(['websocket.payload', 'spdy.data', 'spdy.header_block', 'stdcopy.payload']);

/** The frame header's fields, from the protocol's own folder. */
function frameFields(s: ExecSession, e: InspectableEvent, bytes: Uint8Array): Field[] {
  if (s.transport === 'websocket') return webSocketFrameFields(bytes);
  // A docker exec's output is stdcopy-framed only without a TTY; other bytes are raw.
  if (s.transport === 'hijacked') return !s.tty && e.dir === 's2c' && e.kind === 'data' ? stdcopyFrameFields(bytes) : [];
  return spdyFrameFields(bytes);
}

export function createEventInspector(read: CaptureInspector, model: CaptureModel): EventInspector {
  return async (s, event) => {
    const layers = modelLayers(model, s, event);
    if (!event.origin) return layers;
    // A docker exec's calls each have their own connection.
    const connectionId = connectionOf(s, event);
    const tls = model.connections.find((c) => c.id === connectionId)?.tls;
    const tunnel = isSpdyTunnel(s) && event.kind !== 'request' && event.kind !== 'upgrade';
    const found = await read({ connectionId, dir: event.dir, origin: event.origin, innerOffsets: !!tls || tunnel });
    const frameLayer = layers.find((l) => l.kind === 'frame' || l.kind === 'http');
    if (frameLayer && !tls && !tunnel) {
      frameLayer.bytes = found.bytes;
      frameLayer.highlight = { start: 0, end: found.bytes.length };
      if (frameLayer.kind === 'frame') {
        const fields = frameFields(s, event, found.bytes);
        frameLayer.fields = fields;
        frameLayer.lines.push(...fields.map((f) => `${f.label}: ${safeInline(f.value)}`));
        // The frame's payload is what carried the event; its header fields are listed above.
        const payload = fields.find((f) => PAYLOAD_FIELDS.has(f.id));
        if (payload) frameLayer.highlight = { start: payload.offset, end: found.bytes.length };
      }
    }
    const tcpLayer = layers.find((l) => l.kind === 'tcp');
    if (tcpLayer) {
      if (tls) tcpLayer.lines.push(`TLS ${tls.version ?? ''}: offsets are in the decrypted stream; packets below are those of its records`.replace('  ', ' '));
      for (const c of found.carriers) tcpLayer.lines.push(`packet ${c.packet.index}: stream bytes ${c.streamOffset}–${c.streamOffset + c.payloadLength - 1} (${c.payloadLength} B)`);
    }
    const packetLayers: LayerView[] = found.carriers.map((c) => ({
      kind: 'packet',
      title: `packet ${c.packet.index}`,
      lines: [
        `${isoTime(model.capture.originNs, c.packet.ts) ?? ''} · ${c.packet.origLen} bytes on the wire, ${c.packet.data.length} captured`,
        `interface ${c.packet.interfaceId} · link type ${linkTypeName(c.packet.linkType)} · TCP payload at byte ${c.payloadStart}`,
      ],
      range: { space: `packet ${c.packet.index}`, start: c.payloadStart, end: c.payloadStart + c.payloadLength },
      bytes: c.packet.data,
      highlight: { start: c.payloadStart, end: c.payloadStart + c.payloadLength },
    }));
    const firstPacket = layers.findIndex((l) => l.kind === 'packet');
    if (packetLayers.length && firstPacket >= 0) layers.splice(firstPacket, 1, ...packetLayers);
    return layers;
  };
}
