/**
 * The Event pane's lower layers for one event, from what the pipeline reads back from the capture:
 * the frame's exact bytes and header fields, the TCP segments that carried them and each packet
 * with its bytes, added to the layers the model itself knows.
 */
import type { CaptureModel } from '../model/session.js';
import { linkTypeName } from '../net/link-layer.js';
import type { CaptureInspector } from '../pipeline/capture-inspector.js';
import { isoTime } from '../core/time.js';
import { isSpdyTunnel } from '../report/outcome.js';
import { connectionOf, modelLayers, type EventInspector, type LayerView } from './event-layers.js';
import { spdyFrameFields, stdcopyFrameFields, webSocketFrameFields } from './frame-fields.js';

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
      const fields =
        s.transport === 'websocket'
          ? webSocketFrameFields(found.bytes)
          : s.transport === 'hijacked'
            ? stdcopyFrameFields(s, event, found.bytes)
            : spdyFrameFields(found.bytes);
      if (frameLayer.kind === 'frame' && fields) frameLayer.lines.push(...fields.lines);
      frameLayer.bytes = found.bytes;
      frameLayer.highlight = fields && frameLayer.kind === 'frame' ? { start: fields.headerLength, end: found.bytes.length } : { start: 0, end: found.bytes.length };
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
