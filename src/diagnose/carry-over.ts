/**
 * A cause found on another hop of the same exec, as the session the user looks at should say it:
 * kubectl's own session may end with a clean-looking Status (the translator turns an empty error
 * stream into Success) while the kubelet hop behind it lost its connection. The cause keeps its
 * rule and hop; the title names the hop; the evidence adds what it means here.
 */
import { formatDuration } from '../core/time.js';
import { hopsBehind } from '../model/cross-hop.js';
import type { SessionIndex } from '../model/records.js';
import type { ExecSession, StreamRecord } from '../model/session.js';
import { exitSaid, sinceStart, type Finding } from './finding.js';

const output = (s: ExecSession): StreamRecord[] => s.streams.filter((r) => r.dataDir === 's2c' && (r.name === 'stdout' || r.name === 'stderr'));

export function carriedOver(cause: Finding, s: ExecSession, byId: SessionIndex): Finding {
  const from = byId.get(cause.session);
  const evidence = [...cause.evidence];
  const lost = cause.rule === 'R3' || cause.rule === 'R6' || cause.rule === 'R8';
  // The cause's times count from its own session's start: said once, so they are not read against this session's.
  if (from && from.startTs !== s.startTs) {
    const apart = formatDuration(Math.abs(from.startTs - s.startTs));
    evidence.unshift(`times count from the start of #${from.id} (${from.hop}), ${apart} ${from.startTs > s.startTs ? 'after' : 'before'} this session's`);
  }
  // `s` further from kubectl than `from` along the exec's hops.
  const behind = from !== undefined && hopsBehind(byId, from).some((h) => h.id === s.id);
  if (s.exit && from && from.exit === null) {
    // In front of the hop without a Status, an exit code is a guess at the command's end and a Failure
    // without one that hop's failure reported; behind it, the Status came from the command's side.
    const said = exitSaid(s.exit);
    evidence.unshift(
      behind
        ? `this session (#${s.id}, ${s.hop}) carried the Status (${said}) that the ${from.hop} hop (#${from.id}), in front of it, never delivered: the command did end`
        : s.exit.status === 'Success' || s.exit.code !== null
          ? `this session (#${s.id}, ${s.hop}) ended with ${said}: that is a guess, the ${from.hop} hop (#${from.id}) never delivered a Status`
          : `this session (#${s.id}, ${s.hop}) ended with ${said} written in front of the ${from.hop} hop (#${from.id}), which never delivered one: it reports that hop's failure, not how the command ended`,
    );
  }
  if (from && lost) evidence.push(...outputCut(s, from, behind));
  if (from && cause.rule === 'R15') evidence.push(...truncatedOutputLost(s, from));
  // Named by the session that showed it: a cause placed on another hop (a refusal the apiserver answered for the kubelet) was still seen there.
  return { ...cause, title: `${from?.hop ?? cause.hop} hop (#${cause.session}): ${cause.title}`, evidence };
}


/**
 * How much of each output stream the hop that lost the connection passed on. A hop in front of it
 * got at most that much; a hop behind it may have carried more, which was lost there. An output
 * stream that hop saw end (closed by its server) lost nothing: only the Status went missing.
 */
function outputCut(s: ExecSession, from: ExecSession, behind: boolean): string[] {
  const when = from.connectionEnd ? ` before its connection ended at ${sinceStart(from, from.connectionEnd.ts)}` : '';
  return output(s).flatMap((here) => {
    const there = from.streams.find((r) => r.name === here.name);
    if (!there) return [];
    if (there.closedAt.s2c !== null && here.bytes === there.bytes) return behind || there.bytes === 0 ? [] : [`${here.name}: all ${there.bytes} B reached this hop: the ${from.hop} hop saw it end, nothing of it is missing`];
    if (!behind) return [`${here.name}: ${here.bytes} B reached this hop, the ${from.hop} hop carried ${there.bytes} B${when}; whatever the command wrote after byte ${there.bytes} never arrived`];
    // Behind the hop that failed: what this hop carried beyond what that hop passed on was lost there.
    return here.bytes > there.bytes ? [`${here.name}: this hop carried ${here.bytes} B, the ${from.hop} hop passed on ${there.bytes} B${when}: the other ${here.bytes - there.bytes} B were lost there`] : [];
  });
}

/**
 * Input truncated and less output here than the hop that showed it: the teardown lost the tail.
 * The kubelet's and the apiserver's proxy (apimachinery's UpgradeAwareHandler.tryUpgrade) close both
 * connections as soon as either copy ends; stdin still arriving is then unread, so the kernel resets
 * the connection and drops what the proxy had not yet sent (RFC 2525 2.17), or the proxy closes the
 * runtime's side before reading its last frames. The output's tail and the Status go with it, and an
 * empty error stream reads as success (the translator's errorDecoderV4; kubectl over SPDY,
 * kubernetes/kubernetes#137404).
 */
function truncatedOutputLost(s: ExecSession, from: ExecSession): string[] {
  const short = output(s).flatMap((here) => {
    const there = from.streams.find((r) => r.name === here.name);
    return there && there.bytes > here.bytes ? [`${here.name}: ${here.bytes} B reached this hop, the ${from.hop} hop carried ${there.bytes} B`] : [];
  });
  if (!short.length) return [];
  const exit = s.exit ? ` — and this session still ended with ${s.exit.status === 'Success' || s.exit.code !== null ? exitSaid(s.exit) : `a ${s.exit.status} Status`}` : '';
  return [
    ...short,
    `output was lost in front of the ${from.hop} hop when the session was torn down with stdin still arriving: a proxy (UpgradeAwareHandler) closing a connection it has unread stdin on makes the kernel reset it and drop what it had not yet sent${exit}`,
  ];
}
