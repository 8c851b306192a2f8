/**
 * Model objects for UI tests, shaped like what the pipeline builds from the real captures
 * (values taken from fixtures/ws-echo.pcap and fixtures/spdy-echo.pcap decoded by the pipeline and
 * checked against their .truth.json), plus hostile, hanging and fallback sessions.
 */
import { appended } from '../../src/core/appended.js';
import { newCarrierLog } from '../../src/core/carrier-log.js';
import type { Direction, FrameOrigin } from '../../src/core/origin.js';
import type { CaptureModel, ConnectionRecord, ControlEvent, ExecSession, StreamEvent, StreamRecord, TlsSummary } from '../../src/model/session.js';
import { StreamRecorder, defaultRecorderOptions } from '../../src/k8s/stream-recorder.js';

const MS = 1e6;

export function origin(offset: number, length: number, packet: number, ts: number, lastPacket = packet, lastTs = ts): FrameOrigin {
  return { offset, length, packet, ts, lastPacket, lastTs };
}

const bytesOf = (payload: string | Uint8Array) => (typeof payload === 'string' ? new TextEncoder().encode(payload) : payload);

export function session(over: Partial<ExecSession> = {}): ExecSession {
  return {
    id: 1,
    connectionId: 1,
    kind: 'exec',
    hop: 'apiserver',
    transport: 'websocket',
    protocol: 'v5.channel.k8s.io',
    offeredProtocols: ['v5.channel.k8s.io'],
    userAgent: null,
    httpStatus: 101,
    method: 'GET',
    target: '/api/v1/namespaces/default/pods/demo-0/exec?command=sh&container=main&stdout=true',
    client: '127.0.0.1:40000',
    server: '127.0.0.1:6443',
    namespace: 'default',
    pod: 'demo-0',
    container: 'main',
    uid: null,
    token: null,
    command: ['sh'],
    stdin: false,
    stdout: true,
    stderr: false,
    tty: false,
    ports: [],
    startTs: 0,
    upgradeTs: null,
    endTs: null,
    streams: [],
    resizes: [],
    exit: null,
    errorBytes: null,
    state: 'open-at-end',
    fallbackFrom: null,
    previousHop: null,
    nextHop: null,
      criCall: null,
    connectionEnd: null,
    refusal: null,
    control: [],
    warnings: [],
    requestOrigin: origin(0, 400, 1, over.startTs ?? 0),
    ...over,
  };
}

/** The stream `name` of a session, created (like the recorder does) on first use. */
export function stream(s: ExecSession, name: string, id: number): StreamRecord {
  let r = s.streams.find((x) => x.name === name);
  if (!r) {
    r = new StreamRecorder(name, id, defaultRecorderOptions).record;
    s.streams.push(r);
  }
  return r;
}

/** One frame's payload on a stream: counted, kept in the head, and a data event at the frame's completion. */
export function data(r: StreamRecord, dir: Direction, payload: string | Uint8Array, o: FrameOrigin): StreamEvent {
  const b = bytesOf(payload);
  const ev: StreamEvent = { kind: 'data', ts: o.lastTs, dir, length: b.length, streamOffset: r.bytes, origin: o };
  r.bytes += b.length;
  if (b.length) {
    r.head = appended(r.head, b);
    r.headBytes += b.length;
    r.lastDataTs = o.lastTs;
  }
  r.events = appended(r.events, ev);
  return ev;
}

export function mark(r: StreamRecord, kind: StreamEvent['kind'], dir: Direction, o: FrameOrigin, detail?: string): StreamEvent {
  if (kind === 'open' && r.openedAt === null) r.openedAt = o.lastTs;
  if (kind === 'half-close') r.closedAt = { ...r.closedAt, [dir]: o.lastTs };
  if (kind === 'reset') {
    r.resetAt = o.lastTs;
    r.resetStatus = detail ?? null;
  }
  const ev: StreamEvent = { kind, ts: o.lastTs, dir, length: 0, streamOffset: r.bytes, origin: o, detail };
  r.events = appended(r.events, ev);
  return ev;
}

export function control(s: ExecSession, kind: ControlEvent['kind'], dir: Direction, detail: string, o: FrameOrigin | null, ts = o?.lastTs ?? 0): ControlEvent {
  const c: ControlEvent = { kind, ts, dir, detail, origin: o };
  s.control.push(c);
  return c;
}

