import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { startTap, type Tap, type TapEvent } from '../../src/tap/tap.js';
import { until } from '../kit/until.js';
import { connectOptions, exchange, sha256, startReplyServer } from './tap-test-kit.js';
import { seededBytes } from '../kit/random.js';

const digestReply = (received: Buffer) => Buffer.concat([Buffer.from(sha256(received)), seededBytes(received.length % 70_001, received.length)]);

describe('execscope tap (TCP)', () => {
  let dir: string;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tap-'))));
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function tapInFrontOf(upstream: string, extra: Partial<Parameters<typeof startTap>[0]> = {}): Promise<{ tap: Tap; events: TapEvent[] }> {
    const events: TapEvent[] = [];
    const tap = await startTap({ listen: '0', upstream, recordTo: join(dir, 'tap.pcapng'), onEvent: (e) => events.push(e), ...extra });
    cleanups.push(() => tap.stop());
    return { tap, events };
  }

  test('relays byte for byte with half-close both ways; the recording decodes and is 0600', async () => {
    const server = await startReplyServer({ host: '127.0.0.1', port: 0 }, digestReply);
    cleanups.push(() => server.close());
    const { tap, events } = await tapInFrontOf(server.address);
    expect(tap.address).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const size of [0, 1, 65_535, 300_001]) {
      const sent = seededBytes(size, size + 1);
      const reply = await exchange(connectOptions(tap.address), sent);
      expect(reply.equals(digestReply(sent))).toBe(true);
    }
    await until(() => tap.activeConnections === 0, 'connections closed');
    await tap.stop();
    expect(events.filter((e) => e.kind === 'close').map((e) => e.kind === 'close' && e.end)).toEqual(['closed', 'closed', 'closed', 'closed']);
    const path = join(dir, 'tap.pcapng');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const model = await analyzeCapture(path, analyzeOptions());
    expect(model.fatal).toBeNull();
    expect(model.connections).toHaveLength(4);
    expect(new Set(model.connections.map((c) => c.server))).toEqual(new Set([server.address]));
  });

  test('stopping with a connection open records what the redactor held for it, its credentials blanked', async () => {
    let received = '';
    const server = net.createServer((s) => {
      s.on('data', (c: Buffer) => (received += c.toString('latin1')));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const { tap } = await tapInFrontOf(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    // A request head whose last line has not come yet: the redactor holds it until the line ends.
    const head = 'GET /held HTTP/1.1\r\nHost: example\r\nAuthorization: Bearer sekrit-token-0123456789';
    const client = net.connect(connectOptions(tap.address));
    client.on('error', () => undefined);
    client.write(head);
    await until(() => received === head, 'the head relayed');
    await tap.stop();
    const recorded = readFileSync(join(dir, 'tap.pcapng')).toString('latin1');
    expect(recorded).toContain('GET /held HTTP/1.1\r\nHost: example\r\n');
    expect(recorded).not.toContain('sekrit-token');
    const model = await analyzeCapture(join(dir, 'tap.pcapng'), analyzeOptions());
    expect(model.fatal).toBeNull();
    expect(model.connections.map((c) => c.bytes.c2s)).toEqual([head.length]);
  });

  test('a reset from either side reaches the other side as a reset', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      accepted.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of accepted) s.destroy();
          server.close(() => r());
        }),
    );
    const { tap, events } = await tapInFrontOf(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);

    // The server resets: the client sees ECONNRESET.
    const client = net.connect(connectOptions(tap.address) as net.NetConnectOpts);
    cleanups.push(() => void client.destroy());
    const clientError = new Promise<string | undefined>((resolve) => client.on('error', (e: NodeJS.ErrnoException) => resolve(e.code)));
    await until(() => accepted.length === 1, 'upstream accepted');
    accepted[0].resetAndDestroy();
    expect(await clientError).toBe('ECONNRESET');

    // The client resets: the server sees ECONNRESET.
    const client2 = net.connect(connectOptions(tap.address) as net.NetConnectOpts);
    client2.on('error', () => undefined);
    await until(() => accepted.length === 2, 'second upstream connection accepted');
    const serverError = new Promise<string | undefined>((resolve) => accepted[1].on('error', (e: NodeJS.ErrnoException) => resolve(e.code)));
    client2.resetAndDestroy();
    expect(await serverError).toBe('ECONNRESET');
    await until(() => events.filter((e) => e.kind === 'close').length === 2, 'both relays ended');
    const closes = events.filter((e): e is Extract<TapEvent, { kind: 'close' }> => e.kind === 'close');
    expect(closes.map((c) => [c.end, c.by])).toEqual([
      ['reset', 'upstream'],
      ['reset', 'client'],
    ]);
  });

  test('an upstream that refuses: the client is reset and the failure reported', async () => {
    const unused = net.createServer();
    await new Promise<void>((r) => unused.listen(0, '127.0.0.1', r));
    const port = (unused.address() as net.AddressInfo).port;
    await new Promise<void>((r) => unused.close(() => r()));
    const { tap, events } = await tapInFrontOf(`127.0.0.1:${port}`);
    const code = await new Promise<string | undefined>((resolve) => {
      const c = net.connect(connectOptions(tap.address) as net.NetConnectOpts);
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code));
      c.on('close', () => resolve('closed'));
    });
    expect(code).toBe('ECONNRESET');
    expect(events).toEqual([expect.objectContaining({ kind: 'upstream-failed', error: expect.stringContaining('ECONNREFUSED') })]);
  });

  test('backpressure: a server that stops reading stalls the client, the tap buffers little, nothing is lost', async () => {
    let upstreamSocket: net.Socket | null = null;
    const received: Buffer[] = [];
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      upstreamSocket = s;
      s.pause(); // reads nothing until told
      s.on('data', (c: Buffer) => received.push(c));
      s.on('end', () => s.end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          upstreamSocket?.destroy();
          server.close(() => r());
        }),
    );
    const { tap } = await tapInFrontOf(`127.0.0.1:${(server.address() as net.AddressInfo).port}`, { recordTo: undefined });
    const payload = seededBytes(64 << 20, 7);
    const client = net.connect({ ...(connectOptions(tap.address) as net.TcpNetConnectOpts), allowHalfOpen: true });
    cleanups.push(() => void client.destroy());
    client.end(payload);
    // The kernel buffers fill up on the upstream leg; then the tap stops reading the client.
    await until(() => upstreamSocket !== null && tap.stats.pausedReads === 1, 'the tap paused reading the client');
    expect(tap.stats.relayed.c2s).toBeLessThan(payload.length / 2);
    expect(tap.bufferedBytes).toBeLessThan(1 << 20);
    const serverDone = new Promise<void>((r) => upstreamSocket!.on('end', () => r()));
    upstreamSocket!.resume();
    await serverDone;
    const got = Buffer.concat(received);
    expect(got.length).toBe(payload.length);
    expect(sha256(got)).toBe(sha256(payload));
  });

  test('redaction: the server gets the token, the recording has stars of the same length', async () => {
    const token = 'sha256~Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbg';
    let seen = '';
    const server = http.createServer((req, res) => {
      seen = req.headers.authorization ?? '';
      res.setHeader('Set-Cookie', 'session=abcdef0123456789');
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const { tap } = await tapInFrontOf(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const port = Number(tap.address.split(':')[1]);
    for (let i = 0; i < 2; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', path: '/api', method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-length': 5 }, agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end('hello');
      });
      expect(body).toBe('ok');
    }
    expect(seen).toBe(`Bearer ${token}`);
    await until(() => tap.activeConnections === 0, 'connections closed');
    await tap.stop();
    const recorded = readFileSync(join(dir, 'tap.pcapng')).toString('latin1');
    expect(recorded).not.toContain(token);
    expect(recorded).not.toContain('abcdef0123456789');
    expect(recorded).toContain(`authorization: Bearer ${'*'.repeat(token.length)}\r\n`);
    const model = await analyzeCapture(join(dir, 'tap.pcapng'), analyzeOptions());
    expect(model.connections.flatMap((c) => c.requests.map((r) => [r.method, r.target, r.status]))).toEqual([
      ['POST', '/api', 200],
      ['POST', '/api', 200],
    ]);
  });

  test('tshark reads the recording', async () => {
    const server = await startReplyServer({ host: '127.0.0.1', port: 0 }, digestReply);
    cleanups.push(() => server.close());
    const { tap } = await tapInFrontOf(server.address);
    await Promise.all([1, 2, 3].map((n) => exchange(connectOptions(tap.address), seededBytes(n * 100_000, n))));
    await until(() => tap.activeConnections === 0, 'connections closed');
    await tap.stop();
    const out = execFileSync('tshark', ['-r', join(dir, 'tap.pcapng'), '-q', '-z', 'conv,tcp'], { encoding: 'utf8', timeout: 120_000 });
    expect(out.split('\n').filter((l) => /<->/.test(l))).toHaveLength(3);
    const analysis = execFileSync('tshark', ['-r', join(dir, 'tap.pcapng'), '-Y', 'tcp.analysis.flags && !tcp.analysis.window_update'], { encoding: 'utf8', timeout: 120_000 });
    expect(analysis).toBe('');
  });

  test('unix listen: a stale socket file is replaced, a regular file is not', async () => {
    const server = await startReplyServer({ host: '127.0.0.1', port: 0 }, digestReply);
    cleanups.push(() => server.close());
    const path = join(dir, 'stale.sock');
    const stale = net.createServer();
    await new Promise<void>((r) => stale.listen(path, r));
    // Simulates a tap that died: the file stays, nothing answers.
    const handle = (stale as unknown as { _handle: { close(): void } | null })._handle;
    handle?.close();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(startTap({ listen: `unix:${join(dir, 'file')}`, upstream: server.address })).rejects.toThrow('not a socket');
    const tap = await startTap({ listen: `unix:${path}`, upstream: server.address });
    cleanups.push(() => tap.stop());
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const reply = await exchange({ path }, Buffer.from('x'));
    expect(reply.equals(digestReply(Buffer.from('x')))).toBe(true);
  });
});
