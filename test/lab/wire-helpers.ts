/** Small helpers for the lab's socket-level tests: decoding what a client received. */
import { SpdyFrameDecoder, type SpdyControlFrame } from '../../src/spdy/frame-decoder.js';
import { WebSocketFrameDecoder, type WebSocketFrameHeader } from '../../src/websocket/frame-decoder.js';

/** Unmasked WebSocket frames in `bytes`: [opcode, payload]. */
export function serverFrames(bytes: Uint8Array): [number, Buffer][] {
  const frames: [number, Buffer][] = [];
  let header: WebSocketFrameHeader | null = null;
  let payload: Buffer[] = [];
  const decoder = new WebSocketFrameDecoder(
    {
      onFrameStart: (h) => {
        header = h;
        payload = [];
      },
      onPayload: (bytes, start, end) => payload.push(Buffer.from(bytes.subarray(start, end))),
      onPayloadLost: () => {},
      onFrameEnd: () => frames.push([header!.opcode, Buffer.concat(payload)]),
      onSyncLost: () => {},
      onStreamEnd: () => {},
      onProblem: (p) => frames.push([-1, Buffer.from(p.message)]),
    },
    { expectMasked: false },
  );
  decoder.push(bytes, 0, bytes.length, { offset: 0, length: bytes.length, packet: 0, ts: 0 });
  return frames;
}

export type SpdyFrame = { control: SpdyControlFrame } | { data: string; streamId: number; fin: boolean };

/** SPDY frames in `bytes`, DATA payloads joined per frame. */
export function spdyFrames(bytes: Uint8Array): SpdyFrame[] {
  const frames: SpdyFrame[] = [];
  const decoder = new SpdyFrameDecoder({
    onControl: (control) => frames.push({ control }),
    onData: (p) => {
      if (p.first) frames.push({ data: '', streamId: p.streamId, fin: p.fin });
      (frames[frames.length - 1] as { data: string }).data += Buffer.from(p.bytes.subarray(p.start, p.end)).toString('latin1');
    },
    onProblem: (p) => frames.push({ data: `PROBLEM ${p.message}`, streamId: -1, fin: false }),
  });
  decoder.push(bytes, 0, bytes.length, { offset: 0, length: bytes.length, packet: 0, ts: 0 });
  return frames;
}

export function describeSpdy(frames: SpdyFrame[]): string[] {
  return frames.map((f) => {
    if ('data' in f) return `DATA ${f.streamId}${f.fin ? ' FIN' : ''} ${JSON.stringify(f.data)}`;
    const c = f.control;
    switch (c.type) {
      case 'SYN_STREAM':
        return `SYN_STREAM ${c.streamId} ${c.headers?.streamtype?.[0]}`;
      case 'SYN_REPLY':
        return `SYN_REPLY ${c.streamId}`;
      case 'RST_STREAM':
        return `RST_STREAM ${c.streamId} ${c.statusName}`;
      case 'GOAWAY':
        return `GOAWAY ${c.lastGoodStreamId} ${c.statusName}`;
      case 'PING':
        return `PING ${c.id}`;
      default:
        return c.type;
    }
  });
}