const SUCCESS = '{"metadata":{},"status":"Success"}';

/** kubectl exec demo-0 -- echo "hello from websocket" over WebSocket v5 (fixtures/ws-echo.pcap). */
export function wsEchoSession(over: Partial<ExecSession> = {}): ExecSession {
  const s = session({
    id: 1,
    connectionId: 4,
    target: '/api/v1/namespaces/default/pods/demo-0/exec?command=echo&command=hello+from+websocket&container=main&stderr=true&stdout=true',
    client: '127.0.0.1:43542',
    server: '127.0.0.1:18102',
    command: ['echo', 'hello from websocket'],
    stderr: true,
    startTs: 119.754 * MS,
    upgradeTs: 120.054 * MS,
    endTs: 121.874 * MS,
    exit: { status: 'Success', code: 0 },
    errorBytes: new TextEncoder().encode(SUCCESS),
    state: 'complete',
    requestOrigin: origin(0, 468, 27, 119.754 * MS),
    ...over,
  });
  control(s, 'upgrade', 's2c', '101 Switching Protocols v5.channel.k8s.io', origin(0, 172, 29, 120.054 * MS));
  const stdout = stream(s, 'stdout', 1);
  mark(stdout, 'established', 's2c', origin(172, 3, 31, 120.103 * MS), 'empty message: connection established');
  data(stdout, 's2c', 'hello from websocket\n', origin(175, 24, 33, 121.308 * MS));
  data(stream(s, 'error', 3), 's2c', SUCCESS, origin(199, 37, 35, 121.769 * MS));
  control(s, 'close', 's2c', 'Close 1000', origin(236, 4, 37, 121.792 * MS));
  control(s, 'close', 'c2s', 'Close 1000', origin(468, 8, 40, 121.849 * MS));
  return s;
}

/** kubectl exec demo-0 -- echo "hello from spdy" over SPDY/3.1, v4 (fixtures/spdy-echo.pcap). */
export function spdyEchoSession(over: Partial<ExecSession> = {}): ExecSession {
  const s = session({
    id: 2,
    connectionId: 3,
    transport: 'spdy',
    protocol: 'v4.channel.k8s.io',
    offeredProtocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'],
    method: 'POST',
    target: '/api/v1/namespaces/default/pods/demo-0/exec?command=echo&command=hello+from+spdy&container=main&stderr=true&stdout=true',
    client: '127.0.0.1:38284',
    server: '127.0.0.1:18100',
    command: ['echo', 'hello from spdy'],
    stderr: true,
    startTs: 89.491 * MS,
    upgradeTs: 89.765 * MS,
    endTs: 98.882 * MS,
    exit: { status: 'Success', code: 0 },
    errorBytes: new TextEncoder().encode(SUCCESS),
    state: 'complete',
    requestOrigin: origin(0, 594, 25, 89.491 * MS),
    ...over,
  });
  control(s, 'upgrade', 's2c', '101 Switching Protocols v4.channel.k8s.io', origin(0, 122, 27, 89.765 * MS));
  const error = stream(s, 'error', 1);
  mark(error, 'open', 'c2s', origin(594, 49, 29, 90.633 * MS, 37, 90.697 * MS));
  mark(error, 'reply', 's2c', origin(122, 28, 39, 91.789 * MS, 45, 91.948 * MS));
  const stdout = stream(s, 'stdout', 3);
  mark(stdout, 'open', 'c2s', origin(643, 33, 46, 92.062 * MS, 54, 92.11 * MS));
  mark(stdout, 'reply', 's2c', origin(150, 20, 56, 92.244 * MS, 60, 92.281 * MS));
  const stderr = stream(s, 'stderr', 5);
  mark(stderr, 'open', 'c2s', origin(676, 29, 62, 92.401 * MS, 69, 92.446 * MS));
  mark(stderr, 'reply', 's2c', origin(170, 20, 71, 92.571 * MS, 75, 92.601 * MS));
  data(stdout, 's2c', 'hello from spdy\n', origin(190, 24, 77, 93.818 * MS, 80, 93.997 * MS));
  data(stdout, 's2c', '', origin(214, 8, 81, 94.106 * MS, 83, 94.142 * MS));
  mark(stdout, 'half-close', 's2c', origin(214, 8, 81, 94.106 * MS, 83, 94.142 * MS));
  data(stderr, 's2c', '', origin(222, 8, 84, 94.212 * MS, 86, 94.236 * MS));
  mark(stderr, 'half-close', 's2c', origin(222, 8, 84, 94.212 * MS, 86, 94.236 * MS));
  data(error, 's2c', SUCCESS, origin(230, 42, 87, 94.572 * MS, 90, 94.633 * MS));
  mark(error, 'reset', 's2c', origin(272, 16, 92, 94.703 * MS, 96, 94.741 * MS), 'CANCEL');
  control(s, 'rst', 's2c', 'RST_STREAM 1 CANCEL', origin(272, 16, 92, 94.703 * MS, 96, 94.741 * MS));
  control(s, 'goaway', 's2c', 'GOAWAY last-good 5 OK', origin(288, 16, 97, 94.758 * MS, 101, 94.782 * MS));
  return s;
}

