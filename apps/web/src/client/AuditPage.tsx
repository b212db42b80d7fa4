"use client";
// The audit log (admins): who did what to which target, when and from where. Newest first, a
// page at a time; new entries arrive pushed over the page's socket (no polling).
import { useInfiniteQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { AuditView } from "../server/services/audit.ts";
import { LOGIN_FAILED } from "../server/services/audit-actions.ts";
import { Denied, useCan } from "./can.tsx";
import { ago, dateTime } from "./format.ts";
import { useLive } from "./live.tsx";
import { ResourceList } from "./ResourceList.tsx";
import { trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

const FAMILIES = [
  ["", "Every action"],
  ["container.", "Containers"],
  ["image.", "Images"],
  ["host.", "Hosts"],
  ["user.", "Users and logins"],
  [LOGIN_FAILED, "Failed logins"],
  ["token.", "API tokens"],
  ["setup.", "Setup"],
] as const;

type Page = { entries: AuditView[]; next: number | null };

function matches(e: AuditView, action: string, text: string): boolean {
  if (action && !e.action.startsWith(action)) return false;
  if (!text) return true;
  const hay = `${e.target} ${JSON.stringify(e.detail)} ${e.ip} ${e.user ?? ""}`.toLowerCase();
  return hay.includes(text.toLowerCase());
}

function Detail({ detail }: { detail: Record<string, unknown> }) {
  const parts = Object.entries(detail).map(
    ([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`,
  );
  return <span className="mono audit-detail">{parts.join(" · ") || "—"}</span>;
}

/** A failed login has no user behind it (its target is the email tried), unlike the system's. */
function who(e: AuditView): string {
  if (e.user) return e.user;
  if (e.userId) return "(removed user)";
  return e.action === LOGIN_FAILED ? "not logged in" : "system";
}

export function AuditPage() {
  const allowed = useCan("audit.read");
  const { socket } = useLive();
  const qc = useQueryClient();
  const now = useNow(10000);
  const [action, setAction] = useState("");
  const [typed, setTyped] = useState("");
  const [text, setText] = useState("");
  // The filter box asks the server once typing pauses, not on every key.
  useEffect(() => {
    const t = setTimeout(() => setText(typed.trim()), 300);
    return () => clearTimeout(t);
  }, [typed]);
  const key = ["audit", action, text] as const;
  const log = useInfiniteQuery({
    queryKey: key,
    enabled: allowed,
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      trpc.audit.list.query({
        ...(action ? { action } : {}),
        ...(text ? { text } : {}),
        ...(pageParam ? { before: pageParam } : {}),
        limit: 50,
      }),
    getNextPageParam: (last: Page) => last.next ?? undefined,
  });

  useEffect(() => {
    if (!socket) return;
    const onEntry = (e: AuditView) => {
      if (!matches(e, action, text)) return;
      qc.setQueryData<InfiniteData<Page, number | undefined>>(key, (data) => {
        if (!data?.pages[0] || data.pages[0].entries.some((x) => x.id === e.id)) return data;
        const [first, ...rest] = data.pages;
        return { ...data, pages: [{ ...first, entries: [e, ...first.entries] }, ...rest] };
      });
    };
    socket.on("audit", onEntry);
    return () => {
      socket.off("audit", onEntry);
    };
  }, [socket, qc, action, text]); // key is made of action and text

  if (!allowed) return <Denied permission="audit.read" what="The audit log" />;
  const entries = log.data?.pages.flatMap((p) => p.entries) ?? [];
  const filtered = action !== "" || text !== "";

  return (
    <ResourceList<AuditView>
      title="Audit log"
      noun="audit log"
      summary="every change, who made it and from where · new entries appear live"
      controls={
        <>
          <input
            type="search"
            placeholder="Filter by user, target, address, detail…"
            aria-label="Filter the audit log"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
          <select aria-label="Action" value={action} onChange={(e) => setAction(e.target.value)}>
            {FAMILIES.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </>
      }
      query={log}
      items={log.data && entries}
      loading="Loading the audit log…"
      empty={{
        title: filtered ? "Nothing matches this filter" : "Nothing recorded yet",
        next: filtered
          ? "Try another action or fewer words."
          : "Every change made here (containers, users, tokens, hosts) is listed as it happens.",
      }}
      rowKey={(e) => String(e.id)}
      rowName={(e) => `${e.action} ${e.target}`}
      rowData={(e) => ({ "data-action": e.action })}
      tableClass="audit"
      columns={[
        { label: "When", title: (e) => dateTime(e.time), cell: (e) => ago(e.time, now) },
        { label: "Who", cell: (e) => who(e) },
        {
          label: "What",
          cell: (e) => (
            <span className={e.action === LOGIN_FAILED ? "badge bad" : "badge"}>{e.action}</span>
          ),
        },
        {
          label: "Target",
          className: "mono",
          cell: (e) => (e.target ? e.target.slice(0, 24) : "—"),
        },
        { label: "Detail", cell: (e) => <Detail detail={e.detail} /> },
        { label: "From", className: "mono", cell: (e) => e.ip || "—" },
      ]}
      footer={
        log.hasNextPage && (
          <p style={{ textAlign: "center" }}>
            <button onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
              {log.isFetchingNextPage ? "Loading…" : "Older entries"}
            </button>
          </p>
        )
      }
    />
  );
}
