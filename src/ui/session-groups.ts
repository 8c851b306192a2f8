/**
 * The Sessions list grouped by exec: the hops of one exec (kubectl→apiserver, apiserver→kubelet,
 * kubelet→runtime, linked by model/cross-hop) are one row, unfolded into a row per hop on request.
 */
import { hopChain } from '../model/cross-hop.js';
import type { ExecSession } from '../model/session.js';

export interface SessionRow {
  session: ExecSession;
  /** 0: the exec's own row; 1: one of its other hops, listed under it when unfolded. */
  depth: 0 | 1;
  /** Id of the exec's hop nearest kubectl: what identifies the exec. */
  head: number;
  /** Hops the exec has in the capture (1: none linked). */
  hops: number;
  unfolded: boolean;
  /** The last hop listed under its exec (drawn └). */
  last: boolean;
}

/**
 * Rows for the listed sessions (filtered and sorted), each exec where its first listed hop comes:
 * its row is the hop nearest kubectl when that is listed, else its first listed hop. The hops of an
 * exec in `unfolded` follow its row, nearest kubectl first.
 */
export function groupSessions(listed: readonly ExecSession[], all: readonly ExecSession[], unfolded: readonly number[]): SessionRow[] {
  const byId = new Map(all.map((s) => [s.id, s]));
  const shown = new Set(listed.map((s) => s.id));
  const groups = new Map<number, ExecSession[]>();
  for (const s of listed) {
    const chain = hopChain(byId, s);
    const head = chain[0].id;
    if (!groups.has(head)) groups.set(head, chain.filter((h) => shown.has(h.id)));
  }
  const rows: SessionRow[] = [];
  for (const [head, members] of groups) {
    const hops = hopChain(byId, members[0]).length;
    const open = hops > 1 && unfolded.includes(head);
    rows.push({ session: members[0], depth: 0, head, hops, unfolded: open, last: false });
    if (!open) continue;
    members.slice(1).forEach((s, i, rest) => rows.push({ session: s, depth: 1, head, hops, unfolded: true, last: i === rest.length - 1 }));
  }
  return rows;
}

/** The row a session is shown on: its own, or its exec's row when folded away; null when not listed. */
export function rowOf(rows: readonly SessionRow[], all: readonly ExecSession[], id: number | null): SessionRow | null {
  if (id === null) return null;
  const own = rows.find((r) => r.session.id === id);
  if (own) return own;
  const s = all.find((x) => x.id === id);
  if (!s) return null;
  const head = hopChain(all, s)[0].id;
  return rows.find((r) => r.head === head && r.depth === 0) ?? null;
}
