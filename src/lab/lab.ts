/**
 * The whole lab on loopback: apiserver (HTTPS unless plain) → kubelet → (CRI gRPC to the runtime for
 * a token) → CRI streaming server → local processes, every hop its own TCP connection on a free port,
 * every hop recorded into one pcapng
 * (plus the NSS key log), a kubeconfig for kubectl, and what each server observed for truth files.
 * stop() closes every socket and kills every process the lab started. IO code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { apiserver } from './apiserver.js';
import { CriGrpcClient, criGrpcServer } from './cri-grpc.js';
import { criStreamingServer } from './cri-streaming-server.js';
import { dockerEngineServer } from './docker-server.js';
import { createDockerContainers, dockerExec, removeDockerContainers } from './dockershim.js';
import { ContainerdRuntime, relayTo, type ContainerdOptions } from './containerd-runtime.js';
import { faultsOn, type FaultSpec } from './faults.js';
import { HopServer, type ConnectionFaults } from './hop-server.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { kubeletServer } from './kubelet.js';
import { PodServices } from './pod-services.js';
import { LOOPBACK_MSS, PcapngRecorder, RecordingClock, type HopInterface } from '../record/pcapng-recorder.js';
import { KeyLogFile, openOutputFile, type ReaderWait } from '../record/recording-file.js';
import { LabObservations, type HopId } from './observations.js';
import { containerId, LabRuntime, type PodSpec } from './runtime.js';
import { generateSelfSignedCert } from '../tap/self-signed-cert.js';

export interface LabOptions {
  /** Working directory: containers' directories, and default places for the files below. */
  dir: string;
  /** HTTPS on the apiserver hop (default true). */
  tls?: boolean;
  pods?: PodSpec[];
  faults?: FaultSpec[];
  /** The recording; null: none. Default DIR/lab.pcapng. A FIFO is waited on for its reader. */
  recordPath?: string | null;
  /** Told once for each FIFO (`recordPath`, `keyLogPath`) whose reader the start waits for. */
  onWaitingForReader?(path: string): void;
  /** Abandons the start while it waits (for a FIFO's reader): Lab.start stops what it made and rejects with its reason. */
  abort?: AbortSignal;
  /** Largest TCP payload per segment in the recording. Default: loopback's (65483). */
  recordMss?: number;
  /** NSS key log (TLS only). Default DIR/lab.keylog. */
  keyLogPath?: string;
  /** Default DIR/kubeconfig. */
  kubeconfigPath?: string;
  /** Streaming server's stream-creation timeout (default 30 s, as cri-streaming). */
  streamCreationTimeoutMs?: number;
  /** 1.36 topology (ExtendWebSocketsToKubelet): the apiserver passes v5 WebSocket through, the kubelet translates to SPDY. */
  kubeletWebSockets?: boolean;
  /** A real containerd as the runtime (CRI and streaming server) instead of the lab's own; null: none. */
  containerd?: ContainerdOptions | null;
  /**
   * The docker runtime: the streaming server runs each exec the way dockershim did, through Engine
   * API calls to a docker-shaped server on a unix socket (recorded as the kubelet→docker hop).
   */
  dockerRuntime?: boolean;
  /** With dockerRuntime: a real dockerd's socket and the image for the pods' containers; null: the lab's docker-shaped server. */
  dockerd?: { socket: string; image: string } | null;
  /** Fixed ports per hop (e.g. the kubelet on 10250, as on a node); the others get free ones. */
  ports?: Partial<Record<HopId, number>>;
}

export const DEFAULT_PODS: PodSpec[] = [{ namespace: 'default', name: 'lab-0', containers: ['main'], uid: '6f1a2c4e-0c1d-4c55-9d4e-2b7f0e1a9c01' }];

export interface LabHop extends HopInterface {
  id: HopId;
  port: number;
}

export class Lab {
  readonly observations = new LabObservations();
  hops: LabHop[] = [];
  private servers: HopServer[] = [];
  private recorder: PcapngRecorder | null = null;
  private keyLog: KeyLogFile | null = null;
  private criClient: CriGrpcClient | null = null;
  private containerd: ContainerdRuntime | null = null;
  private podServices: PodServices | null = null;
  private dockerEngine: http.Server | null = null;
  /** The pods' containers in a real dockerd, by the lab's CRI container id. */
  private dockerContainers: Map<string, string> | null = null;
  private stopped = false;

