/**
 * `list` with `item` at its end: the list itself, or a new one when it was empty. A list grown by
 * push from empty reserves 17 slots (~150 bytes); lists that mostly hold one entry — a connection's
 * requests and sessions, the requests awaiting an answer — cost that for each of up to 10,000 open
 * connections. A one-entry literal reserves one slot, and an empty list may be a shared frozen one.
 */
const NO_ENTRIES: readonly never[] = Object.freeze([]);

/**
 * The one shared frozen empty list: a list that starts with it grows by `appended` (a push to it
 * throws, and so do shift and pop), so 10,000 open connections' mostly-empty lists cost nothing.
 */
export function noEntries<T>(): T[] {
  return NO_ENTRIES as never[];
}

export function appended<T>(list: T[], item: T): T[] {
  if (list.length === 0) return [item];
  list.push(item);
  return list;
}