/** `cat` that never gets EOF: stdin carried data, was never half-closed, pings every 5 s for 10 minutes. */
export function hangingSession(over: Partial<ExecSession> = {}): ExecSession {
  const s = session({
    id: 3,
    connectionId: 5,
    command: ['cat'],
    stdin: true,
    target: '/api/v1/namespaces/default/pods/web-0/exec?command=cat&container=app&stdin=true&stdout=true',
    pod: 'web-0',
    container: 'app',
    startTs: 1000 * MS,
    upgradeTs: 1001 * MS,
    endTs: null,
    state: 'open-at-end',
    ...over,
  });
  control(s, 'upgrade', 's2c', '101 Switching Protocols v5.channel.k8s.io', origin(0, 172, 12, 1001 * MS));
  const stdin = stream(s, 'stdin', 0);
  const stdout = stream(s, 'stdout', 1);
  data(stdin, 'c2s', 'line 1\n', origin(468, 14, 14, 1010 * MS));
  data(stdout, 's2c', 'line 1\n', origin(175, 10, 15, 1012 * MS));
  data(stdin, 'c2s', 'line 2\n', origin(482, 14, 16, 1020 * MS));
  data(stdout, 's2c', 'line 2\n', origin(185, 10, 17, 1022 * MS));
  for (let i = 1; i <= 120; i++) {
    const ts = 1022 * MS + i * 5000 * MS;
    control(s, 'ping', 'c2s', 'ping 0 B', origin(496 + i * 6, 6, 17 + 2 * i, ts));
    control(s, 'pong', 's2c', 'pong, rtt 0.050 ms', origin(195 + i * 2, 2, 18 + 2 * i, ts + 0.05 * MS));
  }
  return s;
}

/** A v5 WebSocket attempt refused with 403, then the SPDY session kubectl fell back to. */
export function refusedAndFallback(): [ExecSession, ExecSession] {
  const refused = session({
    id: 4,
    connectionId: 6,
    httpStatus: 403,
    protocol: '',
    startTs: 2000 * MS,
    endTs: 2001 * MS,
    state: 'upgrade-failed',
    refusal: { code: 403, reason: 'Forbidden', message: 'pods "demo-0" is forbidden: cannot get resource "pods/exec"' },
  });
  const fallback = spdyEchoSession({ id: 5, connectionId: 7, fallbackFrom: 4, startTs: 2002 * MS, upgradeTs: 2003 * MS, endTs: 2010 * MS });
  return [refused, fallback];
}

export function connection(over: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return {
    id: 1,
    client: '127.0.0.1:38262',
    server: '127.0.0.1:18100',
    startTs: 0,
    endTs: 317000,
    firstPacket: 1,
    protocol: 'empty',
    bytes: { c2s: 0, s2c: 0 },
    requests: [],
    tls: null,
    sessionIds: [],
    gaps: [],
    zeroWindows: [],
    ...over,
  };
}

