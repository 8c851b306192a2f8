/**
 * One copy of each text and short list that many records repeat, while it recurs: every connection
 * record and session is kept until the report, and 200,000 probes of `GET /healthz` or 200,000 execs
 * of `sh` in `default` kept 200,000 copies of each. Bounded: cleared when full.
 */
const KEPT = 4096;
const texts = new Map<string, string>();
const lists = new Map<string, readonly string[]>();

/** A text equal to `text` that keeps nothing else alive, shared with the records that hold the same. */
export function sharedText(text: string): string {
  const known = texts.get(text);
  if (known !== undefined) return known;
  if (texts.size >= KEPT) texts.clear();
  const own = detached(text);
  texts.set(own, own);
  return own;
}

/**
 * A list equal to `list`, shared (and so frozen: a push would change every holder) with the records
 * that hold the same texts in the same order.
 */
export function sharedList(list: readonly string[]): string[] {
  const key = JSON.stringify(list);
  const known = lists.get(key);
  if (known !== undefined) return known as string[];
  if (lists.size >= KEPT) lists.clear();
  const own = Object.freeze(list.map(sharedText));
  lists.set(key, own);
  return own as string[];
}

/**
 * A copy of a head field that keeps nothing else alive: the parsed fields are slices of the whole
 * head's text, so a session or record keeping one kept the head (~270 bytes a session when 200,000
 * upgrades went unanswered). Heads are decoded from UTF-8, so the round trip is exact.
 */
function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
