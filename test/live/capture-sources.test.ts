/**
 * The node-level capture people take with `kubectl debug node/… -- tcpdump -i any -U -w -`, piped
 * into execscope: the real tcpdump on the "any" interface (Linux cooked SLL2 frames) while the real
 * kubectl execs into the lab, read by `execscope analyze -` from stdin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.js';
import { CAN_TCPDUMP } from '../lab/e2e-harness.js';

const cli = join(process.cwd(), 'dist/cli.js');
const describeIfTcpdump = CAN_TCPDUMP || process.env.EXECSCOPE_REQUIRE_TCPDUMP ? describe : describe.skip;

describeIfTcpdump('tcpdump -i any -U -w - | execscope analyze -', () => {
  test('the kubelet hop of a real kubectl exec decodes from the cooked capture on stdin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'any-'));
    const lab = await Lab.start({ dir: join(dir, 'lab'), recordPath: null });
    let tcpdump: ChildProcess | null = null;
    let execscope: ChildProcess | null = null;
    try {
      tcpdump = spawn('tcpdump', ['-i', 'any', '-U', '--immediate-mode', '-n', '-Z', 'root', '-w', '-', `tcp port ${lab.port('kubelet')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      execscope = spawn(process.execPath, [cli, 'analyze', '-', '--json'], { stdio: [tcpdump.stdout!, 'pipe', 'pipe'] });
      let json = '';
      execscope.stdout!.on('data', (c: Buffer) => (json += c.toString()));
      const analyzed = new Promise<number | null>((resolve) => execscope!.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        let err = '';
        tcpdump!.stderr!.on('data', (c: Buffer) => {
          err += c.toString();
          if (err.includes('listening on')) resolve();
        });
        tcpdump!.once('exit', () => reject(new Error(`tcpdump exited: ${err}`)));
      });
      const kubectl = spawn('kubectl', ['exec', 'lab-0', '--', 'sh', '-c', 'echo from-the-node; exit 4'], { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: lab.kubeconfigPath }, stdio: 'ignore' });
      expect(await new Promise((resolve) => kubectl.once('exit', resolve))).toBe(4);
      await lab.observations.whenIdle();
      tcpdump.kill('SIGINT');
      expect(await analyzed).toBe(0);
      const report = JSON.parse(json) as { capture: { linkTypes: string[] }; sessions: { hop: string; command: string[]; exit: { code: number } | null; streams: Record<string, { bytes: number }> }[] };
      expect(report.capture.linkTypes[0]).toMatch(/^LINUX_SLL2?$/);
      const kubelet = report.sessions.find((s) => s.hop === 'kubelet');
      expect(kubelet).toMatchObject({ command: ['sh', '-c', 'echo from-the-node; exit 4'], exit: { code: 4 } });
      expect(kubelet!.streams.stdout.bytes).toBe('from-the-node\n'.length);
    } finally {
      if (tcpdump?.exitCode === null) tcpdump.kill('SIGKILL');
      if (execscope?.exitCode === null) execscope.kill('SIGKILL');
      await lab.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