/** The connections of fixtures/spdy-echo.pcap: a port probe, kubectl's discovery GETs, the exec upgrade. */
export function spdyEchoConnections(): ConnectionRecord[] {
  return [
    connection(),
    connection({
      id: 2,
      client: '127.0.0.1:38268',
      startTs: 73.991 * MS,
      endTs: 99.004 * MS,
      firstPacket: 7,
      protocol: 'http',
      bytes: { c2s: 1527, s2c: 3041 },
      requests: [
        { method: 'GET', target: '/version?timeout=5s', status: 200, ts: 74.182 * MS },
        { method: 'GET', target: '/api?timeout=32s', status: 200, ts: 77.727 * MS },
        { method: 'GET', target: '/apis?timeout=32s', status: 200, ts: 78.622 * MS },
        { method: 'GET', target: '/api/v1?timeout=32s', status: 200, ts: 79.447 * MS },
        { method: 'GET', target: '/api/v1/namespaces/default/pods/demo-0', status: 200, ts: 82.609 * MS },
      ],
    }),
    connection({
      id: 3,
      client: '127.0.0.1:38284',
      startTs: 89.252 * MS,
      endTs: 98.882 * MS,
      firstPacket: 22,
      protocol: 'spdy',
      bytes: { c2s: 705, s2c: 304 },
      requests: [{ method: 'POST', target: spdyEchoSession().target, status: 101, ts: 89.491 * MS }],
      sessionIds: [2],
    }),
  ];
}

export function tlsSummary(over: Partial<TlsSummary> = {}): TlsSummary {
  return { version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', keysFound: true, records: [], recordsDropped: 0, plaintextCarriers: { c2s: newCarrierLog(), s2c: newCarrierLog() }, ...over };
}

export function captureModel(over: Partial<CaptureModel> = {}): CaptureModel {
  return {
    capture: { format: 'pcap', packets: 101, linkTypes: ['EN10MB'], unsupportedLinkTypes: [], originNs: 1795311774978068000n, bytesRead: 14423 },
    sessions: [],
    connections: [],
    rpcs: [],
    warnings: [],
    fatal: null,
    done: true,
    ...over,
  };
}

/** Hostile bytes: clear screen, OSC title, cursor moves, bracketed paste, 8-bit CSI raw and as U+009B. */
export const HOSTILE_STDOUT = Uint8Array.from([
  ...new TextEncoder().encode('before\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;http://evil\x1b\\link\x1b[10;10H\x1b[?2004h\x1b[200~paste\x1b[201~\n'),
  0x9b, 0x33, 0x31, 0x6d, 0xc2, 0x9b, 0x33, 0x31, 0x6d, 0xc2, 0x9d, 0x30, 0x3b, 0x74, 0x07,
  ...new TextEncoder().encode('\x1bc\x1b7\r\x08\x07after\n'),
]);

/** A session whose every captured text field tries to act on the terminal. */
export function hostileSession(): ExecSession {
  const s = session({
    id: 9,
    connectionId: 9,
    namespace: 'ns\x1b[2J',
    pod: 'pod\x1b]0;title\x07',
    container: 'c\u009b31m',
    command: ['sh', '-c', 'echo \x1b[31mred\x1b[0m\n\u202eevil'],
    target: '/api/v1/namespaces/x/pods/y/exec?command=%1B%5B2J',
    startTs: 0,
    upgradeTs: 1 * MS,
    endTs: 5 * MS,
    protocol: 'v5.channel.k8s.io\x1b[2J',
    exit: { status: 'Failure', code: null, reason: 'Bad\x1b[5m', message: 'oops \x1b]0;t\x07\u009b2J' },
    state: 'complete',
  });
  control(s, 'upgrade', 's2c', '101 Switching Protocols \x1b[2J', origin(0, 172, 2, 1 * MS));
  data(stream(s, 'stdout', 1), 's2c', HOSTILE_STDOUT, origin(172, HOSTILE_STDOUT.length + 3, 3, 2 * MS));
  data(stream(s, 'std\x1b[2Jout', 7), 's2c', 'x\x1b[2J', origin(400, 9, 4, 3 * MS));
  control(s, 'close', 's2c', 'Close 1000 \x1b]0;x\x07', origin(500, 20, 5, 4 * MS));
  s.warnings.push({ code: 'test.hostile', severity: 'warning', where: 'packet 5 \x1b[2J', message: 'bad \u009b frame' });
  return s;
}
