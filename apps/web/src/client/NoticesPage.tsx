"use client";
// Alerts: the bell in the Shell (unread count, pushed live), the notices list with "mark all
// read", and for admins the webhooks that receive every notice, with each delivery's status.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import type { NoticeView } from "../server/services/notices.ts";
import { useCan } from "./can.tsx";
import { ago, dateTime } from "./format.ts";
import { useLive } from "./live.tsx";
import { errorMessage, trpc } from "./trpc.ts";

type NoticeList = { unread: number; notices: NoticeView[] };
const NOTICES_KEY = ["notices"] as const;
const WEBHOOKS_KEY = ["webhooks"] as const;

/** The notices, kept current by the pushes (mounted once, by the bell in the Shell). */
function useNotices() {
  return useQuery({ queryKey: NOTICES_KEY, queryFn: () => trpc.notices.list.query() });
}

export function NoticeBell() {
  const { socket } = useLive();
  const qc = useQueryClient();
  const notices = useNotices();
  useEffect(() => {
    if (!socket) return;
    const onNotice = (n: NoticeView) =>
      qc.setQueryData<NoticeList>(NOTICES_KEY, (cur) =>
        cur && !cur.notices.some((x) => x.id === n.id)
          ? { unread: cur.unread + 1, notices: [n, ...cur.notices] }
          : cur,
      );
    const onReconnect = () => void qc.invalidateQueries({ queryKey: NOTICES_KEY });
    socket.on("notice", onNotice);
    socket.io.on("reconnect", onReconnect);
    return () => {
      socket.off("notice", onNotice);
      socket.io.off("reconnect", onReconnect);
    };
  }, [socket, qc]);
  const unread = notices.data?.unread ?? 0;
  return (
    <Link
      href="/notices"
      className="bell button small"
      data-testid="notice-bell"
      data-unread={unread}
      aria-label={unread ? `${unread} unread notices` : "Notices"}
      title="Alerts: containers that died, hosts offline"
    >
      <svg
        aria-hidden
        width="16"
        height="16"
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      >
        <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
        <path d="M13.7 21a2 2 0 0 1-3.4 0" />
      </svg>
      {unread > 0 && <span className="count">{unread > 99 ? "99+" : unread}</span>}
    </Link>
  );
}

const KIND_LABEL: Record<NoticeView["kind"], string> = {
  "container-died": "died",
  "container-oom": "out of memory",
  "host-offline": "host offline",
};

