/**
 * What the WebSocket layers reported, read from the kit's generic SinkRecorder (which records every
 * call, copying the transient buffers): frames, messages, channel data and their whole units.
 */
import type { Direction, FrameOrigin, StreamOrigin } from '../../src/core/origin.js';
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
import { latin1, SinkRecorder } from '../kit/sink-recorder.js';

export { latin1 };

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

/** The frame decoder's calls as records (a frame told whole as the start, payload and end it stands for), and its whole frames. */
export class FrameRecorder extends SinkRecorder<WebSocketFrameSink> {
  get events(): FrameRecord[] {
    return this.calls.flatMap((c): FrameRecord[] => {
      const [a, b, o, f] = c.args as [never, never, never, never];
      switch (c.on) {
        case 'onWholeFrame':
          return [
            { ev: 'start', h: a },
            { ev: 'payload', data: latin1(b as Uint8Array), origin: o },
            { ev: 'end', opcode: (a as WebSocketFrameHeader).opcode, frame: f },
          ];
        case 'onFrameStart':
          return [{ ev: 'start', h: a }];
        case 'onPayload':
          return [{ ev: 'payload', data: latin1(a as Uint8Array), origin: b }];
        case 'onPayloadLost':
          return [{ ev: 'lost', offset: a, length: b }];
        case 'onFrameEnd':
          return [{ ev: 'end', opcode: (a as WebSocketFrameHeader).opcode, frame: b }];
        case 'onSyncLost':
          return [{ ev: 'syncLost', offset: a }];
        case 'onStreamEnd':
          return [{ ev: 'streamEnd' }];
        default:
          return [];
      }
    });
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

/** A recorded event with its piece (recorded as the range's bytes alone) as text. */
type WithText<T extends { bytes: Uint8Array }> = Omit<T, 'bytes' | 'start' | 'end'> & { data: string };
const withText = <T extends { bytes: Uint8Array }>({ bytes, ...ev }: T): WithText<T> => {
  const { start: _start, end: _end, ...rest } = ev as T & { start?: number; end?: number };
  return { ...rest, data: latin1(bytes) } as WithText<T>;
};

/** The message assembler's calls by kind, and its whole messages. */
export class MessageRecorder extends SinkRecorder<WebSocketMessageSink> {
  get data(): WithText<WebSocketMessageData>[] {
    return this.eventsOf<WebSocketMessageData>('onMessageData').map(withText);
  }
  get lost(): WebSocketMessageLoss[] {
    return this.eventsOf('onMessageLost');
  }
  get controls(): WebSocketControlEvent[] {
    return this.eventsOf('onControl');
  }
  get frames(): WebSocketFrameEvent[] {
    return this.eventsOf('onFrame');
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

/** The channel decoder's calls by kind, per channel streams and whole channel messages. */
export class ChannelRecorder extends SinkRecorder<ChannelSink> {
  get data(): WithText<ChannelDataEvent>[] {
    return this.eventsOf<ChannelDataEvent>('onChannelData').map(withText);
  }
  get closes(): ChannelCloseEvent[] {
    return this.eventsOf('onChannelClose');
  }
  get controls(): WebSocketControlEvent[] {
    return this.eventsOf('onControl');
  }
  get frames(): WebSocketFrameEvent[] {
    return this.eventsOf('onFrame');
  }
  get gaps(): ChannelGapEvent[] {
    return this.eventsOf('onChannelGap');
  }
  get tunnel(): { dir: Direction; data: string; origin: StreamOrigin; tunnelOffset: number }[] {
    return this.args('onTunnelData').map(([dir, data, origin, tunnelOffset]) => ({ dir: dir as Direction, data: latin1(data as Uint8Array), origin: origin as StreamOrigin, tunnelOffset: tunnelOffset as number }));
  }
  get tunnelGaps(): { dir: Direction; tunnelOffset: number; length: number }[] {
    return this.args('onTunnelGap').map(([dir, tunnelOffset, length]) => ({ dir: dir as Direction, tunnelOffset: tunnelOffset as number, length: length as number }));
  }

  /** Closes, controls and gaps in arrival order, for comparing whole runs. */
  get log(): string[] {
    return this.calls.flatMap((c) => {
      if (c.on === 'onChannelClose') {
        const ev = c.args[0] as ChannelCloseEvent;
        return [`close ${ev.dir} ch${ev.channel}`];
      }
      if (c.on === 'onControl') {
        const ev = c.args[0] as WebSocketControlEvent;
        return [`control ${ev.dir} ${ev.kind} ${ev.code ?? ''} ${ev.reason ?? ''} ${ev.payloadLength}`];
      }
      if (c.on === 'onChannelGap') {
        const ev = c.args[0] as ChannelGapEvent;
        return [`gap ${ev.dir} ch${ev.channel} ${ev.length}`];
      }
      return [];
    });
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
