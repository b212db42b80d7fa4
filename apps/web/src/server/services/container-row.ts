// A container as the containers list shows it: the fields its rows, filter, sort and bulk
// actions read, and nothing else (9 of a ContainerView's 24: about a third of the bytes with
// 1,000 containers). The list query selects only their columns and makes the rows from them
// (no JSON columns parsed); the container's own page reads the full view by id, and REST keeps
// the full view, which starts from the same row. Pure (no server imports, only types): the
// pages use it too, to slim the full views that pushes and mutations bring before they go into
// a cached list.
import type { ContainerInfo } from "@corral/protocol";
import type { Container } from "../../generated/prisma/client.ts";
import type { ContainerView } from "./containers.ts";

/** The list's fields: the one list the row's type, the query's columns and the slimming follow. */
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

type RowField = (typeof CONTAINER_ROW_FIELDS)[number];
export type ContainerRow = Pick<ContainerView, RowField>;

/** The database column of a field where the view names it otherwise. */
const COLUMN_OF = { created: "createdAt" } as const satisfies Partial<
  Record<RowField, keyof Container>
>;
type ColumnOf<F extends RowField> = F extends keyof typeof COLUMN_OF ? (typeof COLUMN_OF)[F] : F;
/** The columns a list row is made of (a misnamed one does not compile). */
export type ContainerRowColumns = Pick<Container, ColumnOf<RowField>>;

/** The list query's Prisma `select`: the row's columns and no others. */
export const CONTAINER_ROW_SELECT = Object.fromEntries(
  CONTAINER_ROW_FIELDS.map((f) => [
    f in COLUMN_OF ? COLUMN_OF[f as keyof typeof COLUMN_OF] : f,
    true,
  ]),
) as Record<keyof ContainerRowColumns, true>;

/**
 * A container's list row from its database row. `online`: its host's status (an offline host's
 * last report may no longer hold, so the state is "unknown"). The full view adds to this.
 */
export function containerRowOf(c: ContainerRowColumns, online: boolean): ContainerRow {
  return {
    id: c.id,
    hostId: c.hostId,
    name: c.name,
    image: c.image,
    state: online ? (c.state as ContainerInfo["state"]) : "unknown",
    exitCode: c.exitCode,
    oomKilled: c.oomKilled,
    created: c.createdAt,
    managed: c.managed,
  };
}

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
