import { formatBytes, formatOffset, quoteArgv } from '../../src/report/format.js';
import { fitMiddle, fitWidth, fitRight } from '../../src/report/terminal-cells.js';
import { sessionDuration, sessionOutcome, sortSessions, targetLabel } from '../../src/report/session-summary.js';
import { hangingSession, hostileSession, refusedAndFallback, session, spdyEchoSession, wsEchoSession } from '../helpers/model-builders.js';

const MS = 1e6;

describe('sessionOutcome', () => {
  it('success is ok', () => {
    const s = wsEchoSession();
    expect(sessionOutcome(s, [s])).toEqual({ text: 'exit 0', severity: 'ok' });
  });

  it('a non-zero exit code is an error', () => {
    const s = spdyEchoSession({ exit: { status: 'Failure', code: 3, reason: 'NonZeroExitCode', message: 'command terminated with non-zero exit code' } });
    expect(sessionOutcome(s, [s])).toEqual({ text: 'exit 3', severity: 'error' });
  });

  it('a failure message from the capture is neutralised', () => {
    const s = hostileSession();
    const o = sessionOutcome(s, [s]);
    expect(o.severity).toBe('error');
    expect(o.text).toBe('failed: Bad␛[5m oops ␛]0;t␇⟨U+009B⟩2J');
  });

  it('a refused upgrade that fell back to SPDY is a warning naming the fallback', () => {
    const [refused, fallback] = refusedAndFallback();
    expect(sessionOutcome(refused, [refused, fallback])).toEqual({
      text: 'upgrade refused 403: pods "demo-0" is forbidden: cannot get resource "pods/exec" → fell back to SPDY (session 5)',
      severity: 'warn',
    });
    expect(sessionOutcome(refused, [refused]).severity).toBe('error');
    expect(sessionOutcome(fallback, [refused, fallback]).text).toBe('exit 0 · fell back to SPDY from session 4');
  });

  it('open at the end of the capture with stdin never closed is a warning', () => {
    const s = hangingSession();
    expect(sessionOutcome(s, [s])).toEqual({ text: 'still open at end of capture · stdin never closed', severity: 'warn' });
  });

  it('a Status seen while the connection stays open is a warning, even if it says Success', () => {
    const s = wsEchoSession({ state: 'open-at-end' });
    expect(sessionOutcome(s, [s])).toEqual({ text: 'exit 0', severity: 'warn' });
  });

  it('a lost connection without status is an error, never a success', () => {
    const s = session({ state: 'aborted', endTs: 5 * MS });
    expect(sessionOutcome(s, [s])).toEqual({ text: 'connection lost, no exit status', severity: 'error' });
  });
});

describe('session fields', () => {
  it('duration is null while open', () => {
    expect(sessionDuration(wsEchoSession())).toBeCloseTo(2.12 * MS, -1);
    expect(sessionDuration(hangingSession())).toBeNull();
  });

  it('target: namespace/pod [container], CRI token, or request path', () => {
    expect(targetLabel(wsEchoSession())).toBe('default/demo-0 [main]');
    expect(targetLabel(session({ namespace: null, pod: null, container: null, token: 'abcdefghijklmnopqrstuvwxyz', hop: 'cri', target: '/exec/abcdefghijklmnopqrstuvwxyz' }))).toBe(
      'token abcdefghijk…',
    );
    expect(targetLabel(session({ namespace: null, pod: null, container: null, target: '/weird?x=1' }))).toBe('/weird');
    expect(targetLabel(hostileSession())).toBe('ns␛[2J/pod␛]0;title␇ [c⟨U+009B⟩31m]');
  });

  it('sorts by time, by duration (open first), by outcome (worst first), by hop', () => {
    const ws = wsEchoSession();
    const spdy = spdyEchoSession();
    const hang = hangingSession();
    const [refused, fallback] = refusedAndFallback();
    const failed = spdyEchoSession({ id: 6, startTs: 3000 * MS, endTs: 3001 * MS, exit: { status: 'Failure', code: 1 } });
    const all = [ws, hang, spdy, refused, fallback, failed];
    expect(sortSessions(all, 'time').map((s) => s.id)).toEqual([2, 1, 3, 4, 5, 6]);
    expect(sortSessions(all, 'duration').map((s) => s.id)).toEqual([3, 2, 5, 1, 4, 6]);
    expect(sortSessions(all, 'outcome').map((s) => s.id)).toEqual([6, 3, 4, 2, 1, 5]);
    // By hop: down the chain from the apiserver, each hop in time order.
    const kubelet = spdyEchoSession({ id: 7, hop: 'kubelet', startTs: 0 });
    const cri = spdyEchoSession({ id: 8, hop: 'cri', startTs: 0 });
    expect(sortSessions([cri, ...all, kubelet], 'hop').map((s) => s.id)).toEqual([2, 1, 3, 4, 5, 6, 7, 8]);
    expect(all.map((s) => s.id)).toEqual([1, 3, 2, 4, 5, 6]);
  });
});

describe('format', () => {
  it('bytes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(6144)).toBe('6.00 KiB');
    expect(formatBytes(150 * 1024)).toBe('150 KiB');
    expect(formatBytes(1024 ** 3)).toBe('1.00 GiB');
    expect(formatBytes(5 * 1024 ** 5)).toBe('5120 TiB');
  });

  it('offsets carry a sign', () => {
    expect(formatOffset(213.4 * MS)).toBe('+213.4 ms');
    expect(formatOffset(-2 * 1e9)).toBe('-2.00 s');
  });

  it('quotes argv like a shell and neutralises it', () => {
    expect(quoteArgv(['sh', '-c', 'echo about to fail; exit 3'])).toBe('sh -c "echo about to fail; exit 3"');
    expect(quoteArgv(['echo', ''])).toBe('echo ""');
    expect(quoteArgv(['printf', '"$HOME"\n'])).toBe('printf "\\"\\$HOME\\"␊"');
    expect(quoteArgv(['x\x1b[2J'])).toBe('"x␛[2J"');
  });

  it('fits text to a width', () => {
    expect(fitWidth('abc', 5)).toBe('abc  ');
    expect(fitWidth('abcdef', 4)).toBe('abc…');
    // Terminal cells, not code points: an emoji or a CJK character takes two, a combining mark none.
    expect(fitWidth('🎉🎉🎉', 2)).toBe('… ');
    expect(fitWidth('🎉🎉🎉', 3)).toBe('🎉…');
    expect(fitWidth('数据库', 6)).toBe('数据库');
    expect(fitWidth('数据库', 5)).toBe('数据…');
    expect(fitWidth('e\u0301te\u0301', 5)).toBe('e\u0301te\u0301  ');
    expect(fitMiddle('data:80:0', 8)).toBe('dat…80:0');
    expect(fitMiddle('data:80:1', 8)).toBe('dat…80:1');
    expect(fitMiddle('stdout', 8)).toBe('stdout  ');
    expect(fitRight('数据', 6)).toBe('  数据');
    expect(fitWidth('x', 0)).toBe('');
    expect(fitRight('ab', 4)).toBe('  ab');
    expect(fitRight('abcdef', 4)).toBe('abc…');
  });
});
