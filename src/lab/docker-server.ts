/**
 * A docker-shaped Engine API server for the lab's docker runtime, on a unix socket: the calls a
 * dockershim makes for an exec (moby api/server/router/container/exec.go, API 1.41) — `/_ping`,
 * `POST /containers/{id}/exec` → `{"Id"}`, `POST /exec/{id}/start` hijacked with `101 UPGRADED`
 * (stdcopy frames without a TTY, raw with one; the client's half-close is stdin's EOF),
 * `POST /exec/{id}/resize`, `GET /exec/{id}/json` — running the lab's own processes. IO code.
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseEngineCall, parseProcessConfig, RAW_STREAM } from '../docker/engine-api.js';
import { encodeStdcopyFrame } from '../docker/stdcopy.js';
import type { LabProcess, LabRuntime } from './runtime.js';

interface LabExec {
  id: string;
  container: string;
  request: Parameters<LabRuntime['start']>[0];
  process: LabProcess | null;
  exitCode: number | null;
}

const MAX_BODY = 1 << 20;

export function dockerEngineServer(runtime: LabRuntime): http.Server {
  const execs = new Map<string, LabExec>();
  const server = http.createServer((req, res) => void serve(runtime, execs, req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void hijack(execs, runtime, req, socket, head));
  return server;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
  res.end(`${JSON.stringify(body)}\n`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_BODY) parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

async function serve(runtime: LabRuntime, execs: Map<string, LabExec>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const url = req.url ?? '';
  if (/^(\/v[\d.]+)?\/_ping$/.test(url.split('?')[0])) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Api-Version': '1.41' });
    res.end(req.method === 'HEAD' ? undefined : 'OK');
    return;
  }
  const call = parseEngineCall(req.method ?? '', url);
  switch (call?.op) {
    case 'exec-create': {
      const where = runtime.containerById(call.container);
      const config = parseProcessConfig(body);
      if (!where) return json(res, 404, { message: `No such container: ${call.container}` });
      if (!config || !config.command.length) return json(res, 400, { message: 'No exec command specified' });
      const id = randomBytes(32).toString('hex');
      const tty = config.tty ?? false;
      execs.set(id, {
        id,
        container: call.container,
        request: { kind: 'exec', ...where, command: config.command, stdin: config.stdin ?? false, stdout: config.stdout ?? false, stderr: (config.stderr ?? false) && !tty, tty },
        process: null,
        exitCode: null,
      });
      return json(res, 201, { Id: id });
    }
    case 'exec-resize': {
      const exec = execs.get(call.exec);
      if (!exec) return json(res, 404, { message: `No such exec instance: ${call.exec}` });
      if (call.size) exec.process?.resize(call.size.width, call.size.height);
      res.writeHead(200, { 'Content-Length': '0' });
      res.end();
      return;
    }
    case 'exec-inspect': {
      const exec = execs.get(call.exec);
      if (!exec) return json(res, 404, { message: `No such exec instance: ${call.exec}` });
      const running = exec.process !== null && exec.exitCode === null;
      return json(res, 200, {
        ID: exec.id,
        Running: running,
        ExitCode: running ? null : exec.exitCode,
        ProcessConfig: { tty: exec.request.tty, entrypoint: exec.request.command[0], arguments: exec.request.command.slice(1) },
        OpenStdin: exec.request.stdin,
        OpenStderr: exec.request.stderr,
        OpenStdout: exec.request.stdout,
        ContainerID: exec.container,
      });
    }
    default:
      return json(res, 404, { message: 'page not found' });
  }
}

/** `POST /exec/{id}/start` with `Upgrade: tcp`: the connection becomes the process's stdio. */
async function hijack(execs: Map<string, LabExec>, runtime: LabRuntime, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const call = parseEngineCall(req.method ?? '', req.url ?? '');
  const exec = call?.op === 'exec-start' ? execs.get(call.exec) : undefined;
  // The ExecStartCheck body precedes the stream: skip it before anything counts as stdin.
  let skip = Number(req.headers['content-length'] ?? 0);
  if (!exec || exec.process) {
    const message = JSON.stringify({ message: exec ? `Exec ${exec.id} has already been started` : 'No such exec instance' });
    socket.end(`HTTP/1.1 ${exec ? 409 : 404} ${exec ? 'Conflict' : 'Not Found'}\r\nContent-Type: application/json\r\nContent-Length: ${message.length}\r\n\r\n${message}`);
    return;
  }
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${RAW_STREAM}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  const proc = (exec.process = runtime.startLocal(exec.request));
  const stdin = (data: Buffer) => {
    const take = data.subarray(Math.min(skip, data.length));
    skip = Math.max(0, skip - data.length);
    if (take.length) proc.stdin?.write(take);
  };
  stdin(head);
  socket.on('data', stdin);
  socket.on('end', () => proc.stdin?.end());
  socket.on('error', () => proc.kill());
  const outputs = (['stdout', 'stderr'] as const).map(
    (name) =>
      new Promise<void>((resolve) => {
        const out = proc[name];
        if (!out) return resolve();
        out.on('data', (chunk: Buffer) => socket.write(exec.request.tty ? chunk : encodeStdcopyFrame(name, chunk)));
        out.on('end', resolve);
        out.on('error', resolve);
      }),
  );
  const result = await proc.done;
  await Promise.all(outputs);
  if (result.kind === 'failed') socket.write(exec.request.tty ? `${result.message}\r\n` : encodeStdcopyFrame('stdout', Buffer.from(`${result.message}\n`)));
  exec.exitCode = result.kind === 'exited' ? result.exitCode : 126;
  socket.end();
}
