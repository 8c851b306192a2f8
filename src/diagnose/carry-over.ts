/**
 * A cause found on another hop of the same exec, as the session the user looks at should say it:
 * kubectl's own session may end with a clean-looking Status (the translator turns an empty error
 * stream into Success) while the kubelet hop behind it lost its connection. The cause keeps its
 * rule and hop; the title names the hop; the evidence adds what it means here.
 */
import type { ExecSession, StreamRecord } from '../model/session.js';
import { sinceStart, type Finding } from './finding.js';

const output = (s: ExecSession): StreamRecord[] => s.streams.filter((r) => r.dataDir === 's2c' && (r.name === 'stdout' || r.name === 'stderr'));

export function carriedOver(cause: Finding, s: ExecSession, byId: ReadonlyMap<number, ExecSession>): Finding {
  const from = byId.get(cause.session);
  const evidence = [...cause.evidence];
  const lost = cause.rule === 'R3' || cause.rule === 'R6' || cause.rule === 'R8';
  if (s.exit && from && from.exit === null) {
    const said = s.exit.status === 'Success' ? 'exit 0' : s.exit.code !== null ? `exit ${s.exit.code}` : `a ${s.exit.status} Status`;
    evidence.unshift(`this session (#${s.id}, ${s.hop}) ended with ${said}: that is a guess, the ${from.hop} hop (#${from.id}) never delivered a Status`);
  }
  if (from && lost) {
    for (const here of output(s)) {
      const there = from.streams.find((r) => r.name === here.name);
      if (!there) continue;
      const when = from.connectionEnd ? ` before its connection ended at ${sinceStart(s, from.connectionEnd.ts)}` : '';
      evidence.push(`${here.name}: ${here.bytes} B reached this hop, the ${from.hop} hop carried ${there.bytes} B${when}; whatever the command wrote after byte ${there.bytes} never arrived`);
    }
  }
  // Named by the session that showed it: a cause placed on another hop (a refusal the apiserver answered for the kubelet) was still seen there.
  return { ...cause, title: `${from?.hop ?? cause.hop} hop (#${cause.session}): ${cause.title}`, evidence };
}
