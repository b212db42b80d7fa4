"use client";
// Containers of every host (or one): filter, sort, act; changes arrive pushed. A virtual
// ResourceList (only the rows on screen are in the DOM, the window scrolls) whose rows are
// memoised by container, its columns and row functions kept stable here: 1,000 containers load
// and update like 20, and one push renders one row.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useMemo } from "react";
import { containerListRow, putRow, type ContainerRow } from "../server/services/container-row.ts";
import { ContainerState } from "./badges.tsx";
import { useCan } from "./can.tsx";
import { HostPicker } from "./HostPicker.tsx";
import { ago, shortId } from "./format.ts";
import { keys } from "./live.tsx";
import { readPreloaded } from "./preload.ts";
import { bulkRemove, ResourceList, type BulkAction, type Column } from "./ResourceList.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

type Action = "start" | "stop" | "restart" | "remove";

const STATE_ORDER: Record<ContainerRow["state"], number> = {
  running: 0,
  restarting: 1,
  paused: 2,
  created: 3,
  exited: 4,
  dead: 5,
  unknown: 6,
};

/** What a user may do to a container in its state (the host refuses the rest anyway). */
export function actionsFor(state: ContainerRow["state"]): Action[] {
  if (state === "unknown") return [];
  if (state === "running" || state === "paused" || state === "restarting")
    return ["stop", "restart", "remove"];
  return ["start", "remove"];
}

/** Removes a container; a running one is stopped first (the host refuses it otherwise). */
const removeContainer = (c: ContainerRow) =>
  trpc.containers.remove.mutate({ id: c.id, force: c.state === "running" });

/** Runs a container action, writes its answer into the cache, and keeps the last error. */
export function useContainerAction() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ c, action }: { c: ContainerRow; action: Action }) => {
      if (action === "remove") {
        await removeContainer(c);
        return { c, updated: null };
      }
      return { c, updated: await trpc.containers.action.mutate({ id: c.id, action }) };
    },
    onSuccess: ({ c, updated }) => {
      const row = updated && containerListRow(updated);
      for (const key of [keys.containers(), keys.containers(c.hostId)])
        qc.setQueryData<ContainerRow[]>(key, (list) =>
          list?.some((x) => x.id === c.id) ? putRow(list, c.id, row) : list,
        );
      qc.setQueryData(keys.container(c.id), updated);
    },
  });
}

export function ActionButtons({ c, small = true }: { c: ContainerRow; small?: boolean }) {
  const act = useContainerAction();
  const mayWrite = useCan("containers.write");
  if (!mayWrite) return null;
  const busy = act.isPending && act.variables?.c.id === c.id;
  return (
    <span className="actions">
      {actionsFor(c.state).map((a) => (
        <button
          key={a}
          className={`${small ? "small" : ""} ${a === "remove" ? "danger" : ""}`}
          disabled={busy}
          onClick={() => {
            if (
              a === "remove" &&
              !window.confirm(`Remove ${c.name}? Its writable layer is deleted.`)
            )
              return;
            act.mutate({ c, action: a });
          }}
        >
          {busy && act.variables?.action === a ? `${a}…` : a}
        </button>
      ))}
      {act.isError && act.variables?.c.id === c.id && (
        <span className="error" role="alert" style={{ padding: "2px 8px" }}>
          {errorMessage(act.error)}
        </span>
      )}
    </span>
  );
}

/** The bulk actions: each selected container is its own request (a few at a time). */
const BULK_ACTIONS: Array<BulkAction<ContainerRow>> = [
  ...(["start", "stop", "restart"] as const).map((action) => ({
    label: action,
    run: (c: ContainerRow) => trpc.containers.action.mutate({ id: c.id, action }),
  })),
  bulkRemove(
    ["container", "containers"],
    "Running ones are stopped first; their writable layers are deleted.",
    removeContainer,
  ),
];

// The row functions the list takes, the same on every render (its rows are memoised).
const rowKey = (c: ContainerRow) => c.id;
const rowName = (c: ContainerRow) => c.name;
const rowData = (c: ContainerRow) => ({ "data-container": c.name });
const actionsCell = (c: ContainerRow) => <ActionButtons c={c} />;
/** Rows' heights before they are measured: a row (the name and its id on two lines), a card. */
const VIRTUAL = { rowPx: 53, cardPx: 200 };

