/**
 * Whole-pipeline behaviour on synthetic exec traffic: what real networks and partial captures do to
 * a session (loss, reordering, retransmission, a capture starting late, refused upgrades, hangs).
 */
import { ExecConversation, type ExecScript } from '../../src/synth/exec-conversation.js';
import { outcomeText } from '../../src/report/outcome.js';
import { analyzeBytes, pcapOf, sha256 } from '../helpers/synthetic-capture.js';

const text = (s: string) => new TextEncoder().encode(s);
const script = (transport: ExecScript['transport'], extra: Partial<ExecScript> = {}): ExecScript => ({
  transport, pod: 'web-0', command: ['cat', '/etc/hosts'], stdin: false, tty: false, ...extra,
});

/**
 * A session printing `chunks` messages of `size` bytes on stdout, frames cut into 1448-byte segments.
 * `messageFrames[i]` are the indices of the packets that carried message i (its header in the first).
 */
function bulkSession(transport: ExecScript['transport'], chunks: number, size = 4000, port = 40000) {
  const c = new ExecConversation(script(transport), port, 6443, 1448);
  const frames = [...c.open()];
  const stdout: Uint8Array[] = [];
  const messageFrames: number[][] = [];
  for (let i = 0; i < chunks; i++) {
    const p = text(`line ${i} `.padEnd(size, String.fromCharCode(97 + (i % 26))));
    stdout.push(p);
    const segs = c.write('stdout', p);
    messageFrames.push(segs.map((_, k) => frames.length + k));
    frames.push(...segs);
  }
  frames.push(...c.finish());
  return { frames, stdout: Buffer.concat(stdout), messageFrames };
}

describe.each(['websocket', 'spdy'] as const)('%s', (transport) => {
  test('a clean session decodes exactly, whatever the read chunking', () => {
    const { frames, stdout } = bulkSession(transport, 20);
    const bytes = pcapOf(frames);
    for (const chunk of [1 << 20, 4096, 97, 1]) {
      const m = analyzeBytes(bytes, {}, chunk);
      expect(m.sessions).toHaveLength(1);
      const s = m.sessions[0];
      expect(s.streams.find((r) => r.name === 'stdout')).toMatchObject({ bytes: stdout.length, sha256: sha256(stdout) });
      expect(s).toMatchObject({ state: 'complete', exit: { status: 'Success', code: 0 }, pod: 'web-0', command: ['cat', '/etc/hosts'] });
      expect(m.warnings).toEqual([]);
    }
  });

  test('reordered and retransmitted segments change nothing', () => {
    const { frames, stdout } = bulkSession(transport, 20);
    const shuffled = [...frames];
    for (let i = 10; i + 1 < shuffled.length - 8; i += 3) [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1], shuffled[i]];
    const withDupes = shuffled.flatMap((f, i) => (i % 5 === 0 && i > 3 ? [f, f] : [f]));
    const s = analyzeBytes(pcapOf(withDupes)).sessions[0];
    expect(s.streams.find((r) => r.name === 'stdout')).toMatchObject({ bytes: stdout.length, sha256: sha256(stdout) });
    expect(s.state).toBe('complete');
  });

  test('a segment lost inside a payload costs exactly its bytes: framing stays in step', () => {
    const { frames, stdout, messageFrames } = bulkSession(transport, 6, 20000);
    const lost = messageFrames[3][5];
    const m = analyzeBytes(pcapOf(frames.filter((_, i) => i !== lost)));
    expect(m.connections[0].gaps).toEqual([expect.objectContaining({ dir: 's2c', length: 1448 })]);
    const s = m.sessions[0];
    expect(s.streams.find((r) => r.name === 'stdout')?.bytes).toBe(stdout.length - 1448);
    expect(s.exit).toMatchObject({ status: 'Success' });
    expect(m.warnings.some((w) => /1448 bytes missing/.test(w.message))).toBe(true);
  });

  test('a segment lost across a frame header: decoding finds the next frame and goes on', () => {
    const { frames, stdout, messageFrames } = bulkSession(transport, 20);
    const lost = messageFrames[10][0];
    const m = analyzeBytes(pcapOf(frames.filter((_, i) => i !== lost)));
    const s = m.sessions[0];
    const got = s.streams.find((r) => r.name === 'stdout')?.bytes ?? 0;
    expect(got).toBeLessThan(stdout.length);
    expect(got).toBeGreaterThanOrEqual(stdout.length - 1448 - 4000);
    expect(s.exit).toMatchObject({ status: 'Success', code: 0 });
    expect(s.state).toBe('complete');
  });

  test('a connection reset before any exit status is aborted, never a success', () => {
    const c = new ExecConversation(script(transport), 40001, 6443, 1448);
    const frames = [...c.open(), ...c.write('stdout', text('partial output\n')), c.tcp.reset('s2c')];
    const s = analyzeBytes(pcapOf(frames)).sessions[0];
    expect(s).toMatchObject({ state: 'aborted', exit: null });
    expect(outcomeText(s)).toBe('connection lost, no exit status');
  });

  test('stdin that never closes leaves the session open at the end of the capture', () => {
    const c = new ExecConversation(script(transport, { command: ['sort'], stdin: true }), 40002, 6443, 1448);
    const frames = [...c.open(), ...c.write('stdin', text('b\na\n'))];
    const s = analyzeBytes(pcapOf(frames)).sessions[0];
    expect(s.state).toBe('open-at-end');
    expect(outcomeText(s)).toBe('still open at end of capture · stdin never closed');
    expect(s.streams.find((r) => r.name === 'stdin')?.closedAt.c2s).toBeNull();
  });

  test('a capture that starts after the upgrade still yields the session and its outcome', () => {
    const { frames, stdout } = bulkSession(transport, 20);
    const firstData = frames.findIndex((f, i) => i > 12 && f.length === 54 + 1448);
    const late = frames.slice(firstData);
    const m = analyzeBytes(pcapOf(late));
    expect(m.sessions).toHaveLength(1);
    const s = m.sessions[0];
    expect(s.transport).toBe(transport);
    expect(s.exit).toMatchObject({ status: 'Success', code: 0 });
    expect(s.warnings.some((w) => /capture starts after the upgrade/.test(w.message))).toBe(true);
    expect(s.streams.find((r) => r.name === 'stdout')?.bytes).toBeLessThan(stdout.length);
  });
});

