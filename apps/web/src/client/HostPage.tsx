"use client";
// One host: what it is (facts), whether it is up, its own CPU and memory (its stored history,
// then its agent's 1 Hz samples live), its containers, counts of its images, networks and
// volumes, and (admins) drain, undrain and remove.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState, type ReactNode } from "react";
import type { HostView } from "../server/services/hosts.ts";
import { samplePoint } from "../stats-point.ts";
import { HostStatus } from "./badges.tsx";
import { useCan } from "./can.tsx";
import { ContainersPage } from "./ContainersPage.tsx";
import { ago, bytes, dateTime } from "./format.ts";
import { useHostStats, type HostHistory } from "./hostStats.ts";
import { keys } from "./live.tsx";
import {
  cpuFormat,
  LIVE_KEEP,
  RangePicker,
  StatPanel,
  StatsToolbar,
  useStoredStats,
} from "./StatsCharts.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

function Facts({ h }: { h: HostView }) {
  const f = h.facts;
  const now = useNow();
  const rows: Array<[string, ReactNode]> = [
    ["Hostname", f.hostname ?? "—"],
    ["CPU", f.cpus ? `${f.cpus} × ${f.cpuModel || f.arch || "CPU"}` : "—"],
    ["Memory", f.memoryBytes ? bytes(f.memoryBytes) : "—"],
    [
      "Disk (runtime root)",
      f.diskBytes
        ? `${bytes(f.diskBytes - (f.diskFreeBytes ?? 0))} used of ${bytes(f.diskBytes)}`
        : "—",
    ],
    ["Kernel", [f.kernel, f.arch].filter(Boolean).join(" · ") || "—"],
    ["OS", f.os || "—"],
    ["cgroups", f.cgroups || "—"],
    ["Runtime", f.runtimeVersion ? `corral-rtd ${f.runtimeVersion}` : "—"],
    ["Agent", h.agentVersion ? `corral-agent ${h.agentVersion}` : "—"],
    [
      "Addresses",
      f.addresses?.length
        ? f.addresses.map((a, i) => (
            <span key={a} className="mono" style={{ whiteSpace: "nowrap" }}>
              {a}
              {i < (f.addresses?.length ?? 0) - 1 ? ", " : ""}
            </span>
          ))
        : "—",
    ],
    ["Joined", dateTime(h.createdAt)],
    ["Last seen", h.status === "online" ? "connected now" : ago(h.lastSeenAt, now)],
  ];
  return (
    <section className="panel" aria-label="Facts">
      <h2>Facts</h2>
      <dl className="facts" data-testid="host-facts">
        {rows.map(([k, v]) => (
          <div key={k} style={{ display: "contents" }}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Resources({ h }: { h: HostView }) {
  const counts = useQuery({
    queryKey: ["hostResources", h.id, h.status],
    queryFn: () => trpc.hosts.resources.query({ id: h.id }),
  });
  const item = (label: string, path: string, n: number | null | undefined) => (
    <Link className="resource" href={`/${path}?host=${h.id}`}>
      <span className="big">
        {counts.isPending ? "…" : n === null || n === undefined ? "?" : n}
      </span>
      <span className="sub">{label}</span>
    </Link>
  );
  return (
    <section className="panel" aria-label="Images, networks and volumes">
      <h2>On this host</h2>
      {counts.isError && (
        <div className="error">Could not count them: {errorMessage(counts.error)}</div>
      )}
      <div className="resources">
        {item("images", "images", counts.data?.images)}
        {item("networks", "networks", counts.data?.networks)}
        {item("volumes", "volumes", counts.data?.volumes)}
      </div>
      {counts.data && (counts.data.networks === null || counts.data.volumes === null) && (
        <p className="sub" style={{ marginBottom: 0 }}>
          Networks and volumes are asked of the host&apos;s agent: unknown while it is offline.
        </p>
      )}
    </section>
  );
}

/**
 * The host's CPU and memory: its stored history over the chosen range (from the server, so the
 * graphs do not start empty), then its agent's 1 Hz samples as they are pushed.
 */
function Load({ h, live }: { h: HostView; live: HostHistory | undefined }) {
  const pushed = live?.series;
  const livePoints = useMemo(
    () =>
      pushed ? pushed.t.map((t, i) => samplePoint(t, pushed.cpu[i] ?? 0, pushed.mem[i] ?? 0)) : [],
    [pushed],
  );
  const { range, setRange, stored, points, series } = useStoredStats(
    ["hostStats", h.id],
    (r) => trpc.hosts.stats.query({ id: h.id, range: r }),
    livePoints,
  );
  const last = live?.last;
  if (points.length === 0 && !stored.isPending)
    return (
      <div className="panel state" data-testid="host-stats-empty">
        {h.status === "online" ? (
          <>
            <strong>No measurements yet</strong>
            The host&apos;s agent sends its CPU and memory every second: they show here from its
            first sample.
          </>
        ) : (
          <>
            <strong>
              No load {range === "15m" ? "in the last 15 minutes" : `in the last ${range}`}
            </strong>
            The host&apos;s agent is not connected: its CPU and memory show here again once it is
            {range === "24h" ? "." : ", or look at a longer range."}
          </>
        )}
        <RangePicker range={range} onChange={setRange} />
      </div>
    );
  return (
    <div
      data-testid="host-stats"
      data-samples={points.length}
      data-history={stored.isPending ? "loading" : "loaded"}
      data-range={range}
    >
      <StatsToolbar range={range} onChange={setRange} stored={stored} />
      <div className="grid2">
        <StatPanel
          graph="cpu"
          range={range}
          series={series}
          chartTitle="Host CPU"
          now={last ? cpuFormat(last.cpuPercent) : null}
          detail={
            last &&
            `of ${last.cpus} CPU · load ${last.load1.toFixed(2)} ${last.load5.toFixed(2)} ${last.load15.toFixed(2)}`
          }
          nowTestId="host-cpu-now"
        />
        <StatPanel
          graph="mem"
          range={range}
          series={series}
          chartTitle="Host memory"
          now={last ? bytes(last.memoryUsedBytes) : null}
          detail={
            last &&
            `of ${bytes(last.memoryTotalBytes)} · disk ${bytes(last.diskUsedBytes)} of ${bytes(last.diskTotalBytes)}`
          }
        />
      </div>
    </div>
  );
}

/** Drain, undrain and remove: admins only (the server refuses the others anyway). */
function Manage({ h }: { h: HostView }) {
  const qc = useQueryClient();
  const router = useRouter();
  const [asking, setAsking] = useState<"drain" | "remove" | null>(null);
  const [reason, setReason] = useState("");
  const put = (updated: HostView) =>
    qc.setQueryData<HostView[]>(keys.hosts, (list) =>
      list?.map((x) => (x.id === updated.id ? updated : x)),
    );
  const drain = useMutation({
    mutationFn: () => trpc.hosts.drain.mutate({ id: h.id, ...(reason ? { reason } : {}) }),
    onSuccess: (u) => {
      put(u);
      setAsking(null);
    },
  });
  const undrain = useMutation({
    mutationFn: () => trpc.hosts.undrain.mutate({ id: h.id }),
    onSuccess: put,
  });
  const remove = useMutation({
    mutationFn: () => trpc.hosts.remove.mutate({ id: h.id }),
    onSuccess: () => {
      qc.setQueryData<HostView[]>(keys.hosts, (list) => list?.filter((x) => x.id !== h.id));
      router.push("/");
    },
  });
  const error = drain.error ?? undrain.error ?? remove.error;
  return (
    <>
      <span className="actions">
        {h.draining ? (
          <button onClick={() => undrain.mutate()} disabled={undrain.isPending}>
            {undrain.isPending ? "Undraining…" : "Undrain"}
          </button>
        ) : (
          <button onClick={() => setAsking("drain")}>Drain</button>
        )}
        <button className="danger" onClick={() => setAsking("remove")}>
          Remove host
        </button>
      </span>
      {error && (
        <div className="error" role="alert" style={{ flexBasis: "100%" }}>
          {errorMessage(error)}
        </div>
      )}
      {asking === "drain" && (
        <form
          className="panel confirm"
          aria-label="Drain this host"
          onSubmit={(e) => {
            e.preventDefault();
            drain.mutate();
          }}
        >
          <p>
            <b>Drain {h.name}?</b> No new container will be placed on it, from the dashboard or the
            API. Its running containers are not touched.
          </p>
          <label>
            Reason (shown to whoever tries to place a container here){" "}
            <input
              value={reason}
              maxLength={200}
              placeholder="e.g. kernel upgrade tonight"
              onChange={(e) => setReason(e.target.value)}
            />
          </label>
          <p style={{ marginBottom: 0 }}>
            <button className="primary" type="submit" disabled={drain.isPending}>
              {drain.isPending ? "Draining…" : "Drain host"}
            </button>{" "}
            <button type="button" onClick={() => setAsking(null)}>
              Cancel
            </button>
          </p>
        </form>
      )}
      {asking === "remove" && (
        <div className="panel confirm" role="alertdialog" aria-label="Remove this host">
          <p>
            <b>Remove {h.name} from the fleet?</b>
          </p>
          <ul>
            <li>Its agent is refused from now on and stops (its credential is revoked).</li>
            <li>
              Its {h.containers.total} container{h.containers.total === 1 ? "" : "s"}{" "}
              <b>keep running on the machine</b>, but leave this dashboard, with the host&apos;s
              images and events.
            </li>
            <li>To bring the machine back, join it again with a new token (Fleet → Add host).</li>
          </ul>
          <p style={{ marginBottom: 0 }}>
            <button className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
              {remove.isPending ? "Removing…" : `Remove ${h.name}`}
            </button>{" "}
            <button onClick={() => setAsking(null)}>Cancel</button>
          </p>
        </div>
      )}
    </>
  );
}

export function HostPage({ id }: { id: string }) {
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  const mayManage = useCan("hosts.manage");
  const now = useNow();
  const h = hosts.data?.find((x) => x.id === id);
  // as many live samples as the shortest range spans: they follow its history
  const stats = useHostStats(h ? [h.id] : [], LIVE_KEEP);

  if (hosts.isPending) return <div className="state">Loading the host…</div>;
  if (hosts.isError)
    return <div className="error">Could not load the host: {errorMessage(hosts.error)}</div>;
  if (!h)
    return (
      <div className="panel state">
        <strong>No such host</strong>
        It may have been removed. <Link href="/">Back to the fleet</Link>
      </div>
    );
  return (
    <>
      <div className="page-head">
        <Link href="/" className="sub">
          Fleet
        </Link>
        <span className="sub">/</span>
        <h1>{h.name}</h1>
        <HostStatus status={h.status} />
        {h.draining && <span className="badge warn">draining</span>}
        <span className="spacer" />
        {mayManage && <Manage h={h} />}
      </div>
      {h.status === "offline" && (
        <div className="notice" role="status" style={{ marginBottom: 12 }}>
          {h.name} is offline (last seen {ago(h.lastSeenAt, now)}): the state of its containers is
          unknown until its agent is back.
        </div>
      )}
      {h.draining && (
        <div className="notice" role="status" style={{ marginBottom: 12 }}>
          Draining since {dateTime(h.draining.since)}
          {h.draining.reason ? ` (${h.draining.reason})` : ""}: no new container is placed here; the
          running ones are untouched.
        </div>
      )}
      <Load h={h} live={stats.get(h.id)} />
      <div className="grid2" style={{ marginTop: 16 }}>
        <Facts h={h} />
        <Resources h={h} />
      </div>
      <div style={{ marginTop: 16 }}>
        <ContainersPage hostId={h.id} embedded />
      </div>
    </>
  );
}