  private constructor(
    readonly options: Required<Omit<LabOptions, 'recordPath' | 'onWaitingForReader' | 'abort'>> & { recordPath: string | null },
    readonly runtime: LabRuntime,
    readonly startedAt: Date,
  ) {}

  get tls(): boolean {
    return this.options.tls;
  }

  get kubeconfigPath(): string {
    return this.options.kubeconfigPath;
  }

  get recordPath(): string | null {
    return this.options.recordPath;
  }

  get keyLogPath(): string | null {
    return this.options.tls ? this.options.keyLogPath : null;
  }

  get serverUrl(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port('apiserver')}`;
  }

  port(hop: HopId): number {
    return this.hops.find((h) => h.id === hop)?.port ?? 0;
  }

  static async start(opts: LabOptions): Promise<Lab> {
    mkdirSync(opts.dir, { recursive: true });
    const options = {
      dir: opts.dir,
      tls: opts.tls ?? true,
      pods: opts.pods ?? DEFAULT_PODS,
      faults: opts.faults ?? [],
      recordPath: opts.recordPath === undefined ? join(opts.dir, 'lab.pcapng') : opts.recordPath,
      recordMss: opts.recordMss ?? LOOPBACK_MSS,
      keyLogPath: opts.keyLogPath ?? join(opts.dir, 'lab.keylog'),
      kubeconfigPath: opts.kubeconfigPath ?? join(opts.dir, 'kubeconfig'),
      streamCreationTimeoutMs: opts.streamCreationTimeoutMs ?? 30_000,
      containerd: opts.containerd ?? null,
      kubeletWebSockets: opts.kubeletWebSockets ?? false,
      dockerRuntime: opts.dockerRuntime ?? opts.dockerd != null,
      dockerd: opts.dockerd ?? null,
      ports: opts.ports ?? {},
    };
    const runtime = new LabRuntime(join(opts.dir, 'containers'), options.pods);
    const lab = new Lab(options, runtime, new Date());
    process.on('exit', lab.killOnExit);
    try {
      await lab.listen({ abort: opts.abort, onWaiting: opts.onWaitingForReader });
    } catch (err) {
      await lab.stop();
      throw err;
    }
    return lab;
  }

  private async listen(start: ReaderWait): Promise<void> {
    const o = this.options;
    const hopInterfaces: (HopInterface & { id: HopId })[] = [
      { id: 'apiserver', name: 'kubectl→apiserver', description: `kubectl to the lab's kube-apiserver (${o.tls ? 'HTTPS' : 'plain HTTP'})` },
      { id: 'kubelet', name: 'apiserver→kubelet', description: "the apiserver's proxy or stream translator to the lab's kubelet (plain HTTP)" },
      o.containerd
        ? { id: 'runtime', name: 'kubelet→runtime (CRI gRPC)', description: `the kubelet's CRI calls to containerd (gRPC over cleartext HTTP/2, relayed to ${o.containerd.socket})` }
        : { id: 'runtime', name: 'kubelet→runtime (CRI gRPC)', description: "the kubelet's CRI Exec/Attach calls (gRPC over cleartext HTTP/2; a real kubelet uses a unix socket)" },
      o.containerd
        ? { id: 'cri', name: 'kubelet→streaming server', description: "the kubelet's proxy to containerd's streaming server (plain HTTP, relayed)" }
        : { id: 'cri', name: 'kubelet→streaming server', description: "the kubelet's proxy to the CRI streaming server (plain HTTP, as on node loopback)" },
      ...(o.dockerRuntime
        ? [{ id: 'docker' as const, name: 'kubelet→docker (Engine API)', description: "dockershim's Engine API calls for each exec (HTTP/1.1, hijacked streams), relayed to the docker-shaped server's unix socket" }]
        : []),
    ];
    // Opened first, a FIFO's reader waited for with the thread free: a Ctrl-C meanwhile is heard.
    const fd = o.recordPath ? await openOutputFile(o.recordPath, start) : undefined;
    // The lab's recordings are fixtures checked against its truth: never left incomplete for speed.
    this.recorder = o.recordPath
      ? new PcapngRecorder(o.recordPath, hopInterfaces, new RecordingClock(), { fd, maxQueuedBytes: Infinity, mss: o.recordMss })
      : null;
    const cert = o.tls ? generateSelfSignedCert() : null;
    // The key log decrypts the recording's apiserver hop (tokens in it): only its owner reads it, as the recording.
    // A write that fails ends it (said once); the recording keeps the lines in its secrets blocks.
    this.keyLog = o.tls ? await KeyLogFile.open(o.keyLogPath, { append: false, ...start }, (err) => process.emitWarning(`the lab's key log stopped (no more lines are written to it): ${err.message}`)) : null;
    const ports: Partial<Record<HopId, number>> = {};
    const connectionFaults = (hop: HopId): ConnectionFaults => {
      const f = faultsOn(o.faults, hop);
      return {
        resetAfterUpgradedBytes: f.get('reset-mid-stream')?.value,
        idleDropMs: f.has('idle-drop') ? f.get('idle-drop')!.value! * 1000 : undefined,
      };
    };
    const podServices = (this.podServices = await PodServices.start(this.runtime.pods));
    if (o.dockerRuntime) ports.docker = await this.dockerHop(hopInterfaces.findIndex((h) => h.id === 'docker'));
    const cri = o.containerd ? await this.containerdHops(o.containerd, connectionFaults('cri')) : await this.labRuntimeHops(podServices, connectionFaults('cri'));
    ports.cri = cri.streaming;
    ports.runtime = cri.runtimeApi;
    const kubelet = await HopServer.listen({
      hopIndex: 1,
      port: o.ports.kubelet,
      recorder: this.recorder,
      faults: connectionFaults('kubelet'),
      onConnection: kubeletServer({ runtime: this.runtime, observations: this.observations, cri: this.containerd ?? this.criClient!, translateWebSockets: o.kubeletWebSockets }),
    });
    this.servers.push(kubelet);
    ports.kubelet = kubelet.port;
    const apiFaults = faultsOn(o.faults, 'apiserver');
    const api = await HopServer.listen({
      hopIndex: 0,
      port: o.ports.apiserver,
      recorder: this.recorder,
      faults: connectionFaults('apiserver'),
      tls: cert
        ? {
            key: cert.keyPem,
            cert: cert.certPem,
            alpn: ['h2', 'http/1.1'],
            onKeyLog: (line) => {
              this.keyLog?.write(line);
              this.recorder?.keyLog(line);
            },
          }
        : undefined,
      onConnection: apiserver({
        runtime: this.runtime,
        observations: this.observations,
        kubeletTranslatesWebSockets: o.kubeletWebSockets,
        kubeletPort: () => kubelet.port,
        address: () => `127.0.0.1:${ports.apiserver}`,
        faults: {
          refuseWebSocket: apiFaults.has('refuse-websocket'),
          noPings: apiFaults.has('no-pings'),
          noExitStatus: apiFaults.has('no-exit-status'),
        },
      }),
    });
    this.servers.push(api);
    ports.apiserver = api.port;
    this.hops = hopInterfaces.map((h) => ({ ...h, port: ports[h.id]! }));
    writeFileSync(o.kubeconfigPath, kubeconfigYaml(this.serverUrl, cert?.certPem ?? null));
  }

  /**
   * The docker runtime: a docker-shaped Engine API server on DIR/docker.sock, reached through a
   * recorded loopback hop, and the runtime's execs sent to it by the dockershim.
   */
  private async dockerHop(hopIndex: number): Promise<number> {
    const real = this.options.dockerd;
    const socketPath = real?.socket ?? join(this.options.dir, 'docker.sock');
    if (!real) {
      const engine = dockerEngineServer(this.runtime);
      await new Promise<void>((resolve, reject) => engine.once('error', reject).listen(socketPath, resolve));
      this.dockerEngine = engine;
    }
    // A real dockerd runs the pods as containers of its own, created directly on its socket (not part of the exec hop).
    const ids = real ? (this.dockerContainers = await createDockerContainers(() => net.connect(socketPath), this.runtime.pods, real.image)) : null;
    const hop = await HopServer.listen({ hopIndex, recorder: this.recorder, onConnection: relayTo(() => net.connect(socketPath)) });
    this.servers.push(hop);
    this.runtime.execVia = (request) => {
      const id = containerId(this.runtime.findPod(request.namespace, request.pod)!, request.container);
      return dockerExec(() => net.connect(hop.port, '127.0.0.1'), ids?.get(id) ?? id, request);
    };
    return hop.port;
  }

  /** The lab's own runtime: its CRI gRPC server and streaming server, local processes as containers. */
  private async labRuntimeHops(podServices: PodServices, faults: ConnectionFaults): Promise<{ streaming: number; runtimeApi: number }> {
    const o = this.options;
    const criFaults = faultsOn(o.faults, 'cri');
    const cri = await HopServer.listen({
      hopIndex: 3,
      port: o.ports.cri,
      recorder: this.recorder,
      faults,
      onConnection: criStreamingServer({
        runtime: this.runtime,
        podServices,
        observations: this.observations,
        faults: {
          noStreamReply: criFaults.has('no-stream-reply'),
          noExitStatus: criFaults.has('no-exit-status'),
          stallReader: criFaults.has('stall-reader'),
        },
        streamCreationTimeoutMs: o.streamCreationTimeoutMs,
      }),
    });
    this.servers.push(cri);
    const runtimeApi = await HopServer.listen({
      hopIndex: 2,
      port: o.ports.runtime,
      recorder: this.recorder,
      onConnection: criGrpcServer({ runtime: this.runtime, observations: this.observations, streamingPort: () => cri.port }),
    });
    this.servers.push(runtimeApi);
    this.criClient = new CriGrpcClient(() => runtimeApi.port);
    return { streaming: cri.port, runtimeApi: runtimeApi.port };
  }

  /** A real containerd: tapped relays in front of its CRI socket and its streaming server; the pods created in it. */
  private async containerdHops(opts: ContainerdOptions, faults: ConnectionFaults): Promise<{ streaming: number; runtimeApi: number }> {
    let containerd: ContainerdRuntime | null = null;
    const streaming = await HopServer.listen({
      hopIndex: 3,
      port: this.options.ports.cri,
      recorder: this.recorder,
      faults,
      onConnection: relayTo(() => net.connect(containerd?.streamingBackendPort() ?? 0, '127.0.0.1')),
    });
    this.servers.push(streaming);
    const runtimeApi = await HopServer.listen({ hopIndex: 2, port: this.options.ports.runtime, recorder: this.recorder, onConnection: relayTo(() => net.connect(opts.socket)) });
    this.servers.push(runtimeApi);
    this.criClient = new CriGrpcClient(() => runtimeApi.port);
    containerd = this.containerd = new ContainerdRuntime(this.criClient, () => streaming.port);
    await containerd.createPods(this.options.pods, opts.image, join(this.options.dir, 'pod-logs'));
    return { streaming: streaming.port, runtimeApi: runtimeApi.port };
  }

  /**
   * Stops everything: sessions still open are marked hung, every connection is closed, every process
   * the lab started is killed, and the recording is completed.
   */
  /** If whoever started the lab exits without stopping it, its processes go too. */
  private readonly killOnExit = () => this.runtime.killAllNow();

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.killOnExit);
    for (const s of this.observations.sessions) {
      if (s.endedAt === null) this.observations.endSession(s, `hung: still open when the lab stopped${s.fault ? ` (${s.fault})` : ''}`);
    }
    await this.containerd?.removePods();
    this.criClient?.close();
    await Promise.all([...this.servers.map((s) => s.close()), this.podServices?.close()]);
    if (this.dockerContainers && this.options.dockerd) await removeDockerContainers(() => net.connect(this.options.dockerd!.socket), this.dockerContainers.values());
    this.dockerEngine?.closeAllConnections();
    await new Promise((r) => (this.dockerEngine ? this.dockerEngine.close(r) : r(undefined)));
    await this.runtime.killAll();
    // Let the sockets' close events reach the recording before it is finished.
    await new Promise((r) => setTimeout(r, 20));
    await this.recorder?.close();
    this.keyLog?.close();
  }
}