test('kubectl falling back from a refused WebSocket upgrade to SPDY is one story', () => {
  const ws = new ExecConversation(script('websocket'), 41000, 6443, 1448);
  const spdy = new ExecConversation(script('spdy'), 41001, 6443, 1448);
  const frames = [
    ...ws.refused(403, 'Forbidden', 'websocket upgrades are not allowed by this proxy'),
    ...spdy.open(),
    ...spdy.write('stdout', text('hi\n')),
    ...spdy.finish(),
  ];
  const m = analyzeBytes(pcapOf(frames));
  expect(m.sessions).toHaveLength(2);
  const [refused, fallback] = m.sessions;
  expect(refused).toMatchObject({
    transport: 'websocket', state: 'upgrade-failed', httpStatus: 403, exit: null,
    refusal: { code: 403, reason: 'Forbidden', message: 'websocket upgrades are not allowed by this proxy' },
  });
  expect(fallback).toMatchObject({ transport: 'spdy', protocol: 'v4.channel.k8s.io', state: 'complete', fallbackFrom: refused.id });
  expect(outcomeText(refused)).toBe('upgrade refused 403: websocket upgrades are not allowed by this proxy');
});

test('a non-zero exit carries its code; a garbled status is Invalid, not Success', () => {
  const status = text('{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 7], exit code 7","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}');
  const a = new ExecConversation(script('websocket'), 42000, 6443, 1448);
  const b = new ExecConversation(script('spdy'), 42001, 6443, 1448);
  const m = analyzeBytes(pcapOf([...a.open(), ...a.finish(status), ...b.open(), ...b.finish(text('{"status":'))]));
  expect(m.sessions[0].exit).toMatchObject({ status: 'Failure', code: 7, reason: 'NonZeroExitCode' });
  expect(m.sessions[1].exit).toMatchObject({ status: 'Invalid', code: null });
});
