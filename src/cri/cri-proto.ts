/**
 * The CRI messages execscope reads or sends, written down once with the field numbers of cri-api's
 * pkg/apis/runtime/v1/api.proto (v1alpha2 uses the same numbers for these messages), and read and
 * written by the few lines of protobuf wire format below. Only the fields a decoder or the lab needs
 * are declared: protobuf skips unknown fields, so a newer runtime's extra fields never break decoding.
 *
 * protobufjs did this before; loading it, parsing these definitions and generating its decoders cost
 * ~10% of `analyze --json`'s start on every capture with a CRI call, for a dozen small messages.
 */

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

type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'uint32' | 'int64';
interface FieldSpec {
  name: string;
  number: number;
  /** A scalar type, or the name of a message. */
  type: ScalarType | string;
  repeated: boolean;
}
interface MessageSpec {
  name: string;
  fields: FieldSpec[];
  byNumber: Map<number, FieldSpec>;
}

const SCALARS = new Set<string>(['string', 'bytes', 'bool', 'int32', 'uint32', 'int64']);
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

let specs: Map<string, MessageSpec> | null = null;
/** MESSAGES as specs, read at the first use. */
function messageSpecs(): Map<string, MessageSpec> {
  if (specs) return specs;
  specs = new Map();
  for (const [, name, body] of MESSAGES.matchAll(/message (\w+) \{([^}]*)\}/g)) {
    const fields = Array.from(body.matchAll(/(repeated )?(\w+) (\w+) = (\d+);/g), ([, repeated, type, field, number]) => ({ name: field, number: Number(number), type, repeated: !!repeated }));
    specs.set(name, { name, fields, byNumber: new Map(fields.map((f) => [f.number, f])) });
  }
  for (const spec of specs.values()) {
    for (const f of spec.fields) if (!SCALARS.has(f.type) && !specs.has(f.type)) throw new Error(`CRI message ${spec.name}: unknown type ${f.type}`);
  }
  return specs;
}

function specOf(name: string): MessageSpec {
  const spec = messageSpecs().get(name);
  if (!spec) throw new Error(`unknown CRI message ${name}`);
  return spec;
}

/** Reads protobuf's wire format from one message's bytes; throws on bytes that end too soon. */
class WireReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint's low 32 bits, as an unsigned number. */
  uint32(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value >>> 0;
    }
    // The five bytes of bits 35 and up (negative int32s are sign-extended to ten) do not change the
    // low 32: passed over unread, as protobufjs (used here before) does.
    this.advance(5);
    return value >>> 0;
  }

  /** A varint as a signed 64-bit number (exact up to 2^53). */
  int64(): number {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, value));
    }
    throw new Error(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  /** The bounds of a length-delimited field's content. */
  delimited(): [number, number] {
    const length = this.uint32();
    const start = this.pos;
    if (length > this.end - start) throw new Error(`length ${length} at offset ${start} overruns the message's ${this.end - start} remaining bytes`);
    this.pos += length;
    return [start, this.pos];
  }

  skip(wireType: number): void {
    if (wireType === VARINT) while (this.byte() >= 0x80);
    else if (wireType === FIXED64) this.advance(8);
    else if (wireType === LENGTH_DELIMITED) this.delimited();
    else if (wireType === FIXED32) this.advance(4);
    else if (wireType === START_GROUP) {
      // proto2's groups (deprecated, still valid on the wire): fields up to the matching end
      for (let inner = this.uint32() & 7; inner !== END_GROUP; inner = this.uint32() & 7) this.skip(inner);
    } else throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
  }

  advance(n: number): void {
    if (n > this.end - this.pos) throw new Error(`field at offset ${this.pos} overruns the message`);
    this.pos += n;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new Error(`message ends inside a varint at offset ${this.pos}`);
    return this.bytes[this.pos++];
  }
}

const utf8 = new TextDecoder();

function defaultOf(f: FieldSpec): unknown {
  if (f.repeated) return [];
  switch (f.type) {
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'bool':
      return false;
    case 'int32':
    case 'uint32':
    case 'int64':
      return 0;
    default:
      return null; // an absent message
  }
}

function readScalar(r: WireReader, type: ScalarType): unknown {
  switch (type) {
    case 'string': {
      const [start, end] = r.delimited();
      return utf8.decode(r.bytes.subarray(start, end));
    }
    case 'bytes': {
      const [start, end] = r.delimited();
      return r.bytes.subarray(start, end);
    }
    case 'bool':
      return r.uint32() !== 0;
    case 'int32':
      return r.uint32() | 0;
    case 'uint32':
      return r.uint32();
    case 'int64':
      return r.int64();
  }
}

