/**
 * A private dockerd for the lab and the tests: its socket, data, exec root, pid file and config all
 * under one directory, no iptables, no bridge, the vfs storage driver — so it touches neither the
 * host's /var/run/docker.sock nor /var/lib/docker nor /etc/docker. Stopped by its PID; what it
 * mounted under its directory is unmounted, and processes it left running there (container shims)
 * are stopped by their PIDs. Its trust key (20.10 writes /etc/docker/key.json by default) goes under
 * the directory too (`deprecated-key-path`); only its plugin socket directory /run/docker/plugins is
 * hard-coded, and removed again when dockerd created it. Needs root. IO code.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const DOCKERD = '/usr/sbin/dockerd';
/** Debian's docker.io client; any other docker on the PATH (a newer static one) also speaks to it. */
const DOCKER_CLIENTS = ['/usr/bin/docker', 'docker'];
const BUSYBOX_PATHS = ['/bin/busybox', '/usr/bin/busybox'];
/** What the test containers run, linked to busybox in the image. */
const APPLETS = ['sh', 'cat', 'echo', 'sleep', 'ls', 'stty', 'sort', 'tr', 'wc', 'head', 'env', 'id', 'pwd', 'true', 'false'];
export const BUSYBOX_IMAGE = 'execscope-busybox:1';
const READY_TIMEOUT_MS = 60_000;
/** Host directories dockerd creates whatever its flags say, deepest first. */
const HARD_CODED_DIRS = ['/run/docker/plugins', '/run/docker'];
const STOP_TIMEOUT_MS = 30_000;

/** Why a private dockerd cannot run here, or null when it can. */
export function dockerdUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  if (!existsSync(DOCKERD)) return `${DOCKERD} is not installed (Debian package docker.io)`;
  if (!dockerClient()) return 'no docker client (Debian package docker.io)';
  if (!staticBusybox()) return 'no statically linked busybox (Debian package busybox-static)';
  return null;
}

export function dockerClient(): string | null {
  for (const c of DOCKER_CLIENTS) {
    if (c.startsWith('/') ? existsSync(c) : spawnSync(c, ['--version']).status === 0) return c;
  }
  return null;
}

/** A busybox that runs in an empty image: an ELF without a program interpreter (PT_INTERP). */
function staticBusybox(): string | null {
  for (const path of BUSYBOX_PATHS) {
    if (!existsSync(path)) continue;
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(4096);
      const n = readSync(fd, head, 0, head.length, 0);
      if (n < 64 || head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) continue;
      const phoff = Number(head.readBigUInt64LE(32));
      const phentsize = head.readUInt16LE(54);
      const phnum = head.readUInt16LE(56);
      let interp = false;
      for (let i = 0; i < phnum && phoff + (i + 1) * phentsize <= n; i++) if (head.readUInt32LE(phoff + i * phentsize) === 3) interp = true;
      if (!interp) return path;
    } finally {
      closeSync(fd);
    }
  }
  return null;
}

export interface DockerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface DockerdStopReport {
  /** Mount points under the directory still mounted after the cleanup (should be none). */
  mountsLeft: string[];
  /** PIDs of processes under the directory that had to be stopped after dockerd exited. */
  strays: number[];
  /** Host directories dockerd created outside its own (removed when empty). */
  hostDirsCreated: string[];
}

export interface PrivateDockerd {
  readonly dir: string;
  /** `unix:///…/docker.sock` */
  readonly host: string;
  readonly socketPath: string;
  readonly pid: number;
  readonly client: string;
  /** Environment for a docker client talking to `host` (its config dir private too). */
  env(host?: string): NodeJS.ProcessEnv;
  /** Runs the docker client against this daemon (or `host`, a tap in front of it). */
  docker(args: readonly string[], opts?: { input?: string; host?: string }): Promise<DockerResult>;
  /** A busybox image made with `docker import` from the static busybox. */
  importBusybox(): Promise<void>;
  stop(): Promise<DockerdStopReport>;
}

