/**
 * Every decoder, one property each (test/kit/transcript.ts): on any input drawn from its protocol —
 * well-formed conversations built by our encoders, and the same with bytes flipped, cut or spliced
 * in — it never throws, stays within a time bound and an output proportional to its input, and
 * reports the same transcript whether the input arrives whole, byte by byte or in random chunks.
 * A failure prints fast-check's seed and path; FC_SEED=… FC_PATH=… replays it.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureDecoder, type CaptureSink } from '../../src/capture/capture-decoder.js';
import { copyPacket, type PacketCopy } from '../../src/capture/packet.js';
import { DecodeError } from '../../src/core/origin.js';
import { StdcopyDecoder } from '../../src/docker/stdcopy.js';
import { GrpcCallTracker, type GrpcSink } from '../../src/grpc/grpc-calls.js';
import { HttpConnectionParser, type HttpConnectionSink } from '../../src/http/http-connection.js';
import { Http2ConnectionDecoder, type Http2Sink } from '../../src/http2/connection.js';
import { HpackDecoder, HpackEncoder, HpackError } from '../../src/http2/hpack.js';
import { parseExecStatus } from '../../src/k8s/status.js';
import { PacketDecoder } from '../../src/net/packet-decoder.js';
import { TcpReassembler, type TcpSink } from '../../src/net/tcp-reassembly.js';
import { SpdyFrameDecoder, type SpdyFrameSink } from '../../src/spdy/frame-decoder.js';
import { SpdyFrameEncoder } from '../../src/spdy/frame-encoder.js';
import { SpdyHeaderDeflater, SpdyHeaderInflater } from '../../src/spdy/header-block.js';
import { TlsKeyLog } from '../../src/tls/key-log.js';
import { TlsConnectionDecoder, type TlsSink } from '../../src/tls/record-decoder.js';
import { K8sChannelDecoder, type ChannelSink } from '../../src/websocket/channel-protocol.js';
import { WebSocketFrameDecoder, type WebSocketFrameSink } from '../../src/websocket/frame-decoder.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { frame as h2Frame, PREFACE, EMPTY_SETTINGS, SETTINGS_ACK } from '../http2/h2-frames.js';
import { buildTcpPacket } from '../helpers/net-packets.js';
import { clientHello, record, serverHello } from '../helpers/tls-synthetic.js';
import { pcapBytes } from '../kit/hostile-captures.js';
import { checkSplitInvariance, fcParams, play, transcript, type Step, type StreamLayer } from '../kit/transcript.js';

const ascii = (s: string) => new TextEncoder().encode(s);

type DataStep = Extract<Step, { data: Uint8Array }>;

/** Damage done to a well-formed input: a few bytes flipped, a run zeroed, the end cut, bytes inserted. */
function damaged(input: fc.Arbitrary<Step[]>): fc.Arbitrary<Step[]> {
  const damage = fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'zero', 'cut', 'insert'), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) });
  return fc.tuple(input, fc.array(damage, { minLength: 1, maxLength: 4 })).map(([steps, damages]) => {
    const out: Step[] = steps.map((s) => ('data' in s ? { ...s, data: Uint8Array.from(s.data) } : s));
    for (const d of damages) {
      const withData = out.filter((s): s is DataStep => 'data' in s && s.data.length > 0);
      if (!withData.length) break;
      const step = withData[d.at % withData.length];
      const at = d.at % step.data.length;
      if (d.kind === 'flip') d.bytes.forEach((b, i) => (step.data[(at + i) % step.data.length] ^= b || 1));
      else if (d.kind === 'zero') step.data.fill(0, at, at + d.bytes.length);
      else if (d.kind === 'cut') step.data = step.data.subarray(0, at);
      else step.data = Uint8Array.from(Buffer.concat([step.data.subarray(0, at), d.bytes, step.data.subarray(at)]));
    }
    return out;
  });
}

