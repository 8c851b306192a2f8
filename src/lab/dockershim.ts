/**
 * The lab kubelet's docker runtime, as dockershim did it (kubernetes pkg/kubelet/dockershim/exec.go,
 * removed in 1.24): an exec becomes Engine API calls — create the exec, start it hijacked with
 * `Upgrade: tcp`, copy stdin (its EOF a half-close) and the raw or stdcopy stream, resize through
 * `POST /exec/{id}/resize` — and once the stream ends the exit code comes from `GET /exec/{id}/json`:
 * at once, then every 2 s, at most 5 times; a process still running after that is reported as a
 * success, dockershim's false "exit 0" (kubernetes/kubernetes#73056). Against the lab's docker-shaped
 * server or a real dockerd, whose containers it creates for the lab's pods. IO code.
 */
import http from 'node:http';
import type net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { parseCreatedId, parseErrorMessage, parseExecInspect } from '../docker/engine-api.js';
import { StdcopyDecoder } from '../docker/stdcopy.js';
import { containerId, type LabProcess, type PodSpec, type ProcessResult, type StreamingRequest } from './runtime.js';

const API = '/v1.41';
const POLL_MS = 2000;
const MAX_POLLS = 5;

function call(connect: () => net.Socket, method: string, path: string, body?: unknown): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { method, path, createConnection: connect, headers: { Host: 'docker', 'User-Agent': 'execscope-lab-dockershim', ...(payload ? { 'Content-Type': 'application/json' } : {}) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Starts the request's command in `containerId` through the Engine API reached by `connect`. */
export function dockerExec(connect: () => net.Socket, containerId: string, request: StreamingRequest): LabProcess {
  const stdin = request.stdin ? new PassThrough() : null;
  const stdout = request.stdout ? new PassThrough() : null;
  const stderr = request.stderr && !request.tty ? new PassThrough() : null;
  let execId: string | null = null;
  let stream: net.Socket | null = null;
  let size: { width: number; height: number } | null = null;
  const resize = () => {
    if (execId && size && stream) void call(connect, 'POST', `${API}/exec/${execId}/resize?h=${size.height}&w=${size.width}`).catch(() => undefined);
  };

  const run = async (): Promise<ProcessResult> => {
    const created = await call(connect, 'POST', `${API}/containers/${containerId}/exec`, {
      AttachStdin: request.stdin,
      AttachStdout: request.stdout,
      AttachStderr: request.stderr,
      Tty: request.tty,
      Cmd: request.command,
      Env: [],
      Detach: false,
    });
    const id = created.status === 201 ? parseCreatedId(created.body) : null;
    if (!id) return { kind: 'failed', message: parseErrorMessage(created.body) ?? `exec create answered ${created.status}` };
    execId = id;
    const socket = await hijack(connect, id, request.tty);
    stream = socket;
    resize();
    const ended = new Promise<void>((resolve) => socket.on('end', resolve).on('close', resolve));
    if (request.tty) socket.on('data', (d: Buffer) => stdout?.write(d));
    else {
      const demux = new StdcopyDecoder(
        {
          onPayload: (name, piece) => (name === 'stderr' ? stderr : stdout)?.write(Buffer.from(piece)),
          onProblem: () => socket.destroy(),
        },
        'dockershim',
      );
      let offset = 0;
      socket.on('data', (d: Buffer) => {
        demux.push(d, { offset, length: d.length, packet: 0, ts: 0 });
        offset += d.length;
      });
    }
    if (stdin) stdin.pipe(socket);
    else socket.end();
    await ended;
    stdout?.end();
    stderr?.end();
    return pollExit(connect, id);
  };

  const done = run().catch((err: Error): ProcessResult => {
    stdout?.end();
    stderr?.end();
    return { kind: 'failed', message: `docker: ${err.message}` };
  });
  return {
    stdin: stdin as Writable | null,
    stdout,
    stderr,
    resize: (width, height) => {
      size = { width, height };
      resize();
    },
    done,
    kill: () => stream?.destroy(),
  };
}

function hijack(connect: () => net.Socket, id: string, tty: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ Detach: false, Tty: tty });
    const req = http.request({
      method: 'POST',
      path: `${API}/exec/${id}/start`,
      createConnection: connect,
      headers: { Host: 'docker', 'Content-Type': 'application/json', Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': Buffer.byteLength(body) },
    });
    req.on('upgrade', (_res, socket: net.Socket, head: Buffer) => {
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`exec start answered ${res.statusCode}`));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** dockershim's loop: inspect at once, then every 2 s; after 5 polls a running process counts as done. */
async function pollExit(connect: () => net.Socket, id: string): Promise<ProcessResult> {
  for (let count = 1; ; count++) {
    const inspected = await call(connect, 'GET', `${API}/exec/${id}/json`);
    const state = parseExecInspect(inspected.body);
    if (state && state.running === false) return { kind: 'exited', exitCode: state.exitCode ?? 0 };
    if (count === MAX_POLLS) return { kind: 'exited', exitCode: 0 };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * A real dockerd as the runtime: one running container per pod container (the image's `sleep`, no
 * network), named as dockershim named them (`k8s_CONTAINER_POD_NAMESPACE_UID_0`); their docker ids,
 * by the lab's CRI container id.
 */
export async function createDockerContainers(connect: () => net.Socket, pods: readonly PodSpec[], image: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const pod of pods) {
    for (const container of pod.containers) {
      const name = `k8s_${container}_${pod.name}_${pod.namespace}_${pod.uid}_0`;
      const created = await call(connect, 'POST', `${API}/containers/create?name=${encodeURIComponent(name)}`, {
        Image: image,
        Cmd: ['sleep', '86400'],
        Labels: { 'io.kubernetes.pod.name': pod.name, 'io.kubernetes.pod.namespace': pod.namespace, 'io.kubernetes.container.name': container },
        HostConfig: { NetworkMode: 'none' },
      });
      const id = created.status === 201 ? parseCreatedId(created.body) : null;
      if (!id) throw new Error(`docker: creating ${name}: ${parseErrorMessage(created.body) ?? created.status}`);
      ids.set(containerId(pod, container), id);
      const started = await call(connect, 'POST', `${API}/containers/${id}/start`);
      if (started.status !== 204 && started.status !== 304) throw new Error(`docker: starting ${name}: ${parseErrorMessage(started.body) ?? started.status}`);
    }
  }
  return ids;
}

export async function removeDockerContainers(connect: () => net.Socket, ids: Iterable<string>): Promise<void> {
  for (const id of ids) await call(connect, 'DELETE', `${API}/containers/${id}?force=1`).catch(() => undefined);
}
