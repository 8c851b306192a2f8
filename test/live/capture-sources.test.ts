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

/** `execscope analyze - --json` reading its stdin; resolves with its report once stdin ends. */
function analyzeStdin(): { child: ChildProcess; report: Promise<Report> } {
  const child = spawn(process.execPath, [cli, 'analyze', '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let json = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (json += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const report = new Promise<Report>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(json) as Report) : reject(new Error(`execscope exited ${code}: ${err}`)))),
  );
  return { child, report };
}

/**
 * tcpdump writing a capture to stdout, which is passed on to `analyze`'s stdin; `seen(marker)` resolves
 * once the capture holds a packet carrying `marker`. Packets leave the capture ring in order, so
 * everything sent before the marker is then in the capture too: stopping tcpdump earlier could leave
 * the exec's last packets (its Status) unread in the ring.
 */
function tcpdumpInto(analyzer: ChildProcess, args: string[], filter: string): { child: ChildProcess; listening: Promise<void>; seen: (marker: string) => Promise<void> } {
  const tcpdump = startTcpdump([...args, '-w', '-', filter]);
  const watch = followBytes();
  tcpdump.child.stdout!.on('data', (chunk: Buffer) => {
    watch.push(chunk);
    analyzer.stdin!.write(chunk);
  });
  tcpdump.child.stdout!.once('end', () => analyzer.stdin!.end());
  return { ...tcpdump, seen: watch.seen };
}

/** Bytes arriving in chunks; `seen(text)`, asked before `text` arrives, resolves once they contain it (also across chunks). */
function followBytes(): { push: (chunk: Buffer) => void; seen: (text: string) => Promise<void> } {
  let tail = Buffer.alloc(0);
  const waiting: { text: string; resolve: () => void }[] = [];
  const check = (window: Buffer) => {
    for (const w of [...waiting]) {
      if (!window.includes(w.text)) continue;
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  };
  return {
    push(chunk) {
      const window = Buffer.concat([tail, chunk]);
      check(window);
      tail = window.subarray(Math.max(0, window.length - 256));
    },
    seen: (text) => new Promise<void>((resolve) => waiting.push({ text, resolve })),
  };
}

function startTcpdump(args: string[]): { child: ChildProcess; listening: Promise<void> } {
  // -s/-B: room for ~1000 full loopback packets in the capture ring (the default ring of 2 MiB holds
  // 8 frames of the default 256 KiB snap length: on a loaded machine the exec's packets were dropped).
  const child = spawn('tcpdump', ['-s', '65600', '-B', '65536', '-U', '--immediate-mode', '-n', '-Z', 'root', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      const fromNode = analyzeStdin();
      const fromKsniff = analyzeStdin();
      started.push(fromNode.child, fromKsniff.child);
      const node = tcpdumpInto(fromNode.child, ['-i', 'any', '-y', 'LINUX_SLL2'], filter);
      const ksniff = tcpdumpInto(fromKsniff.child, ['-i', 'any', '-y', 'LINUX_SLL'], filter);
      const pod = startTcpdump(['-i', 'lo', '-w', join(dir, 'pod.pcap'), filter]);
      started.push(node.child, ksniff.child, pod.child);
      await Promise.all([node.listening, ksniff.listening, pod.listening]);
      const kubectl = spawn('kubectl', ['exec', 'lab-0', '--', ...COMMAND], { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: lab.kubeconfigPath }, stdio: 'ignore' });
      started.push(kubectl);
      expect(await new Promise((resolve) => kubectl.once('exit', resolve))).toBe(4);
      await lab.observations.whenIdle();
      // A last request on the kubelet's port (answered 404) marks the end: once every capture holds
      // it, every capture holds the exec.
      const marker = `capture-end-${process.pid}-${Date.now()}`;
      const podFile = followBytes();
      const captured = Promise.all([node.seen(marker), ksniff.seen(marker), podFile.seen(marker)]);
      const podPolling = setInterval(() => podFile.push(readFileSync(join(dir, 'pod.pcap'))), 50);
      try {
        await fetch(`http://127.0.0.1:${lab.port('kubelet')}/${marker}`, { headers: { connection: 'close' } }).then((r) => r.text());
        await captured;
      } finally {
        clearInterval(podPolling);
      }
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
        const gadget = analyzeStdin();
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
