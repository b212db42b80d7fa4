"use client";
// The fleet's event log, newest first: filter by host, container and type (kept in the URL),
// older pages on demand, and new events pushed in at the top as hosts report them.
import {
  useInfiniteQuery,
  useQuery,
  useQueryClient,
  type InfiniteData,
} from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useMemo } from "react";
import { EVENT_TYPES, type EventType } from "../live/events.ts";
import type { EventView } from "../server/services/events.ts";
import { dateTime, shortId } from "./format.ts";
import { keys, useLive } from "./live.tsx";
import { ResourceList } from "./ResourceList.tsx";
import { trpc } from "./trpc.ts";

const TONE: Record<string, string> = {
  start: "ok",
  "host-online": "ok",
  unpause: "ok",
  die: "warn",
  stop: "",
  kill: "warn",
  pause: "warn",
  oom: "bad",
  "host-offline": "bad",
  destroy: "",
};

export interface EventFilter {
  hostId?: string;
  containerId?: string;
  type?: string;
}

type Page = { events: EventView[]; nextBefore: number | null };

function matches(e: EventView, f: EventFilter): boolean {
  return (
    (!f.hostId || e.hostId === f.hostId) &&
    (!f.containerId || (e.containerId ?? "").startsWith(f.containerId)) &&
    (!f.type || e.type === f.type)
  );
}

function detail(e: EventView): string {
  const parts: string[] = [];
  if (e.exitCode !== null) parts.push(`exit code ${e.exitCode}`);
  if (e.oomKilled) parts.push("out of memory");
  if (e.message) parts.push(e.message);
  return parts.join(" · ");
}

export function EventsPage(filter: EventFilter) {
  const router = useRouter();
  const path = usePathname();
  const qc = useQueryClient();
  const { socket } = useLive();
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  const containers = useQuery({
    queryKey: keys.containers(),
    queryFn: () => trpc.containers.list.query(),
  });
  const key = useMemo(
    () => ["events", filter.hostId ?? "", filter.containerId ?? "", filter.type ?? ""],
    [filter.hostId, filter.containerId, filter.type],
  );
  const events = useInfiniteQuery({
    queryKey: key,
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      trpc.events.list.query({
        ...(filter.hostId ? { hostId: filter.hostId } : {}),
        ...(filter.containerId ? { containerId: filter.containerId } : {}),
        ...(filter.type ? { type: filter.type as EventType } : {}),
        ...(pageParam ? { before: pageParam } : {}),
      }),
    getNextPageParam: (last) => last.nextBefore ?? undefined,
  });

  // Pushed events go on top of the first page (when they pass the filter and are new).
  useEffect(() => {
    if (!socket) return;
    const onEvent = (e: EventView) => {
      if (!matches(e, filter)) return;
      qc.setQueryData<InfiniteData<Page>>(key, (data) => {
        if (!data || data.pages.length === 0) return data;
        const [first, ...rest] = data.pages as [Page, ...Page[]];
        if (first.events.some((x) => x.id >= e.id)) return data;
        return { ...data, pages: [{ ...first, events: [e, ...first.events] }, ...rest] };
      });
    };
    socket.on("event", onEvent);
    return () => {
      socket.off("event", onEvent);
    };
  }, [socket, qc, key, filter]);

  const set = (name: "host" | "container" | "type", value: string) => {
    const q = new URLSearchParams();
    const current = { host: filter.hostId, container: filter.containerId, type: filter.type };
    for (const [k, v] of Object.entries({ ...current, [name]: value })) if (v) q.set(k, v);
    router.replace(q.size ? `${path}?${q}` : path);
  };
  const rows = events.data?.pages.flatMap((p) => p.events) ?? [];
  const filtered = Boolean(filter.hostId || filter.containerId || filter.type);

  return (
    <ResourceList<EventView>
      title="Events"
      noun="events"
      summary="newest first, live"
      controls={
        <>
          <select
            aria-label="Host"
            value={filter.hostId ?? ""}
            onChange={(e) => set("host", e.target.value)}
          >
            <option value="">All hosts</option>
            {(hosts.data ?? []).map((h) => (
              <option key={h.id} value={h.id}>
                {h.name} ({h.status})
              </option>
            ))}
          </select>
          <select
            aria-label="Container"
            value={filter.containerId ?? ""}
            onChange={(e) => set("container", e.target.value)}
          >
            <option value="">All containers</option>
            {filter.containerId && !containers.data?.some((c) => c.id === filter.containerId) && (
              <option value={filter.containerId}>{shortId(filter.containerId)} (removed)</option>
            )}
            {(containers.data ?? [])
              .filter((c) => !filter.hostId || c.hostId === filter.hostId)
              .map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
          </select>
          <select
            aria-label="Type"
            value={filter.type ?? ""}
            onChange={(e) => set("type", e.target.value)}
          >
            <option value="">All types</option>
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          {filtered && (
            <button className="small" onClick={() => router.replace(path)}>
              Clear filters
            </button>
          )}
        </>
      }
      query={events}
      items={events.data && rows}
      loading="Loading events…"
      empty={{
        title: `No events ${filtered ? "match these filters" : "yet"}`,
        next: filtered
          ? "They appear here as soon as a host reports one."
          : "Start or stop a container and it shows here at once.",
      }}
      rowKey={(e) => String(e.id)}
      rowName={(e) => `${e.type} ${e.containerName ?? e.hostName}`}
      rowData={(e) => ({ "data-event": e.type })}
      tableClass="events"
      columns={[
        { label: "Time", className: "num", cell: (e) => dateTime(e.time) },
        {
          label: "Type",
          cell: (e) => <span className={`badge ${TONE[e.type] ?? ""}`}>{e.type}</span>,
        },
        {
          label: "Container",
          cell: (e) =>
            e.containerId ? (
              e.containerName ? (
                <Link href={`/containers/${e.containerId}`}>{e.containerName}</Link>
              ) : (
                <span className="mono">{shortId(e.containerId)}</span>
              )
            ) : (
              <span className="sub">—</span>
            ),
        },
        { label: "Host", cell: (e) => e.hostName },
        {
          label: "Detail",
          className: (e) => (detail(e) ? undefined : "empty"),
          cell: (e) => detail(e) || <span className="sub">—</span>,
        },
      ]}
      footer={
        events.hasNextPage && (
          <div className="state">
            <button
              onClick={() => void events.fetchNextPage()}
              disabled={events.isFetchingNextPage}
            >
              {events.isFetchingNextPage ? "Loading…" : "Older events"}
            </button>
          </div>
        )
      }
    />
  );
}