export function NoticesPage() {
  const qc = useQueryClient();
  const notices = useNotices();
  const markRead = useMutation({
    mutationFn: () => trpc.notices.markRead.mutate({}),
    onSuccess: () => void qc.invalidateQueries({ queryKey: NOTICES_KEY }),
  });
  const admin = useCan("webhooks.manage");
  const data = notices.data;

  return (
    <>
      <div className="page-head">
        <h1>Notices</h1>
        <span className="spacer" />
        <button
          onClick={() => markRead.mutate()}
          disabled={!data?.unread || markRead.isPending}
          data-testid="mark-read"
        >
          Mark all read
        </button>
      </div>
      {markRead.isError && <div className="error">{errorMessage(markRead.error)}</div>}
      <section className="panel" style={{ padding: 0 }}>
        {notices.isPending ? (
          <div className="state">Loading the notices…</div>
        ) : notices.isError ? (
          <div className="state error">
            Could not load the notices: {errorMessage(notices.error)}
          </div>
        ) : !data?.notices.length ? (
          <div className="state">
            <strong>No alerts</strong>A notice appears here (and on the bell) when a container dies
            unexpectedly or runs out of memory, or a host goes offline.
            {admin ? " Add a webhook below to get them elsewhere too." : ""}
          </div>
        ) : (
          <ul className="notice-list" data-testid="notices">
            {data.notices.map((n) => (
              <li key={n.id} className={n.read ? "" : "unread"}>
                <div style={{ display: "flex", gap: 8, alignItems: "center", flexWrap: "wrap" }}>
                  <span className={`badge ${n.kind === "host-offline" ? "warn" : "bad"}`}>
                    {KIND_LABEL[n.kind] ?? n.kind}
                  </span>
                  <b>{n.title}</b>
                  <span className="sub" title={dateTime(n.time)}>
                    {ago(n.time)}
                  </span>
                </div>
                <span className="sub">{n.message}</span>
                {n.containerId && (
                  <Link href={`/containers/${n.containerId}?tab=logs`}>See its logs</Link>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      {admin && <Webhooks />}
    </>
  );
}

function Webhooks() {
  const qc = useQueryClient();
  const { socket } = useLive();
  const hooks = useQuery({ queryKey: WEBHOOKS_KEY, queryFn: () => trpc.notices.webhooks.query() });
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState("");
  const [tested, setTested] = useState<Record<string, string>>({});
  const refresh = () => void qc.invalidateQueries({ queryKey: WEBHOOKS_KEY });
  useEffect(() => {
    if (!socket) return;
    socket.on("webhooks:changed", refresh);
    return () => {
      socket.off("webhooks:changed", refresh);
    };
  });
  const add = useMutation({
    mutationFn: () => trpc.notices.createWebhook.mutate({ url, ...(secret ? { secret } : {}) }),
    onSuccess: () => {
      setUrl("");
      setSecret("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => trpc.notices.removeWebhook.mutate({ id }),
    onSuccess: refresh,
  });
  const test = useMutation({
    mutationFn: (id: string) => trpc.notices.testWebhook.mutate({ id }),
    onSuccess: (r, id) =>
      setTested((t) => ({
        ...t,
        [id]: r.status !== null && r.status < 300 ? `answered ${r.status}` : `failed: ${r.error}`,
      })),
  });

  return (
    <section className="panel" style={{ marginTop: 16 }}>
      <h2>Webhooks</h2>
      <p className="sub" style={{ marginTop: 0 }}>
        Every notice is POSTed as JSON to each URL (retried with backoff for ~13 minutes until a 2xx
        answer). With a secret, each request carries{" "}
        <code>X-Corral-Signature: sha256=HMAC(body)</code>.
      </p>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <input
          type="url"
          required
          placeholder="https://hooks.example.com/corral"
          aria-label="Webhook URL"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          style={{ flex: "2 1 260px" }}
        />
        <input
          type="text"
          placeholder="secret (optional)"
          aria-label="Signing secret"
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          style={{ flex: "1 1 140px" }}
        />
        <button className="primary" type="submit" disabled={add.isPending}>
          Add webhook
        </button>
      </form>
      {add.isError && <div className="error">{errorMessage(add.error)}</div>}
      {hooks.isPending ? (
        <div className="sub">Loading…</div>
      ) : hooks.isError ? (
        <div className="error">Could not load the webhooks: {errorMessage(hooks.error)}</div>
      ) : !hooks.data.length ? (
        <div className="sub">No webhook yet: alerts show only here.</div>
      ) : (
        hooks.data.map((w) => (
          <div key={w.id} style={{ borderTop: "1px solid var(--border)", paddingTop: 10 }}>
            <div style={{ display: "flex", gap: 8, alignItems: "center", flexWrap: "wrap" }}>
              <code style={{ wordBreak: "break-all" }}>{w.url}</code>
              {w.signed && <span className="badge">signed</span>}
              <span className="spacer" style={{ flex: 1 }} />
              <button className="small" onClick={() => test.mutate(w.id)}>
                Send a test
              </button>
              <button className="small danger" onClick={() => remove.mutate(w.id)}>
                Remove
              </button>
            </div>
            {tested[w.id] && <div className="sub">Test: {tested[w.id]}</div>}
            {w.deliveries.length === 0 ? (
              <div className="sub">No deliveries yet.</div>
            ) : (
              <ul className="notice-list" data-testid="deliveries">
                {w.deliveries.map((d) => (
                  <li key={d.id}>
                    <div style={{ display: "flex", gap: 8, flexWrap: "wrap" }}>
                      <span
                        className={`badge ${d.status === "delivered" ? "ok" : d.status === "failed" ? "bad" : "warn"}`}
                      >
                        {d.status}
                      </span>
                      <span>{d.title}</span>
                    </div>
                    <span className="sub">
                      {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
                      {d.lastStatus !== null ? ` · last answer ${d.lastStatus}` : ""}
                      {d.lastError && d.status !== "delivered" ? ` · ${d.lastError}` : ""}
                      {d.nextAttemptAt ? ` · next try ${dateTime(d.nextAttemptAt)}` : ""}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </div>
        ))
      )}
    </section>
  );
}
