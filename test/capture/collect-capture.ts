import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import { copyPacket, type CaptureInfo, type InterfaceInfo, type PacketCopy } from '../../src/capture/packet.js';
import type { DecodeError } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';

/** Everything a CaptureDecoder reported, in order, with packet bytes copied out of the callbacks. */
export type CaptureEvent =
  | { kind: 'info'; info: CaptureInfo }
  | { kind: 'interface'; iface: InterfaceInfo }
  | { kind: 'packet'; packet: PacketCopy }
  | { kind: 'secrets'; secretsType: number; data: Uint8Array; fileOffset: number }
  | { kind: 'names'; entries: { address: string; names: string[] }[] }
  | { kind: 'stats'; interfaceId: number; stats: Record<string, bigint> }
  | { kind: 'problem'; problem: Problem };

export interface Decoded {
  events: CaptureEvent[];
  packets: PacketCopy[];
  error: DecodeError | null;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Decodes `bytes` pushed in pieces cut at `cuts` (sorted offsets), then end(). */
export function decodeWithCuts(bytes: Uint8Array, cuts: number[] = []): Decoded {
  const events: CaptureEvent[] = [];
  const decoder = new CaptureDecoder({
    onInfo: (info) => events.push({ kind: 'info', info }),
    onInterface: (iface) => events.push({ kind: 'interface', iface: { ...iface } }),
    onPacket: (p) => events.push({ kind: 'packet', packet: copyPacket(p) }),
    onSecrets: (secretsType, data, fileOffset) =>
      events.push({ kind: 'secrets', secretsType, data: data.slice(), fileOffset }),
    onNameResolution: (entries) => events.push({ kind: 'names', entries }),
    onInterfaceStats: (interfaceId, stats) => events.push({ kind: 'stats', interfaceId, stats }),
    onProblem: (problem) => events.push({ kind: 'problem', problem }),
  });
  let error: DecodeError | null = null;
  try {
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      // slice (not subarray): each chunk is its own buffer, as from a stream
      decoder.push(bytes.slice(from, cut));
      from = cut;
    }
    decoder.end();
  } catch (e) {
    error = e as DecodeError;
  }
  const packets = events.flatMap((e) => (e.kind === 'packet' ? [e.packet] : []));
  return { events, packets, error };
}

export function decodeInChunksOf(bytes: Uint8Array, size: number): Decoded {
  const cuts: number[] = [];
  for (let off = size; off < bytes.length; off += size) cuts.push(off);
  return decodeWithCuts(bytes, cuts);
}

/** A string equal for equal values, bytes and bigints included: quick to compare thousands of times. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Error) return v.message;
    return v;
  });
}
