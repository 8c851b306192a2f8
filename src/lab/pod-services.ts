/**
 * What listens inside the lab's pods, for port-forward: each pod serves HTTP on its container port
 * 80, really a loopback port of the lab. `GET /bytes/N` answers N bytes of a fixed pattern (up to
 * 64 MiB), anything else a line naming the pod and the path. IO code.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PodSpec } from './runtime.js';

/** The container port every lab pod serves. */
export const POD_HTTP_PORT = 80;
const MAX_BODY_BYTES = 64 << 20;
const PATTERN = Buffer.from('execscope-lab-port-forward\n');

/** `GET /bytes/N`'s body: the pattern repeated, cut at N bytes. */
export function patternBytes(length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += PATTERN.length) PATTERN.copy(out, at, 0, Math.min(PATTERN.length, length - at));
  return out;
}

export class PodServices {
  private constructor(private readonly servers: Map<string, { server: http.Server; port: number }>) {}

  static async start(pods: readonly PodSpec[]): Promise<PodServices> {
    const servers = new Map<string, { server: http.Server; port: number }>();
    for (const pod of pods) {
      const server = http.createServer((req, res) => {
        const sized = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
        const body = sized ? patternBytes(Math.min(Number(sized[1]), MAX_BODY_BYTES)) : Buffer.from(`hello from ${pod.namespace}/${pod.name}:${POD_HTTP_PORT} ${req.url}\n`);
        res.writeHead(200, { 'Content-Type': sized ? 'application/octet-stream' : 'text/plain', 'Content-Length': body.length });
        res.end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.set(`${pod.namespace}/${pod.name}`, { server, port: (server.address() as AddressInfo).port });
    }
    return new PodServices(servers);
  }

  /** The loopback port standing for `port` of the pod, or undefined when nothing listens there. */
  target(namespace: string, pod: string, port: number): number | undefined {
    return port === POD_HTTP_PORT ? this.servers.get(`${namespace}/${pod}`)?.port : undefined;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.servers.values()].map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  }
}
