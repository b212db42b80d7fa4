"use client";
// Fleet: every host with its load now and over the last minute (pushed at 1 Hz), its status
// pushed live, and (admins) how to add one and the join tokens made so far.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { HostView } from "../server/services/hosts.ts";
import { HostStatus } from "./badges.tsx";
import { useCan } from "./can.tsx";
import { CopyButton } from "./CopyButton.tsx";
import { ago, bytes, dateTime } from "./format.ts";
import { useHostStats, type HostHistory } from "./hostStats.ts";
import { keys, useSeedRefresh } from "./live.tsx";
import { Sparkline } from "./Sparkline.tsx";
import { cpuFormat } from "./StatsCharts.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

const EXPIRIES = [
  { hours: 1, label: "1 hour" },
  { hours: 24, label: "24 hours" },
  { hours: 168, label: "7 days" },
] as const;

const joinTokensKey = ["joinTokens"] as const;

function JoinTokens() {
  const qc = useQueryClient();
  const now = useNow(30000);
  const tokens = useQuery({
    queryKey: joinTokensKey,
    queryFn: () => trpc.hosts.joinTokens.query(),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => trpc.hosts.revokeJoinToken.mutate({ id }),
    onSettled: () => qc.invalidateQueries({ queryKey: joinTokensKey }),
  });
  if (tokens.isPending) return <div className="state">Loading join tokens…</div>;
  if (tokens.isError)
    return <div className="error">Could not load join tokens: {errorMessage(tokens.error)}</div>;
  if (tokens.data.length === 0) return <p className="sub">No join token made yet.</p>;
  return (
    <>
      {revoke.isError && (
        <div className="error" role="alert">
          {errorMessage(revoke.error)}
        </div>
      )}
      <table className="list" aria-label="Join tokens">
        <thead>
          <tr>
            <th>Created</th>
            <th>By</th>
            <th>Expires</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tokens.data.map((t) => (
            <tr key={t.id} data-token={t.id}>
              <td data-label="Created">{ago(t.createdAt, now)}</td>
              <td data-label="By">{t.createdBy ?? "npm start"}</td>
              <td data-label="Expires" title={dateTime(t.expiresAt)}>
                {t.status === "usable" ? dateTime(t.expiresAt) : "—"}
              </td>
              <td data-label="State">
                {t.status === "used" ? (
                  <span>
                    used by{" "}
                    {t.hostId ? (
                      <Link href={`/hosts/${t.hostId}`}>{t.hostName}</Link>
                    ) : (
                      `${t.hostName ?? "a host"} (removed)`
                    )}
                  </span>
                ) : (
                  <span className={`badge ${t.status === "usable" ? "ok" : ""}`}>{t.status}</span>
                )}
              </td>
              <td data-label="">
                {t.status === "usable" && (
                  <button
                    className="small danger"
                    disabled={revoke.isPending && revoke.variables === t.id}
                    onClick={() => revoke.mutate(t.id)}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function AddHost({ onClose }: { onClose(): void }) {
  const qc = useQueryClient();
  const [hours, setHours] = useState<number>(24);
  const join = useMutation({
    mutationFn: () => trpc.hosts.createJoinToken.mutate({ expiresInHours: hours }),
    onSuccess: () => qc.invalidateQueries({ queryKey: joinTokensKey }),
  });
  // the same list the table below shows: the token on screen may be revoked there
  const tokens = useQuery({
    queryKey: joinTokensKey,
    queryFn: () => trpc.hosts.joinTokens.query(),
  });
  const shown = tokens.data?.find((t) => t.id === join.data?.id);
  const spent = shown !== undefined && shown.status !== "usable";
  const command = spent ? undefined : join.data?.command;
  return (
    <section className="panel add-host" aria-label="Add a host">
      <h2>Add a host</h2>
      <p className="sub">
        On the new machine (Linux, root, Node 20+), in a checkout of Corral, run the one line below
        (it installs and builds what is missing). The token works once; the host shows up here as
        soon as its agent connects.
      </p>
      {spent && (
        <div className="notice" role="status" style={{ marginBottom: 8 }}>
          The token made here is {shown.status}: make a new one for the next host.
        </div>
      )}
      {!command && (
        <div className="toolbar">
          <label>
            Token valid for{" "}
            <select
              aria-label="Token valid for"
              value={hours}
              onChange={(e) => setHours(Number(e.target.value))}
            >
              {EXPIRIES.map((e) => (
                <option key={e.hours} value={e.hours}>
                  {e.label}
                </option>
              ))}
            </select>
          </label>
          <button className="primary" onClick={() => join.mutate()} disabled={join.isPending}>
            {join.isPending ? "Making a join token…" : "Make the join command"}
          </button>
        </div>
      )}
      {join.isError && <div className="error">{errorMessage(join.error)}</div>}
      {command && join.data && (
        <>
          <div className="command">
            <code data-testid="join-command">{command}</code>
            <CopyButton text={command} />
          </div>
          <p className="sub" data-testid="join-expiry">
            Expires {dateTime(join.data.expiresAt)}. Revoke it below if it leaked.{" "}
            <button className="small" onClick={() => join.reset()}>
              Make another
            </button>
          </p>
        </>
      )}
      <h2 style={{ marginTop: 16 }}>Join tokens</h2>
      <JoinTokens />
      {command && (
        <p className="sub" data-testid="join-same-machine">
          A second host on this same machine (to try a fleet): add{" "}
          <code>--runtime private --name host-2 --data /var/lib/corral/agent-host-2</code>; the
          agent then runs its own runtime (own bridge, subnet, cgroups and ports).
        </p>
      )}
      <p style={{ marginBottom: 0 }}>
        <button className="small" onClick={onClose}>
          Done
        </button>
      </p>
    </section>
  );
}

function Load({ h, history }: { h: HostView; history: HostHistory | undefined }) {
  const last = history?.last;
  if (h.status !== "online") return <span className="sub">—</span>;
  if (!last) return <span className="sub">waiting…</span>;
  return (
    <div className="load">
      <span className="num" data-testid="host-cpu">
        {cpuFormat(last.cpuPercent)}
      </span>
      <Sparkline values={history.series.cpu} max={100} label={`CPU of ${h.name}, last minute`} />
      <span className="sub">load {last.load1.toFixed(2)}</span>
    </div>
  );
}

function Memory({ h, history }: { h: HostView; history: HostHistory | undefined }) {
  const last = history?.last;
  if (h.status !== "online" || !last)
    return <span className="sub">{h.facts.memoryBytes ? bytes(h.facts.memoryBytes) : "—"}</span>;
  return (
    <div className="load">
      <span className="num">
        {bytes(last.memoryUsedBytes)} <span className="sub">/ {bytes(last.memoryTotalBytes)}</span>
      </span>
      <Sparkline
        values={history.series.mem}
        max={last.memoryTotalBytes}
        label={`memory of ${h.name}, last minute`}
        color="#8250df"
      />
    </div>
  );
}

/** `seed`: the hosts as the server read them for this page's HTML. */
export function FleetPage({ seed }: { seed?: HostView[] }) {
  const hosts = useQuery({
    queryKey: keys.hosts,
    queryFn: () => trpc.hosts.list.query(),
    ...(seed ? { initialData: seed } : {}),
  });
  useSeedRefresh(seed !== undefined, [keys.hosts]);
  const [adding, setAdding] = useState(false);
  const mayManage = useCan("hosts.manage");
  const now = useNow();
  const list = hosts.data ?? [];
  const online = list.filter((h) => h.status === "online").length;
  const stats = useHostStats(list.filter((h) => h.status === "online").map((h) => h.id));

  return (
    <>
      <div className="page-head">
        <h1>Fleet</h1>
        {hosts.data && (
          <span className="sub">
            {online} of {list.length} host{list.length === 1 ? "" : "s"} online
          </span>
        )}
        <span className="spacer" />
        {mayManage && (
          <button className="primary" onClick={() => setAdding(true)}>
            Add host
          </button>
        )}
      </div>
      {adding && <AddHost onClose={() => setAdding(false)} />}
      {hosts.isPending && <div className="state">Loading hosts…</div>}
      {hosts.isError && (
        <div className="error">Could not load the hosts: {errorMessage(hosts.error)}</div>
      )}
      {hosts.data && list.length === 0 && !adding && (
        <div className="panel state">
          <strong>No hosts yet</strong>
          {mayManage
            ? "Add your first host: press Add host and run the command it shows on that machine."
            : "An admin adds hosts to the fleet; they show up here as soon as their agent connects."}
        </div>
      )}
      {list.length > 0 && (
        <table className="list fleet">
          <thead>
            <tr>
              <th>Host</th>
              <th>Status</th>
              <th>CPU</th>
              <th>Memory</th>
              <th>Containers</th>
              <th>Agent</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {list.map((h) => (
              <tr key={h.id} data-host={h.name}>
                <td data-label="Host">
                  <div>
                    <Link href={`/hosts/${h.id}`}>
                      <b>{h.name}</b>
                    </Link>
                    <div className="sub" style={{ fontSize: 12 }}>
                      {[
                        h.facts.cpus && `${h.facts.cpus} CPU`,
                        h.facts.kernel && `kernel ${h.facts.kernel}`,
                        h.facts.arch,
                      ]
                        .filter(Boolean)
                        .join(" · ")}
                    </div>
                  </div>
                </td>
                <td data-label="Status">
                  <HostStatus status={h.status} />
                  {h.draining && (
                    <span
                      className="badge warn"
                      title={h.draining.reason}
                      style={{ marginLeft: 4 }}
                    >
                      draining
                    </span>
                  )}
                </td>
                <td data-label="CPU">
                  <Load h={h} history={stats.get(h.id)} />
                </td>
                <td data-label="Memory">
                  <Memory h={h} history={stats.get(h.id)} />
                </td>
                <td data-label="Containers" className="num">
                  <Link href={`/containers?host=${h.id}`}>
                    {h.containers.unknown > 0
                      ? `${h.containers.unknown} unknown`
                      : `${h.containers.running} running / ${h.containers.total}`}
                  </Link>
                </td>
                <td data-label="Agent" className="mono">
                  {h.agentVersion || "—"}
                </td>
                {/* "12 s ago" may differ by a second between the server's HTML and its hydration */}
                <td data-label="Last seen" suppressHydrationWarning>
                  {h.status === "online" ? "connected" : ago(h.lastSeenAt, now)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
