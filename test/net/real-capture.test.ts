import { readFileSync } from 'node:fs';
import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import { packetBytes, type Packet } from '../../src/capture/packet.js';
import { PacketDecoder } from '../../src/net/packet-decoder.js';
import { TcpReassembler } from '../../src/net/tcp-reassembly.js';
import type { TcpSegment } from '../../src/net/tcp.js';
import { TcpRecorder } from './tcp-recorder.js';

interface Truth {
  tshark_crosscheck: { tcp_conversations: string[] };
}

/** tshark -z conv,tcp rows: A is the client; "<-" counts B→A (server to client), "->" A→B. */
function tsharkConversations(truth: Truth) {
  return truth.tshark_crosscheck.tcp_conversations.map((row) => {
    const m = /^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+) (\d+) bytes\s+(\d+) (\d+) bytes/.exec(row);
    if (!m) throw new Error(`unexpected row ${row}`);
    return {
      client: `${m[1]}:${m[2]}`,
      server: `${m[3]}:${m[4]}`,
      s2c: { frames: Number(m[5]), bytes: Number(m[6]) },
      c2s: { frames: Number(m[7]), bytes: Number(m[8]) },
    };
  });
}

describe('real capture: ws-echo.pcap (kubectl exec over WebSocket, tcpdump on lo)', () => {
  const file = readFileSync('fixtures/ws-echo.pcap');
  const truth: Truth = JSON.parse(readFileSync('fixtures/ws-echo.truth.json', 'utf8'));
  const rec = new TcpRecorder();
  const tcp = new TcpReassembler(rec.sink);
  const frames = new Map<number, { length: number; payload: number }>();
  const segments: TcpSegment[] = [];
  const packetDecoder = new PacketDecoder({
    onSegment: (seg) => {
      segments.push({ ...seg, bytes: seg.bytes.slice(seg.start, seg.end), start: 0, end: seg.end - seg.start });
      tcp.push(seg);
    },
    onProblem: (p) => rec.sink.onProblem?.(p),
  });
  const onPacket = (p: Packet) => {
    // TCP payload length the plain way, to check the decoders against: Ethernet, IPv4 header, TCP data offset.
    const data = packetBytes(p);
    const ipHeader = (data[14] & 0x0f) * 4;
    const ipTotal = (data[16] << 8) | data[17];
    const tcpHeader = (data[14 + ipHeader + 12] >> 4) * 4;
    frames.set(p.index, { length: p.origLen, payload: ipTotal - ipHeader - tcpHeader });
    packetDecoder.push(p);
  };
  const capture = new CaptureDecoder({ onPacket });
  capture.push(file);
  capture.end();
  packetDecoder.end();
  tcp.end();

  it('decodes every frame into a TCP segment without problems', () => {
    expect(frames.size).toBe(44);
    expect(segments.length).toBe(44);
    expect(packetDecoder.stats).toMatchObject({ malformed: 0 });
    expect(rec.problems).toEqual([]);
    expect(rec.violations).toEqual([]);
  });

  it('finds the four TCP connections tshark lists, with their frames and bytes per direction', () => {
    const expected = tsharkConversations(truth).sort((a, b) => a.client.localeCompare(b.client));
    const conns = [...rec.connections.values()].map((c) => c.conn);
    expect(conns.map((c) => [c.id, c.client, c.server, c.sawHandshake])).toEqual([
      [1, '127.0.0.1:43512', '127.0.0.1:18102', true],
      [2, '127.0.0.1:43524', '127.0.0.1:18102', true],
      [3, '127.0.0.1:43528', '127.0.0.1:18102', true],
      [4, '127.0.0.1:43542', '127.0.0.1:18102', true],
    ]);
    const counted = conns.map((c) => {
      const port = Number(c.client.split(':')[1]);
      const count = (fromClient: boolean) => {
        const mine = segments.filter((s) => (fromClient ? s.srcPort : s.dstPort) === port);
        return { frames: mine.length, bytes: mine.reduce((n, s) => n + frames.get(s.packet)!.length, 0) };
      };
      return { client: c.client, server: c.server, s2c: count(false), c2s: count(true) };
    });
    expect(counted).toEqual(expected);
  });

  it('reassembles each direction to the sum of the TCP payloads, without gaps', () => {
    for (const r of rec.connections.values()) {
      const port = Number(r.conn.client.split(':')[1]);
      for (const dir of ['c2s', 's2c'] as const) {
        const payload = segments
          .filter((s) => (dir === 'c2s' ? s.srcPort : s.dstPort) === port)
          .reduce((n, s) => n + frames.get(s.packet)!.payload, 0);
        expect([r.conn.id, dir, r[dir].data.length]).toEqual([r.conn.id, dir, payload]);
        expect(r[dir].gaps).toEqual([]);
      }
    }
    expect([3, 4].map((id) => [rec.get(id).c2s.data.length, rec.get(id).s2c.data.length])).toEqual([
      [1527, 3041],
      [476, 240],
    ]);
  });

  it('delivers the HTTP exchanges and the upgraded stream in order', () => {
    const discovery = rec.text(3, 'c2s');
    expect(discovery.startsWith('GET /version?timeout=5s HTTP/1.1\r\n')).toBe(true);
    expect(discovery.split('\r\n\r\n').map((head) => head.split(' ').slice(0, 2).join(' '))).toEqual([
      'GET /version?timeout=5s',
      'GET /api?timeout=32s',
      'GET /apis?timeout=32s',
      'GET /api/v1?timeout=32s',
      'GET /api/v1/namespaces/default/pods/demo-0',
      '',
    ]);
    expect(rec.text(4, 'c2s').startsWith('GET /api/v1/namespaces/default/pods/demo-0/exec?command=echo&command=hello+from+websocket&container=main&stderr=true&stdout=true HTTP/1.1\r\n')).toBe(true);
    const upgraded = rec.text(4, 's2c');
    expect(upgraded.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
    expect(upgraded).toContain('\x01hello from websocket\n');
    expect(upgraded).toContain('{"metadata":{},"status":"Success"}');
  });

  it('closes the connections as they were closed', () => {
    expect([...rec.connections.values()].map((r) => [r.conn.id, r.c2s.closed, r.s2c.closed, r.ended])).toEqual([
      [1, 'rst', 'rst', true], // the harness's port probe before the server listened: SYN, RST
      [2, 'fin', 'fin', true], // its connect/close once listening
      [3, 'fin', 'fin', true],
      [4, 'rst', 'fin', true], // the server closed, then reset the client's late WebSocket close frame
    ]);
  });
});
