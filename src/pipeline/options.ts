import type { RecorderOptions } from '../k8s/stream-recorder.js';
import type { Direction } from '../core/origin.js';
import { defaultRecorderOptions } from '../k8s/stream-recorder.js';
import type { TlsKeyLog } from '../tls/key-log.js';

export interface StreamTap {
  session: number;
  stream: string;
  /** Only the bytes going this way (a port-forward data stream carries both); absent: all. */
  dir?: Direction;
  write(bytes: Uint8Array): void;
}

export interface AnalyzeOptions extends RecorderOptions {
  /** sha256 every stream (on a worker thread unless a hasher is given). */
  hash: boolean;
  /** NSS key log text(s) for TLS decryption, with where each came from. */
  keyLogs: { text: string; source: string }[];
  /** A key log fed from outside while the capture is read (a followed key-log file); keyLogs are added to it. */
  keys?: TlsKeyLog;
  /** Receives the exact payload bytes of one stream (execscope extract). */
  tap: StreamTap | null;
  /** Added to every packet's time (ns): lines a capture's clock up with another's when several are merged. */
  clockShiftNs: number;
  /**
   * Packet time TCP reassembly waits for segments stored out of order (per-CPU buffers of eBPF
   * capture tools) before it declares acknowledged bytes lost or applies a reset; 0 for a capture
   * source that writes in order (tcpdump in `execscope live`), so nothing waits for a later packet.
   */
  reorderHoldNs: number;
  /** Ended plain-HTTP connections listed before later ones are only counted (connection-listing.ts); default 10,000. */
  plainConnectionsListed?: number;
  /**
   * Ended connections held in memory with their sessions before later ones move to a private
   * temporary file (ended-records.ts), so that memory stays bounded whatever the capture's size: the
   * CLI's reports set it. Absent, every record stays in the model's lists (the TUI and `live` read
   * them as the model grows); ignored with `hash`, whose digests arrive after the streams end.
   */
  endedConnectionsHeld?: number;
  /** Entries of the capture's TLS record and tunnel logs (core/carrier-log.ts, 16 bytes each); default 2,097,152 (32 MiB). */
  carrierLogEntries?: number;
}

export function analyzeOptions(partial: Partial<AnalyzeOptions> = {}): AnalyzeOptions {
  return { ...defaultRecorderOptions, hash: false, keyLogs: [], tap: null, clockShiftNs: 0, reorderHoldNs: 1e9, ...partial };
}
