/**
 * The Event pane's lower layers, read back from the capture: the frame's exact bytes and header
 * fields, the TCP segments that carried them and each packet with its bytes. The model keeps only
 * origins (offsets, packet numbers), so the capture is decoded again up to the event's last packet.
 */
import { readCaptureBytes } from '../capture/capture-source.js';
import { CaptureDecoder } from '../capture/capture-decoder.js';
import type { Packet } from '../capture/packet.js';
import type { CaptureModel, ExecSession } from '../model/session.js';
import { PacketDecoder } from '../net/packet-decoder.js';
import { linkTypeName } from '../net/link-layer.js';
import { TcpReassembler } from '../net/tcp-reassembly.js';
import { isoTime } from '../report/time.js';
import { isSpdyTunnel } from '../report/outcome.js';
import { modelLayers, type EventInspector, type InspectableEvent, type LayerView } from './event-layers.js';
import { spdyFrameFields, webSocketFrameFields } from './frame-fields.js';

const MAX_PACKETS = 16;
const MAX_FRAME_BYTES = 1 << 20;

interface Carrier {
  packet: Packet;
  /** Where the TCP payload sits in the packet, and which stream bytes it held. */
  payloadStart: number;
  payloadLength: number;
  streamOffset: number;
}

/**
 * Decodes the capture until the event's last packet, collecting the frame bytes and the packets
 * carrying them. Over TLS, or in a port-forward WebSocket tunnel, the origin's offsets are not TCP
 * offsets (decrypted, tunnelled bytes), so the carriers are the connection's packets between the
 * first and last packet instead.
 */
async function collect(path: string, s: ExecSession, event: InspectableEvent, innerOffsets: boolean) {
  const o = event.origin;
  if (!o) return null;
  const dir = event.dir;
  const frame = new Uint8Array(Math.min(o.length, MAX_FRAME_BYTES));
  const carriers: Carrier[] = [];
  let current: Packet | null = null;
  let payloadStart = 0;
  let done = false;
  const keep = (p: Packet, length: number, streamOffset: number) => {
    if (carriers.length < MAX_PACKETS) carriers.push({ packet: { ...p, data: p.data.slice() }, payloadStart, payloadLength: length, streamOffset });
  };
  const tcp = new TcpReassembler({
    onOpen() {},
    onData(conn, d, data, origin) {
      if (conn.id !== s.connectionId || d !== dir || !current) return;
      if (innerOffsets) {
        if (current.index >= o.packet) keep(current, data.length, origin.offset);
        return;
      }
      const a = Math.max(origin.offset, o.offset);
      const b = Math.min(origin.offset + data.length, o.offset + o.length);
      if (b <= a) return;
      if (a - o.offset < frame.length) frame.set(data.subarray(a - origin.offset, Math.min(b, o.offset + frame.length) - origin.offset), a - o.offset);
      keep(current, data.length, origin.offset);
    },
    onGap() {},
    onClose() {},
    onEnd() {},
  });
  const packets = new PacketDecoder({
    onSegment(seg) {
      payloadStart = current ? seg.payload.byteOffset - current.data.byteOffset : 0;
      tcp.push(seg);
    },
  });
  const reader = new CaptureDecoder({
    onPacket(p) {
      if (done) return;
      current = p;
      packets.push(p);
      current = null;
      if (p.index >= o.lastPacket) done = true;
    },
  });
  for await (const chunk of readCaptureBytes(path)) {
    reader.push(chunk);
    if (done) break;
  }
  return { frame, carriers };
}

export function createCaptureInspector(path: string, model: CaptureModel): EventInspector {
  return async (s, event) => {
    const layers = modelLayers(model, s, event);
    const tls = model.connections.find((c) => c.id === s.connectionId)?.tls;
    const tunnel = isSpdyTunnel(s) && event.kind !== 'request' && event.kind !== 'upgrade';
    const found = await collect(path, s, event, !!tls || tunnel);
    if (!found) return layers;
    const frameLayer = layers.find((l) => l.kind === 'frame' || l.kind === 'http');
    if (frameLayer && !tls && !tunnel) {
      const fields = s.transport === 'websocket' ? webSocketFrameFields(found.frame) : spdyFrameFields(found.frame);
      if (frameLayer.kind === 'frame' && fields) frameLayer.lines.push(...fields.lines);
      frameLayer.bytes = found.frame;
      frameLayer.highlight = fields && frameLayer.kind === 'frame' ? { start: fields.headerLength, end: found.frame.length } : { start: 0, end: found.frame.length };
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
