// A container as the containers list shows it: the fields its rows, filter, sort and bulk
// actions read, and nothing else (9 of a ContainerView's 24: about a third of the bytes with
// 1,000 containers). The list query returns these; the container's own page reads the full
// view by id, and REST keeps the full view. Pure (no server imports): the pages use it too, to
// slim the full views that pushes and mutations bring before they go into a cached list.
import type { ContainerView } from "./containers.ts";

export const CONTAINER_ROW_FIELDS = [
  "id",
  "hostId",
  "name",
  "image",
  "state",
  "exitCode",
  "oomKilled",
  "created",
  "managed",
] as const satisfies ReadonlyArray<keyof ContainerView>;

export type ContainerRow = Pick<ContainerView, (typeof CONTAINER_ROW_FIELDS)[number]>;

/** The list's row of a container's view (a new object: the view itself stays whole). */
export function containerListRow(v: ContainerRow): ContainerRow {
  const row = {} as Record<string, unknown>;
  for (const k of CONTAINER_ROW_FIELDS) row[k] = v[k];
  return row as ContainerRow;
}

/**
 * A cached containers list with one container's row replaced, added (at the end) or removed
 * (`row` null). The other rows keep their objects, so only the changed row renders again.
 */
export function putRow(list: ContainerRow[], id: string, row: ContainerRow | null): ContainerRow[] {
  const at = list.findIndex((c) => c.id === id);
  if (!row) return at < 0 ? list : list.filter((c) => c.id !== id);
  if (at < 0) return [...list, row];
  const next = [...list];
  next[at] = row;
  return next;
}
