// The logic of ResourceList that needs no page: which rows a filter keeps, their order when a
// column sorts them, and running a bulk action on every selected row.

/** Whether `text` holds every word of `filter` (any case, any order); an empty filter keeps all. */
export function matchesFilter(text: string, filter: string): boolean {
  const hay = text.toLowerCase();
  return filter
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

/**
 * Runs `fn` on every item, at most `parallel` at once; one failure stops nothing. The answers
 * come in the order they finished, each with its error when it failed.
 */
export async function eachSettled<T>(
  items: T[],
  fn: (item: T) => Promise<unknown>,
  parallel: number,
): Promise<Array<{ item: T; error?: unknown }>> {
  const queue = [...items];
  const out: Array<{ item: T; error?: unknown }> = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await fn(item);
        out.push({ item });
      } catch (error) {
        out.push({ item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return out;
}

/** Text in the reader's order (one collator: much cheaper than `localeCompare` per comparison). */
const byText = new Intl.Collator().compare;

/**
 * The rows sorted by `value` (numbers as numbers, text in the reader's order), ascending or
 * not; rows of the same value by `name`. A new array: the cached list stays as it is.
 */
export function sortRows<T>(
  rows: readonly T[],
  value: (row: T) => string | number,
  asc: boolean,
  name: (row: T) => string,
): T[] {
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const d = typeof x === "number" && typeof y === "number" ? x - y : byText(String(x), String(y));
    return (asc ? d : -d) || byText(name(a), name(b));
  });
}
