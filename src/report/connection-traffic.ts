/**
 * A WebSocket or HTTP/2 connection's frames, messages and streams as text (`analyze --connections`,
 * the TUI's connection detail) and as JSON (`analyze --json`). Every captured field is neutralised.
 */
import type { Direction } from '../core/origin.js';
import type { Http2FrameEntry, Http2Traffic, WebSocketFrameEntry, WebSocketMessageEntry, WebSocketTraffic } from '../model/connection-traffic.js';
import { safeInline } from './terminal-text.js';

/** Frames, messages and streams printed per connection; JSON carries every kept entry. */
export const TRAFFIC_LINES_SHOWN = 40;
const PREVIEW_CHARS = 60;

const side = (dir: Direction) => (dir === 'c2s' ? 'client' : 'server');

/** "c2s 3 (text 1, ping 1, continuation 1)" */
function countsText(dir: Direction, counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  const total = entries.reduce((n, [, c]) => n + c, 0);
  return `${dir} ${total}${entries.length ? ` (${entries.map(([name, c]) => `${name} ${c}`).join(', ')})` : ''}`;
}

function more(shown: number, kept: number, dropped: number, what: string): string[] {
  const left = kept - shown + dropped;
  if (left <= 0) return [];
  return [`  … ${left} more ${what}${dropped ? ` (${dropped} not kept; --json lists the first ${kept})` : ' (--json lists all)'}`];
}

/** A message's first bytes: text as text, binary as hex. */
function messagePreview(m: WebSocketMessageEntry): string {
  if (m.head.length === 0) return '';
  if (m.opcode === 'text') {
    const text = safeInline(Buffer.from(m.head).toString('utf8'), PREVIEW_CHARS);
    return `"${text}${m.bytes > m.head.length && !text.endsWith('…') ? '…' : ''}"`;
  }
  const hexBytes = PREVIEW_CHARS / 2;
  return `${Buffer.from(m.head.subarray(0, hexBytes)).toString('hex')}${m.bytes > hexBytes ? '…' : ''}`;
}

function closeText(code: number | null | undefined, reason: string | undefined): string {
  return `${code ?? 'no code'}${reason ? ` "${safeInline(reason, PREVIEW_CHARS)}"` : ''}`;
}

function frameLine(f: WebSocketFrameEntry): string {
  const bits = [f.fin ? 'FIN' : 'no FIN', f.rsv1 ? 'RSV1' : '', f.masked ? 'masked' : ''].filter(Boolean).join(' ');
  const close = f.opcode === 'close' && (f.closeCode !== undefined || f.closeReason) ? ` · ${closeText(f.closeCode, f.closeReason)}` : '';
  return `  packet ${f.origin.packet} ${f.dir} ${f.opcode} ${bits} · ${f.length} B${close}`;
}

function messageLine(m: WebSocketMessageEntry): string {
  const parts = [
    `${m.bytes} B`,
    m.frames > 1 ? `in ${m.frames} fragments` : '',
    m.compressed ? 'compressed' : '',
    m.lost ? `${m.lost} B lost` : '',
    m.complete ? '' : 'incomplete',
  ].filter(Boolean);
  return `  packet ${m.origin.packet} ${m.dir} ${m.opcode} ${parts.join(', ')} ${messagePreview(m)}`.trimEnd();
}

export function webSocketLines(t: WebSocketTraffic): string[] {
  const d = t.deflate;
  const deflate = d
    ? `permessage-deflate (${[
        `server window ${d.serverMaxWindowBits ?? 15} bits`,
        `client window ${d.clientMaxWindowBits ?? 15} bits`,
        d.serverNoContextTakeover ? 'server no context takeover' : '',
        d.clientNoContextTakeover ? 'client no context takeover' : '',
      ].filter(Boolean).join(', ')})`
    : 'no extension';
  const lines = [
    `WebSocket ${safeInline(t.target, 80)} · ${t.subprotocol ? `subprotocol ${safeInline(t.subprotocol)}` : 'no subprotocol'} · ${deflate}`,
    `frames ${countsText('c2s', t.frameCounts.c2s)} · ${countsText('s2c', t.frameCounts.s2c)}`,
  ];
  const closes = (['c2s', 's2c'] as const).filter((dir) => t.close[dir]).map((dir) => `${side(dir)} closed ${closeText(t.close[dir]!.code, t.close[dir]!.reason)} (packet ${t.close[dir]!.packet})`);
  if (closes.length) lines.push(closes.join(' · '));
  if (t.sessionId !== null) lines.push(`messages: the streams of exec session #${t.sessionId}`);
  else if (t.messages.length) {
    lines.push(`messages`);
    const shown = t.messages.slice(0, TRAFFIC_LINES_SHOWN);
    lines.push(...shown.map(messageLine), ...more(shown.length, t.messages.length, t.messagesDropped, 'messages'));
  }
  if (t.frames.length) {
    lines.push('frames');
    const shown = t.frames.slice(0, TRAFFIC_LINES_SHOWN);
    lines.push(...shown.map(frameLine), ...more(shown.length, t.frames.length, t.framesDropped, 'frames'));
  }
  return lines;
}

