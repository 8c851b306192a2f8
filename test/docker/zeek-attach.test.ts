/**
 * An outside capture of a real Docker 27.3.1 client attaching to dockerd with `Upgrade: tcp` and a
 * TTY, resizing and waiting (zeek's testing/btest/Traces/http/docker-http-upgrade.pcap, read in
 * place from ../shared, never copied into the repo).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { outcomeText } from '../../src/report/outcome.js';
import { diagnose } from '../../src/diagnose/diagnose.js';

const CAPTURE = join(process.cwd(), '..', 'shared', 'outside-captures', 'zeek', 'docker-http-upgrade.pcap');
const CONTAINER = 'cc4fc8e49cadbb8bc41437dc2f9979a72293eabc3f0ea5ce48b77f43cb1f1d5e';
const present = existsSync(CAPTURE);
if (!present) console.warn(`SKIPPED: ${CAPTURE} is not here (the team's shared outside captures): the real Docker attach test did not run`);

(present ? describe : describe.skip)('zeek docker-http-upgrade.pcap (real Docker 27 attach)', () => {
  it('is one attach session of hop docker with its keystrokes, echo, resize and the exit from the wait', async () => {
    const model = await analyzeCapture(CAPTURE, analyzeOptions({ hash: true, hasher: new InlineStreamHasher() }));
    expect(model.fatal).toBeNull();
    expect(model.warnings).toEqual([]);
    expect(model.sessions).toHaveLength(1);
    const s = model.sessions[0];
    expect(s).toMatchObject({
      kind: 'attach',
      hop: 'docker',
      transport: 'hijacked',
      httpStatus: 101,
      protocol: 'application/vnd.docker.raw-stream',
      container: CONTAINER,
      command: ['/bin/sh'],
      tty: true,
      stdin: true,
      stdout: true,
      stderr: true,
      state: 'complete',
      exit: { status: 'Success', code: 0 },
      resizes: [{ width: 134, height: 69 }],
    });
    const text = (name: string) => Buffer.concat(s.streams.find((r) => r.name === name)!.head).toString('latin1');
    // What the user typed, one keystroke per packet, and what the shell echoed.
    expect(text('stdin')).toBe('ls\rcd /home\rls -a\rcd\rls -a\rcat .as\t\rexit\r');
    expect(s.streams.find((r) => r.name === 'stdin')!.events.filter((e) => e.kind === 'data')).toHaveLength(41);
    expect(text('stdout').startsWith('/ # \r/ # \u001b[J')).toBe(true);
    expect(text('stdout')).toContain('cat .ash_history');
    expect(text('stdout').endsWith('~ # exit\r\n')).toBe(true);
    // The container's create (Cmd, Tty), the attach, the wait and the resize: three connections, one session.
    expect(s.docker).toMatchObject({ containerId: CONTAINER, exitFrom: { call: 'wait' } });
    expect(s.docker!.connectionIds.sort()).toEqual([1, 2, 3]);
    expect(model.connections.every((c) => c.sessionIds.includes(1))).toBe(true);
    const calls = s.control.filter((c) => c.kind === 'request' && c.dir === 'c2s').map((c) => c.detail);
    expect(calls).toEqual([
      'POST /containers/cc4fc8e49cad/attach',
      'POST /containers/cc4fc8e49cad/wait next-exit',
      'POST /containers/cc4fc8e49cad/start',
      'POST /containers/cc4fc8e49cad/resize h=69 w=134',
    ]);
    expect(outcomeText(s)).toBe('exit 0 · known from the wait');
    expect(diagnose(s, model.sessions)).toEqual([]);
  });
});