/** Well-formed inputs, and the same damaged: a decoder must keep its promises on both. */
const wellFormedOrDamaged = (input: fc.Arbitrary<Step[]>) => fc.oneof(input, damaged(input));

const payload = (max = 300) => fc.uint8Array({ maxLength: max });
const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);

// --- SPDY/3.1 frames and their zlib header blocks --------------------------------------------------

const spdyFrames = fc
  .array(
    fc.oneof(
      fc.record({ kind: fc.constant('syn' as const), headers: fc.dictionary(token, fc.string({ maxLength: 40 }), { maxKeys: 4 }) }),
      fc.record({ kind: fc.constant('data' as const), payload: payload(), fin: fc.boolean() }),
      fc.record({ kind: fc.constant('ping' as const), id: fc.nat() }),
      fc.record({ kind: fc.constant('window' as const), delta: fc.integer({ min: 1, max: 2 ** 31 - 1 }) }),
      fc.record({ kind: fc.constant('rst' as const), status: fc.integer({ min: 1, max: 11 }) }),
    ),
    { maxLength: 12 },
  )
  .map((frames) => {
    const e = new SpdyFrameEncoder();
    let next = 1;
    const out: Uint8Array[] = [];
    for (const f of frames) {
      if (f.kind === 'syn') out.push(e.synStream((next += 2) - 2, { streamtype: 'stdout', ...f.headers }));
      else if (f.kind === 'data') out.push(e.data(Math.max(1, next - 2), f.payload, { fin: f.fin }));
      else if (f.kind === 'ping') out.push(e.ping(f.id));
      else if (f.kind === 'window') out.push(e.windowUpdate(Math.max(1, next - 2), f.delta));
      else out.push(e.rstStream(Math.max(1, next - 2), f.status));
    }
    out.push(e.goAway(0));
    return out.map((data) => ({ dir: 'c2s' as const, data }));
  });

const spdyLayer: StreamLayer<SpdyFrameSink> = {
  open: (sink) => {
    const d = new SpdyFrameDecoder(sink);
    return { push: (_dir, data, origin) => d.push(data, 0, data.length, origin), gap: (_dir, offset, length) => d.gap(offset, length), end: () => d.end() };
  },
};

test('SPDY frames and header blocks: the same transcript whole, byte by byte or in chunks', () => {
  checkSplitInvariance(spdyLayer, wellFormedOrDamaged(spdyFrames), { numRuns: 60 });
});

test('SPDY header blocks: what is deflated inflates back; any bytes inflate or fail with a reason, never throw', () => {
  fc.assert(
    fc.property(fc.array(fc.dictionary(token, fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 3 }), { minKeys: 1, maxKeys: 5 }), { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 200 }), (blocks, junk) => {
      const deflater = new SpdyHeaderDeflater();
      const inflater = new SpdyHeaderInflater();
      for (const headers of blocks) expect(inflater.inflate(deflater.deflate(headers)).headers).toEqual(headers);
      const fresh = new SpdyHeaderInflater();
      const r = fresh.inflate(junk);
      expect(r.headers !== null || typeof r.problem === 'string' || r.problem === null).toBe(true);
    }),
    fcParams(100),
  );
});

// --- WebSocket frames and the k8s channel protocols -----------------------------------------------

const wsMessages = fc.array(
  fc.record({ opcode: fc.constantFrom(0, 1, 2, 8, 9, 10, 3, 11), data: payload(400), fin: fc.boolean(), masked: fc.boolean() }),
  { maxLength: 10 },
);

const wsFrames = (masked: boolean) =>
  wsMessages.map((frames) => {
    const e = new WebSocketFrameEncoder({ client: masked, maskKeys: () => 0x12345678 });
    return frames.map((f) => ({ dir: 'c2s' as const, data: e.frame(f.opcode, f.opcode >= 8 ? f.data.subarray(0, 125) : f.data, { fin: f.fin || f.opcode >= 8 }) }));
  });

