/**
 * Real CRI gRPC bytes for tests: node:http2 serving a few RuntimeService RPCs on a unix socket, the
 * lab's CRI client calling it through a relay that keeps every write in order, and those writes as
 * sockdump records (pcap link type 147) — the capture a node's unix-socket tap would make.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { encodeCri } from '../../src/cri/cri-proto.js';
import { grpcFrame } from '../../src/grpc/grpc-calls.js';
import { CriGrpcClient } from '../../src/lab/cri-grpc.js';

export const SOCKET_PATH = '/run/containerd/containerd.sock';
export const KUBELET_PID = 812;
export const CONTAINERD_PID = 455;

export interface SocketWrite {
  writer: 'kubelet' | 'containerd';
  bytes: Buffer;
}

/** The runtime's answers: ExecSync runs "cat /tmp/healthy"; Exec hands out tokens t1, t2, … */
function respond(stream: http2.ServerHttp2Stream, path: string, served: number): void {
  const rpc = path.slice(path.lastIndexOf('/') + 1);
  const message =
    rpc === 'ExecSync'
      ? encodeCri('ExecSyncResponse', { stdout: Buffer.from('ready\n'), stderr: Buffer.from('warming up\n'), exit_code: 1 })
      : encodeCri('ExecResponse', { url: `http://127.0.0.1:40123/exec/t${served}` });
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(grpcFrame(message));
}

/** Runs `calls` one after another on one HTTP/2 connection; returns every write on the socket. */
export async function recordCriCalls(dir: string, calls: { rpc: string; request: Record<string, unknown> }[]): Promise<SocketWrite[]> {
  const socket = join(dir, 'cri.sock');
  const server = http2.createServer();
  let served = 0;
  server.on('stream', (stream, headers) => {
    stream.on('data', () => {});
    stream.on('end', () => respond(stream, String(headers[':path']), ++served));
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const writes: SocketWrite[] = [];
  const relay = net.createServer((client) => {
    const backend = net.connect(socket);
    client.on('data', (c: Buffer) => (writes.push({ writer: 'kubelet', bytes: c }), backend.write(c)));
    backend.on('data', (c: Buffer) => (writes.push({ writer: 'containerd', bytes: c }), client.write(c)));
    client.on('close', () => backend.destroy());
    backend.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const cri = new CriGrpcClient(() => (relay.address() as net.AddressInfo).port);
  for (const call of calls) {
    const answer = await cri.invoke(call.rpc, call.request);
    if ('error' in answer) throw new Error(answer.error);
  }
  cri.close();
  await new Promise((r) => relay.close(r));
  await new Promise((r) => server.close(r));
  return writes;
}

function pids(peer: number, writer: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint32(4, peer);
  view.setUint32(12, writer);
  return out;
}

/** A sockdump record: [109-byte socket path field,] peer PID, writer PID (8 bytes each, big-endian), the bytes. */
export function sockdumpRecord(writer: number, peer: number, data: Uint8Array, withPath: boolean, socketPath = SOCKET_PATH): Uint8Array {
  const path = new Uint8Array(109);
  const pathBytes = new TextEncoder().encode(socketPath);
  path[0] = pathBytes.length;
  path.set(pathBytes, 1);
  return Buffer.concat([...(withPath ? [path] : []), pids(peer, writer), data]);
}

/** The writes as a sockdump pcap, 1 ms apart. */
export function sockdumpCapture(writes: SocketWrite[], withPath: boolean): Buffer {
  const pcap = new PcapWriter();
  const parts = [pcap.header(147, { snapLen: 65535 })];
  writes.forEach((w, i) => {
    const [writer, peer] = w.writer === 'kubelet' ? [KUBELET_PID, CONTAINERD_PID] : [CONTAINERD_PID, KUBELET_PID];
    parts.push(pcap.packet(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, sockdumpRecord(writer, peer, w.bytes, withPath)));
  });
  return Buffer.concat(parts);
}
