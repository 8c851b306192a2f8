/**
 * Captures built to exhaust a decoder: a SPDY header zlib bomb, a WebSocket frame announcing
 * 2^63−1 bytes, N connections that each send an exec upgrade and hear nothing back, one connection
 * of N one-byte frames, and N datagrams of overlapping IP fragments. Each is a stream of Ethernet
 * frames (a generator, so the big sizes the README measures never sit in memory whole); `pcapBytes`
 * collects the small sizes the tests afford, `writePcap` writes the big ones (scripts/bounds.mjs).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { constants, deflateSync } from 'node:zlib';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import { SPDY3_DICTIONARY } from '../../src/spdy/dictionary.js';
import { SpdyFrameEncoder } from '../../src/spdy/frame-encoder.js';
import { ExecConversation, SUCCESS_STATUS } from '../../src/synth/exec-conversation.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { buildIpv4, buildTcp, frame } from '../helpers/net-packets.js';

export type Frames = Iterable<Uint8Array>;

const T0 = 1_795_000_000_000_000_000n;
const ascii = (s: string) => new TextEncoder().encode(s);

/** The frames as one pcap, a microsecond apart. */
export function pcapBytes(frames: Frames): Buffer {
  const w = new PcapWriter();
  const parts: Uint8Array[] = [w.header(1, { nanos: true })];
  let i = 0;
  for (const f of frames) parts.push(w.packet(T0 + BigInt(i++) * 1000n, f).slice());
  return Buffer.concat(parts);
}

/** The frames written to `path` as a pcap in 1 MiB batches; returns the packets written. */
export function writePcap(path: string, frames: Frames): number {
  const w = new PcapWriter();
  const fd = openSync(path, 'w');
  let batch: Uint8Array[] = [w.header(1, { nanos: true })];
  let held = 0;
  let i = 0;
  const flush = () => {
    const b = Buffer.concat(batch);
    for (let at = 0; at < b.length; ) at += writeSync(fd, b, at);
    batch = [];
    held = 0;
  };
  try {
    for (const f of frames) {
      const record = w.packet(T0 + BigInt(i++) * 1000n, f).slice();
      batch.push(record);
      held += record.length;
      if (held >= 1 << 20) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return i;
}

/** An exec upgrade request as kubectl sends it, for SPDY/3.1 or WebSocket v5. */
function upgradeRequest(transport: 'spdy' | 'websocket', pod: string): Uint8Array {
  const upgrade =
    transport === 'websocket'
      ? 'Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\nSec-WebSocket-Version: 13'
      : 'Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io';
  const method = transport === 'websocket' ? 'GET' : 'POST';
  return ascii(`${method} /api/v1/namespaces/default/pods/${pod}/exec?command=sh&stdin=true&stdout=true&stderr=true HTTP/1.1\r\nHost: 10.0.0.1:6443\r\nConnection: Upgrade\r\n${upgrade}\r\n\r\n`);
}

const SPDY_UPGRADED = ascii('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');

/**
 * A SPDY exec whose client's first header block (so the direction's zlib stream starts there, as a
 * real sender's does) inflates to `inflatedBytes`: one `streamtype` value of zeros, deflated with
 * the SPDY/3 dictionary and a sync flush; zlib's ~1000:1 keeps the frame small. The client then
 * opens stdin, stdout and stderr on a zlib stream of its own (undecodable once the bomb has cost the
 * context), and the server writes stdout and its Status: a decoder that survives the bomb still
 * sees the session, its stream types inferred from their creation order.
 */
export function* spdyHeaderBomb(inflatedBytes: number): Generator<Uint8Array> {
  const tcp = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 40001 }, { ip: '10.0.0.1', port: 6443 });
  const client = new SpdyFrameEncoder();
  const server = new SpdyFrameEncoder();
  yield* tcp.handshake();
  yield* tcp.send('c2s', upgradeRequest('spdy', 'bomb'));
  yield* tcp.send('s2c', SPDY_UPGRADED);
  const name = 'streamtype';
  const value = inflatedBytes - 12 - name.length;
  const block = Buffer.alloc(12 + name.length);
  block.writeUInt32BE(1, 0);
  block.writeUInt32BE(name.length, 4);
  block.write(name, 8, 'latin1');
  block.writeUInt32BE(value, 8 + name.length);
  const deflated = deflateSync(Buffer.concat([block, Buffer.alloc(value)]), { dictionary: Buffer.from(SPDY3_DICTIONARY), finishFlush: constants.Z_SYNC_FLUSH, level: 9 });
  // SYN_STREAM (type 1) for stream 1: stream id, associated stream id, priority and slot, the block.
  const payload = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), deflated]);
  yield* tcp.send('c2s', Buffer.concat([Buffer.from([0x80, 3, 0, 1, 0, payload.length >> 16, (payload.length >> 8) & 0xff, payload.length & 0xff]), payload]));
  const frames: Uint8Array[] = [];
  ['stdin', 'stdout', 'stderr'].forEach((streamtype, i) => frames.push(...tcp.send('c2s', client.synStream(3 + 2 * i, { streamtype }))));
  for (const id of [1, 3, 5, 7]) frames.push(...tcp.send('s2c', server.synReply(id, {})));
  yield* frames;
  yield* tcp.send('s2c', server.data(5, ascii('after the bomb\n')));
  yield* tcp.send('s2c', server.data(1, SUCCESS_STATUS));
  yield* tcp.send('s2c', server.goAway(0));
  yield* tcp.close();
}

