/**
 * A session's terminal output as an asciicast v2 recording (https://docs.asciinema.org/manual/asciicast/v2/),
 * so `asciinema play` shows what the user saw, with the capture's timing: a header line, then one
 * JSON array per event — [seconds, "o", text] output, [seconds, "i", text] input, [seconds, "r",
 * "COLSxROWS"] resize. Pure: it is handed the session and each stream's bytes and returns the text.
 *
 * The bytes go into the recording as captured (escape sequences included): a player renders them,
 * execscope never writes them to a terminal. A TTY stream is what the terminal received. Without a
 * TTY nothing turned "\n" into "\r\n" (the terminal's line discipline would have), so that is done
 * here, and stdout and stderr each start on a line of their own instead of sharing one.
 */
import type { ExecSession, StreamEvent, StreamRecord } from '../model/session.js';
import { TextDecoder } from 'node:util';
import { safeInline } from '../report/terminal-text.js';

export interface AsciicastOptions {
  /** Also record what was typed (stdin) as "i" events. */
  stdin: boolean;
  /** Absolute time of the capture origin (ns since the epoch), for the header's timestamp. */
  originNs: bigint | null;
  /** Size used when the session carried no resize (a terminal's classic 80×24). */
  defaultSize?: { width: number; height: number };
}

export interface Asciicast {
  text: string;
  /** Output events written, and what could not be (events not kept, bytes not available). */
  events: number;
  notes: string[];
}

type CastEvent = [number, 'o' | 'i' | 'r', string];

interface Piece {
  ts: number;
  offset: number;
  code: 'o' | 'i';
  stream: StreamRecord;
  event: StreamEvent;
}

/** Output streams, and stdin when asked, as time-ordered pieces of their data events. */
function pieces(s: ExecSession, withStdin: boolean): Piece[] {
  const out: Piece[] = [];
  for (const r of s.streams) {
    const code = r.name === 'stdout' || r.name === 'stderr' ? 'o' : r.name === 'stdin' && withStdin ? 'i' : null;
    if (!code) continue;
    for (const e of r.events) if (e.kind === 'data' && e.length > 0) out.push({ ts: e.ts, offset: e.origin.offset, code, stream: r, event: e });
  }
  // One packet may complete several frames: they then keep their order on the wire.
  return out.sort((a, b) => a.ts - b.ts || a.offset - b.offset);
}

function seconds(ns: number): number {
  return Math.round(Math.max(0, ns) / 1e3) / 1e6;
}

/**
 * `bytes` holds each stream's payload from its first byte (what `extract` writes), keyed by the
 * stream's name; a stream whose bytes stop early ends the recording's use of it, with a note.
 */
export function asciicast(s: ExecSession, bytes: ReadonlyMap<string, Uint8Array>, opts: AsciicastOptions): Asciicast {
  const notes: string[] = [];
  const start = s.upgradeTs ?? s.startTs;
  const first = s.resizes[0];
  const size = first ?? opts.defaultSize ?? { width: 80, height: 24 };
  const header: Record<string, unknown> = { version: 2, width: size.width, height: size.height };
  if (opts.originNs !== null) header.timestamp = Math.floor(Number(opts.originNs / 1_000_000n) / 1e3 + start / 1e9);
  const who = [s.namespace, s.pod].filter(Boolean).join('/') || s.token || '?';
  header.title = safeInline(`#${s.id} ${who} ${s.command.join(' ')}`.trim(), 200);
  header.env = { TERM: s.tty ? 'xterm-256color' : 'dumb' };

  const events: CastEvent[] = [];
  const decoders = new Map<StreamRecord, TextDecoder>();
  let lineStart = true;
  let lastOutput: StreamRecord | null = null;
  const resizes = s.resizes.slice(first ? 1 : 0);
  let nextResize = 0;
  const short = new Set<StreamRecord>();
  for (const p of pieces(s, opts.stdin)) {
    while (nextResize < resizes.length && resizes[nextResize].ts <= p.ts) {
      const r = resizes[nextResize++];
      events.push([seconds(r.ts - start), 'r', `${r.width}x${r.height}`]);
    }
    const all = bytes.get(p.stream.name);
    const end = p.event.streamOffset + p.event.length;
    if (!all || all.length < end) {
      if (!short.has(p.stream)) notes.push(`${p.stream.name}: only the first ${all?.length ?? 0} B of ${p.stream.bytes} B were available`);
      short.add(p.stream);
      continue;
    }
    let decoder = decoders.get(p.stream);
    if (!decoder) decoders.set(p.stream, (decoder = new TextDecoder('utf-8')));
    // Streaming decode: a character split across two frames is still one character.
    let text = decoder.decode(all.subarray(p.event.streamOffset, end), { stream: true });
    if (text === '') continue;
    if (p.code === 'o' && !s.tty) {
      if (lastOutput && lastOutput !== p.stream && !lineStart) text = `\n${text}`;
      lastOutput = p.stream;
      lineStart = text.endsWith('\n');
      text = text.replace(/\r?\n/g, '\r\n');
    }
    events.push([seconds(p.ts - start), p.code, text]);
  }
  for (const r of resizes.slice(nextResize)) events.push([seconds(r.ts - start), 'r', `${r.width}x${r.height}`]);
  const dropped = s.streams.filter((r) => (r.name === 'stdout' || r.name === 'stderr' || (opts.stdin && r.name === 'stdin')) && r.eventsDropped > 0);
  for (const r of dropped) notes.push(`${r.name}: ${r.eventsDropped} later frames were not kept, so the recording stops before them`);
  const text = [JSON.stringify(header), ...events.map((e) => JSON.stringify(e))].join('\n') + '\n';
  return { text, events: events.length, notes };
}
