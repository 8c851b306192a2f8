/**
 * Ended plain-HTTP connections are listed up to a bound and counted beyond it (a capture of a million
 * probes must not keep a million records), while every connection that matters stays listed: one
 * with an exec session, an error status, an unanswered request or a TCP gap. The counts are exact,
 * and the JSON, the text summary and a warning all say what was counted instead of listed.
 */
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import { CaptureAnalyzer } from '../../src/pipeline/capture-analyzer.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { jsonReport, jsonReportText } from '../../src/report/json-report.js';
import { textReport } from '../../src/report/text-report.js';
import { ExecConversation } from '../../src/synth/exec-conversation.js';
import { analyzeBytes, pcapOf } from '../helpers/synthetic-capture.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const LISTED = 5;
const PROBES = 40;

/** One HTTP/1.1 request on its own connection, answered with `status` (or never), then closed. */
function probe(port: number, status: number | null, gap = false): Uint8Array[] {
  const tcp = new SyntheticTcpConnection({ ip: '10.0.0.7', port }, { ip: '10.0.0.1', port: 8080 });
  const request = ascii(`GET /healthz?n=${port} HTTP/1.1\r\nHost: probe\r\n\r\n`);
  const frames = [...tcp.handshake(), ...tcp.send('c2s', request)];
  if (gap) tcp.skip('s2c', 100);
  if (status !== null) frames.push(...tcp.send('s2c', ascii(`HTTP/1.1 ${status} X\r\nContent-Length: 2\r\n\r\nok`)));
  frames.push(...tcp.close());
  return frames;
}

function capture(): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < PROBES; i++) frames.push(...probe(20000 + i, 200));
  frames.push(...probe(30001, 404), ...probe(30002, null), ...probe(30003, 200, true));
  const exec = new ExecConversation({ transport: 'websocket', pod: 'web', command: ['sh'], stdin: false, tty: false }, 30004, 6443, 1448);
  frames.push(...exec.open(), ...exec.write('stdout', ascii('hi')), ...exec.finish());
  for (let i = 0; i < PROBES; i++) frames.push(...probe(40000 + i, 302));
  return pcapOf(frames);
}

describe(`${2 * PROBES} probes, an error, an unanswered request, a gap and an exec, with ${LISTED} plain connections listed`, () => {
  const model = analyzeBytes(capture(), { plainConnectionsListed: LISTED });
  const plain = model.connections.filter((c) => c.protocol === 'http' && c.requests.every((r) => r.status !== null && r.status < 400) && !c.gaps.length);
  const request = 'GET /healthz?n=NNNNN HTTP/1.1\r\nHost: probe\r\n\r\n'.length;
  const reply = 'HTTP/1.1 200 X\r\nContent-Length: 2\r\n\r\nok'.length;

  it('lists the first plain connections up to the bound and every connection that matters', () => {
    expect(plain.map((c) => c.client)).toEqual([20000, 20001, 20002, 20003, 20004].map((p) => `10.0.0.7:${p}`));
    const notable = model.connections.filter((c) => !plain.includes(c)).map((c) => c.client.split(':')[1]);
    expect(notable).toEqual(['30001', '30002', '30003', '30004']);
    expect(model.sessions).toHaveLength(1);
    expect(model.connections.find((c) => c.id === model.sessions[0].connectionId)?.sessionIds).toEqual([1]);
  });

  it('counts the rest exactly: connections, requests, bytes each way', () => {
    expect(model.unlistedConnections).toEqual({
      listed: LISTED,
      connections: 2 * PROBES - LISTED,
      requests: 2 * PROBES - LISTED,
      bytes: { c2s: (2 * PROBES - LISTED) * request, s2c: (2 * PROBES - LISTED) * reply },
      lastId: 2 * PROBES + 4,
    });
    expect(model.connections.length + model.unlistedConnections!.connections).toBe(2 * PROBES + 4);
  });

  it('says so in one warning, in the JSON and in the text summary', () => {
    const warnings = model.warnings.filter((w) => w.code === 'pipeline.connections-unlisted');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(new RegExp(`^${2 * PROBES - LISTED} ended plain-HTTP connections \\(${2 * PROBES - LISTED} requests answered below 400, \\d+ bytes sent, \\d+ received\\) are counted, not listed: only the first ${LISTED} `));
    const json = JSON.parse([...jsonReportText(model, { hash: false })].join(''));
    expect(json).toEqual(JSON.parse(JSON.stringify(jsonReport(model, { hash: false }))));
    expect(json.capture.unlistedConnections).toEqual(model.unlistedConnections);
    expect(json.connections).toHaveLength(LISTED + 4);
    expect(textReport(model, { connections: false, name: 'probes.pcap' }).split('\n')[0]).toContain(`${2 * PROBES + 4} connections (${2 * PROBES - LISTED} plain HTTP counted, not listed)`);
  });

  it('lists everything while the bound is not reached', () => {
    const all = analyzeBytes(capture(), { plainConnectionsListed: 2 * PROBES });
    expect(all.unlistedConnections).toBeUndefined();
    expect(all.connections).toHaveLength(2 * PROBES + 4);
    expect(all.warnings.some((w) => w.code === 'pipeline.connections-unlisted')).toBe(false);
  });
});

describe('a long run of probes', () => {
  const PROBE_RUN = 3000;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < PROBE_RUN; i++) frames.push(...probe(10000 + i, 200));
  const bytes = pcapOf(frames);

  it('keeps the model’s list short while it decodes, not only at the end', () => {
    const a = new CaptureAnalyzer(analyzeOptions({ plainConnectionsListed: LISTED }));
    let longest = 0;
    for (let at = 0; at < bytes.length; at += 16384) {
      a.push(bytes.subarray(at, at + 16384));
      longest = Math.max(longest, a.model.connections.length);
    }
    a.end();
    // Records leave in batches of 1024 (or a quarter of the list): never all 3000 at once.
    expect(longest).toBeLessThanOrEqual(LISTED + 1024 + 1);
    expect(a.model.connections).toHaveLength(LISTED);
    expect(a.model.unlistedConnections?.connections).toBe(PROBE_RUN - LISTED);
    expect(a.model.connections.map((c) => c.id)).toEqual([1, 2, 3, 4, 5]);
  });
});
