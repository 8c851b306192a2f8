/**
 * A private, real containerd for tests: Debian's containerd + runc, started as root with its own
 * config, socket, root, state and runc root under a temp dir, its CRI plugin on (host-network pod
 * sandboxes need no CNI; the native snapshotter needs no overlay), and a busybox image built from
 * busybox-static as a docker-archive tarball and imported with `ctr -n k8s.io images import`.
 *
 * What it takes to run here (measured in this sandbox): `restrict_oom_score_adj = true` — without it
 * runc's nsexec cannot lower oom_score_adj to the sandbox's -998 ("failed to update
 * /proc/self/oom_score_adj: Permission denied", runc then reports "can't get final child's PID from
 * pipe: EOF"). containerd 1.6's shims still put their sockets in /run/containerd/s (fixed there).
 *
 * stop() ends containerd and the shims it started (by PID, found by their -address argument),
 * unmounts whatever is left under the temp dir (sandbox shm, rootfs binds) and removes it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../kit/until.js';

export const BUSYBOX_IMAGE = 'execscope.local/busybox:1';
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'sleep', 'cat', 'echo', 'ls', 'env', 'sort', 'id', 'head', 'wc', 'tr', 'printf', 'true', 'false', 'stty'];

function onPath(command: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((dir) => existsSync(join(dir, command)));
}

/** Why a real containerd cannot run here, or null when it can. */
export function containerdUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  const missing = ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'tar'].filter((c) => !onPath(c));
  if (!existsSync(BUSYBOX)) missing.push('busybox-static (/bin/busybox)');
  return missing.length ? `missing ${missing.join(', ')}` : null;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A docker-archive image: one layer with /bin/busybox and its applets, PATH=/bin. */
function buildBusyboxImage(dir: string): string {
  const rootfs = join(dir, 'image-rootfs');
  const archive = join(dir, 'image');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(archive, { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const layer = join(dir, 'layer.tar');
  execFileSync('tar', ['-C', rootfs, '--owner=0', '--group=0', '-cf', layer, '.'], { timeout: 60_000 });
  const diffId = sha256File(layer);
  mkdirSync(join(archive, diffId));
  copyFileSync(layer, join(archive, diffId, 'layer.tar'));
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sleep', '2147483647'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] } });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  writeFileSync(join(archive, configName), config);
  writeFileSync(join(archive, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [BUSYBOX_IMAGE], Layers: [`${diffId}/layer.tar`] }]));
  const tarball = join(dir, 'busybox.tar');
  execFileSync('tar', ['-C', archive, '-cf', tarball, '.'], { timeout: 60_000 });
  return tarball;
}

function configToml(dir: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "${dir}/containerd.sock"
[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${BUSYBOX_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "${dir}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${dir}/cni-bin"
    conf_dir = "${dir}/cni-conf"
`;
}

/** Waits until `ready()` holds; throws with the log's tail if containerd exits first (or never gets there). */
async function waitFor(ready: () => boolean, proc: ChildProcess, log: string, what: string): Promise<void> {
  const tail = () => readFileSync(log, 'utf8').split('\n').slice(-5).join('\n');
  await until(() => ready() || proc.exitCode !== null, () => `containerd to ${what}: ${tail()}`, { everyMs: 50 });
  if (!ready()) throw new Error(`containerd exited before it could ${what}: ${tail()}`);
}

export class PrivateContainerd {
  readonly socket: string;

  private constructor(
    readonly dir: string,
    private readonly proc: ChildProcess,
  ) {
    this.socket = join(dir, 'containerd.sock');
  }

  static async start(): Promise<PrivateContainerd> {
    const dir = mkdtempSync(join(tmpdir(), 'execscope-containerd-'));
    writeFileSync(join(dir, 'config.toml'), configToml(dir));
    const log = join(dir, 'containerd.log');
    const out = openSync(log, 'a');
    const proc = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', out, out] });
    closeSync(out);
    const c = new PrivateContainerd(dir, proc);
    try {
      await waitFor(() => existsSync(c.socket) && statSync(c.socket).isSocket(), proc, log, 'open its socket');
      execFileSync('ctr', ['--address', c.socket, '-n', 'k8s.io', 'images', 'import', '--snapshotter', 'native', buildBusyboxImage(dir)], { stdio: 'pipe', timeout: 120_000 });
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  /** Ends containerd and its shims by PID, unmounts what is left under the temp dir, removes it. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    for (const pid of shimPids(this.socket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const mount of mountsUnder(this.dir).reverse()) execFileSync('umount', ['-l', mount], { timeout: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** containerd-shim-runc-v2 processes started for this containerd (their -address names its socket). */
function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(socket)) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/** Mount points at or below `dir` (mountinfo field 5), outermost first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)));
}
