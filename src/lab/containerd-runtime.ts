/**
 * The lab's runtime end served by a real containerd (its CRI plugin): at start every pod becomes a
 * pod sandbox on the host network (no CNI needed) with one running container per lab container, made
 * from an image already in containerd's `k8s.io` namespace. The kubelet's CRI calls (RunPodSandbox,
 * CreateContainer, StartContainer, then Exec/Attach/PortForward, and the teardown) go through a relay
 * the recorder taps — loopback TCP in front of containerd's unix socket — and the kubelet dials
 * containerd's real streaming server through a second tapped relay, so both legs are in the
 * recording. containerd itself is started and stopped by whoever runs the lab (a test, an operator).
 * IO code.
 */
import net from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CriGrpcClient } from './cri-grpc.js';
import type { HopConnection } from './hop-server.js';
import { containerId, sandboxId, type PodSpec, type StreamingRequest } from './runtime.js';

export interface ContainerdOptions {
  /** containerd's gRPC socket (its CRI plugin enabled). */
  socket: string;
  /** An image present in containerd's k8s.io namespace whose PATH has `sleep` (busybox). */
  image: string;
}

/** The image name the tests and CI import (a busybox from Debian's busybox-static). */
export const CONTAINERD_DEFAULT_IMAGE = 'execscope.local/busybox:1';

/** NamespaceMode NODE / CONTAINER (cri-api api.proto). */
const NAMESPACE_NODE = 2;
const NAMESPACE_CONTAINER = 1;
/** How long a removed container is given to stop. */
const STOP_TIMEOUT_S = 2;

/** Pipes each accepted (tapped) connection to a backend socket, ending each side when the other ends. */
export function relayTo(connect: () => net.Socket): (conn: HopConnection) => void {
  return (conn) => {
    const backend = connect();
    const client = conn.socket;
    const close = () => {
      backend.destroy();
      client.destroy();
    };
    backend.on('error', close);
    client.on('error', close);
    backend.on('end', () => client.end());
    client.on('end', () => backend.end());
    backend.on('close', close);
    client.on('close', close);
    backend.pipe(client, { end: false });
    client.pipe(backend, { end: false });
  };
}

export class ContainerdRuntime {
  /** Lab container id (runtime.ts containerId) → containerd's container id; the same for sandboxes. */
  private readonly containers = new Map<string, string>();
  private readonly sandboxes = new Map<string, string>();
  /** containerd's streaming server port, learned from the first URL it returns. */
  private streamingPort = 0;

  constructor(
    private readonly client: CriGrpcClient,
    /** The port of the tapped relay in front of the streaming server. */
    private readonly streamingRelayPort: () => number,
  ) {}

  /** Where the streaming relay forwards to (0 until containerd returned a URL). */
  streamingBackendPort(): number {
    return this.streamingPort;
  }

  /** Sandboxes and containers for every pod; throws with containerd's message when one cannot start. */
  async createPods(pods: readonly PodSpec[], image: string, logDir: string): Promise<void> {
    const version = await this.client.invoke('Version', { version: 'v1' });
    if ('error' in version) throw new Error(`containerd's CRI does not answer: ${version.error}`);
    for (const pod of pods) {
      const podLogs = join(logDir, `${pod.namespace}_${pod.name}`);
      mkdirSync(podLogs, { recursive: true });
      const sandboxConfig = {
        metadata: { name: pod.name, uid: pod.uid, namespace: pod.namespace, attempt: 0 },
        log_directory: podLogs,
        linux: { security_context: { namespace_options: { network: NAMESPACE_NODE, pid: NAMESPACE_CONTAINER } } },
      };
      const sandbox = await this.must('RunPodSandbox', { config: sandboxConfig });
      const podSandboxId = sandbox.pod_sandbox_id as string;
      this.sandboxes.set(sandboxId(pod), podSandboxId);
      for (const name of pod.containers) {
        const created = await this.must('CreateContainer', {
          pod_sandbox_id: podSandboxId,
          config: { metadata: { name }, image: { image }, command: ['sleep', '2147483647'], log_path: `${name}.log` },
          sandbox_config: sandboxConfig,
        });
        await this.must('StartContainer', { container_id: created.container_id });
        this.containers.set(containerId(pod, name), created.container_id as string);
      }
    }
  }

  /** The kubelet's Exec/Attach, with the real container id; the URL points at the recording relay. */
  async call(labContainerId: string, req: StreamingRequest): Promise<{ url: string } | { error: string }> {
    const id = this.containers.get(labContainerId);
    if (!id) return { error: `container ${labContainerId} was not created in containerd` };
    return this.throughRelay(await this.client.call(id, req));
  }

  async portForward(pod: PodSpec, ports: number[]): Promise<{ url: string } | { error: string }> {
    const id = this.sandboxes.get(sandboxId(pod));
    if (!id) return { error: `pod ${pod.namespace}/${pod.name} has no sandbox in containerd` };
    return this.throughRelay(await this.client.portForward(pod, ports, id));
  }

  /** Stops and removes every sandbox the lab made (and with them their containers and shims). */
  async removePods(): Promise<void> {
    for (const id of this.containers.values()) {
      await this.client.invoke('StopContainer', { container_id: id, timeout: STOP_TIMEOUT_S });
      await this.client.invoke('RemoveContainer', { container_id: id });
    }
    for (const id of this.sandboxes.values()) {
      await this.client.invoke('StopPodSandbox', { pod_sandbox_id: id });
      await this.client.invoke('RemovePodSandbox', { pod_sandbox_id: id });
    }
    this.containers.clear();
    this.sandboxes.clear();
  }

  private throughRelay(answer: { url: string } | { error: string }): { url: string } | { error: string } {
    if ('error' in answer) return answer;
    const url = new URL(answer.url);
    this.streamingPort = Number(url.port);
    url.host = `127.0.0.1:${this.streamingRelayPort()}`;
    return { url: url.toString() };
  }

  private async must(rpc: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await this.client.invoke(rpc, request);
    if ('error' in answer) throw new Error(`containerd ${rpc}: ${answer.error}`);
    return answer.value;
  }
}
