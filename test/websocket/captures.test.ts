/** Real kubectl v1.32 WebSocket exec captures (fixtures/*.pcap) against their server-side truth. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { K8sChannelDecoder } from '../../src/websocket/channel-protocol.js';
import { upgradedSegments } from './pcap-walk.js';
import { ChannelRecorder } from './recorders.js';

function sha256(text: string): string {
  return createHash('sha256').update(Buffer.from(text, 'latin1')).digest('hex');
}

function decodeCapture(name: string) {
  const truth = JSON.parse(readFileSync(`fixtures/${name}.truth.json`, 'utf8'));
  const session = truth.sessions[0];
  const rec = new ChannelRecorder();
  const dec = new K8sChannelDecoder(session.negotiated_subprotocol, rec.sink);
  for (const seg of upgradedSegments(`fixtures/${name}.pcap`)) {
    dec.push(seg.dir, seg.data, 0, seg.data.length, { offset: seg.offset, length: seg.data.length, packet: seg.packet, ts: seg.ts });
  }
  dec.end();
  return { rec, session, truth };
}

describe('real captures', () => {
  it.each(['ws-echo', 'ws-stdin-cat', 'ws-tty-resize'])('%s: channel bytes match the truth', (name) => {
    const { rec, session, truth } = decodeCapture(name);
    expect(rec.problems).toEqual([]);
    const streams = rec.streams();
    const stream = (key: string) => streams[key] ?? '';
    expect(sha256(stream('c2s 0'))).toBe(session.stdin_bytes.sha256);
    expect(stream('c2s 0').length).toBe(session.stdin_bytes.length);
    expect(sha256(stream('s2c 1'))).toBe(session.stdout_bytes.sha256);
    expect(stream('s2c 1').length).toBe(session.stdout_bytes.length);
    expect(sha256(stream('s2c 2'))).toBe(session.stderr_bytes.sha256);
    expect(stream('s2c 3')).toBe(session.status_json);
    const resizes = rec.messages().filter((m) => m.startsWith('c2s ch4 ')).map((m) => JSON.parse(JSON.parse(m.slice(8))));
    expect(resizes.map((r) => ({ width: r.Width, height: r.Height }))).toEqual(session.resize_events);
    // The server's first message is the empty "connection established" write on stdout.
    expect(rec.data.find((d) => d.dir === 's2c')).toMatchObject({ channel: 1, data: '', messageFirst: true, messageLast: true });
    const opcodes: Record<string, number> = {};
    for (const f of rec.frames) opcodes[f.opcode] = (opcodes[f.opcode] ?? 0) + 1;
    expect(opcodes).toEqual(truth.tshark_crosscheck.tshark_websocket_opcodes);
    expect(rec.frames.every((f) => f.masked === (f.dir === 'c2s'))).toBe(true);
    const closes = rec.controls.filter((c) => c.kind === 'close');
    expect(closes.find((c) => c.dir === 's2c')?.code).toBe(1000);
  });

  it('ws-stdin-cat: kubectl half-closes stdin with the v5 CLOSE signal after the last stdin byte', () => {
    const { rec } = decodeCapture('ws-stdin-cat');
    expect(rec.closes.map((c) => [c.dir, c.channel])).toEqual([['c2s', 0]]);
    const lastStdin = rec.data.filter((d) => d.dir === 'c2s' && d.channel === 0).at(-1)!;
    expect(rec.closes[0].origin.offset).toBeGreaterThanOrEqual(lastStdin.message.offset + lastStdin.message.length);
  });

  it('ws-tty-resize: the pong is paired with kubectl’s ping', () => {
    const { rec } = decodeCapture('ws-tty-resize');
    const pong = rec.controls.find((c) => c.kind === 'pong')!;
    const ping = rec.controls.find((c) => c.kind === 'ping')!;
    expect(ping.dir).toBe('c2s');
    expect(pong.dir).toBe('s2c');
    expect(pong.ping).toEqual(ping.origin);
    expect(pong.rttNs).toBe(pong.origin.lastTs - ping.origin.lastTs);
    expect(pong.rttNs).toBeGreaterThanOrEqual(0);
  });
});