/**
 * A WebSocket exec whose server sends a binary frame announcing 2^63−1 payload bytes (the largest
 * the 64-bit length allows), then `followingBytes` of payload and the close of the connection.
 */
export function* websocketHugeFrame(followingBytes = 4096): Generator<Uint8Array> {
  const x = new ExecConversation({ transport: 'websocket', pod: 'huge', command: ['cat'], stdin: false, tty: false }, 40002, 6443, 1448);
  yield* x.open();
  const head = Buffer.from([0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]);
  yield* x.tcp.send('s2c', Buffer.concat([head, Buffer.alloc(followingBytes, 0x41)]));
  yield* x.tcp.close();
}

/**
 * `n` connections from distinct client ports, each sending an exec upgrade that is never answered
 * (a scan, or a capture of only one direction): the shape that once took 2.1 GB for 200,000. Left
 * open, more than 10,000 are open at once; `closed`: each client gives up and closes its connection
 * before the next one opens, so what stays in memory is what is kept of ended ones.
 */
export function* unansweredUpgrades(n: number, { closed = false } = {}): Generator<Uint8Array> {
  for (let i = 0; i < n; i++) {
    // Distinct client addresses keep the 4-tuples apart however many connections there are.
    const client = { ip: `10.${1 + ((i >> 16) & 0xff)}.${(i >> 8) & 0xff}.${i & 0xff}`, port: 20000 + (i % 40000) };
    const tcp = new SyntheticTcpConnection(client, { ip: '10.0.0.1', port: 6443 });
    yield* tcp.handshake();
    yield* tcp.send('c2s', upgradeRequest(i % 2 ? 'websocket' : 'spdy', `pod-${i}`));
    if (closed) yield* tcp.close();
  }
}

/**
 * `n` interactive shells (`kubectl exec -it … sh`), half over WebSocket, half over SPDY, all opened
 * before any is typed in: each then takes `keystrokes` one-byte keystrokes and their echoes, and
 * none ends (the capture stops while every session is open).
 */
export function* openTypingSessions(n: number, keystrokes = 1): Generator<Uint8Array> {
  const shells = Array.from({ length: n }, (_, i) => new ExecConversation({ transport: i % 2 ? 'spdy' : 'websocket', pod: `web-${i % 50}`, command: ['sh'], stdin: true, tty: true }, 1024 + i, 6443, 1448));
  for (const c of shells) yield* c.open();
  const key = Uint8Array.of(0x6c);
  for (let k = 0; k < keystrokes; k++) {
    for (const c of shells) {
      yield* c.write('stdin', key);
      yield* c.write('stdout', key);
    }
  }
}

/** One WebSocket exec whose server sends `n` one-byte stdout messages, one TCP segment each. */
export function* tinyPackets(n: number): Generator<Uint8Array> {
  const x = new ExecConversation({ transport: 'websocket', pod: 'tiny', command: ['yes'], stdin: false, tty: false }, 40003, 6443, 1448);
  yield* x.open();
  const server = new WebSocketFrameEncoder({ client: false });
  const message = server.channelMessage(1, ascii('y'));
  for (let i = 0; i < n; i++) yield* x.tcp.send('s2c', message);
  yield* x.finish();
}

/**
 * One TCP stream of `n` segments, each in a fragmented IPv4 datagram whose fragments overlap with
 * different bytes (a Teardrop-style rewrite of 16 payload bytes); every other datagram never gets
 * its last fragment, so reassembly both resolves overlaps and holds incomplete datagrams, and the
 * stream has a gap where each of those would have been.
 */
