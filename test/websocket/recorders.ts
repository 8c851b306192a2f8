/** Test sinks that record what the WebSocket layers report (copying the transient buffers). */
import type { Direction, FrameOrigin, StreamOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import type { WebSocketFrameHeader, WebSocketFrameSink } from '../../src/websocket/frame-decoder.js';
import type {
  WebSocketControlEvent,
  WebSocketFrameEvent,
  WebSocketMessageData,
  WebSocketMessageLoss,
  WebSocketMessageSink,
} from '../../src/websocket/message-assembler.js';
import type {
  ChannelCloseEvent,
  ChannelDataEvent,
  ChannelGapEvent,
  ChannelSink,
} from '../../src/websocket/channel-protocol.js';

export function bytes(...parts: (Uint8Array | number[] | string)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : p instanceof Uint8Array ? p : new Uint8Array(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** Bytes as a latin1 string: cheap to compare, readable for ASCII. */
export function latin1(data: Uint8Array | number[]): string {
  const buf = data instanceof Uint8Array ? Buffer.from(data.buffer, data.byteOffset, data.length) : Buffer.from(data);
  return buf.toString('latin1');
}

export function origin(offset: number, length: number, packet = 1, ts = 0): StreamOrigin {
  return { offset, length, packet, ts };
}

/** Pushes `stream` in chunks cut at `cuts` (stream offsets); chunk k is packet k+1 at ts (k+1)*1000. */
export function pushSplit(push: (data: Uint8Array, o: StreamOrigin) => void, stream: Uint8Array, cuts: number[], base = 0): void {
  const points = [0, ...cuts.filter((c) => c > 0 && c < stream.length), stream.length];
  for (let k = 0; k + 1 < points.length; k++) {
    const chunk = stream.slice(points[k], points[k + 1]);
    push(chunk, origin(base + points[k], chunk.length, k + 1, (k + 1) * 1000));
  }
}

export type FrameRecord =
  | { ev: 'start'; h: WebSocketFrameHeader }
  | { ev: 'payload'; data: string; origin: StreamOrigin }
  | { ev: 'lost'; offset: number; length: number }
  | { ev: 'end'; opcode: number; frame: FrameOrigin }
  | { ev: 'syncLost'; offset: number }
  | { ev: 'streamEnd' };

export class FrameRecorder implements WebSocketFrameSink {
  events: FrameRecord[] = [];
  problems: Problem[] = [];
  onFrameStart(h: WebSocketFrameHeader): void {
    this.events.push({ ev: 'start', h });
  }
  onPayload(piece: Uint8Array, o: StreamOrigin): void {
    this.events.push({ ev: 'payload', data: latin1(piece), origin: o });
  }
  onPayloadLost(offset: number, length: number): void {
    this.events.push({ ev: 'lost', offset, length });
  }
  onFrameEnd(h: WebSocketFrameHeader, frame: FrameOrigin): void {
    this.events.push({ ev: 'end', opcode: h.opcode, frame });
  }
  onSyncLost(offset: number): void {
    this.events.push({ ev: 'syncLost', offset });
  }
  onStreamEnd(): void {
    this.events.push({ ev: 'streamEnd' });
  }
  onProblem(p: Problem): void {
    this.problems.push(p);
  }
  /** Per completed frame: opcode and whole (unmasked) payload. */
  frames(): { opcode: number; fin: boolean; payload: string }[] {
    const out: { opcode: number; fin: boolean; payload: string }[] = [];
    let cur: { opcode: number; fin: boolean; payload: string } | null = null;
    for (const e of this.events) {
      if (e.ev === 'start') cur = { opcode: e.h.opcode, fin: e.h.fin, payload: '' };
      else if (e.ev === 'payload') cur!.payload += e.data;
      else if (e.ev === 'end') out.push(cur!);
    }
    return out;
  }
}

export class MessageRecorder implements WebSocketMessageSink {
  data: (Omit<WebSocketMessageData, 'data'> & { data: string })[] = [];
  lost: WebSocketMessageLoss[] = [];
  controls: WebSocketControlEvent[] = [];
  frames: WebSocketFrameEvent[] = [];
  problems: Problem[] = [];
  onMessageData(ev: WebSocketMessageData): void {
    this.data.push({ ...ev, data: latin1(ev.data) });
  }
  onMessageLost(ev: WebSocketMessageLoss): void {
    this.lost.push(ev);
  }
  onControl(ev: WebSocketControlEvent): void {
    this.controls.push(ev);
  }
  onFrame(ev: WebSocketFrameEvent): void {
    this.frames.push(ev);
  }
  onProblem(p: Problem): void {
    this.problems.push(p);
  }
  /** Whole messages, reassembled from the pieces (checks first/last bracketing). */
  messages(): { opcode: number; data: string }[] {
    const out: { opcode: number; data: string }[] = [];
    let cur: string | null = null;
    for (const d of this.data) {
      if (d.first) {
        if (cur !== null) throw new Error('message started before the previous one ended');
        cur = '';
      }
      if (cur === null) throw new Error('piece outside a message');
      cur += d.data;
      if (d.last) {
        out.push({ opcode: d.opcode, data: cur });
        cur = null;
      }
    }
    return out;
  }
}

export class ChannelRecorder implements ChannelSink {
  data: (Omit<ChannelDataEvent, 'data'> & { data: string })[] = [];
  closes: ChannelCloseEvent[] = [];
  controls: WebSocketControlEvent[] = [];
  frames: WebSocketFrameEvent[] = [];
  gaps: ChannelGapEvent[] = [];
  tunnel: { dir: Direction; data: string; origin: StreamOrigin; tunnelOffset: number }[] = [];
  tunnelGaps: { dir: Direction; tunnelOffset: number; length: number }[] = [];
  problems: Problem[] = [];
  /** Every event in arrival order, for comparing whole runs. */
  log: string[] = [];
  onChannelData(ev: ChannelDataEvent): void {
    this.data.push({ ...ev, data: latin1(ev.data) });
  }
  onChannelClose(ev: ChannelCloseEvent): void {
    this.closes.push(ev);
    this.log.push(`close ${ev.dir} ch${ev.channel}`);
  }
  onControl(ev: WebSocketControlEvent): void {
    this.controls.push(ev);
    this.log.push(`control ${ev.dir} ${ev.kind} ${ev.code ?? ''} ${ev.reason ?? ''} ${ev.payloadLength}`);
  }
  onFrame(ev: WebSocketFrameEvent): void {
    this.frames.push(ev);
  }
  onChannelGap(ev: ChannelGapEvent): void {
    this.gaps.push(ev);
    this.log.push(`gap ${ev.dir} ch${ev.channel} ${ev.length}`);
  }
  onTunnelData(dir: Direction, data: Uint8Array, o: StreamOrigin, tunnelOffset: number): void {
    this.tunnel.push({ dir, data: latin1(data), origin: o, tunnelOffset });
  }
  onTunnelGap(dir: Direction, tunnelOffset: number, length: number): void {
    this.tunnelGaps.push({ dir, tunnelOffset, length });
  }
  onProblem(p: Problem): void {
    this.problems.push(p);
  }
  /** Concatenated payload per "dir ch" key. */
  streams(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of this.data) out[`${d.dir} ${d.channel}`] = (out[`${d.dir} ${d.channel}`] ?? '') + d.data;
    return out;
  }
  /** Whole channel messages (checks messageFirst/messageLast bracketing per direction). */
  messages(): string[] {
    const out: string[] = [];
    const cur: Partial<Record<Direction, { ch: number; bytes: string; port?: number } | null>> = {};
    for (const d of this.data) {
      if (d.messageFirst) {
        if (cur[d.dir]) throw new Error(`${d.dir}: message started before the previous one ended`);
        cur[d.dir] = { ch: d.channel, bytes: '', port: d.port };
      }
      const c = cur[d.dir];
      if (!c) throw new Error(`${d.dir}: piece outside a message`);
      if (c.ch !== d.channel) throw new Error('channel changed inside a message');
      c.bytes += d.data;
      if (d.messageLast) {
        out.push(`${d.dir} ch${c.ch}${d.port !== undefined ? ` port ${d.port}` : ''} ${JSON.stringify(c.bytes)}`);
        cur[d.dir] = null;
      }
    }
    return out;
  }
}
