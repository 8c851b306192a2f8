/**
 * Wireshark's tshark as the tests' second opinion: our frame counts per WebSocket opcode and HTTP/2
 * frame type against its dissectors', and our field descriptions against its `-T pdml` tree (the
 * byte position and size of every field). Tests skip, with a line saying so, where it is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import type { CaptureModel } from '../../src/model/session.js';
import { http2FrameTypeName } from '../../src/http2/frame.js';
import { opcodeName } from '../../src/websocket/frame-header.js';

export const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore', timeout: 60_000 }).status === 0;

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20, timeout: 120_000 });
}

/** Frame counts keyed `websocket binary`, `http2 HEADERS`…: what a capture's connections list. */
export type FrameCounts = Record<string, number>;

/** Our counts over every connection of the model. */
export function ourFrameCounts(model: CaptureModel): FrameCounts {
  const out: FrameCounts = {};
  const add = (byDir: Record<string, Record<string, number>> | undefined, prefix: string) => {
    for (const counts of Object.values(byDir ?? {})) for (const [k, n] of Object.entries(counts)) out[prefix + k] = (out[prefix + k] ?? 0) + n;
  };
  for (const c of model.connections) {
    add(c.websocket?.frameCounts, 'websocket ');
    add(c.http2?.frameCounts, 'http2 ');
  }
  return out;
}

/**
 * tshark's counts of the same, named with our names. `decodeAs` (`-d tcp.port==N,http` pairs) names
 * the servers on ports tshark does not know.
 */
export function tsharkFrameCounts(path: string, decodeAs: readonly string[] = []): FrameCounts {
  const out: FrameCounts = {};
  for (const [filter, field, nameOf] of [['websocket', 'websocket.opcode', opcodeName], ['http2', 'http2.type', http2FrameTypeName]] as const) {
    for (const v of tshark(['-r', path, ...decodeAs, '-Y', filter, '-T', 'fields', '-e', field]).split(/[\n,]/).filter(Boolean)) {
      const key = `${filter} ${nameOf(Number(v))}`;
      out[key] = (out[key] ?? 0) + 1;
    }
  }
  return out;
}

/** The `-d tcp.port==N,PROTO` arguments that name each plaintext WebSocket (as http) and HTTP/2 server of the model for tshark. */
export function decodeAsFor(model: CaptureModel): string[] {
  const out: string[] = [];
  for (const c of model.connections) {
    const port = c.server.slice(c.server.lastIndexOf(':') + 1);
    if (c.websocket && !c.tls) out.push('-d', `tcp.port==${port},http`);
    if (c.http2 && !c.tls) out.push('-d', `tcp.port==${port},http2`);
  }
  return out;
}

export interface PdmlField {
  /** Byte position in the data source tshark shows the field in (the frame, or a decompressed/reassembled buffer). */
  pos: number;
  size: number;
  show: string;
}

/** tshark's fields of one frame by name, in order (a name such as tcp.options.nop may repeat), from `-T pdml`. */
export function pdmlFields(path: string, frame: number, extraArgs: readonly string[] = []): Map<string, PdmlField[]> {
  const xml = tshark(['-r', path, ...extraArgs, '-Y', `frame.number == ${frame}`, '-T', 'pdml']);
  const out = new Map<string, PdmlField[]>();
  for (const m of xml.matchAll(/<field name="([a-z0-9_.]+)"[^>]*?size="(\d+)" pos="(\d+)" show="([^"]*)"/g)) {
    const list = out.get(m[1]) ?? [];
    list.push({ size: Number(m[2]), pos: Number(m[3]), show: unescapeXml(m[4]) });
    out.set(m[1], list);
  }
  return out;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}

