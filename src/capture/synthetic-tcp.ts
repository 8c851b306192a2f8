/**
 * Builds Ethernet/IPv4/TCP frames for a made-up TCP connection with consistent sequence numbers,
 * handshake and teardown — what the benchmark generator, the demo capture and the recorder of the lab and the tap need
 * to turn byte streams into a capture a real analyzer (ours, tshark) accepts.
 */
export interface Endpoint {
  ip: string;
  port: number;
}

const ETH_HEADER = 14;
const IP_HEADER = 20;
const TCP_HEADER = 20;
const HEADERS = ETH_HEADER + IP_HEADER + TCP_HEADER;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
/** The window every segment advertises unless told otherwise: the most an unscaled field holds. */
const WINDOW = 65535;

function ipv4Bytes(ip: string): number[] {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`not an IPv4 address: ${ip}`);
  return parts;
}

/** One direction's view: who sends, and the next sequence number it will use. */
interface Side {
  ip: number[];
  port: number;
  seq: number;
}

export class SyntheticTcpConnection {
  private readonly client: Side;
  private readonly server: Side;
  private ipId = 1;

  /** `mss`: payload bytes per segment (1448 as on Ethernet, 65483 as on loopback). */
  constructor(
    client: Endpoint,
    server: Endpoint,
    private readonly mss = 1448,
    isn: { client: number; server: number } = { client: 0x1000_0000, server: 0x2000_0000 },
  ) {
    this.client = { ip: ipv4Bytes(client.ip), port: client.port, seq: isn.client >>> 0 };
    this.server = { ip: ipv4Bytes(server.ip), port: server.port, seq: isn.server >>> 0 };
  }

  /** SYN, SYN-ACK, ACK. */
  handshake(): Uint8Array[] {
    const syn = this.segment('c2s', TCP_SYN, new Uint8Array(0), 1);
    const synAck = this.segment('s2c', TCP_SYN | TCP_ACK, new Uint8Array(0), 1);
    return [syn, synAck, this.segment('c2s', TCP_ACK, new Uint8Array(0))];
  }

  /** `data` cut into MSS-sized segments, PSH on the last. */
  send(dir: 'c2s' | 's2c', data: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (let at = 0; at < data.length; at += this.mss) {
      const piece = data.subarray(at, Math.min(at + this.mss, data.length));
      const last = at + this.mss >= data.length;
      frames.push(this.segment(dir, TCP_ACK | (last ? TCP_PSH : 0), piece));
    }
    return frames;
  }

  /**
   * Accounts for `length` bytes `dir`'s sender sent that are left out of the capture: the sequence
   * numbers move past them, so a reader sees a gap of exactly that length.
   */
  skip(dir: 'c2s' | 's2c', length: number): void {
    const side = dir === 'c2s' ? this.client : this.server;
    side.seq = (side.seq + length) >>> 0;
  }

  /** A bare ACK from `dir`'s sender; `window` 0 says it takes no more bytes (a zero window). */
  ack(dir: 'c2s' | 's2c', window = WINDOW): Uint8Array {
    return this.segment(dir, TCP_ACK, new Uint8Array(0), 0, window);
  }

  /** FIN from the client, FIN from the server, final ACK. */
  close(): Uint8Array[] {
    return [this.fin('c2s'), this.fin('s2c'), this.ack('c2s')];
  }

  /** One side's FIN (a half-close; the lab records each side's as it happens). */
  fin(dir: 'c2s' | 's2c'): Uint8Array {
    return this.segment(dir, TCP_FIN | TCP_ACK, new Uint8Array(0), 1);
  }

  reset(dir: 'c2s' | 's2c'): Uint8Array {
    return this.segment(dir, TCP_RST | TCP_ACK, new Uint8Array(0));
  }

  /** `seqSpace`: sequence numbers the segment consumes beyond its payload (SYN and FIN take one). */
  private segment(dir: 'c2s' | 's2c', flags: number, payload: Uint8Array, seqSpace = 0, window = WINDOW): Uint8Array {
    const [from, to] = dir === 'c2s' ? [this.client, this.server] : [this.server, this.client];
    const frame = new Uint8Array(HEADERS + payload.length);
    const v = new DataView(frame.buffer);
    // Ethernet: locally administered MACs derived from the last address byte, EtherType IPv4.
    frame.set([0x02, 0, 0, 0, 0, to.ip[3], 0x02, 0, 0, 0, 0, from.ip[3], 0x08, 0x00]);
    const ip = ETH_HEADER;
    frame[ip] = 0x45;
    v.setUint16(ip + 2, IP_HEADER + TCP_HEADER + payload.length);
    v.setUint16(ip + 4, this.ipId++ & 0xffff);
    v.setUint16(ip + 6, 0x4000); // don't fragment
    frame[ip + 8] = 64;
    frame[ip + 9] = 6;
    frame.set(from.ip, ip + 12);
    frame.set(to.ip, ip + 16);
    v.setUint16(ip + 10, ipChecksum(frame, ip));
    const tcp = ip + IP_HEADER;
    v.setUint16(tcp, from.port);
    v.setUint16(tcp + 2, to.port);
    v.setUint32(tcp + 4, from.seq);
    v.setUint32(tcp + 8, flags & TCP_ACK ? to.seq : 0);
    frame[tcp + 12] = (TCP_HEADER / 4) << 4;
    frame[tcp + 13] = flags;
    v.setUint16(tcp + 14, window);
    frame.set(payload, HEADERS);
    from.seq = (from.seq + payload.length + seqSpace) >>> 0;
    return frame;
  }
}

function ipChecksum(b: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = at; i < at + IP_HEADER; i += 2) if (i !== at + 10) sum += (b[i] << 8) | b[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