export function* overlappingFragments(n: number): Generator<Uint8Array> {
  const [src, dst] = ['10.9.0.2', '10.9.0.1'];
  for (let i = 0; i < n; i++) {
    const tcp = buildTcp({ src, dst, srcPort: 30000, dstPort: 6443, seq: 1 + i * 1400, flags: 'PA', payload: Buffer.alloc(1400, 0x61 + (i % 26)) });
    const id = i & 0xffff;
    const overlap = Buffer.from(tcp.subarray(800, 1208)).fill(0x2a, 0, 16);
    yield frame(buildIpv4({ src, dst, protocol: 6, id, fragmentOffset: 0, moreFragments: true, payload: tcp.subarray(0, 808) }));
    yield frame(buildIpv4({ src, dst, protocol: 6, id, fragmentOffset: 800, moreFragments: true, payload: overlap }));
    if (i % 2 === 0) yield frame(buildIpv4({ src, dst, protocol: 6, id, fragmentOffset: 1208, moreFragments: false, payload: tcp.subarray(1208) }));
  }
}

/**
 * One capture whose every captured field carries `evil` (see escape-corpus.ts): a WebSocket exec
 * (namespace, pod, command, User-Agent, the negotiated subprotocol, stdout, stderr with raw 8-bit C1
 * bytes, the Status message and reason), a SPDY exec (a `streamtype` and another name/value pair,
 * its data, its Status) and a TLS ClientHello whose SNI is `evil` too.
 */
export function* hostileFields(evil: string, tlsClientHello: Uint8Array): Generator<Uint8Array> {
  const pct = encodeURIComponent(evil);
  const ws = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 41000 }, { ip: '10.0.0.1', port: 6443 });
  const wsClient = new WebSocketFrameEncoder({ client: true, maskKeys: () => 0x5a5a5a5a });
  const wsServer = new WebSocketFrameEncoder({ client: false });
  const status = (message: string) => ascii(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: `Evil${evil}`, code: 500 }));
  yield* ws.handshake();
  yield* ws.send(
    'c2s',
    ascii(
      `GET /api/v1/namespaces/ns${pct}/pods/pod${pct}/exec?command=sh&command=-c&command=${pct}&container=c${pct}&stdin=true&stdout=true&stderr=true HTTP/1.1\r\n` +
        `Host: 10.0.0.1:6443\r\nUser-Agent: kubectl${evil}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Protocol: v5.channel.k8s.io\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  yield* ws.send('s2c', ascii(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: v5.channel.k8s.io ${evil}\r\n\r\n`));
  yield* ws.send('c2s', wsClient.channelMessage(0, ascii(`typed${evil}\n`)));
  yield* ws.send('s2c', wsServer.channelMessage(1, ascii(`out${evil}\n`)));
  yield* ws.send('s2c', wsServer.channelMessage(2, Buffer.from([0x65, 0x72, 0x72, 0x9b, 0x33, 0x31, 0x6d, 0x9d, 0x30, 0x3b, 0x50, 0x07, 0x0a])));
  yield* ws.send('s2c', wsServer.channelMessage(3, status(`command failed${evil}`)));
  yield* ws.send('s2c', wsServer.close(1000, `bye${evil}`.slice(0, 100)));
  yield* ws.close();

  const spdy = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 41001 }, { ip: '10.0.0.1', port: 6443 });
  const client = new SpdyFrameEncoder();
  const server = new SpdyFrameEncoder();
  yield* spdy.handshake();
  yield* spdy.send('c2s', upgradeRequest('spdy', `spdy${pct}`));
  yield* spdy.send('s2c', ascii(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n`));
  const types = ['error', 'stdin', 'stdout', `stderr ${evil}`];
  for (const [i, streamtype] of types.entries()) yield* spdy.send('c2s', client.synStream(1 + 2 * i, { streamtype, 'x-evil': `value${evil}` }));
  for (let i = 0; i < types.length; i++) yield* spdy.send('s2c', server.synReply(1 + 2 * i, {}));
  yield* spdy.send('s2c', server.data(5, ascii(`spdy out${evil}\n`)));
  yield* spdy.send('s2c', server.data(7, ascii(`spdy err${evil}\n`)));
  yield* spdy.send('s2c', server.data(1, status(`spdy failed${evil}`)));
  yield* spdy.send('s2c', server.goAway(0));
  yield* spdy.close();

  const tls = new SyntheticTcpConnection({ ip: '10.0.0.2', port: 41002 }, { ip: '10.0.0.1', port: 443 });
  yield* tls.handshake();
  yield* tls.send('c2s', tlsClientHello);
  yield* tls.close();
}
