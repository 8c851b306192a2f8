/**
 * The cluster-wide captures people already take, piped into execscope on stdin while the real kubectl
 * execs into the lab (its kubelet hop is plaintext HTTP, as a kubelet's port 10250 is to a capture
 * holding the apiserver's client certificate exchange... here: no TLS on that hop):
 *
 *  - node-level `tcpdump -i any -U -w -` over `kubectl debug node/…`: the node's tcpdump 4.99 writes
 *    Linux cooked v2 (LINUX_SLL2) frames;
 *  - ksniff, which runs `tcpdump -i any -U -w -` in the pod (its static tcpdump 4.9) or a privileged
 *    pod: Linux cooked v1 (LINUX_SLL) frames. Both are the real tcpdump here, with `-y`;
 *  - Inspektor Gadget's `tcpdump` gadget with `-o pcap-ng`: written faithfully from the frames the
 *    real tcpdump captured, in the shape IG's pcap-ng writer (pkg/pcapng) gives: a section header
 *    with a comment, one Ethernet interface with snaplen 65535 and no options (so microsecond
 *    timestamps), enhanced packet blocks each carrying a comment (the enrichment: which pod); and, as
 *    its documentation's sample output shows, every timestamp 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { Lab } from '../../src/lab/lab.js';
import { decodeWithCuts } from '../capture/collect-capture.js';
import { CAN_TCPDUMP } from '../lab/e2e-harness.js';

const cli = join(process.cwd(), 'dist/cli.js');
const describeIfTcpdump = CAN_TCPDUMP || process.env.EXECSCOPE_REQUIRE_TCPDUMP ? describe : describe.skip;

const LINKTYPE_ETHERNET = 1;
const COMMAND = ['sh', '-c', 'echo from-the-node; exit 4'];

interface Report {
  capture: { format: string; linkTypes: string[] };
  sessions: { hop: string; command: string[]; exit: { code: number } | null; streams: Record<string, { bytes: number }> }[];
  warnings: unknown[];
}

/** `execscope analyze - --json` reading `stdin`; resolves with its report once stdin ends. */
function analyzeStdin(stdin: NodeJS.ReadableStream | 'pipe'): { child: ChildProcess; report: Promise<Report> } {
  const child = spawn(process.execPath, [cli, 'analyze', '-', '--json'], { stdio: [stdin === 'pipe' ? 'pipe' : (stdin as never), 'pipe', 'pipe'] });
  let json = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (json += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const report = new Promise<Report>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(json) as Report) : reject(new Error(`execscope exited ${code}: ${err}`)))),
  );
  return { child, report };
}

function startTcpdump(args: string[]): { child: ChildProcess; listening: Promise<void> } {
  const child = spawn('tcpdump', ['-U', '--immediate-mode', '-n', '-Z', 'root', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const listening = new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on')) resolve();
    });
    child.once('exit', () => reject(new Error(`tcpdump exited: ${err}`)));
  });
  return { child, listening };
}

/** IG's pcap-ng: the frames of a pcap rewritten as its writer lays them out. */
function inspektorGadgetPcapng(pcap: Uint8Array, timestamps: 'captured' | 'zero'): Buffer {
  const decoded = decodeWithCuts(pcap);
  expect(decoded.error).toBeNull();
  const info = decoded.events.find((e) => e.kind === 'info');
  const origin = info?.kind === 'info' ? (info.info.originNs ?? 0n) : 0n;
  const writer = new PcapngWriter();
  const blocks = [writer.sectionHeader({ comment: 'tcpdump gadget · node lab-node' }), writer.interface(LINKTYPE_ETHERNET, { snapLen: 65535 })];
  for (const p of decoded.packets) {
    expect(p.linkType).toBe(LINKTYPE_ETHERNET);
    const ts = timestamps === 'zero' ? 0n : origin + BigInt(p.ts);
    blocks.push(writer.enhancedPacket(0, ts, p.data, p.origLen, 'k8s: namespace=default pod=lab-0 container=main'));
  }
  return Buffer.concat(blocks);
}

describeIfTcpdump('cluster capture sources through stdin (the real tcpdump, the real kubectl, the lab)', () => {
  test('node tcpdump -i any (SLL2), ksniff (SLL) and Inspektor Gadget pcap-ng all decode the kubelet hop of one exec', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sources-'));
    const lab = await Lab.start({ dir: join(dir, 'lab'), recordPath: null });
    const started: ChildProcess[] = [];
    try {
      const filter = `tcp port ${lab.port('kubelet')}`;
      const node = startTcpdump(['-i', 'any', '-y', 'LINUX_SLL2', '-w', '-', filter]);
      const ksniff = startTcpdump(['-i', 'any', '-y', 'LINUX_SLL', '-w', '-', filter]);
      const pod = startTcpdump(['-i', 'lo', '-w', join(dir, 'pod.pcap'), filter]);
      started.push(node.child, ksniff.child, pod.child);
      const fromNode = analyzeStdin(node.child.stdout!);
      const fromKsniff = analyzeStdin(ksniff.child.stdout!);
      started.push(fromNode.child, fromKsniff.child);
      await Promise.all([node.listening, ksniff.listening, pod.listening]);
      const kubectl = spawn('kubectl', ['exec', 'lab-0', '--', ...COMMAND], { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: lab.kubeconfigPath }, stdio: 'ignore' });
      started.push(kubectl);
      expect(await new Promise((resolve) => kubectl.once('exit', resolve))).toBe(4);
      await lab.observations.whenIdle();
      const podDone = new Promise((resolve) => pod.child.once('exit', resolve));
      for (const t of [node, ksniff, pod]) t.child.kill('SIGINT');
      await podDone;

      const expectKubeletSession = (report: Report) => {
        const kubelet = report.sessions.find((s) => s.hop === 'kubelet');
        expect(kubelet).toMatchObject({ command: COMMAND, exit: { code: 4 } });
        expect(kubelet!.streams.stdout.bytes).toBe('from-the-node\n'.length);
      };
      const nodeReport = await fromNode.report;
      expect(nodeReport.capture.linkTypes).toEqual(['LINUX_SLL2']);
      expectKubeletSession(nodeReport);
      const ksniffReport = await fromKsniff.report;
      expect(ksniffReport.capture.linkTypes).toEqual(['LINUX_SLL']);
      expectKubeletSession(ksniffReport);

      for (const timestamps of ['captured', 'zero'] as const) {
        const gadget = analyzeStdin('pipe');
        started.push(gadget.child);
        gadget.child.stdin!.end(inspektorGadgetPcapng(readFileSync(join(dir, 'pod.pcap')), timestamps));
        const report = await gadget.report;
        expect(report.capture).toMatchObject({ format: 'pcapng', linkTypes: ['EN10MB'] });
        expectKubeletSession(report);
      }
    } finally {
      for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await lab.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
