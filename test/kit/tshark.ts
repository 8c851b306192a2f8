/**
 * Wireshark's tshark as the tests' second opinion: our frame counts per WebSocket opcode and HTTP/2
 * frame type against its dissectors', and our field descriptions against its `-T pdml` tree (the
 * byte position and size of every field). Tests skip, with a line saying so, where it is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import type { CaptureModel } from '../../src/model/session.js';
import { http2FrameTypeName } from '../../src/http2/frame.js';
import { opcodeName } from '../../src/websocket/frame-header.js';

export const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20 });
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