const wsLayer = (expectMasked: boolean): StreamLayer<WebSocketFrameSink> => ({
  open: (sink) => {
    // A frame told whole (onWholeFrame) is recorded as the three calls it stands for: the transcript
    // is then the same whether a cut left the frame whole or not.
    const threeCalls: WebSocketFrameSink = {
      onFrameStart: (h) => sink.onFrameStart(h),
      onPayload: (bytes, start, end, origin) => sink.onPayload(bytes, start, end, origin),
      onPayloadLost: (offset, length) => sink.onPayloadLost(offset, length),
      onFrameEnd: (h, frame) => sink.onFrameEnd(h, frame),
      onWholeFrame: (h, bytes, start, end, origin, frame) => {
        sink.onFrameStart(h);
        sink.onPayload(bytes, start, end, origin);
        sink.onFrameEnd(h, frame);
      },
      onSyncLost: (offset) => sink.onSyncLost(offset),
      onStreamEnd: () => sink.onStreamEnd(),
      onProblem: (p) => sink.onProblem(p),
    };
    const d = new WebSocketFrameDecoder(threeCalls, { expectMasked });
    return { push: (_dir, data, origin) => d.push(data, 0, data.length, origin), gap: (_dir, offset, length) => d.gap(offset, length), end: () => d.end() };
  },
});

test.each([true, false])('WebSocket frames (masked %s): the same transcript whole, byte by byte or in chunks', (masked) => {
  checkSplitInvariance(wsLayer(masked), wellFormedOrDamaged(wsFrames(masked)), { numRuns: 50 });
});

const channelConversation = (subprotocol: string) =>
  fc.array(fc.record({ fromClient: fc.boolean(), channel: fc.constantFrom(0, 1, 2, 3, 4, 255, 7), data: payload(200), close: fc.boolean() }), { maxLength: 10 }).map((messages) => {
    const client = new WebSocketFrameEncoder({ client: true, maskKeys: () => 0x0badf00d });
    const server = new WebSocketFrameEncoder({ client: false });
    const b64 = subprotocol.includes('base64');
    return messages.map((m): Step => {
      const enc = m.fromClient ? client : server;
      const data = m.close && subprotocol.startsWith('v5') ? enc.closeChannel(m.channel) : b64 ? enc.frame(1, ascii(String(m.channel) + Buffer.from(m.data).toString('base64'))) : enc.channelMessage(m.channel, m.data);
      return { dir: m.fromClient ? 'c2s' : 's2c', data };
    });
  });

test.each(['v5.channel.k8s.io', 'v4.channel.k8s.io', 'base64.channel.k8s.io'])('k8s channel payloads (%s): the same transcript whole, byte by byte or in chunks', (subprotocol) => {
  const layer: StreamLayer<ChannelSink> = {
    open: (sink) => {
      const d = new K8sChannelDecoder(subprotocol, sink);
      return { push: (dir, data, origin) => d.push(dir, data, 0, data.length, origin), gap: (dir, offset, length) => d.gap(dir, offset, length), end: () => d.end() };
    },
    // Decoded base64 carries the origin of the piece it was decoded from (channel-protocol.ts), and a
    // bad base64 group is reported in the piece that completed it.
    approximateOrigins: subprotocol.includes('base64'),
    approximateProblems: ['websocket.invalid-base64'],
  };
  checkSplitInvariance(layer, wellFormedOrDamaged(channelConversation(subprotocol)), { numRuns: 40 });
});

// --- HTTP/1.1 heads and bodies --------------------------------------------------------------------

