"use client";
// Containers of every host (or one): filter, sort, act; changes arrive pushed. Only the rows on
// screen are in the DOM (@tanstack/react-virtual, the window scrolls), each row memoised by
// container: 1,000 containers load and update like 20.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useWindowVirtualizer, type VirtualItem } from "@tanstack/react-virtual";
import { memo, useLayoutEffect, useMemo, useRef, useState } from "react";
import { containerListRow, putRow, type ContainerRow } from "../server/services/container-row.ts";
import { ContainerState } from "./badges.tsx";
import { BulkBar, useBulk } from "./BulkActions.tsx";
import { useCan } from "./can.tsx";
import { HostPicker } from "./HostPicker.tsx";
import { ago, shortId } from "./format.ts";
import { keys } from "./live.tsx";
import { readPreloaded } from "./preload.ts";
import { errorMessage, trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

type SortKey = "name" | "host" | "image" | "state" | "created";
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

/** Runs a container action, writes its answer into the cache, and keeps the last error. */
export function useContainerAction() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ c, action }: { c: ContainerRow; action: Action }) => {
      if (action === "remove") {
        await trpc.containers.remove.mutate({ id: c.id, force: c.state === "running" });
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

/** The rows' name order (one collator: much cheaper than `localeCompare` per comparison). */
const byText = new Intl.Collator().compare;
/** A desktop row's height before it is measured (the name and its id on two lines). */
const ROW_PX = 53;
/** A phone's card (one line per column) before it is measured. */
const CARD_PX = 200;
const PHONE = "(max-width: 700px)";

/** A row's height with its margin (the phone's cards are spaced by a margin). */
function rowHeight(el: Element, entry?: ResizeObserverEntry): number {
  const box = entry?.borderBoxSize?.[0]?.blockSize ?? el.getBoundingClientRect().height;
  return Math.round(box + (parseFloat(getComputedStyle(el).marginBottom) || 0));
}

/**
 * One container's row. Memoised: a pushed change replaces that container's object only (the
 * live cache keeps the others), so one push renders one row.
 */
const Row = memo(function Row({
  c,
  index,
  hostLabel,
  created,
  selected,
  mayWrite,
  onToggle,
  measure,
}: {
  c: ContainerRow;
  index: number;
  hostLabel: string;
  created: string;
  selected: boolean;
  mayWrite: boolean;
  onToggle: (id: string, on: boolean) => void;
  measure: (el: HTMLTableRowElement | null) => void;
}) {
  return (
    <tr ref={measure} data-index={index} aria-rowindex={index + 2} data-container={c.name}>
      {mayWrite && (
        <td className="check" data-label="Select">
          <input
            type="checkbox"
            aria-label={`Select ${c.name}`}
            checked={selected}
            onChange={(e) => onToggle(c.id, e.target.checked)}
          />
        </td>
      )}
      <td data-label="Name">
        <div>
          <Link href={`/containers/${c.id}`}>
            <b>{c.name}</b>
          </Link>
          <div className="sub mono" style={{ fontSize: 11 }}>
            {shortId(c.id)}
            {!c.managed && " · made on the host"}
          </div>
        </div>
      </td>
      <td data-label="State">
        <ContainerState c={c} />
      </td>
      <td data-label="Image" className="mono">
        {c.image}
      </td>
      <td data-label="Host">{hostLabel}</td>
      <td data-label="Created">{created}</td>
      {mayWrite && (
        <td data-label="Actions">
          <ActionButtons c={c} />
        </td>
      )}
    </tr>
  );
});

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
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; asc: boolean }>({ key: "state", asc: true });

  const hostName = useMemo(
    () => new Map((hosts.data ?? []).map((h) => [h.id, h.name])),
    [hosts.data],
  );
  const rows = useMemo(() => {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    const value = (c: ContainerRow): string | number => {
      switch (sort.key) {
        case "name":
          return c.name;
        case "host":
          return hostName.get(c.hostId) ?? c.hostId;
        case "image":
          return c.image;
        case "state":
          return STATE_ORDER[c.state];
        case "created":
          return Date.parse(c.created) || 0;
      }
    };
    const all = containers.data ?? [];
    const shown = words.length
      ? all.filter((c) => {
          const text =
            `${c.name} ${c.id} ${c.image} ${c.state} ${hostName.get(c.hostId) ?? ""}`.toLowerCase();
          return words.every((w) => text.includes(w));
        })
      : [...all];
    return shown.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const d =
        typeof x === "number" && typeof y === "number" ? x - y : byText(String(x), String(y));
      return (sort.asc ? d : -d) || byText(a.name, b.name);
    });
  }, [containers.data, filter, sort, hostName]);

  // Only the rows on screen (and a few either side) are in the DOM; the page scrolls as one.
  const body = useRef<HTMLTableSectionElement>(null);
  const [top, setTop] = useState(0);
  const virtual = useWindowVirtualizer({
    count: rows.length,
    estimateSize: () =>
      typeof window !== "undefined" && window.matchMedia(PHONE).matches ? CARD_PX : ROW_PX,
    getItemKey: (i) => (rows[i] as ContainerRow).id,
    measureElement: rowHeight,
    overscan: 8,
    scrollMargin: top,
  });
  // Where the rows start in the page (the notices and bulk results above them come and go).
  useLayoutEffect(() => {
    const el = body.current;
    if (!el) return;
    const at = Math.round(el.getBoundingClientRect().top + window.scrollY);
    if (at !== top) setTop(at);
  });

  const header = (key: SortKey, label: string) => (
    <th aria-sort={sort.key === key ? (sort.asc ? "ascending" : "descending") : "none"}>
      <button onClick={() => setSort((s) => ({ key, asc: s.key === key ? !s.asc : true }))}>
        {label} {sort.key === key ? (sort.asc ? "▲" : "▼") : ""}
      </button>
    </th>
  );
  const offline = (hosts.data ?? [])
    .filter((h) => h.status === "offline" && (!hostId || h.id === hostId))
    .filter((h) => containers.data?.some((c) => c.hostId === h.id))
    .map((h) => h.name);
  const total = containers.data?.length ?? 0;
  const bulk = useBulk(containers.data, rows);
  const running = containers.data?.filter((c) => c.state === "running").length ?? 0;
  const items = virtual.getVirtualItems();
  const columns = mayWrite ? 7 : 5;
  // Spacer rows stand for the rows off screen (item offsets count from the page's top).
  const before = items.length ? (items[0] as VirtualItem).start - top : 0;
  const after = items.length ? top + virtual.getTotalSize() - (items.at(-1) as VirtualItem).end : 0;
  const spacer = (height: number, key: string) =>
    height > 0 && (
      <tr className="spacer" aria-hidden="true" key={key} style={{ height }}>
        <td colSpan={columns} />
      </tr>
    );

  return (
    <>
      <div className="page-head">
        {embedded ? <h2 style={{ margin: 0 }}>Containers</h2> : <h1>Containers</h1>}
        {containers.data && (
          <span className="sub" data-testid="container-count">
            {running} running / {total}
          </span>
        )}
        <span className="spacer" />
        {mayWrite && (
          <Link
            className="button primary"
            href={`/containers/new${hostId ? `?host=${hostId}` : ""}`}
          >
            New container
          </Link>
        )}
      </div>
      <div className="toolbar">
        <input
          type="search"
          placeholder="Filter by name, image, state, host…"
          aria-label="Filter containers"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        {!embedded && <HostPicker hosts={hosts} hostId={hostId} />}
      </div>
      {offline.length > 0 && !embedded && (
        <div className="notice" role="status" style={{ marginBottom: 12 }}>
          {offline.join(", ")} {offline.length === 1 ? "is" : "are"} offline: the state of
          {offline.length === 1 ? " its" : " their"} containers is unknown until the agent is back
          (the last report is on each container&apos;s page).
        </div>
      )}
      {mayWrite && rows.length > 0 && <BulkBar bulk={bulk} hostName={hostName} />}
      {containers.isPending && <div className="state">Loading containers…</div>}
      {containers.isError && (
        <div className="error">Could not load the containers: {errorMessage(containers.error)}</div>
      )}
      {containers.data && total === 0 && (
        <div className="panel state">
          <strong>No containers {hostId ? "on this host" : "yet"}</strong>
          {mayWrite ? (
            <>
              <Link href={`/containers/new${hostId ? `?host=${hostId}` : ""}`}>
                Create a container
              </Link>{" "}
              from an image such as busybox or nginx.
            </>
          ) : (
            "An operator or admin creates them; they show up here live."
          )}
        </div>
      )}
      {containers.data && total > 0 && rows.length === 0 && (
        <div className="panel state">
          <strong>Nothing matches “{filter}”</strong>
          <button className="small" onClick={() => setFilter("")}>
            Clear the filter
          </button>
        </div>
      )}
      {rows.length > 0 && (
        <table
          className={`list containers ${mayWrite ? "writable" : ""}`}
          aria-rowcount={rows.length + 1}
        >
          <colgroup>
            {mayWrite && <col className="c-check" />}
            <col className="c-name" />
            <col className="c-state" />
            <col className="c-image" />
            <col className="c-host" />
            <col className="c-created" />
            {mayWrite && <col className="c-actions" />}
          </colgroup>
          <thead>
            <tr aria-rowindex={1}>
              {mayWrite && (
                <th className="check">
                  <input
                    type="checkbox"
                    aria-label="Select every container shown"
                    checked={bulk.allShown}
                    onChange={(e) => bulk.selectShown(e.target.checked)}
                  />
                </th>
              )}
              {header("name", "Name")}
              {header("state", "State")}
              {header("image", "Image")}
              {header("host", "Host")}
              {header("created", "Created")}
              {mayWrite && <th>Actions</th>}
            </tr>
          </thead>
          <tbody ref={body}>
            {spacer(before, "before")}
            {items.map((v) => {
              const c = rows[v.index] as ContainerRow;
              return (
                <Row
                  key={v.key}
                  c={c}
                  index={v.index}
                  hostLabel={hostName.get(c.hostId) ?? shortId(c.hostId)}
                  created={ago(c.created, now)}
                  selected={bulk.selected.has(c.id)}
                  mayWrite={mayWrite}
                  onToggle={bulk.toggle}
                  measure={virtual.measureElement}
                />
              );
            })}
            {spacer(after, "after")}
          </tbody>
        </table>
      )}
    </>
  );
}