function decodeMessage(spec: MessageSpec, r: WireReader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of spec.fields) out[f.name] = defaultOf(f);
  while (r.pos < r.end) {
    const tag = r.uint32();
    const wireType = tag & 7;
    const f = spec.byNumber.get(tag >>> 3);
    if (!f) {
      r.skip(wireType);
      continue;
    }
    const scalar = SCALARS.has(f.type);
    const isVarint = scalar && f.type !== 'string' && f.type !== 'bytes';
    // Repeated numbers come packed (proto3's default) or one by one.
    if (f.repeated && isVarint && wireType === LENGTH_DELIMITED) {
      const [start, packedEnd] = r.delimited();
      const packed = new WireReader(r.bytes, start, packedEnd);
      const values = out[f.name] as unknown[];
      while (packed.pos < packedEnd) values.push(readScalar(packed, f.type as ScalarType));
      continue;
    }
    // A known field is read as its declared type whatever its wire type says, as protobufjs (which
    // decoded these before) does: the captures' messages decode as they did.
    let value: unknown;
    if (scalar) value = readScalar(r, f.type as ScalarType);
    else {
      const [start, fieldEnd] = r.delimited();
      value = decodeMessage(specOf(f.type), new WireReader(r.bytes, start, fieldEnd));
    }
    if (f.repeated) (out[f.name] as unknown[]).push(value);
    else out[f.name] = value;
  }
  return out;
}

/** Writes protobuf's wire format into a growing buffer. */
class WireWriter {
  private buf = new Uint8Array(64);
  length = 0;

  varint(value: number | bigint): void {
    // int32/int64 negatives are ten-byte two's complement on the wire
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  tag(number: number, wireType: number): void {
    this.varint(number * 8 + wireType);
  }

  delimited(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(2 * this.buf.length, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }
}

const utf8Encoder = new TextEncoder();

/** `value` as a field of type `type`, or why it cannot be one. */
function checkScalar(type: ScalarType, value: unknown): string | null {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? null : 'string expected';
    case 'bytes':
      return value instanceof Uint8Array ? null : 'bytes expected';
    case 'bool':
      return typeof value === 'boolean' ? null : 'boolean expected';
    default:
      return Number.isInteger(value) ? null : 'integer expected';
  }
}

function writeScalar(w: WireWriter, type: ScalarType, value: unknown): void {
  if (type === 'string') w.delimited(utf8Encoder.encode(value as string));
  else if (type === 'bytes') w.delimited(value as Uint8Array);
  else if (type === 'bool') w.varint(value ? 1 : 0);
  else w.varint(value as number);
}

function encodeMessage(spec: MessageSpec, value: Record<string, unknown>, path: string): Uint8Array {
  const w = new WireWriter();
  for (const f of spec.fields) {
    const v = value[f.name];
    if (v === undefined || v === null) continue;
    const where = `${path}.${f.name}`;
    const items = f.repeated ? (Array.isArray(v) ? v : null) : [v];
    if (!items) throw new Error(`${where}: array expected`);
    if (SCALARS.has(f.type)) {
      const type = f.type as ScalarType;
      for (const item of items) {
        const problem = checkScalar(type, item);
        if (problem) throw new Error(`${where}: ${problem}`);
      }
      if (f.repeated && type !== 'string' && type !== 'bytes') {
        // proto3 packs repeated numbers
        if (items.length === 0) continue;
        const packed = new WireWriter();
        for (const item of items) writeScalar(packed, type, item);
        w.tag(f.number, LENGTH_DELIMITED);
        w.delimited(packed.finish());
        continue;
      }
      for (const item of items) {
        w.tag(f.number, type === 'string' || type === 'bytes' ? LENGTH_DELIMITED : VARINT);
        writeScalar(w, type, item);
      }
      continue;
    }
    for (const item of items) {
      if (typeof item !== 'object' || item === null) throw new Error(`${where}: object expected`);
      w.tag(f.number, LENGTH_DELIMITED);
      w.delimited(encodeMessage(specOf(f.type), item as Record<string, unknown>, where));
    }
  }
  return w.finish();
}

/** Encodes a CRI message (the lab's kubelet and the containerd test client); the package does not change the bytes. */
export function encodeCri(name: string, value: Record<string, unknown>): Uint8Array {
  return encodeMessage(specOf(name), value, name);
}

/**
 * Decodes a CRI message (of either package: their messages are the same) to a plain object: absent
 * fields with proto3's defaults (messages null, repeated []), int64 as numbers, bytes as views of
 * `bytes`. Throws on malformed bytes.
 */
export function decodeCri(name: string, bytes: Uint8Array): Record<string, unknown> {
  return decodeMessage(specOf(name), new WireReader(bytes, 0, bytes.length));
}
