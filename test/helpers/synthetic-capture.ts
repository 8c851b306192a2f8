import { createHash } from 'node:crypto';
/** Builds pcap bytes from synthetic Ethernet frames and runs them through the whole pipeline. */
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import type { CaptureModel } from '../../src/model/session.js';
import { CaptureAnalyzer } from '../../src/pipeline/capture-analyzer.js';
import { analyzeOptions, type AnalyzeOptions } from '../../src/pipeline/options.js';

export const T0 = 1_795_000_000_000_000_000n;

/** One pcap with a packet per frame, 1 ms apart (or at the given times, ns after T0). */
export function pcapOf(frames: Uint8Array[], times?: number[]): Uint8Array {
  const w = new PcapWriter();
  const parts = [w.header(1, { nanos: true })];
  frames.forEach((f, i) => parts.push(w.packet(T0 + BigInt(times?.[i] ?? i * 1_000_000), f)));
  return Buffer.concat(parts);
}

export function analyzeBytes(bytes: Uint8Array, opts: Partial<AnalyzeOptions> = {}, chunk = 1 << 20): CaptureModel {
  const a = new CaptureAnalyzer(analyzeOptions({ hash: true, hasher: new InlineStreamHasher(), ...opts }));
  for (let at = 0; at < bytes.length; at += chunk) a.push(bytes.subarray(at, at + chunk));
  a.end();
  return a.model;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
