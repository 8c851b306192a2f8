/**
 * sockdump captures (pcap link type 147): the record formats with and without the socket path, and a
 * real gRPC ExecSync exchange — node:http2 on a unix socket, the lab's CRI client — written as sockdump
 * records decodes like the same bytes over TCP: the call, its CRI messages, an execsync session.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { encodeCri } from '../../src/cri/cri-proto.js';
import { grpcFrame } from '../../src/grpc/grpc-calls.js';
import { CriGrpcClient } from '../../src/lab/cri-grpc.js';
import { parseSockdumpRecord } from '../../src/net/sockdump.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';

const SOCKET_PATH = '/run/containerd/containerd.sock';
const KUBELET_PID = 812;
const CONTAINERD_PID = 455;

function pids(peer: number, writer: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint32(4, peer);
  view.setUint32(12, writer);
  return out;
}

function record(writer: number, peer: number, data: Uint8Array, withPath: boolean): Uint8Array {
  const path = new Uint8Array(109);
  path[0] = SOCKET_PATH.length;
  path.set(new TextEncoder().encode(SOCKET_PATH), 1);
  return Buffer.concat([...(withPath ? [path] : []), pids(peer, writer), data]);
}

test('record headers: with the socket path, without it, and bytes that are neither', () => {
  expect(parseSockdumpRecord(record(KUBELET_PID, CONTAINERD_PID, Buffer.from('PRI'), true))).toEqual({ path: SOCKET_PATH, writerPid: KUBELET_PID, peerPid: CONTAINERD_PID, dataOffset: 125 });
  expect(parseSockdumpRecord(record(KUBELET_PID, CONTAINERD_PID, Buffer.from('PRI'), false))).toEqual({ path: '', writerPid: KUBELET_PID, peerPid: CONTAINERD_PID, dataOffset: 16 });
  expect(parseSockdumpRecord(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBeNull();
  expect(parseSockdumpRecord(new Uint8Array(8))).toBeNull();
});

/** A real ExecSync over HTTP/2: node's server on a unix socket, the lab's CRI client; every write kept in order. */
async function recordExecSync(dir: string): Promise<{ writer: 'kubelet' | 'containerd'; bytes: Buffer }[]> {
  const socket = join(dir, 'cri.sock');
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcFrame(encodeCri('ExecSyncResponse', { stdout: Buffer.from('ready\n'), stderr: Buffer.from('warming up\n'), exit_code: 1 })));
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const writes: { writer: 'kubelet' | 'containerd'; bytes: Buffer }[] = [];
  const relay = net.createServer((client) => {
    const backend = net.connect(socket);
    client.on('data', (c: Buffer) => (writes.push({ writer: 'kubelet', bytes: c }), backend.write(c)));
    backend.on('data', (c: Buffer) => (writes.push({ writer: 'containerd', bytes: c }), client.write(c)));
    client.on('close', () => backend.destroy());
    backend.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const cri = new CriGrpcClient(() => (relay.address() as net.AddressInfo).port);
  const answer = await cri.invoke('ExecSync', { container_id: 'c0ffee', cmd: ['cat', '/tmp/healthy'], timeout: 1 });
  expect(answer).toMatchObject({ value: { exit_code: 1 } });
  cri.close();
  await new Promise((r) => relay.close(r));
  await new Promise((r) => server.close(r));
  return writes;
}

test.each([true, false])('a real gRPC ExecSync captured by sockdump (socket path in the records: %s) decodes', async (withPath) => {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-sockdump-'));
  try {
    const writes = await recordExecSync(dir);
    const pcap = new PcapWriter();
    const parts = [pcap.header(147, { snapLen: 65535 })];
    writes.forEach((w, i) => {
      const [writer, peer] = w.writer === 'kubelet' ? [KUBELET_PID, CONTAINERD_PID] : [CONTAINERD_PID, KUBELET_PID];
      parts.push(pcap.packet(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, record(writer, peer, w.bytes, withPath)));
    });
    const file = join(dir, 'sockdump.pcap');
    writeFileSync(file, Buffer.concat(parts));
    const model = await analyzeCapture(file, analyzeOptions());
    expect(model.capture.linkTypes).toEqual(['USER0']);
    expect(model.warnings).toEqual([]);
    const where = withPath ? `unix:${SOCKET_PATH}` : 'unix';
    expect(model.connections).toEqual([expect.objectContaining({ client: `${where} pid ${KUBELET_PID}`, server: `${where} pid ${CONTAINERD_PID}`, protocol: 'http2' })]);
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
