/**
 * Records every hop the lab serves into one pcapng: one Ethernet interface per hop (named for it),
 * each TCP connection as synthetic Ethernet/IPv4/TCP frames with its real loopback addresses and
 * ports, consistent sequence numbers, handshake, FINs and RSTs, stamped with the time the lab's
 * sockets saw the bytes. TLS key-log lines go into Decryption Secrets Blocks as they appear, so the
 * secrets always precede the records they decrypt. IO: writes the file as it goes (bounded memory).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import { SyntheticTcpConnection, type Endpoint } from '../capture/synthetic-tcp.js';
import type { Direction } from '../core/origin.js';

const LINKTYPE_ETHERNET = 1;
/** pcapng if_tsresol 9: nanoseconds. */
const TSRESOL_NS = 9;
/** Loopback MTU 65536 less IPv4 and TCP headers with timestamps, as Linux picks it on lo. */
export const LOOPBACK_MSS = 65483;
const SECRETS_TLS_KEY_LOG = 0x544c534b;
const FLUSH_BYTES = 1 << 20;

/** Wall-clock nanoseconds with hrtime resolution: one wall-clock anchor, hrtime offsets from it. */
export class LabClock {
  private readonly wallNs = BigInt(Date.now()) * 1_000_000n;
  private readonly hr0 = process.hrtime.bigint();

  nowNs(): bigint {
    return this.wallNs + (process.hrtime.bigint() - this.hr0);
  }
}

export interface HopInterface {
  /** Interface name in the capture, e.g. "kubectl→apiserver". */
  name: string;
  description: string;
}

/** The byte events of one TCP connection, in the order the lab's server socket saw them. */
export interface ConnectionRecording {
  data(dir: Direction, bytes: Uint8Array): void;
  /** `dir`'s sender closed its side. */
  fin(dir: Direction): void;
  /** `dir`'s sender reset the connection. */
  reset(dir: Direction): void;
}

export class LabRecorder {
  private readonly writer = new PcapngWriter();
  private fd: number | null;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private isn = 0x1000_0000;

  constructor(
    readonly path: string,
    hops: readonly HopInterface[],
    private readonly clock: LabClock,
    /** Largest TCP payload per recorded segment. */
    private readonly mss = LOOPBACK_MSS,
  ) {
    this.fd = openSync(path, 'w');
    this.put(this.writer.sectionHeader());
    for (const hop of hops) {
      this.put(this.writer.interface(LINKTYPE_ETHERNET, { name: hop.name, description: hop.description, tsresol: TSRESOL_NS }));
    }
    this.flush();
  }

  /** A connection accepted by the server of hop `hopIndex` (its position in the constructor's list). */
  connection(hopIndex: number, client: Endpoint, server: Endpoint): ConnectionRecording {
    const isn = { client: this.isn, server: (this.isn + 0x0800_0000) >>> 0 };
    this.isn = (this.isn + 0x0100_0000) >>> 0;
    const tcp = new SyntheticTcpConnection(client, server, this.mss, isn);
    const write = (frames: Uint8Array | Uint8Array[]) => {
      const ts = this.clock.nowNs();
      for (const frame of Array.isArray(frames) ? frames : [frames]) this.put(this.writer.enhancedPacket(hopIndex, ts, frame));
    };
    write(tcp.handshake());
    const finned: Record<Direction, boolean> = { c2s: false, s2c: false };
    let over = false;
    return {
      data: (dir, bytes) => {
        if (!over && bytes.length) write(tcp.send(dir, bytes));
      },
      fin: (dir) => {
        if (over || finned[dir]) return;
        finned[dir] = true;
        write(tcp.fin(dir));
        if (finned.c2s && finned.s2c) {
          write(tcp.ack(dir === 'c2s' ? 's2c' : 'c2s'));
          over = true;
        }
      },
      reset: (dir) => {
        if (over) return;
        over = true;
        write(tcp.reset(dir));
      },
    };
  }

  /** NSS key-log text (whole lines), stored as a Decryption Secrets Block. */
  keyLog(text: string): void {
    this.put(this.writer.decryptionSecrets(SECRETS_TLS_KEY_LOG, new TextEncoder().encode(text)));
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }

  private put(block: Uint8Array): void {
    if (this.fd === null) return;
    this.pending.push(block); // the writer's slabs are never reused: holding the view is safe
    this.pendingBytes += block.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.pendingBytes === 0) return;
    const out = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    writeSync(this.fd, out);
  }
}
