/** Takes `leaving` out of `list` in place (others may hold the list), keeping the order, and empties `leaving`. */
export function removeFrom<T>(list: T[], leaving: Set<T>): void {
  if (leaving.size === 0) return;
  let kept = 0;
  for (const x of list) if (!leaving.has(x)) list[kept++] = x;
  list.length = kept;
  leaving.clear();
}