/** Starts dockerd with everything under `dir` and resolves once it answers `/_ping`. */
export async function startPrivateDockerd(dir: string): Promise<PrivateDockerd> {
  const client = dockerClient();
  if (!client) throw new Error('no docker client');
  for (const sub of ['data', 'exec', 'config']) mkdirSync(join(dir, sub), { recursive: true });
  const hostDirsBefore = HARD_CODED_DIRS.filter((d) => existsSync(d));
  const socketPath = join(dir, 'docker.sock');
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, `${JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') })}\n`);
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    DOCKERD,
    [
      `--host=unix://${socketPath}`,
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'dockerd.pid')}`,
      `--config-file=${configFile}`,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--bridge=none',
      '--userland-proxy=false',
      '--storage-driver=vfs',
      '--shutdown-timeout=2',
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitForPing(socketPath, exited, dir);
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    cleanUp(dir, hostDirsBefore);
    throw e;
  }
  const env = (host = `unix://${socketPath}`): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: join(dir, 'config'), DOCKER_CLI_HINTS: 'false' });
  const docker = (args: readonly string[], opts: { input?: string; host?: string } = {}) => runClient(client, args, env(opts.host), opts.input);
  return {
    dir,
    host: `unix://${socketPath}`,
    socketPath,
    pid: child.pid!,
    client,
    env,
    docker,
    importBusybox: () => importBusybox(dir, docker),
    stop: () => stop(child, exited, dir, hostDirsBefore),
  };
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** Polls the socket until dockerd answers (or exits, or a minute passes). */
async function waitForPing(socketPath: string, exited: Promise<number | null>, dir: string): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`dockerd exited (${gone}) before it answered: ${logTail(dir)}`);
    if (existsSync(socketPath) && (await ping(socketPath))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dockerd did not answer /_ping within ${READY_TIMEOUT_MS / 1000} s: ${logTail(dir)}`);
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'dockerd.log'), 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

function runClient(client: string, args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(client, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function importBusybox(dir: string, docker: PrivateDockerd['docker']): Promise<void> {
  const busybox = staticBusybox();
  if (!busybox) throw new Error('no static busybox');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
  for (const applet of APPLETS) if (!existsSync(join(rootfs, 'bin', applet))) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const tar = join(dir, 'rootfs.tar');
  const made = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  if (made.status !== 0) throw new Error(`tar: ${made.stderr.toString()}`);
  const imported = await docker(['import', '--change', 'ENV PATH=/bin', tar, BUSYBOX_IMAGE]);
  if (imported.code !== 0) throw new Error(`docker import: ${imported.stderr}`);
}

async function stop(child: ChildProcess, exited: Promise<number | null>, dir: string, hostDirsBefore: string[]): Promise<DockerdStopReport> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS)));
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
  return cleanUp(dir, hostDirsBefore);
}

/** Stops what dockerd left running under `dir` (shims, a containerd), by PID, then unmounts what it mounted there. */
function cleanUp(dir: string, hostDirsBefore: readonly string[]): DockerdStopReport {
  const strays = processesUnder(dir);
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const mount of mountsUnder(dir).reverse()) {
    if (spawnSync('umount', [mount]).status !== 0) spawnSync('umount', ['-l', mount]);
  }
  const hostDirsCreated = HARD_CODED_DIRS.filter((d) => !hostDirsBefore.includes(d) && existsSync(d));
  for (const d of hostDirsCreated) {
    try {
      rmdirSync(d);
    } catch {
      // not empty: something else uses it now
    }
  }
  return { mountsLeft: mountsUnder(dir), strays, hostDirsCreated };
}

/** Mount points at or under `dir`, in /proc/mounts order (parents first). */
export function mountsUnder(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => unescape(line.split(' ')[1] ?? ''))
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/** Processes whose command line names `dir` (dockerd's containerd and shims are started with paths under it). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(dir)) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
