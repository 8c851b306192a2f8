/**
 * The packet-capture program `execscope live` runs and how it is told what to capture: tcpdump
 * (`-U -w -`, packet-buffered pcap on stdout) or, without it, Wireshark's dumpcap (`-w -`, pcapng).
 * Pure: builds arguments and explains failures and drops.
 */
export type CaptureTool = 'tcpdump' | 'dumpcap';

/** The apiserver (6443, 443) and the kubelet (10250): the exec hops on their usual ports. */
export const DEFAULT_PORTS = [6443, 443, 10250];

export interface CaptureRequest {
  iface: string;
  /** A BPF filter of the user's; replaces the port filter. */
  filter?: string;
  /** Ports added to the default ones. */
  ports: number[];
}

export function captureFilter(request: CaptureRequest): string {
  if (request.filter) return request.filter;
  const ports = [...new Set([...DEFAULT_PORTS, ...request.ports])];
  return ports.map((p) => `tcp port ${p}`).join(' or ');
}

export function captureArgs(tool: CaptureTool, request: CaptureRequest): string[] {
  const filter = captureFilter(request);
  // -B: a 64 MiB capture buffer. The 2 MiB default holds a handful of loopback segments (up to 64 KiB
  // each), so a burst of exec output drops packets and the doctor then reads gaps as lost frames.
  if (tool === 'dumpcap') return ['-i', request.iface, '-q', '-B', '64', '-w', '-', '-f', filter];
  // -Z root: Debian's tcpdump drops to its own user otherwise, which is harmless for stdout but
  // refused by some hardened builds; --immediate-mode: every packet at once, not per buffer.
  return ['-i', request.iface, '-U', '--immediate-mode', '-B', '65536', '-n', '-w', '-', ...(process.getuid?.() === 0 ? ['-Z', 'root'] : []), filter];
}

/** tcpdump's and dumpcap's permission failures, as they print them. */
const NOT_PERMITTED = /permission|not permitted|privileges|capability/i;

/** One line saying what to do, when the capture program could not start or capture; null if it just ended. */
export function captureFailure(tool: CaptureTool | null, stderr: string, spawnError?: NodeJS.ErrnoException): string | null {
  if (tool === null || spawnError?.code === 'ENOENT') {
    return 'neither tcpdump nor dumpcap is installed: install one (apt-get install tcpdump), or pipe a capture in: … | execscope - ';
  }
  if (spawnError) return `${tool} could not be started: ${spawnError.message}`;
  if (NOT_PERMITTED.test(stderr)) {
    return `${tool} may not capture here: run as root, or give it the capability once: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v ${tool})`;
  }
  const line = stderr.split('\n').find((l) => /error|no such device|syntax|doesn't exist|unknown/i.test(l));
  if (!line) return null;
  const said = line.trim();
  return `${tool}: ${said.startsWith(`${tool}: `) ? said.slice(tool.length + 2) : said}`;
}

/**
 * Packets the kernel dropped before the capture program read them (its capture buffer overflowed),
 * from the counts it prints when it stops: tcpdump's `N packets dropped by kernel`, dumpcap's
 * `Packets received/dropped on interface 'NAME': R/D`.
 */
export function droppedPackets(stderr: string): number {
  let dropped = 0;
  for (const m of stderr.matchAll(/^(\d+) packets? dropped by kernel$/gm)) dropped += Number(m[1]);
  for (const m of stderr.matchAll(/^Packets received\/dropped on interface '.*': \d+\/(\d+)/gm)) dropped += Number(m[1]);
  return dropped;
}
