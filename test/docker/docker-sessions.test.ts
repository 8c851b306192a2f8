/**
 * docker exec and attach through the whole pipeline: the Engine API calls of one exec on several
 * connections (create, hijacked start, resize, inspect polls) become one session of hop `docker`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyntheticTcpConnection } from '../../src/capture/synthetic-tcp.js';
import { encodeStdcopyFrame } from '../../src/docker/stdcopy.js';
import { outcomeText } from '../../src/report/outcome.js';
import { textReport } from '../../src/report/text-report.js';
import { jsonReport } from '../../src/report/json-report.js';
import { createCaptureInspector } from '../../src/pipeline/capture-inspector.js';
import { createEventInspector } from '../../src/ui/event-inspector.js';
import { modelLayers } from '../../src/ui/event-layers.js';
import { analyzeBytes, pcapOf, sha256 } from '../helpers/synthetic-capture.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const EXEC = 'e'.repeat(64);
const CONTAINER = 'c'.repeat(64);
const server = { ip: '127.0.0.1', port: 2375 };
let port = 40000;
const conn = () => new SyntheticTcpConnection({ ip: '127.0.0.1', port: ++port }, server);

function request(method: string, target: string, body = '', headers: string[] = []): Uint8Array {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: docker', ...headers];
  if (body || method === 'POST') lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  return ascii(lines.join('\r\n') + '\r\n\r\n' + body);
}

function response(status: string, body = '', headers: string[] = []): Uint8Array {
  const lines = [`HTTP/1.1 ${status}`, 'Api-Version: 1.41', ...headers];
  if (!status.startsWith('101')) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  return ascii(lines.join('\r\n') + '\r\n\r\n' + body);
}

const exchange = (c: SyntheticTcpConnection, req: Uint8Array, res: Uint8Array) => [...c.send('c2s', req), ...c.send('s2c', res)];

describe('docker exec sessions', () => {
  it('joins create, hijacked start, stdin EOF and the inspect poll after the stream into one session', async () => {
    const api = conn();
    const stream = conn();
    const out = encodeStdcopyFrame('stdout', ascii('ABC'));
    const err = encodeStdcopyFrame('stderr', ascii('warning\n'));
    const frames = [
      ...api.handshake(),
      ...exchange(
        api,
        request('POST', '/v1.41/containers/web/exec', JSON.stringify({ Cmd: ['tr', 'a-z', 'A-Z'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false, Env: ['PASSWORD=hunter2'], User: 'app' })),
        response('201 Created', JSON.stringify({ Id: EXEC })),
      ),
      ...stream.handshake(),
      ...exchange(
        stream,
        request('POST', `/v1.41/exec/${EXEC}/start`, '{"Detach":false,"Tty":false}', ['Connection: Upgrade', 'Upgrade: tcp']),
        response('101 UPGRADED', '', ['Content-Type: application/vnd.docker.multiplexed-stream', 'Connection: Upgrade', 'Upgrade: tcp']),
      ),
      ...stream.send('c2s', ascii('abc')),
      stream.fin('c2s'),
      ...stream.send('s2c', Buffer.concat([out, err.subarray(0, 5)])),
      ...stream.send('s2c', err.subarray(5)),
      stream.fin('s2c'),
      stream.ack('c2s'),
      ...exchange(api, request('GET', `/v1.41/exec/${EXEC}/json`), response('200 OK', JSON.stringify({ ID: EXEC, Running: false, ExitCode: 3, Pid: 99 }))),
    ];
    const capture = pcapOf(frames);
    const model = analyzeBytes(capture);
    expect(model.warnings).toEqual([]);
    expect(model.sessions).toHaveLength(1);
    const s = model.sessions[0];
    expect(s).toMatchObject({ kind: 'exec', hop: 'docker', transport: 'hijacked', httpStatus: 101, container: 'web', command: ['tr', 'a-z', 'A-Z'], tty: false, stdin: true, state: 'complete' });
    // stdin's EOF is the client's FIN: the Event pane says the event carries no bytes, on every layer above TCP.
    const dir = mkdtempSync(join(tmpdir(), 'execscope-docker-'));
    writeFileSync(join(dir, 'exec.pcap'), capture);
    const eof = s.streams.find((r) => r.name === 'stdin')!.events.find((e) => e.kind === 'half-close')!;
    const eofLayers = await createEventInspector(createCaptureInspector(join(dir, 'exec.pcap')), model)(s, eof);
    rmSync(dir, { recursive: true });
    expect(eofLayers[0].missing).toBe('this event carries no stream bytes (a FIN: the sender has finished writing this stream)');
    const eofFrame = eofLayers.find((l) => l.kind === 'frame')!;
    expect(eofFrame).toMatchObject({ title: 'raw stdin bytes: TCP FIN (stdin EOF)', bytes: null, missing: `this event carries no bytes: it is a TCP FIN (a flag of packet ${eof.origin.packet})` });
    expect(s.protocol).toBe('application/vnd.docker.multiplexed-stream');
    const byName = Object.fromEntries(s.streams.map((r) => [r.name, r]));
    expect(byName.stdin.bytes).toBe(3);
    expect(byName.stdin.closedAt.c2s).not.toBeNull();
    expect(byName.stdout.sha256).toBe(sha256(ascii('ABC')));
    expect(byName.stderr.sha256).toBe(sha256(ascii('warning\n')));
    expect(s.exit).toEqual({ status: 'Failure', code: 3, reason: 'NonZeroExitCode' });
    expect(s.docker).toMatchObject({ execId: EXEC, containerId: 'web', user: 'app', env: ['PASSWORD'], polls: 1, connectionIds: [2, 1] });
    expect(s.docker!.exitFrom).toMatchObject({ call: 'inspect' });
    expect(s.docker!.exitFrom!.afterStreamClosedNs).toBeGreaterThan(0);
    expect(outcomeText(s)).toMatch(/^exit 3 · known from an inspect poll [\d.]+ ms after the stream closed$/);
    // The poll is on the timeline, on its own connection; the secret never reaches a report.
    const poll = s.control.find((c) => c.kind === 'poll')!;
    expect(poll).toMatchObject({ connectionId: 1, detail: `GET /exec/${EXEC.slice(0, 12)}/json → exited, ExitCode 3` });
    const json = JSON.stringify(jsonReport(model, { hash: false }));
    const text = textReport(model, { connections: true, name: 'x' });
    for (const out of [json, text]) expect(out).not.toContain('hunter2');
    expect(text).toContain('client→dockerd');
    expect(text).toContain('env PASSWORD (values not kept)');
    expect(model.connections.map((c) => c.sessionIds)).toEqual([[1], [1]]);
    // The Event pane places the poll on its own connection and the stdout frame on the stream's.
    const pollLayers = modelLayers(model, s, poll);
    expect(pollLayers.map((l) => l.title)).toContain('HTTP/1.1 response (Engine API)');
    expect(pollLayers.find((l) => l.kind === 'tcp')!.lines.join(' ')).toContain('connection 1');
    const frame = modelLayers(model, s, byName.stderr.events.find((e) => e.kind === 'data')!);
    expect(frame.map((l) => l.title)).toEqual(expect.arrayContaining(['stderr · stdcopy type 2', 'stdcopy frame (8-byte header: stream type, size)']));
    expect(frame.find((l) => l.kind === 'tcp')!.lines.join(' ')).toContain('connection 2');
  });

  it('follows a 200 OK hijack with a TTY: raw output, resizes on another connection, exit from a poll', () => {
    const api = conn();
    const stream = conn();
    const resize = conn();
    const frames = [
      ...api.handshake(),
      ...exchange(api, request('POST', '/containers/web/exec', JSON.stringify({ Cmd: ['sh'], AttachStdin: true, AttachStdout: true, Tty: true })), response('201 Created', JSON.stringify({ Id: EXEC }))),
      ...stream.handshake(),
      ...exchange(stream, request('POST', `/exec/${EXEC}/start`, '{"Detach":false,"Tty":true}'), ascii('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n')),
      ...resize.handshake(),
      ...exchange(resize, request('POST', `/exec/${EXEC}/resize?h=40&w=120`), response('200 OK')),
      ...stream.send('s2c', ascii('\u0001\u0000\u0000\u0000/ # ')),
      ...stream.send('c2s', ascii('exit\r')),
      ...exchange(api, request('GET', `/exec/${EXEC}/json`), response('200 OK', '{"Running":true,"ExitCode":null}')),
      ...stream.close(),
      ...exchange(api, request('GET', `/exec/${EXEC}/json`), response('200 OK', '{"Running":false,"ExitCode":0}')),
    ];
    const model = analyzeBytes(pcapOf(frames));
    expect(model.warnings).toEqual([]);
    const [s] = model.sessions;
    expect(model.sessions).toHaveLength(1);
    expect(s).toMatchObject({ httpStatus: 200, tty: true, state: 'complete', exit: { status: 'Success', code: 0 }, resizes: [{ width: 120, height: 40 }] });
    expect(s.streams.map((r) => [r.name, r.bytes])).toEqual([
      ['stdout', 8],
      ['stdin', 5],
    ]);
    expect(s.docker!.polls).toBe(2);
    expect(s.control.filter((c) => c.kind === 'poll').map((c) => c.detail.split('→ ')[1])).toEqual(['running', 'exited, ExitCode 0']);
    expect(model.connections[1].protocol).toBe('hijacked');
  });

  it('shows a refused create as a failed session with the daemon message', () => {
    const api = conn();
    const frames = [
      ...api.handshake(),
      ...exchange(api, request('POST', '/containers/gone/exec', '{"Cmd":["ls"]}'), response('409 Conflict', '{"message":"Container gone is not running"}')),
    ];
    const [s] = analyzeBytes(pcapOf(frames)).sessions;
    expect(s).toMatchObject({ state: 'upgrade-failed', httpStatus: 409, refusal: { code: 409, message: 'Container gone is not running' } });
    expect(outcomeText(s)).toBe('refused 409: Container gone is not running');
  });

  it('takes a start whose create is not in the capture, telling the TTY from the first bytes', () => {
    const stream = conn();
    const frames = [
      ...stream.handshake(),
      ...exchange(stream, request('POST', `/exec/${EXEC}/start`, '{}', ['Connection: Upgrade', 'Upgrade: tcp']), response('101 UPGRADED', '', ['Content-Type: application/vnd.docker.raw-stream', 'Connection: Upgrade', 'Upgrade: tcp'])),
      ...stream.send('s2c', encodeStdcopyFrame('stdout', ascii('hi\n'))),
    ];
    const [s] = analyzeBytes(pcapOf(frames)).sessions;
    expect(s).toMatchObject({ tty: false, state: 'open-at-end', exit: null });
    expect(s.streams.find((r) => r.name === 'stdout')!.bytes).toBe(3);
    expect(s.warnings.map((w) => w.message).join('\n')).toMatch(/create call .* is not in the capture[\s\S]*starts with a stdcopy header/);
    expect(outcomeText(s)).toBe('still open at end of capture');
  });

  it('says when every inspect after the stream still saw the process running (dockershim then reported success)', () => {
    const api = conn();
    const stream = conn();
    const poll = () => exchange(api, request('GET', `/v1.41/exec/${EXEC}/json`), response('200 OK', '{"Running":true,"ExitCode":null}'));
    const frames = [
      ...api.handshake(),
      ...exchange(api, request('POST', '/v1.41/containers/web/exec', '{"Cmd":["sleep","600"],"AttachStdout":true}'), response('201 Created', JSON.stringify({ Id: EXEC }))),
      ...stream.handshake(),
      ...exchange(stream, request('POST', `/v1.41/exec/${EXEC}/start`, '{}', ['Connection: Upgrade', 'Upgrade: tcp']), response('101 UPGRADED', '', ['Content-Type: application/vnd.docker.raw-stream', 'Connection: Upgrade', 'Upgrade: tcp'])),
      ...stream.close(),
      ...poll(), ...poll(), ...poll(), ...poll(), ...poll(),
    ];
    const [s] = analyzeBytes(pcapOf(frames)).sessions;
    expect(s).toMatchObject({ exit: null, state: 'complete', docker: { polls: 5, lastPollRunning: true } });
    expect(outcomeText(s)).toBe('no exit code: still running at the last of 5 inspect polls (dockershim gave up here and reported success)');
  });
});
