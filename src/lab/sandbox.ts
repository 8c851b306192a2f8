/**
 * The lab's pods are local processes: without a sandbox `kubectl exec lab-0 -- rm -rf ~` would run on
 * this host as the user who started the lab. Where bubblewrap works, each command runs with the host
 * read-only, its container's directory writable as its home, that directory's .tmp as /tmp, and no
 * new privileges (bubblewrap always sets no_new_privs). It shares the host's PID namespace: a shell on
 * a `-t` terminal sets its terminal's process group, which a PID namespace of its own would hide.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Sandbox {
  /** What is in force, for the lab's start-up lines. */
  description: string;
  /** The argv that runs `argv` sandboxed with `home` (the container's directory) writable. */
  wrap(argv: readonly string[], home: string): string[];
}

function bubblewrapArgs(home: string): string[] {
  const tmp = join(home, '.tmp');
  mkdirSync(tmp, { recursive: true });
  // Later mounts go on top: /tmp first, then the home (which may itself lie under /tmp).
  // A fresh /dev, but the host's ptys: a `kubectl exec -t` terminal is one of them.
  return ['--ro-bind', '/', '/', '--dev', '/dev', '--dev-bind', '/dev/pts', '/dev/pts', '--proc', '/proc', '--bind', tmp, '/tmp', '--bind', home, home, '--chdir', home, '--die-with-parent'];
}

/** Bubblewrap when it is installed and allowed to make namespaces here (tried once), else null. */
export function detectSandbox(probeHome: string): Sandbox | null {
  const probe = spawnSync('bwrap', [...bubblewrapArgs(probeHome), '--', 'true'], { stdio: 'ignore', timeout: 10_000 });
  if (probe.error || probe.status !== 0) return null;
  return {
    description: "bubblewrap: the host read-only, each container's directory writable as its home (its .tmp as /tmp), no new privileges",
    wrap: (argv, home) => ['bwrap', ...bubblewrapArgs(home), '--', ...argv],
  };
}
