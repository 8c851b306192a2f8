import { spawn } from 'node:child_process';
import { droppedPackets } from '../../src/live/capture-tool.js';
import { CAN_TCPDUMP } from '../lab/e2e-harness.js';

describe('droppedPackets: what the capture program says it lost when it stops', () => {
  test('tcpdump 4.99 and dumpcap, as they print their counts', () => {
    expect(droppedPackets('1893 packets captured\n2088 packets received by filter\n195 packets dropped by kernel\n')).toBe(195);
    expect(droppedPackets('1 packet captured\n2 packets received by filter\n1 packet dropped by kernel\n')).toBe(1);
    expect(droppedPackets("File: /tmp/x.pcapng\nPackets captured: 120\nPackets received/dropped on interface 'Loopback: lo': 123/3 (pcap:3/dumpcap:0/flushed:0/ps_ifdrop:0) (97.6%)\n")).toBe(3);
    // A filter or a file name that looks like the count is not read as one.
    expect(droppedPackets("tcpdump: listening on lo\ntcpdump: syntax error in filter expression: 9 packets dropped by kernel\n")).toBe(0);
  });

  (CAN_TCPDUMP || process.env.EXECSCOPE_REQUIRE_TCPDUMP ? test : test.skip)('the real tcpdump stopped with SIGINT: its counts read, none dropped', async () => {
    const child = spawn('tcpdump', ['-i', 'lo', '-n', '-w', '/dev/null', 'tcp port 9'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('listening on')) child.kill('SIGINT');
    });
    await new Promise((resolve) => child.once('close', resolve));
    expect(stderr).toMatch(/^0 packets dropped by kernel$/m);
    expect(droppedPackets(stderr)).toBe(0);
  });
});
