/**
 * The docker Engine API calls an exec or attach is made of (PROTOCOL.md 2.14), recognised from the
 * request line, and the JSON bodies they carry. Paths and field names follow moby's API router
 * (api/server/router/container) and types (api/types: ExecConfig, ExecInspect, WaitResponse).
 */
import { splitTarget } from '../http/http-head.js';
import type { TerminalSize } from '../k8s/resize.js';

export type EngineCall =
  | { op: 'container-create'; name: string | null }
  | { op: 'container-start'; container: string }
  | { op: 'exec-create'; container: string }
  | { op: 'exec-start'; exec: string }
  | { op: 'exec-resize'; exec: string; size: TerminalSize | null }
  | { op: 'exec-inspect'; exec: string }
  | { op: 'attach'; container: string; stdin: boolean; stdout: boolean; stderr: boolean; stream: boolean; logs: boolean }
  | { op: 'container-resize'; container: string; size: TerminalSize | null }
  | { op: 'container-wait'; container: string; condition: string };

/** Media types of the hijacked stream: raw (TTY, or every stream before API 1.42) and stdcopy-multiplexed. */
export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

/** A 64-hex container or exec id as docker prints it (12 digits); names stay as they are. */
export function shortDockerId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}

/** `/v1.41/…`: the client's API version, optional. */
const VERSION_PREFIX = /^\/v\d+(?:\.\d+)*(?=\/)/;

/** Recognises the Engine API calls of an exec or attach; null for anything else (images, ping, …). */
export function parseEngineCall(method: string, target: string): EngineCall | null {
  const { path, query } = splitTarget(target);
  const raw = path.replace(VERSION_PREFIX, '').split('/').slice(1);
  // No call is more than three segments deep. Every HTTP request comes here, and decoding the seven
  // segments of a k8s exec path (apiserver and kubelet hops) cost more than the rest of the request.
  if (raw.length > 3) return null;
  const segments = raw.map(decodeSegment);
  if (segments.some((s) => s === null || s === '')) return null;
  const [root, id, action, extra] = segments as string[];
  if (method === 'POST' && root === 'containers' && id === 'create' && action === undefined) return { op: 'container-create', name: new URLSearchParams(query).get('name') };
  if (action === undefined || extra !== undefined) return null;
  // Parsed past the checks every HTTP request goes through: a k8s exec request (apiserver and kubelet
  // hops, a long query each) is no Engine API call, and its query cost ~15 µs a request.
  const params = new URLSearchParams(query);
  if (root === 'exec') {
    if (method === 'POST' && action === 'start') return { op: 'exec-start', exec: id };
    if (method === 'POST' && action === 'resize') return { op: 'exec-resize', exec: id, size: sizeOf(params) };
    if (method === 'GET' && action === 'json') return { op: 'exec-inspect', exec: id };
    return null;
  }
  if (root !== 'containers' || method !== 'POST') return null;
  switch (action) {
    case 'exec':
      return { op: 'exec-create', container: id };
    case 'start':
      return { op: 'container-start', container: id };
    case 'attach':
      return {
        op: 'attach',
        container: id,
        stdin: flag(params, 'stdin'),
        stdout: flag(params, 'stdout'),
        stderr: flag(params, 'stderr'),
        stream: flag(params, 'stream'),
        logs: flag(params, 'logs'),
      };
    case 'resize':
      return { op: 'container-resize', container: id, size: sizeOf(params) };
    case 'wait':
      return { op: 'container-wait', container: id, condition: params.get('condition') ?? 'not-running' };
    default:
      return null;
  }
}

function decodeSegment(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** moby's httputils.BoolValue: "", "0", "no", "false", "none" (any case) are false. */
function flag(params: URLSearchParams, name: string): boolean {
  const v = (params.get(name) ?? '').trim().toLowerCase();
  return !['', '0', 'no', 'false', 'none'].includes(v);
}

function sizeOf(params: URLSearchParams): TerminalSize | null {
  const height = Number(params.get('h'));
  const width = Number(params.get('w'));
  return Number.isInteger(height) && Number.isInteger(width) && height >= 0 && width >= 0 ? { width, height } : null;
}

/** What an exec or a container was created to run (ExecConfig, or the container's Config). */
export interface ProcessConfig {
  command: string[];
  tty: boolean | null;
  stdin: boolean | null;
  stdout: boolean | null;
  stderr: boolean | null;
  user: string | null;
  workingDir: string | null;
  /** Names of the environment variables set; their values are never kept (they hold secrets). */
  env: string[];
}

export interface ExecState {
  running: boolean | null;
  exitCode: number | null;
  pid: number | null;
}

export interface WaitResult {
  statusCode: number | null;
  error: string | null;
}

type Json = Record<string, unknown>;

/** The body as a JSON object, or null when it is not one (truncated, an error text, hostile). */
function jsonObject(body: Uint8Array): Json | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}

const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/**
 * `POST /containers/{id}/exec`'s ExecConfig, or `POST /containers/create`'s Config (Entrypoint +
 * Cmd, OpenStdin): null when the body is not a JSON object.
 */
export function parseProcessConfig(body: Uint8Array): ProcessConfig | null {
  const o = jsonObject(body);
  if (!o) return null;
  return {
    command: [...strings(o.Entrypoint), ...strings(o.Cmd)],
    tty: bool(o.Tty),
    stdin: bool(o.AttachStdin) ?? bool(o.OpenStdin),
    stdout: bool(o.AttachStdout),
    stderr: bool(o.AttachStderr),
    user: str(o.User) || null,
    workingDir: str(o.WorkingDir) || null,
    env: strings(o.Env).map((e) => e.split('=', 1)[0]),
  };
}

/** The `{"Id": …}` of a create answer. */
export function parseCreatedId(body: Uint8Array): string | null {
  return str(jsonObject(body)?.Id);
}

/** `POST /exec/{id}/start`'s ExecStartCheck: `Detach`, `Tty`. */
export function parseExecStart(body: Uint8Array): { detach: boolean | null; tty: boolean | null } {
  const o = jsonObject(body);
  return { detach: bool(o?.Detach), tty: bool(o?.Tty) };
}

/** `GET /exec/{id}/json`'s ExecInspect: `Running`, `ExitCode` (null while running), `Pid`. */
export function parseExecInspect(body: Uint8Array): ExecState | null {
  const o = jsonObject(body);
  if (!o) return null;
  return { running: bool(o.Running), exitCode: int(o.ExitCode), pid: int(o.Pid) };
}

/** `POST /containers/{id}/wait`'s WaitResponse: `StatusCode`, `Error.Message`. */
export function parseWaitResult(body: Uint8Array): WaitResult | null {
  const o = jsonObject(body);
  if (!o) return null;
  const error = o.Error !== null && typeof o.Error === 'object' ? str((o.Error as Json).Message) : null;
  return { statusCode: int(o.StatusCode), error };
}

/** An error answer's `{"message": …}`. */
export function parseErrorMessage(body: Uint8Array): string | null {
  return str(jsonObject(body)?.message);
}
