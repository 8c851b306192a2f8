/**
 * A capture that joins the kubelet's long-lived HTTP/2 connection to its runtime midway (the usual
 * case on a node): the frames are found from the middle of one, header fields indexed before the
 * capture began stay unknown, calls are still followed as gRPC, and one whose path was indexed
 * earlier is recognised from the streaming URL it returns, its request decoded and its token kept.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { textReport } from '../../src/report/text-report.js';
import type { Problem } from '../../src/core/problem.js';
import { encodeCri } from '../../src/cri/cri-proto.js';
import type { GrpcCall } from '../../src/grpc/grpc-calls.js';
import type { RpcCall } from '../../src/model/rpc-call.js';
import type { ConnectionRecord } from '../../src/model/session.js';
import type { ConnectionScope } from '../../src/pipeline/connection-scope.js';
import { grpcCallsRecorder } from '../../src/pipeline/grpc-calls-recorder.js';
import { recordCriCalls, sockdumpCapture } from '../helpers/cri-socket-recording.js';

test('joined midway: the second Exec on the connection is decoded, its token kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-midconn-'));
  try {
    const exec = (cmd: string[]) => ({ rpc: 'Exec', request: { container_id: 'c0ffee', cmd, stdout: true, stderr: true } });
    const writes = await recordCriCalls(dir, [exec(['date']), exec(['sh', '-c', 'echo second'])]);
    // Start inside the kubelet's first write after the first call was answered, so the capture opens
    // mid-frame and misses the preface, SETTINGS and everything the first call indexed. (sockdump
    // records do not say which side is the client: the first writer is taken for it.)
    const firstResponse = writes.findIndex((w) => w.writer === 'containerd' && w.bytes.includes(Buffer.from('/exec/t1')));
    const next = writes.findIndex((w, i) => i > firstResponse && w.writer === 'kubelet');
    const cut = [{ writer: writes[next].writer, bytes: writes[next].bytes.subarray(4) }, ...writes.slice(next + 1)];
    const file = join(dir, 'late.pcap');
    writeFileSync(file, sockdumpCapture(cut, true));
    const model = await analyzeCapture(file, analyzeOptions());
    expect(model.connections[0]).toMatchObject({ protocol: 'grpc' });
    expect(model.rpcs).toHaveLength(1);
    // node's HPACK encoder leaves :path unindexed (content-type and user-agent are indexed, so unknown here).
    expect(model.rpcs[0]).toMatchObject({ path: '/runtime.v1.RuntimeService/Exec', statusName: 'unknown', token: 't2', request: { containerId: 'c0ffee', command: ['sh', '-c', 'echo second'], stdout: true } });
    expect(model.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/^capture starts mid-connection: HTTP\/2 inferred from the framing, 5 bytes before the first frame boundary skipped/)]);
    expect(textReport(model, { connections: false, name: 'late' })).toMatch(/1 \/runtime\.v1\.RuntimeService\/Exec · unknown · /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a call whose path was indexed before the capture is named by the streaming URL it returns', () => {
  const rpcs: RpcCall[] = [];
  const warnings: Problem[] = [];
  const record = { id: 1, client: 'a', server: 'b', firstPacket: 1 } as ConnectionRecord;
  const ctx = { newRpc: (c: Omit<RpcCall, 'id'>) => (rpcs.push({ id: rpcs.length + 1, ...c }), rpcs[rpcs.length - 1]), warn: (p: Problem) => warnings.push(p) };
  const sink = grpcCallsRecorder({ ctx, record, where: 'x' } as unknown as ConnectionScope);
  const call = { streamId: 5, path: '', service: '', method: '', startTs: 1, endTs: null } as unknown as GrpcCall;
  sink.onCallStart(call);
  sink.onMessage(call, { dir: 'c2s', compressed: false, length: 0, bytes: encodeCri('AttachRequest', { container_id: 'c1', stdin: true, tty: true }), ts: 2 });
  sink.onMessage(call, { dir: 's2c', compressed: false, length: 0, bytes: encodeCri('AttachResponse', { url: 'http://127.0.0.1:1/attach/tok' }), ts: 3 });
  expect(rpcs[0]).toMatchObject({ path: '/runtime.v1.RuntimeService/Attach', method: 'Attach', inferred: true, token: 'tok', request: { containerId: 'c1', stdin: true, tty: true } });
  expect(warnings).toEqual([]);
});
