/**
 * The lab's kubelet and CRI streaming server with clients kubectl is not: older SPDY protocol versions,
 * the legacy WebSocket protocols (plain and base64) proxied through the kubelet, refusals, and the
 * streaming server's stream-creation timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.js';
import { SpdyConnection } from '../../src/lab/spdy-connection.js';
import { dialUpgrade, readResponseBody, requestHead, type UpstreamResponse } from '../../src/lab/upstream.js';
import { WebSocketFrameEncoder } from '../../src/websocket/frame-encoder.js';
import { until } from '../kit/until.js';
import { serverFrames } from './wire-helpers.js';

let dir: string;
let lab: Lab;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lab-cri-'));
  lab = await Lab.start({ dir, tls: false, recordPath: null, streamCreationTimeoutMs: 200 });
});

afterAll(async () => {
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
});

function spdyUpgrade(target: string, protocols: string[]): Promise<UpstreamResponse> {
  const headers: [string, string][] = [
    ['Connection', 'Upgrade'],
    ['Upgrade', 'SPDY/3.1'],
    ...protocols.map((p): [string, string] => ['X-Stream-Protocol-Version', p]),
  ];
  return dialUpgrade(lab.port('kubelet'), requestHead('POST', target, 'kubelet', headers));
}

async function spdyExec(target: string, protocol: string, streams: string[]): Promise<{ output: Record<string, string>; negotiated: string | undefined }> {
  const res = await spdyUpgrade(target, [protocol]);
  expect(res.status).toBe(101);
  const conn = new SpdyConnection(res.socket, { role: 'client' });
  conn.push(res.raw.subarray(res.headLength));
  res.socket.resume();
  const output: Record<string, string> = {};
  const ended: Promise<void>[] = [];
  for (const type of streams) {
    const stream = await conn.createStream({ streamType: type });
    output[type] = '';
    ended.push(new Promise((resolve) => stream.consume((b) => (output[type] += Buffer.from(b).toString()), () => resolve())));
  }
  await Promise.all(ended);
  conn.close();
  return { output, negotiated: res.headers.get('x-stream-protocol-version')?.[0] };
}

describe('SPDY versions at the streaming server', () => {
  test('v3: nothing on the error stream for success', async () => {
    const r = await spdyExec('/exec/default/lab-0/main?command=echo&command=hi&output=1', 'v3.channel.k8s.io', ['error', 'stdout']);
    expect(r).toEqual({ negotiated: 'v3.channel.k8s.io', output: { error: '', stdout: 'hi\n' } });
  });

  test('v2: a failure is its message text, not a Status', async () => {
    const r = await spdyExec('/exec/default/lab-0/main?command=sh&command=-c&command=exit+2&output=1', 'v2.channel.k8s.io', ['error', 'stdout']);
    expect(r.output.error).toBe('command terminated with non-zero exit code: error executing command [sh -c exit 2], exit code 2');
  });

  test('the client order decides among the versions the server supports; v5 never over SPDY', async () => {
    const res = await spdyUpgrade('/exec/default/lab-0/main?command=true&output=1', ['v5.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(res.status).toBe(101);
    expect(res.headers.get('x-stream-protocol-version')).toEqual(['v3.channel.k8s.io']);
    res.socket.destroy();
  });

  test('no version offered: 400; none in common: 403 naming the accepted ones', async () => {
    const none = await spdyUpgrade('/exec/default/lab-0/main?command=true&output=1', []);
    expect(none.status).toBe(400);
    expect((await readResponseBody(none)).toString()).toBe('unable to upgrade: X-Stream-Protocol-Version is required\n');
    const v9 = await spdyUpgrade('/exec/default/lab-0/main?command=true&output=1', ['v9.channel.k8s.io']);
    expect(v9.status).toBe(403);
    expect(v9.headers.get('x-accepted-stream-protocol-versions')).toEqual(['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']);
    v9.socket.destroy();
  });

  test('fewer streams than the flags ask for: the streaming server times out and never runs the command', async () => {
    const res = await spdyUpgrade('/exec/default/lab-0/main?command=touch&command=ran&input=1&output=1', ['v4.channel.k8s.io']);
    const conn = new SpdyConnection(res.socket, { role: 'client' });
    res.socket.resume();
    await conn.createStream({ streamType: 'error' });
    await conn.createStream({ streamType: 'stdout' }); // stdin never created: 2 of 3
    const cri = () => lab.observations.sessions.filter((s) => s.hop === 'cri').at(-1)!;
    await until(() => cri().notes.includes('timed out waiting for client to create streams'));
    expect(cri().streams).toBeNull();
    conn.close();
  });
});

describe('the kubelet', () => {
  test('unknown pod: 404 "pod does not exist"; no stream flags: 400', async () => {
    const missing = await spdyUpgrade('/exec/default/nosuch/main?command=true&output=1', ['v4.channel.k8s.io']);
    expect(missing.status).toBe(404);
    expect((await readResponseBody(missing)).toString()).toBe('pod does not exist\n');
    const noFlags = await spdyUpgrade('/exec/default/lab-0/main?command=true', ['v4.channel.k8s.io']);
    expect(noFlags.status).toBe(400);
    expect((await readResponseBody(noFlags)).toString()).toBe('you must specify at least 1 of stdin, stdout, stderr\n');
  });
});

describe('legacy WebSocket at the streaming server, through the kubelet', () => {
  const client = new WebSocketFrameEncoder({ client: true });

  async function wsExec(target: string, protocol: string, send: Uint8Array[] = []): Promise<{ status: number; protocol?: string; frames: [number, string][] }> {
    const head = requestHead('GET', target, 'kubelet', [
      ['Connection', 'Upgrade'],
      ['Upgrade', 'websocket'],
      ['Sec-WebSocket-Version', '13'],
      ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ['Sec-WebSocket-Protocol', protocol],
    ]);
    const res = await dialUpgrade(lab.port('kubelet'), head);
    const chunks = [res.raw.subarray(res.headLength)];
    res.socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise((r) => res.socket.on('end', r)); // dialUpgrade's sockets are half-open
    res.socket.resume();
    for (const b of send) res.socket.write(b);
    await closed;
    res.socket.destroy();
    const frames = serverFrames(Buffer.concat(chunks)).map(([op, p]): [number, string] => [op, p.toString('latin1')]);
    return { status: res.status, protocol: res.headers.get('sec-websocket-protocol')?.[0], frames };
  }

  test('v4.channel.k8s.io: "connection established", output, a Status JSON, Close(1000)', async () => {
    const r = await wsExec('/exec/default/lab-0/main?command=echo&command=ws&output=1&error=1', 'v4.channel.k8s.io');
    expect(r.status).toBe(101);
    expect(r.protocol).toBe('v4.channel.k8s.io');
    expect(r.frames).toEqual([
      [2, '\x01'],
      [2, '\x01ws\n'],
      [2, '\x03{"metadata":{},"status":"Success"}'],
      [8, '\x03\xe8'],
    ]);
  });

  test('base64.channel.k8s.io: stdin in, text frames out, nothing on the error channel for success', async () => {
    const r = await wsExec('/exec/default/lab-0/main?command=head&command=-c&command=3&input=1&output=1', 'base64.channel.k8s.io', [
      client.base64ChannelMessage(0, Buffer.from('abcdef')),
    ]);
    expect(r.frames).toEqual([
      [1, '1'],
      [1, `1${Buffer.from('abc').toString('base64')}`],
      [8, '\x03\xe8'],
    ]);
  });

  test('v5 is never offered by a streaming server: 403 passed back by the kubelet', async () => {
    const r = await wsExec('/exec/default/lab-0/main?command=true&output=1', 'v5.channel.k8s.io');
    expect(r.status).toBe(403);
  });
});

describe('port-forward through the kubelet', () => {
  /** Opens an error+data stream pair for `port`, sends `request` and reads both streams to their end. */
  async function forwardOnce(conn: SpdyConnection, port: number, requestId: string, request: string): Promise<{ data: string; error: string }> {
    const headers = (streamType: string) => ({ streamType, port: String(port), requestID: requestId });
    const error = await conn.createStream(headers('error'));
    const data = await conn.createStream(headers('data'));
    const out = { data: '', error: '' };
    const ended = [data, error].map((s, k) => new Promise<void>((resolve) => s.consume((b) => (out[k ? 'error' : 'data'] += Buffer.from(b).toString()), () => resolve())));
    data.write(Buffer.from(request));
    data.close();
    await Promise.all(ended);
    return out;
  }

  test('pairs streams by request id, reaches the pod port, and says when nothing listens', async () => {
    const res = await spdyUpgrade('/portForward/default/lab-0', ['portforward.k8s.io']);
    expect(res.status).toBe(101);
    expect(res.headers.get('x-stream-protocol-version')).toEqual(['portforward.k8s.io']);
    const conn = new SpdyConnection(res.socket, { role: 'client' });
    conn.push(res.raw.subarray(res.headLength));
    res.socket.resume();
    const ok = await forwardOnce(conn, 80, '0', 'GET /bytes/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(ok.error).toBe('');
    expect(ok.data).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nexecs$/);
    const refused = await forwardOnce(conn, 8081, '1', 'hello?');
    expect(refused.data).toBe('');
    expect(refused.error).toMatch(/^error forwarding port 8081 to pod [0-9a-f]{64}, uid : failed to connect to localhost:8081 inside namespace/);
    conn.close();
  });

  test('only portforward.k8s.io is spoken: another protocol is refused', async () => {
    const res = await spdyUpgrade('/portForward/default/lab-0', ['v4.channel.k8s.io']);
    expect(res.status).toBe(403);
    expect((await readResponseBody(res)).toString()).toContain('server accepts [portforward.k8s.io]');
  });
});