const headerLine = fc.tuple(token, fc.stringMatching(/^[ -~]{0,30}$/)).map(([n, v]) => `${n}: ${v}`);
const httpExchange = fc
  .array(
    fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT'),
      target: fc.stringMatching(/^\/[a-z0-9/?=&.-]{0,30}$/),
      headers: fc.array(headerLine, { maxLength: 4 }),
      body: fc.string({ maxLength: 60 }),
      chunked: fc.boolean(),
      status: fc.constantFrom(200, 204, 304, 400, 101),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((exchanges) =>
    exchanges.flatMap((x): Step[] => {
      const body = x.chunked ? `${Buffer.byteLength(x.body).toString(16)}\r\n${x.body}\r\n0\r\n\r\n` : x.body;
      const framing = x.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${Buffer.byteLength(x.body)}`;
      const upgrade = x.status === 101 ? 'Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' : '';
      return [
        { dir: 'c2s', data: ascii(`${x.method} ${x.target} HTTP/1.1\r\n${[...x.headers, framing].join('\r\n')}\r\n${upgrade}\r\n${body}`) },
        { dir: 's2c', data: ascii(`HTTP/1.1 ${x.status} Reason\r\n${upgrade}${x.status === 204 || x.status === 304 || x.status === 101 ? '' : `${framing}\r\n`}\r\n${x.status === 204 || x.status === 304 || x.status === 101 ? '' : body}`) },
      ];
    }),
  );

test('HTTP/1.1 heads and bodies: the same transcript whole, byte by byte or in chunks', () => {
  const layer: StreamLayer<HttpConnectionSink> = {
    open: (sink) => {
      const p = new HttpConnectionParser(sink);
      return { push: (dir, data, origin) => p.push(dir, data, origin), gap: (dir, offset, length) => p.gap(dir, offset, length), end: () => p.end() };
    },
  };
  checkSplitInvariance(layer, wellFormedOrDamaged(httpExchange), { numRuns: 60 });
});

// --- TLS records ----------------------------------------------------------------------------------

const tlsConversation = fc
  .record({ random: fc.uint8Array({ minLength: 32, maxLength: 32 }), sni: token, appData: fc.array(fc.tuple(fc.boolean(), payload(300)), { maxLength: 6 }), alert: fc.boolean() })
  .map((c): Step[] => [
    { dir: 'c2s', data: record(22, clientHello({ random: c.random, sni: `${c.sni}.example`, alpn: ['h2', 'http/1.1'], versions: [0x0304, 0x0303], keyShareGroups: [29] })) },
    { dir: 's2c', data: record(22, serverHello({ random: c.random, suite: 0x1301, version: 0x0304, keyShareGroup: 29 } as Parameters<typeof serverHello>[0])) },
    ...c.appData.map(([fromClient, data]): Step => ({ dir: fromClient ? 'c2s' : 's2c', data: record(23, data) })),
    ...(c.alert ? [{ dir: 'c2s' as const, data: record(21, Uint8Array.from([1, 0])) }] : []),
  ]);

test('TLS records and handshakes: the same transcript whole, byte by byte or in chunks', () => {
  const layer: StreamLayer<TlsSink> = {
    open: (sink) => {
      const d = new TlsConnectionDecoder(new TlsKeyLog(), sink);
      return { push: (dir, data, origin) => d.push(dir, data, origin), gap: (dir, offset, length) => d.gap(dir, offset, length), end: () => d.end() };
    },
  };
  checkSplitInvariance(layer, wellFormedOrDamaged(tlsConversation), { numRuns: 40 });
});

// --- HTTP/2, HPACK and gRPC -----------------------------------------------------------------------

const h2Conversation = fc
  .array(fc.record({ path: fc.stringMatching(/^\/[a-z.]{1,12}\/[A-Z][a-z]{0,8}$/), message: payload(120), status: fc.nat({ max: 16 }), trailersOnly: fc.boolean() }), { minLength: 1, maxLength: 4 })
  .map((calls): Step[] => {
    const client = new HpackEncoder();
    const server = new HpackEncoder();
    const steps: Step[] = [{ dir: 'c2s', data: Uint8Array.from(Buffer.concat([PREFACE, EMPTY_SETTINGS])) }, { dir: 's2c', data: Uint8Array.from(Buffer.concat([EMPTY_SETTINGS, SETTINGS_ACK])) }];
    const grpcMessage = (m: Uint8Array) => Uint8Array.from(Buffer.concat([Buffer.from([0, m.length >>> 24, (m.length >> 16) & 0xff, (m.length >> 8) & 0xff, m.length & 0xff]), m]));
    calls.forEach((c, i) => {
      const id = 1 + 2 * i;
      const head = client.encode([[':method', 'POST'], [':scheme', 'http'], [':path', c.path], [':authority', 'localhost'], ['content-type', 'application/grpc'], ['te', 'trailers']]);
      steps.push({ dir: 'c2s', data: Uint8Array.from(Buffer.concat([h2Frame(1, 4, id, head), h2Frame(0, 1, id, grpcMessage(c.message))])) });
      const trailers = server.encode([['grpc-status', String(c.status)], ['grpc-message', 'done']]);
      const reply = c.trailersOnly
        ? [h2Frame(1, 5, id, server.encode([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', String(c.status)]]))]
        : [h2Frame(1, 4, id, server.encode([[':status', '200'], ['content-type', 'application/grpc']])), h2Frame(0, 0, id, grpcMessage(c.message)), h2Frame(1, 5, id, trailers)];
      steps.push({ dir: 's2c', data: Uint8Array.from(Buffer.concat(reply)) });
    });
    return steps;
  });

test('HTTP/2 frames, HPACK and the gRPC calls on them: the same transcript whole, byte by byte or in chunks', () => {
  // The gRPC tracker is fed the HTTP/2 decoder's events, as the pipeline does; both report to one recorder.
  const layer: StreamLayer<Http2Sink & GrpcSink> = {
    open: (sink) => {
      const grpc = new GrpcCallTracker(sink, 'h2');
      const events = new Proxy(sink, {
        get: (target, key) => {
          const forward = (target as unknown as Record<string | symbol, unknown>)[key];
          const tracked = (grpc as unknown as Record<string | symbol, unknown>)[key === 'onRequest' ? 'request' : String(key).replace(/^on/, '').replace(/^./, (c) => c.toLowerCase())];
          if (typeof forward !== 'function') return forward;
          return (...args: unknown[]) => {
            (forward as (...a: unknown[]) => void)(...args);
            if (typeof tracked === 'function') (tracked as (...a: unknown[]) => unknown).apply(grpc, args);
          };
        },
      });
      const d = new Http2ConnectionDecoder(events);
      return {
        push: (dir, data, origin) => d.push(dir, data, origin),
        gap: (dir, offset, length) => d.gap(dir, offset, length),
        end: () => {
          d.end();
          grpc.end();
        },
      };
    },
  };
  checkSplitInvariance(layer, wellFormedOrDamaged(h2Conversation), { numRuns: 40 });
});

test('HPACK: what is encoded decodes back; any block decodes or fails with an HpackError', () => {
  const field = fc.tuple(fc.stringMatching(/^[a-z-]{1,12}$/), fc.string({ maxLength: 40 }));
  fc.assert(
    fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }), fc.uint8Array({ maxLength: 100 }), (blocks, junk) => {
      const encoder = new HpackEncoder();
      const decoder = new HpackDecoder();
      for (const fields of blocks) expect(decoder.decode(encoder.encode(fields))).toEqual(fields);
      try {
        new HpackDecoder().decode(junk);
      } catch (e) {
        expect(e).toBeInstanceOf(HpackError);
      }
    }),
    fcParams(150),
  );
});

// --- docker's multiplexed streams (stdcopy) -------------------------------------------------------

test('docker stdcopy frames: the same transcript whole, byte by byte or in chunks', () => {
  const frames = fc.array(fc.tuple(fc.constantFrom(0, 1, 2, 3), payload(200)), { maxLength: 10 }).map((fs): Step[] =>
    fs.map(([stream, data]) => ({ dir: 's2c', data: Uint8Array.from(Buffer.concat([Buffer.from([stream, 0, 0, 0, data.length >>> 24, (data.length >> 16) & 0xff, (data.length >> 8) & 0xff, data.length & 0xff]), data])) })),
  );
  const layer: StreamLayer<ConstructorParameters<typeof StdcopyDecoder>[0]> = {
    open: (sink) => {
      const d = new StdcopyDecoder(sink, 'docker');
      return { push: (_dir, data, origin) => d.push(data, origin), gap: (_dir, offset, length) => d.gap(offset, length), end: () => undefined };
    },
    pieces: { onPayload: { first: 3, last: 4 } },
  };
  checkSplitInvariance(layer, wellFormedOrDamaged(frames), { numRuns: 40 });
});

// --- Status JSON on the error channel --------------------------------------------------------------

test('Status JSON: any bytes give an outcome without a throw; a Status keeps its message and exit code', () => {
  const status = fc.record({ status: fc.constantFrom('Success', 'Failure'), message: fc.string({ maxLength: 60 }), reason: fc.constantFrom('NonZeroExitCode', 'InternalError', ''), code: fc.integer({ min: 0, max: 600 }), exit: fc.integer({ min: 0, max: 255 }) });
  fc.assert(
    fc.property(status, fc.uint8Array({ maxLength: 200 }), fc.constantFrom('v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io', ''), (s, junk, protocol) => {
      const doc = { metadata: {}, status: s.status, message: s.message, reason: s.reason, code: s.code, details: s.reason === 'NonZeroExitCode' ? { causes: [{ reason: 'ExitCode', message: String(s.exit) }] } : undefined };
      const outcome = parseExecStatus(ascii(JSON.stringify(doc)), protocol);
      if (protocol.startsWith('v4') || protocol.startsWith('v5')) {
        expect(JSON.stringify(outcome)).toContain(s.status === 'Success' ? 'Success' : 'Failure');
        if (s.status === 'Failure' && s.reason === 'NonZeroExitCode') expect(outcome).toMatchObject({ code: s.exit });
      }
      parseExecStatus(junk, protocol);
    }),
    fcParams(200),
  );
});

// --- Capture blocks, link layer, IP and TCP --------------------------------------------------------

const FIXTURES = ['ws-echo.pcap', 'spdy-stdin-pcapng.pcapng', 'tls-ws-dsb.pcapng', 'lab/lab-ws-portforward.pcapng'].map((name) => readFileSync(join(process.cwd(), 'fixtures', name)));

type CopiedPacketSink = Omit<CaptureSink, 'onPacket'> & { onPacket(p: PacketCopy): void };

test('pcap and pcapng blocks: the same packets whole, byte by byte or in chunks, or the same error at the same place', () => {
  // Where a packet's bytes lie depends on how the input was cut; the packet does not: the transcript records a copy.
  const layer: StreamLayer<CopiedPacketSink> = {
    open: (sink) => {
      const d = new CaptureDecoder({
        onInfo: (info) => sink.onInfo?.(info),
        onInterface: (iface) => sink.onInterface?.(iface),
        onPacket: (p) => sink.onPacket(copyPacket(p)),
        onSecrets: (type, data, fileOffset) => sink.onSecrets?.(type, data, fileOffset),
        onNameResolution: (entries) => sink.onNameResolution?.(entries),
        onInterfaceStats: (id, stats) => sink.onInterfaceStats?.(id, stats),
        onProblem: (problem) => sink.onProblem?.(problem),
      });
      return { push: (_dir, data) => d.push(data), end: () => d.end() };
    },
    expectedError: DecodeError,
  };
  // Byte by byte over a whole file is slow: the head of each fixture (its section and interface blocks and first packets).
  const files = fc.constantFrom(...FIXTURES.map((f) => f.subarray(0, 6000))).map((bytes): Step[] => [{ dir: 'c2s', data: Uint8Array.from(bytes) }]);
  checkSplitInvariance(layer, wellFormedOrDamaged(files), { numRuns: 40 });
});

/** TCP segments of one connection in some order, with duplicates and overlaps, as Ethernet frames in a pcap. */
const tcpCapture = fc
  .record({
    client: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
    server: fc.uint8Array({ minLength: 1, maxLength: 2000 }),
    isn: fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => [a >>> 0, b >>> 0] as const),
    mss: fc.integer({ min: 64, max: 1460 }),
    order: fc.array(fc.nat(), { maxLength: 30 }),
    duplicates: fc.array(fc.nat(), { maxLength: 5 }),
  })
  .map((c) => {
    const segments: Uint8Array[] = [];
    const send = (fromClient: boolean, data: Uint8Array, isn: number, ackIsn: number) => {
      for (let at = 0; at < data.length; at += c.mss) {
        const [src, dst, srcPort, dstPort] = fromClient ? ['10.0.0.1', '10.0.0.2', 51000, 6443] : ['10.0.0.2', '10.0.0.1', 6443, 51000];
        segments.push(buildTcpPacket({ src, dst, srcPort, dstPort, seq: (isn + 1 + at) >>> 0, ack: (ackIsn + 1) >>> 0, flags: 'PA', payload: data.subarray(at, at + c.mss) }));
      }
    };
    const [ci, si] = c.isn;
    const handshake = [
      buildTcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 51000, dstPort: 6443, seq: ci, flags: 'S' }),
      buildTcpPacket({ src: '10.0.0.2', dst: '10.0.0.1', srcPort: 6443, dstPort: 51000, seq: si, ack: (ci + 1) >>> 0, flags: 'SA' }),
    ];
    send(true, c.client, ci, si);
    send(false, c.server, si, ci);
    // Swaps of neighbours drawn by fast-check: out of order, within a reassembler's reach.
    for (const k of c.order) {
      const i = k % segments.length;
      const j = Math.min(segments.length - 1, i + 1 + (k % 3));
      [segments[i], segments[j]] = [segments[j], segments[i]];
    }
    for (const k of c.duplicates) segments.push(segments[k % segments.length]);
    return { capture: pcapBytes([...handshake, ...segments]), client: c.client, server: c.server };
  });

test('link layer, IP and TCP: reassembly gives each direction exactly, whatever the segment order, duplicates or capture chunks', () => {
  const layer: StreamLayer<TcpSink> = {
    open: (sink) => {
      const tcp = new TcpReassembler(sink);
      const packets = new PacketDecoder({ onSegment: (seg) => tcp.push(seg), onProblem: (p) => sink.onProblem?.(p) });
      const capture = new CaptureDecoder({ onPacket: (p) => packets.push(p) });
      return {
        push: (_dir, data) => capture.push(data),
        end: () => {
          capture.end();
          packets.end();
          tcp.end();
        },
      };
    },
  };
  fc.assert(
    fc.property(tcpCapture, fc.uniqueArray(fc.integer({ min: 1, max: 20000 }), { maxLength: 10 }), ({ capture, client, server }, cuts) => {
      const input: Step[] = [{ dir: 'c2s', data: capture }];
      const whole = play(layer, input);
      const received = (dir: 'c2s' | 's2c') =>
        Buffer.concat(whole.args('onData').filter((a) => a[1] === dir).map((a) => a[2] as Uint8Array)).toString('latin1');
      expect(received('c2s')).toBe(Buffer.from(client).toString('latin1'));
      expect(received('s2c')).toBe(Buffer.from(server).toString('latin1'));
      expect(whole.args('onGap')).toEqual([]);
      expect(transcript(play(layer, input, cuts.filter((c) => c < capture.length)))).toEqual(transcript(whole));
    }),
    fcParams(40),
  );
});