/** Frame numbers tshark's display filter selects, and the values of `fields` in each. */
export function tsharkRows(path: string, filter: string, fields: readonly string[], extraArgs: readonly string[] = []): string[][] {
  return tshark(['-r', path, ...extraArgs, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
}

/** One TLS record of one direction as tshark dissects it. */
export interface TsharkTlsRecord {
  /** The record (header included) in the direction's TCP stream, from tshark's relative sequence numbers. */
  offset: number;
  length: number;
  /** With keys, the inner content type (23 application_data). */
  contentType: number;
  /** Its decrypted content in the direction's application data (application_data records only; -1 for others). */
  plaintextOffset: number;
  plaintextLength: number;
  /** The frames whose TCP segments held its bytes. */
  frames: number[];
}

/**
 * Every TLS record of the direction `srcPort → dstPort`, in order, with where tshark's decryption
 * (`extraArgs`: `-o tls.keylog_file:K`; a pcapng's DSBs are read by themselves) puts its plaintext:
 * the record lengths and inner content types of each frame (`-T fields`) and the decrypted size of
 * each record (`-x`: one "Decrypted TLS (N bytes)" buffer per record, in the frame's order).
 */
export function tsharkTlsRecords(path: string, srcPort: number, dstPort: number, extraArgs: readonly string[] = []): TsharkTlsRecord[] {
  const filter = `tcp.srcport == ${srcPort} && tcp.dstport == ${dstPort} && tcp.len > 0 && !tcp.analysis.retransmission`;
  const rows = tsharkRows(path, filter, ['frame.number', 'tcp.seq', 'tcp.len', 'tls.record.length', 'tls.record.content_type'], [...extraArgs, '-E', 'occurrence=a']);
  // One dump per frame, separated by an empty line (its data sources, when several, follow each other headed).
  const dumps = tshark(['-r', path, ...extraArgs, '-Y', filter, '-x']).split(/\n\s*\n/).filter((d) => d.trim());
  if (dumps.length !== rows.length) throw new Error(`tshark gave ${rows.length} frames of fields but ${dumps.length} hex dumps`);
  const segments = rows.map(([frame, seq, len]) => ({ frame: Number(frame), start: Number(seq) - 1, end: Number(seq) - 1 + Number(len) }));
  const out: TsharkTlsRecord[] = [];
  let offset = 0;
  let plaintext = 0;
  for (const [i, row] of rows.entries()) {
    const lengths = row[3] ? row[3].split(',').map(Number) : [];
    const types = row[4] ? row[4].split(',').map(Number) : [];
    const decrypted = [...dumps[i].matchAll(/^Decrypted TLS \((\d+) bytes\):/gm)].map((m) => Number(m[1]));
    // Records sent in clear (hellos, ChangeCipherSpec) come before a frame's encrypted ones, which each have a buffer
    // (TLS 1.3's encrypted handshake records too): the buffers are those of the frame's last records but ChangeCipherSpecs.
    let clear = lengths.filter((_, k) => types[k] !== 20).length - decrypted.length;
    let d = 0;
    for (const [k, bodyLength] of lengths.entries()) {
      const length = 5 + bodyLength;
      const contentType = types[k];
      const size = contentType === 20 || clear-- > 0 ? 0 : decrypted[d++];
      const application = contentType === 23;
      const frames = segments.filter((s) => s.start < offset + length && offset < s.end).map((s) => s.frame);
      out.push({ offset, length, contentType, plaintextOffset: application ? plaintext : -1, plaintextLength: application ? size : 0, frames });
      if (application) plaintext += size;
      offset += length;
    }
  }
  return out;
}

/** An HTTP head or a WebSocket frame of one direction, as tshark dissects it. */
export interface TsharkStreamUnit {
  proto: 'http' | 'websocket';
  /** The HTTP head's bytes; a WebSocket frame's header (masking key included). */
  headerLength: number;
  /** A WebSocket frame's payload as its header declares it; 0 for an HTTP head. */
  payloadLength: number;
  /** A WebSocket frame's opcode; -1 for an HTTP head. */
  opcode: number;
}

/**
 * The HTTP heads and WebSocket frames of the direction `srcPort → dstPort`, in the order tshark
 * dissects them (`-T pdml`: each protocol element's size is what it spans, a frame's `websocket.payload`
 * its payload): laid end to end they tile the direction's stream (TCP, or decrypted with `extraArgs`).
 */
export function tsharkStreamUnits(path: string, srcPort: number, dstPort: number, extraArgs: readonly string[] = []): TsharkStreamUnit[] {
  const filter = `tcp.srcport == ${srcPort} && tcp.dstport == ${dstPort} && (http || websocket) && !tcp.analysis.retransmission`;
  const xml = tshark(['-r', path, ...extraArgs, '-Y', filter, '-T', 'pdml']);
  const out: TsharkStreamUnit[] = [];
  // Each protocol element to the next one; its own fields lie in between.
  const protos = [...xml.matchAll(/<proto name="([a-z0-9_.-]+)"[^>]*?size="(\d+)"/g)];
  for (const [i, m] of protos.entries()) {
    const proto = m[1];
    if (proto !== 'http' && proto !== 'websocket') continue;
    if (proto === 'http') {
      out.push({ proto, headerLength: Number(m[2]), payloadLength: 0, opcode: -1 });
      continue;
    }
    const body = xml.slice(m.index, protos[i + 1]?.index ?? xml.length);
    const opcode = /<field name="websocket\.opcode"[^>]*?show="(\d+)"/.exec(body);
    const payload = /<field name="websocket\.payload"[^>]*?size="(\d+)"/.exec(body);
    out.push({ proto, headerLength: Number(m[2]), payloadLength: payload ? Number(payload[1]) : 0, opcode: Number(opcode?.[1] ?? -1) });
  }
  return out;
}

/** The records holding any of the decrypted ranges [a, b), and the frames that carried them. */
export function holdingRecords(records: readonly TsharkTlsRecord[], ranges: readonly [number, number][]) {
  const holding = records.filter((r) => r.plaintextLength > 0 && ranges.some(([a, b]) => r.plaintextOffset < b && a < r.plaintextOffset + r.plaintextLength));
  return { holding, frames: [...new Set(holding.flatMap((r) => r.frames))].sort((x, y) => x - y) };
}

/** A WebSocket data frame: where it lies in the decrypted stream, and which tunnelled bytes its payload holds. */
export interface TsharkTunnelFrame {
  offset: number;
  length: number;
  payloadOffset: number;
  payloadLength: number;
  tunnelOffset: number;
}

/**
 * A connection tunnelled in the WebSocket data frames of direction `srcPort → dstPort` (kubectl's
 * port-forward SPDY), as tshark has it: over TLS its records, over TCP its data segments, and its HTTP
 * head and frames laid end to end from the direction's first (decrypted) byte, each data frame with the
 * tunnel offset of its payload. Throws when the heads and frames do not tile the bytes (tshark missed
 * one). `plainServerPort`: over TCP, the server's port, for tshark to read it as HTTP.
 */
export function tsharkTunnel(path: string, srcPort: number, dstPort: number, plainServerPort?: number) {
  const tls = plainServerPort === undefined;
  const decodeAs = tls ? [] : ['-d', `tcp.port==${plainServerPort},http`];
  const records = tls ? tsharkTlsRecords(path, srcPort, dstPort) : [];
  const segments = tls
    ? []
    : tsharkRows(path, `tcp.srcport == ${srcPort} && tcp.dstport == ${dstPort} && tcp.len > 0 && !tcp.analysis.retransmission`, ['frame.number', 'tcp.seq', 'tcp.len']).map(([frame, seq, len]) => ({ frame: Number(frame), start: Number(seq) - 1, end: Number(seq) - 1 + Number(len) }));
  const frames: TsharkTunnelFrame[] = [];
  let at = 0;
  let tunnel = 0;
  for (const u of tsharkStreamUnits(path, srcPort, dstPort, decodeAs)) {
    const length = u.headerLength + u.payloadLength;
    // Data frames (continuation, text, binary) carry the tunnel; control frames do not.
    if (u.proto === 'websocket' && u.opcode <= 2) {
      frames.push({ offset: at, length, payloadOffset: at + u.headerLength, payloadLength: u.payloadLength, tunnelOffset: tunnel });
      tunnel += u.payloadLength;
    }
    at += length;
  }
  const bytes = tls ? records.reduce((n, r) => n + r.plaintextLength, 0) : segments.reduce((n, g) => n + g.end - g.start, 0);
  if (at !== bytes) throw new Error(`tshark's heads and frames span ${at} bytes of ${bytes}`);
  return { tls, records, segments, frames };
}

/** The tunnelled bytes [offset, offset + length): the data frames whose payload held them, the records holding those pieces, and their frames. */
export function tunnelledCarriers(t: ReturnType<typeof tsharkTunnel>, offset: number, length: number) {
  const end = offset + length;
  const frames = t.frames.filter((f) => f.tunnelOffset < end && offset < f.tunnelOffset + f.payloadLength);
  const ranges = frames.map((f): [number, number] => [f.payloadOffset + Math.max(0, offset - f.tunnelOffset), f.payloadOffset + Math.min(f.payloadLength, end - f.tunnelOffset)]);
  if (!t.tls) return { frames, holding: [], packets: t.segments.filter((g) => ranges.some(([a, b]) => g.start < b && a < g.end)).map((g) => g.frame) };
  const { holding, frames: packets } = holdingRecords(t.records, ranges);
  return { frames, holding, packets };
}