/** `embedded`: inside a host's page (a section heading, no host picker). */
export function ContainersPage({
  hostId,
  embedded = false,
}: {
  hostId?: string;
  embedded?: boolean;
}) {
  const mayWrite = useCan("containers.write");
  const now = useNow(10000);
  // Preloaded by the page's HTML (app/(dash)/containers/page.tsx): see preload.ts.
  const hosts = useQuery({
    queryKey: keys.hosts,
    queryFn: () => readPreloaded("hosts.list", undefined, () => trpc.hosts.list.query()),
  });
  const containers = useQuery({
    queryKey: keys.containers(hostId),
    queryFn: () => {
      const input = hostId ? { hostId } : undefined;
      return readPreloaded("containers.list", input, () => trpc.containers.list.query(input));
    },
  });

  // The same Map until a host is added, renamed or removed: a host's status push must not
  // render every row again (the Host column reads it).
  const names = JSON.stringify((hosts.data ?? []).map((h) => [h.id, h.name]));
  const hostName = useMemo(() => new Map(JSON.parse(names) as Array<[string, string]>), [names]);
  const text = useCallback(
    (c: ContainerRow) => `${c.name} ${c.id} ${c.image} ${c.state} ${hostName.get(c.hostId) ?? ""}`,
    [hostName],
  );
  const columns = useMemo((): Array<Column<ContainerRow>> => {
    const host = (c: ContainerRow) => hostName.get(c.hostId);
    return [
      {
        label: "Name",
        col: "c-name",
        sort: (c) => c.name,
        cell: (c) => (
          <div>
            <Link href={`/containers/${c.id}`}>
              <b>{c.name}</b>
            </Link>
            <div className="sub mono" style={{ fontSize: 11 }}>
              {shortId(c.id)}
              {!c.managed && " · made on the host"}
            </div>
          </div>
        ),
      },
      {
        label: "State",
        col: "c-state",
        sort: (c) => STATE_ORDER[c.state],
        cell: (c) => <ContainerState c={c} />,
      },
      {
        label: "Image",
        col: "c-image",
        className: "mono",
        sort: (c) => c.image,
        cell: (c) => c.image,
      },
      {
        label: "Host",
        col: "c-host",
        sort: (c) => host(c) ?? c.hostId,
        cell: (c) => host(c) ?? shortId(c.hostId),
      },
      {
        label: "Created",
        col: "c-created",
        sort: (c) => Date.parse(c.created) || 0,
        cell: (c) => ago(c.created, now),
      },
    ];
  }, [hostName, now]);

  const offline = (hosts.data ?? [])
    .filter((h) => h.status === "offline" && (!hostId || h.id === hostId))
    .filter((h) => containers.data?.some((c) => c.hostId === h.id))
    .map((h) => h.name);
  const newLink = `/containers/new${hostId ? `?host=${hostId}` : ""}`;

  return (
    <ResourceList<ContainerRow>
      title="Containers"
      heading={embedded ? "h2" : "h1"}
      noun="containers"
      summary={
        containers.data && (
          <span data-testid="container-count">
            {containers.data.filter((c) => c.state === "running").length} running /{" "}
            {containers.data.length}
          </span>
        )
      }
      headActions={
        mayWrite && (
          <Link className="button primary" href={newLink}>
            New container
          </Link>
        )
      }
      filterPlaceholder="Filter by name, image, state, host…"
      controls={!embedded && <HostPicker hosts={hosts} hostId={hostId} />}
      notes={
        offline.length > 0 &&
        !embedded && (
          <div className="notice" role="status" style={{ marginBottom: 12 }}>
            {offline.join(", ")} {offline.length === 1 ? "is" : "are"} offline: the state of
            {offline.length === 1 ? " its" : " their"} containers is unknown until the agent is back
            (the last report is on each container&apos;s page).
          </div>
        )
      }
      query={containers}
      items={containers.data}
      loading="Loading containers…"
      empty={{
        title: `No containers ${hostId ? "on this host" : "yet"}`,
        next: mayWrite ? (
          <>
            <Link href={newLink}>Create a container</Link> from an image such as busybox or nginx.
          </>
        ) : (
          "An operator or admin creates them; they show up here live."
        ),
      }}
      text={text}
      rowKey={rowKey}
      rowName={rowName}
      rowPlace={(c) => hostName.get(c.hostId) ?? shortId(c.hostId)}
      rowData={rowData}
      columns={columns}
      sortedBy={{ label: "State", asc: true }}
      virtual={VIRTUAL}
      tableClass="containers"
      {...(mayWrite && { rowActions: actionsCell, bulkActions: BULK_ACTIONS })}
    />
  );
}
