/**
 * The `/` filter: space-separated terms, all of which must match. A bare term matches the pod,
 * namespace, container, command, stream names or content; `pod:`, `cmd:`, `stream:` and `text:`
 * restrict a term to one of them. Matching is case-insensitive.
 */
import type { ConnectionRecord, ExecSession, StreamRecord } from '../model/session.js';

export type FilterField = 'any' | 'pod' | 'cmd' | 'stream' | 'text';

export interface FilterTerm {
  field: FilterField;
  needle: string;
}

const FIELDS: Record<string, FilterField> = { pod: 'pod', cmd: 'cmd', command: 'cmd', stream: 'stream', text: 'text' };

export function parseFilter(text: string): FilterTerm[] {
  const terms: FilterTerm[] = [];
  for (const word of text.trim().split(/\s+/)) {
    if (!word) continue;
    const colon = word.indexOf(':');
    const field = colon > 0 ? FIELDS[word.slice(0, colon).toLowerCase()] : undefined;
    const needle = (field ? word.slice(colon + 1) : word).toLowerCase();
    if (needle) terms.push({ field: field ?? 'any', needle });
  }
  return terms;
}

const decoder = new TextDecoder();
/** Lower-cased head text per stream, recomputed only when the head grew (typing must stay instant). */
const headText = new WeakMap<StreamRecord, { headBytes: number; text: string }>();

function lowerHead(r: StreamRecord): string {
  const cached = headText.get(r);
  if (cached && cached.headBytes === r.headBytes) return cached.text;
  // Decoded as one text so neither a chunk boundary nor a split UTF-8 character hides a match.
  const text = (r.head.map((h) => decoder.decode(h, { stream: true })).join('') + decoder.decode()).toLowerCase();
  headText.set(r, { headBytes: r.headBytes, text });
  return text;
}

function contentContains(s: ExecSession, needle: string): boolean {
  return s.streams.some((r) => r.headBytes > 0 && lowerHead(r).includes(needle));
}

function matchesTerm(s: ExecSession, t: FilterTerm): boolean {
  const has = (v: string | null) => v !== null && v.toLowerCase().includes(t.needle);
  const pod = () => has(s.pod) || has(s.namespace) || has(s.container) || has(s.token);
  const cmd = () => s.command.some(has) || has(s.command.join(' '));
  const stream = () => s.streams.some((r) => has(r.name));
  switch (t.field) {
    case 'pod':
      return pod();
    case 'cmd':
      return cmd();
    case 'stream':
      return stream();
    case 'text':
      return contentContains(s, t.needle);
    case 'any':
      return pod() || cmd() || stream() || has(s.kind) || contentContains(s, t.needle);
  }
}

export function sessionMatches(s: ExecSession, terms: readonly FilterTerm[]): boolean {
  return terms.every((t) => matchesTerm(s, t));
}

/** Connections match on addresses, protocol, request targets and TLS server name. */
export function connectionMatches(c: ConnectionRecord, terms: readonly FilterTerm[]): boolean {
  const fields = [c.client, c.server, c.protocol, c.tls?.sni ?? '', ...c.requests.map((r) => `${r.method} ${r.target}`)].map((f) => f.toLowerCase());
  return terms.every((t) => fields.some((f) => f.includes(t.needle)));
}
