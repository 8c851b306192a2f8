/**
 * The cause the doctor names must not depend on timing. The same fault recorded several times with
 * the real kubectl — in the lab's recording and in tcpdump's capture of the same runs — gives the
 * same cause on every hop each time. no-exit-status once flipped between R3 (the Status lost at the
 * runtime) and R6 (silence, then a close) depending on whether the lab stopped before or after the
 * translator's next 5 s PING broke the silence; the silence was the wait for the lost Status.
 */
import { diagnoseAll } from '../../src/diagnose/diagnose.js';
import type { CaptureModel } from '../../src/model/session.js';
import { runE2e } from './e2e-harness.js';

const RUNS = 3;

function causes(m: CaptureModel): string[] {
  const d = diagnoseAll(m);
  return m.sessions.filter((s) => s.transport !== 'grpc').map((s) => {
    const c = d.get(s.id)?.cause;
    return `#${s.id} ${s.hop}: ${c ? `${c.rule}@${c.hop}` : 'none'}`;
  });
}

test.each([
  ['fault-no-exit-status', 'R3@cri'],
  ['fault-reset-mid-stream-spdy', 'R3@kubelet'],
  ['fault-reset-mid-stream', 'R3@kubelet'],
])(`%s: the same cause (%s) on every hop, in ${RUNS} recordings and their tcpdump captures`, async (name, cause) => {
  for (let run = 0; run < RUNS; run++) {
    const r = await runE2e(name);
    expect(r.clientProblems).toEqual([]);
    for (const [source, model] of [['recording', r.recording], ['tcpdump', r.wire]] as const) {
      if (!model) continue;
      const got = causes(model);
      expect({ run, source, causes: got }).toEqual({ run, source, causes: got.map((c) => c.replace(/: .*$/, `: ${cause}`)) });
      expect(got).toHaveLength(3);
    }
  }
}, 180_000);