export function http2Lines(t: Http2Traffic): string[] {
  const lines = [`HTTP/2 frames ${countsText('c2s', t.frameCounts.c2s)} · ${countsText('s2c', t.frameCounts.s2c)}`];
  const streams = t.streams.slice(0, TRAFFIC_LINES_SHOWN);
  for (const s of streams) {
    const request = s.method || s.path ? `${safeInline(s.method || '?')} ${safeInline(s.path || '?', 80)}` : '(no request seen)';
    const parts = [
      `${request} → ${s.status ?? '—'}`,
      s.grpc ? `gRPC ${s.grpc.statusName ?? 'no status'}${s.grpc.message ? ` "${safeInline(s.grpc.message, PREVIEW_CHARS)}"` : ''}` : '',
      s.headerFrames > 1 ? `headers in ${s.headerFrames} frames` : '',
      `data ${s.dataBytes.c2s}/${s.dataBytes.s2c} B`,
      s.reset ? `reset by the ${side(s.reset.dir)}: ${s.reset.error}` : s.ended.c2s && s.ended.s2c ? 'ended' : s.ended.c2s ? 'client ended' : s.ended.s2c ? 'server ended' : 'open',
    ].filter(Boolean);
    lines.push(`stream ${s.id} ${parts.join(' · ')}`);
  }
  lines.push(...more(streams.length, t.streams.length, t.streamsDropped, 'streams'));
  const goaways = t.goaways.slice(0, TRAFFIC_LINES_SHOWN);
  for (const g of goaways) lines.push(`GOAWAY by the ${side(g.dir)} (packet ${g.packet}): ${g.error}, last stream ${g.lastStreamId}${g.debug ? ` "${safeInline(g.debug, PREVIEW_CHARS)}"` : ''}`);
  lines.push(...more(goaways.length, t.goaways.length, t.goawaysDropped, 'GOAWAYs'));
  if (t.frames.length) {
    lines.push('frames');
    const shown = t.frames.slice(0, TRAFFIC_LINES_SHOWN);
    lines.push(
      ...shown.map((f) => `  packet ${f.origin.packet} ${f.dir} ${f.type}${f.streamId ? ` stream ${f.streamId}` : ''}${f.flags ? ` ${f.flags}` : ''} · ${f.length} B`),
      ...more(shown.length, t.frames.length, t.framesDropped, 'frames'),
    );
  }
  return lines;
}

/** A listed entry in JSON: where it lies is its packet and stream offset. */
type Placed<Entry> = Omit<Entry, 'origin'> & { packet: number; offset: number };

/**
 * The JSON of a WebSocket connection: message heads as text (text messages) or hex (binary).
 *
 * Each entry is one object literal, an absent field `undefined` (which JSON leaves out): built with
 * rest and spread (`({ origin, ...f }) => ({ ...f, packet, offset })`), every entry got a hidden
 * class of its own, allocated in V8's old generation: writing the 2000 connections of the bench's
 * typing capture left ~10 MB of them there (no full collection comes before the process ends).
 */
export function webSocketJson({ tunnelCarriers: _carriers, ...t }: WebSocketTraffic): object {
  return {
    ...t,
    frames: t.frames.map((f): Placed<WebSocketFrameEntry> => ({
      dir: f.dir,
      opcode: f.opcode,
      fin: f.fin,
      rsv1: f.rsv1,
      masked: f.masked,
      length: f.length,
      closeCode: f.closeCode,
      closeReason: f.closeReason,
      packet: f.origin.packet,
      offset: f.origin.offset,
    })),
    messages: t.messages.map((m): Placed<Omit<WebSocketMessageEntry, 'head'>> & { head?: string; headHex?: string } => ({
      dir: m.dir,
      opcode: m.opcode,
      frames: m.frames,
      bytes: m.bytes,
      compressed: m.compressed,
      complete: m.complete,
      lost: m.lost,
      packet: m.origin.packet,
      offset: m.origin.offset,
      head: m.opcode === 'text' ? Buffer.from(m.head).toString('utf8') : undefined,
      headHex: m.opcode === 'text' ? undefined : Buffer.from(m.head).toString('hex'),
    })),
  };
}

export function http2Json(t: Http2Traffic): object {
  return {
    ...t,
    frames: t.frames.map((f): Placed<Http2FrameEntry> => ({ dir: f.dir, type: f.type, flags: f.flags, streamId: f.streamId, length: f.length, packet: f.origin.packet, offset: f.origin.offset })),
  };
}
