/**
 * The CRI messages execscope reads or sends, written down once with the field numbers of cri-api's
 * pkg/apis/runtime/v1/api.proto (v1alpha2 uses the same numbers for these messages), and parsed by
 * protobufjs for both packages. Only the fields a decoder or the lab needs are declared: protobuf
 * skips unknown fields, so a newer runtime's extra fields never break decoding.
 */
import protobuf from 'protobufjs';

export const CRI_PACKAGES = ['runtime.v1', 'runtime.v1alpha2'] as const;
export type CriPackage = (typeof CRI_PACKAGES)[number];

const MESSAGES = `
message VersionRequest { string version = 1; }
message VersionResponse { string version = 1; string runtime_name = 2; string runtime_version = 3; string runtime_api_version = 4; }

message NamespaceOption { int32 network = 1; int32 pid = 2; int32 ipc = 3; string target_id = 4; }
message LinuxSandboxSecurityContext { NamespaceOption namespace_options = 1; bool privileged = 6; }
message LinuxPodSandboxConfig { string cgroup_parent = 1; LinuxSandboxSecurityContext security_context = 2; }
message PodSandboxMetadata { string name = 1; string uid = 2; string namespace = 3; uint32 attempt = 4; }
message PodSandboxConfig { PodSandboxMetadata metadata = 1; string hostname = 2; string log_directory = 3; LinuxPodSandboxConfig linux = 8; }
message RunPodSandboxRequest { PodSandboxConfig config = 1; string runtime_handler = 2; }
message RunPodSandboxResponse { string pod_sandbox_id = 1; }
message StopPodSandboxRequest { string pod_sandbox_id = 1; }
message StopPodSandboxResponse {}
message RemovePodSandboxRequest { string pod_sandbox_id = 1; }
message RemovePodSandboxResponse {}

message ImageSpec { string image = 1; }
message ContainerMetadata { string name = 1; uint32 attempt = 2; }
message KeyValue { string key = 1; string value = 2; }
message ContainerConfig {
  ContainerMetadata metadata = 1; ImageSpec image = 2; repeated string command = 3; repeated string args = 4;
  string working_dir = 5; repeated KeyValue envs = 6; string log_path = 11; bool stdin = 12; bool stdin_once = 13; bool tty = 14;
}
message CreateContainerRequest { string pod_sandbox_id = 1; ContainerConfig config = 2; PodSandboxConfig sandbox_config = 3; }
message CreateContainerResponse { string container_id = 1; }
message StartContainerRequest { string container_id = 1; }
message StartContainerResponse {}
message StopContainerRequest { string container_id = 1; int64 timeout = 2; }
message StopContainerResponse {}
message RemoveContainerRequest { string container_id = 1; }
message RemoveContainerResponse {}
message ContainerFilter { string id = 1; string pod_sandbox_id = 3; }
message ListContainersRequest { ContainerFilter filter = 1; }
message Container { string id = 1; string pod_sandbox_id = 2; ContainerMetadata metadata = 3; }
message ListContainersResponse { repeated Container containers = 1; }

message ExecSyncRequest { string container_id = 1; repeated string cmd = 2; int64 timeout = 3; }
message ExecSyncResponse { bytes stdout = 1; bytes stderr = 2; int32 exit_code = 3; }
message ExecRequest { string container_id = 1; repeated string cmd = 2; bool tty = 3; bool stdin = 4; bool stdout = 5; bool stderr = 6; }
message ExecResponse { string url = 1; }
message AttachRequest { string container_id = 1; bool stdin = 2; bool tty = 3; bool stdout = 4; bool stderr = 5; }
message AttachResponse { string url = 1; }
message PortForwardRequest { string pod_sandbox_id = 1; repeated int32 port = 2; }
message PortForwardResponse { string url = 1; }
`;

const roots = new Map<CriPackage, protobuf.Root>();
function rootOf(pkg: CriPackage): protobuf.Root {
  let root = roots.get(pkg);
  if (!root) roots.set(pkg, (root = protobuf.parse(`syntax = "proto3"; package ${pkg};\n${MESSAGES}`, { keepCase: true }).root));
  return root;
}

/** The message type `name` (e.g. "ExecRequest") of a CRI package. */
export function criType(pkg: CriPackage, name: string): protobuf.Type | null {
  try {
    return rootOf(pkg).lookupType(`${pkg}.${name}`);
  } catch {
    return null;
  }
}

/** Encodes a message of `runtime.v1` (the lab's kubelet and the containerd test client). */
export function encodeCri(name: string, value: Record<string, unknown>, pkg: CriPackage = 'runtime.v1'): Uint8Array {
  const type = criType(pkg, name);
  if (!type) throw new Error(`unknown CRI message ${name}`);
  const problem = type.verify(value);
  if (problem) throw new Error(`${name}: ${problem}`);
  return type.encode(type.fromObject(value)).finish();
}

/** Decodes a CRI message to a plain object (int64 as numbers, bytes as Uint8Array, defaults filled in). Throws on malformed bytes. */
export function decodeCri(name: string, bytes: Uint8Array, pkg: CriPackage = 'runtime.v1'): Record<string, unknown> {
  const type = criType(pkg, name);
  if (!type) throw new Error(`unknown CRI message ${name}`);
  return type.toObject(type.decode(bytes), { longs: Number, defaults: true, arrays: true });
}
