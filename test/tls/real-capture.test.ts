/**
 * The real capture: kubectl v1.32 against Go's crypto/tls 1.3, with the server's NSS key log.
 * TCP streams come from the project's own capture reader, packet decoder and reassembler.
 */
import { readFileSync } from 'node:fs';
import { CaptureDecoder } from '../../src/capture/capture-decoder.js';
import type { Direction, StreamOrigin } from '../../src/core/origin.js';
import type { Problem } from '../../src/core/problem.js';
import { PacketDecoder } from '../../src/net/packet-decoder.js';
import { TcpReassembler, type TcpConnection } from '../../src/net/tcp-reassembly.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { isTlsClientHello, TlsConnectionDecoder } from '../../src/tls/record-decoder.js';
import { TlsRecorder } from '../helpers/tls-decode.js';

interface DecodedConnection {
  conn: TcpConnection;
  sink: TlsRecorder;
  decoder: TlsConnectionDecoder | null;
  notTls: boolean;
}

function decodeCapture(file: string, keys: TlsKeyLog): { connections: DecodedConnection[]; problems: Problem[] } {
  const connections: DecodedConnection[] = [];
  const problems: Problem[] = [];
  const byId = new Map<number, DecodedConnection>();
  const reassembler = new TcpReassembler({
    onOpen: (conn) => {
      const c = { conn, sink: new TlsRecorder(), decoder: null, notTls: false };
      byId.set(conn.id, c);
      connections.push(c);
    },
    onData: (conn, dir: Direction, bytes, start, end, origin: StreamOrigin) => {
      const data = bytes.subarray(start, end);
      const c = byId.get(conn.id) as DecodedConnection;
      if (c.decoder === null && !c.notTls) {
        // kubectl's first segment holds the whole ClientHello record header and more.
        if (dir === 'c2s' && isTlsClientHello(data)) c.decoder = new TlsConnectionDecoder(keys, c.sink.sink, { where: `${conn.client}→${conn.server}` });
        else c.notTls = true;
      }
      c.decoder?.push(dir, data, origin);
    },
    onGap: (conn, dir, offset, length) => byId.get(conn.id)?.decoder?.gap(dir, offset, length),
    onClose: () => {},
    onEnd: (conn) => byId.get(conn.id)?.decoder?.end(),
    onProblem: (p) => problems.push(p),
  });
  const packets = new PacketDecoder({ onSegment: (seg) => reassembler.push(seg), onProblem: (p) => problems.push(p) });
  const capture = new CaptureDecoder({ onPacket: (p) => packets.push(p), onProblem: (p) => problems.push(p) });
  capture.push(readFileSync(file));
  capture.end();
  packets.end();
  reassembler.end();
  return { connections, problems };
}

describe('tls-ws-keylog.pcap', () => {
  const keys = new TlsKeyLog();
  const added = keys.add(readFileSync('fixtures/tls-ws-keylog.keylog', 'latin1'), 'fixtures/tls-ws-keylog.keylog');
  const truth = JSON.parse(readFileSync('fixtures/tls-ws-keylog.truth.json', 'utf8'));
  const session = truth.sessions[0];
  const { connections, problems } = decodeCapture('fixtures/tls-ws-keylog.pcap', keys);
  const tls = connections.filter((c) => c.decoder !== null);

  test('the key log has both connections', () => {
    expect(added).toEqual({ entries: 8, ignored: 0, malformed: 0, problems: [] });
    expect(keys.size).toBe(2);
    expect(problems).toEqual([]);
  });

  test('two TLS 1.3 connections, both decrypted without a problem', () => {
    expect(tls).toHaveLength(2);
    for (const c of tls) {
      expect(c.sink.problems).toEqual([]);
      expect(c.sink.info).toMatchObject({ version: 'TLS 1.3', keysFound: true, resumed: false });
      expect(c.sink.records.c2s.filter((r) => r.encrypted).every((r) => r.decrypted)).toBe(true);
      expect(c.sink.records.s2c.filter((r) => r.encrypted).every((r) => r.decrypted)).toBe(true);
    }
  });

  test('discovery and the pod GET negotiated HTTP/2', () => {
    const h2 = tls.filter((c) => c.sink.info?.alpn === 'h2');
    expect(h2).toHaveLength(1);
    expect(h2[0].sink.info?.alpnOffered).toEqual(['h2', 'http/1.1']);
    expect(h2[0].sink.plaintext('c2s').subarray(0, 24).toString('latin1')).toBe('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  });

  test('the exec connection decrypts to the WebSocket upgrade of the truth file', () => {
    const exec = tls.find((c) => c.conn.client === session.client_addr);
    expect(exec).toBeDefined();
    const { sink } = exec as DecodedConnection;
    // client-go dials the upgrade without ALPN (HTTP/1.1 only) and without SNI (the server is an IP address).
    expect(sink.info).toStrictEqual({
      keysFound: true,
      clientRandom: 'f99bf327fc2d3be2767db79e68f788d9b220e910fca39677c8d7edd456bc34e8',
      version: 'TLS 1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      resumed: false,
    });
    const request = sink.plaintext('c2s').toString('latin1');
    expect(request.startsWith(`GET ${session.request_uri} HTTP/1.1\r\n`)).toBe(true);
    const headers = request.slice(0, request.indexOf('\r\n\r\n')).split('\r\n');
    expect(headers).toContain('Upgrade: websocket');
    expect(headers).toContain('Sec-WebSocket-Protocol: v5.channel.k8s.io');
    const response = sink.plaintext('s2c').toString('latin1');
    expect(response.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
    expect(response).toContain('secret-over-tls');
    // Every plaintext piece names its record: stream-ordered, sequence numbers counting up.
    const seqs = sink.pieces.s2c.map((p) => p.record.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(sink.pieces.s2c[0].origin).toMatchObject({ offset: 0, packet: sink.pieces.s2c[0].record.origin.lastPacket });
  });
});
