/**
 * What a gRPC call on the CRI means: which API version and RPC, and — for the calls that start or run
 * a process (Exec, ExecSync, Attach, PortForward) — the request and response decoded with the
 * definitions in cri-proto.ts. The streaming URL an Exec/Attach/PortForward returns carries the
 * one-time token the kubelet then presents to the runtime's streaming server (`/exec/{token}`).
 */
import { parseStreamingRequest, type StreamingKind } from '../k8s/exec-request.js';
import { CRI_PACKAGES, decodeCri, type CriPackage } from './cri-proto.js';

/** The RPCs whose messages are decoded; every other CRI RPC is listed by name and status only. */
const DECODED_RPCS = new Set(['Exec', 'ExecSync', 'Attach', 'PortForward']);

/** Request fields of the decoded RPCs (absent when the RPC does not have them). */
export interface CriRequest {
  containerId?: string;
  podSandboxId?: string;
  command?: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  ports?: number[];
  /** ExecSync's timeout in seconds (0: none). */
  timeoutSeconds?: number;
}

export interface CriResponse {
  /** Exec/Attach/PortForward: the streaming server URL. */
  url?: string;
  /** ExecSync: the output and exit code, inline. */
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  exitCode?: number;
}

/** `runtime.v1.RuntimeService` → runtime.v1; null for a service that is not the CRI. */
export function criPackageOf(service: string): CriPackage | null {
  for (const pkg of CRI_PACKAGES) if (service === `${pkg}.RuntimeService` || service === `${pkg}.ImageService`) return pkg;
  return null;
}

export function isDecodedCriRpc(method: string): boolean {
  return DECODED_RPCS.has(method);
}

/** Decodes a request message of a decoded RPC (either package); throws on malformed protobuf. */
export function decodeCriRequest(method: string, bytes: Uint8Array): CriRequest {
  const m = decodeCri(`${method}Request`, bytes);
  switch (method) {
    case 'Exec':
      return { containerId: m.container_id as string, command: m.cmd as string[], tty: m.tty as boolean, stdin: m.stdin as boolean, stdout: m.stdout as boolean, stderr: m.stderr as boolean };
    case 'ExecSync':
      return { containerId: m.container_id as string, command: m.cmd as string[], timeoutSeconds: m.timeout as number };
    case 'Attach':
      return { containerId: m.container_id as string, tty: m.tty as boolean, stdin: m.stdin as boolean, stdout: m.stdout as boolean, stderr: m.stderr as boolean };
    case 'PortForward':
      return { podSandboxId: m.pod_sandbox_id as string, ports: m.port as number[] };
    default:
      return {};
  }
}

/** Decodes a response message of a decoded RPC (either package); throws on malformed protobuf. */
export function decodeCriResponse(method: string, bytes: Uint8Array): CriResponse {
  const m = decodeCri(`${method}Response`, bytes);
  if (method === 'ExecSync') return { stdout: m.stdout as Uint8Array, stderr: m.stderr as Uint8Array, exitCode: m.exit_code as number };
  return { url: m.url as string };
}

/** The streaming kind and one-time token of a streaming server URL (`http://host:port/exec/TOKEN`), or null. */
export function streamingToken(url: string): { kind: StreamingKind; token: string } | null {
  const path = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)$/i.exec(url)?.[1] ?? (url.startsWith('/') ? url : null);
  if (path === null) return null;
  const req = parseStreamingRequest('POST', path);
  return req?.hop === 'cri' && req.token ? { kind: req.kind, token: req.token } : null;
}
