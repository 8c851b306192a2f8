/**
 * The `/` filter: space-separated terms, all of which must match. A bare term matches the pod,
 * namespace, container, command, stream names or content; a prefix restricts a term to one field
 * (`pod:` `cmd:` `stream:` `text:`) or asks about the session (`hop:` `state:` `rule:` `kind:`
 * `tty:`). An unknown prefix or value is an error the UI shows. Matching is case-insensitive.
 */
import type { Finding } from '../diagnose/diagnose.js';
import type { ConnectionRecord, ExecSession, StreamRecord } from '../model/session.js';
import { hopLabel } from '../report/outcome.js';

export type FilterField = 'any' | 'pod' | 'cmd' | 'stream' | 'text' | 'hop' | 'state' | 'rule' | 'kind' | 'tty';

export interface FilterTerm {
  field: FilterField;
  needle: string;
  /** Why the term cannot match anything (an unknown prefix, a bad value); the UI shows it. */
  error?: string;
}

const FIELDS: Record<string, FilterField> = {
  pod: 'pod',
  cmd: 'cmd',
  command: 'cmd',
  stream: 'stream',
  text: 'text',
  hop: 'hop',
  state: 'state',
  rule: 'rule',
  kind: 'kind',
  tty: 'tty',
};
export const FILTER_PREFIXES = 'pod: cmd: stream: text: hop: state: rule: kind: tty:';

const YES = ['yes', 'y', 'true', '1', 'on'];
const NO = ['no', 'n', 'false', '0', 'off'];

export function parseFilter(text: string): FilterTerm[] {
  const terms: FilterTerm[] = [];
  for (const word of text.trim().split(/\s+/)) {
    if (!word) continue;
    // A prefix is a word of letters before the colon: "10.0.0.1:443" and "::1" stay plain terms.
    const prefix = /^([a-z]+):/i.exec(word)?.[1].toLowerCase();
    const field = prefix ? FIELDS[prefix] : undefined;
    const needle = (prefix ? word.slice(prefix.length + 1) : word).toLowerCase();
    if (prefix && !field) {
      terms.push({ field: 'any', needle, error: `unknown filter prefix ${prefix}: (known: ${FILTER_PREFIXES})` });
    } else if (field === 'tty' && needle && !YES.includes(needle) && !NO.includes(needle)) {
      terms.push({ field, needle, error: `tty: takes yes or no, not “${needle}”` });
    } else if (needle) terms.push({ field: field ?? 'any', needle });
  }
  return terms;
}

/** The first error among the terms, or null. */
export function filterError(terms: readonly FilterTerm[]): string | null {
  return terms.find((t) => t.error)?.error ?? null;
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

/** What the filter needs beyond the session itself: the hang doctor's findings (computed on demand). */
export interface FilterFacts {
  findings(s: ExecSession): readonly Finding[];
}

function matchesTerm(s: ExecSession, t: FilterTerm, facts: FilterFacts): boolean {
  if (t.error) return false;
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
    case 'hop':
      return has(s.hop) || has(hopLabel(s));
    case 'state':
      return has(s.state);
    case 'rule':
      // R1 is R1, not R10: a rule is named whole.
      return facts.findings(s).some((f) => f.rule.toLowerCase() === t.needle);
    case 'kind':
      return has(s.kind) || (s.kind === 'portforward' && t.needle === 'port-forward');
    case 'tty':
      return s.tty === YES.includes(t.needle);
    case 'any':
      return pod() || cmd() || stream() || has(s.kind) || contentContains(s, t.needle);
  }
}

export function sessionMatches(s: ExecSession, terms: readonly FilterTerm[], facts: FilterFacts): boolean {
  return terms.every((t) => matchesTerm(s, t, facts));
}

/** Connections match on addresses, protocol, request targets and TLS server name. */
export function connectionMatches(c: ConnectionRecord, terms: readonly FilterTerm[]): boolean {
  const fields = [c.client, c.server, c.protocol, c.tls?.sni ?? '', ...c.requests.map((r) => `${r.method} ${r.target}`)].map((f) => f.toLowerCase());
  return terms.every((t) => !t.error && fields.some((f) => f.includes(t.needle)));
}
