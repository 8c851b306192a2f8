/**
 * sockdump captures (pcap link type 147): the record formats with and without the socket path, and a
 * real gRPC ExecSync exchange — node:http2 on a unix socket, the lab's CRI client — written as sockdump
 * records decodes like the same bytes over TCP: the call, its CRI messages, an execsync session.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSockdumpRecord } from '../../src/net/sockdump.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { CONTAINERD_PID, KUBELET_PID, recordCriCalls, SOCKET_PATH, sockdumpCapture, sockdumpRecord } from '../helpers/cri-socket-recording.js';

test('record headers: with the socket path, without it, and bytes that are neither', () => {
  expect(parseSockdumpRecord(sockdumpRecord(KUBELET_PID, CONTAINERD_PID, Buffer.from('PRI'), true))).toEqual({ path: SOCKET_PATH, writerPid: KUBELET_PID, peerPid: CONTAINERD_PID, dataOffset: 125 });
  expect(parseSockdumpRecord(sockdumpRecord(KUBELET_PID, CONTAINERD_PID, Buffer.from('PRI'), false))).toEqual({ path: '', writerPid: KUBELET_PID, peerPid: CONTAINERD_PID, dataOffset: 16 });
  expect(parseSockdumpRecord(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBeNull();
  expect(parseSockdumpRecord(new Uint8Array(8))).toBeNull();
});

test.each([true, false])('a real gRPC ExecSync captured by sockdump (socket path in the records: %s) decodes', async (withPath) => {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-sockdump-'));
  try {
    const writes = await recordCriCalls(dir, [{ rpc: 'ExecSync', request: { container_id: 'c0ffee', cmd: ['cat', '/tmp/healthy'], timeout: 1 } }]);
    const file = join(dir, 'sockdump.pcap');
    writeFileSync(file, sockdumpCapture(writes, withPath));
    const model = await analyzeCapture(file, analyzeOptions());
    expect(model.capture.linkTypes).toEqual(['USER0']);
    expect(model.warnings).toEqual([]);
    const where = withPath ? `unix:${SOCKET_PATH}` : 'unix';
    expect(model.connections).toEqual([expect.objectContaining({ client: `${where} pid ${KUBELET_PID}`, server: `${where} pid ${CONTAINERD_PID}`, protocol: 'grpc' })]);
    expect(model.rpcs).toEqual([expect.objectContaining({ path: '/runtime.v1.RuntimeService/ExecSync', statusName: 'OK', exitCode: 1, request: { containerId: 'c0ffee', command: ['cat', '/tmp/healthy'], timeoutSeconds: 1 } })]);
    const [session] = model.sessions;
    expect(session).toMatchObject({ kind: 'execsync', hop: 'cri', transport: 'grpc', container: 'c0ffee', command: ['cat', '/tmp/healthy'], exit: { status: 'Failure', code: 1 }, state: 'complete', criCall: 1 });
    expect(session.streams.map((r) => [r.name, Buffer.concat(r.head).toString()])).toEqual([
      ['stdout', 'ready\n'],
      ['stderr', 'warming up\n'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
