"use client";
// One container: overview, live stats, logs, terminal. Its state arrives pushed.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ContainerState } from "./badges.tsx";
import { ActionButtons } from "./ContainersPage.tsx";
import { ago, bytes, dateTime, shortId } from "./format.ts";
import { keys } from "./live.tsx";
import { LogsView } from "./LogsView.tsx";
import { StatsCharts, useStatsHistory } from "./StatsCharts.tsx";
import { TerminalView } from "./TerminalView.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { TRPCClientError } from "@trpc/client";
import type { ContainerView } from "../server/services/containers.ts";
import { TABS, type Tab } from "./tabs.ts";
import { Denied, useCan } from "./can.tsx";
import { EnvPanel } from "./EnvPanel.tsx";

function Overview({ c, hostName }: { c: ContainerView; hostName: string }) {
  const ports = c.ports.map(
    (p) =>
      `${p.hostIp && p.hostIp !== "0.0.0.0" ? `${p.hostIp}:` : ""}${p.hostPort} → ${p.containerPort}/${p.protocol}`,
  );
  return (
    <div className="grid2">
      <section className="panel">
        <h2>State</h2>
        <dl className="facts">
          <dt>State</dt>
          <dd>
            <ContainerState c={c} />
          </dd>
          {c.state === "unknown" && (
            <>
              <dt>Last reported</dt>
              <dd>{c.reportedState} (the host is offline)</dd>
            </>
          )}
          <dt>Exit code</dt>
          <dd>
            {c.exitCode ?? "—"}
            {c.oomKilled ? " (killed: out of memory)" : ""}
          </dd>
          {c.error && (
            <>
              <dt>Error</dt>
              <dd className="danger">{c.error}</dd>
            </>
          )}
          <dt>PID</dt>
          <dd>{c.pid || "—"}</dd>
          <dt>Created</dt>
          <dd>{dateTime(c.created)}</dd>
          <dt>Started</dt>
          <dd>{dateTime(c.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{dateTime(c.finishedAt)}</dd>
          <dt>Restarts</dt>
          <dd>
            {c.restartCount} (policy: {c.restartPolicy || "no"})
          </dd>
        </dl>
      </section>
      <section className="panel">
        <h2>Configuration</h2>
        <dl className="facts">
          <dt>Image</dt>
          <dd className="mono">{c.image}</dd>
          <dt>Command</dt>
          <dd className="mono">{c.command.join(" ") || "—"}</dd>
          <dt>Ports</dt>
          <dd className="mono">{ports.length ? ports.join(", ") : "none published"}</dd>
          <dt>Memory limit</dt>
          <dd>{c.memoryLimitBytes ? bytes(c.memoryLimitBytes) : "none"}</dd>
          <dt>CPUs</dt>
          <dd>{c.cpus || "no limit"}</dd>
          <dt>Host</dt>
          <dd>
            <Link href={`/containers?host=${c.hostId}`}>{hostName}</Link>
          </dd>
          <dt>ID</dt>
          <dd className="mono">{c.id}</dd>
          <dt>Made</dt>
          <dd>{c.managed ? "in the dashboard" : "on the host (e.g. corral-rt)"}</dd>
        </dl>
      </section>
    </div>
  );
}

export function ContainerPage({ id, tab }: { id: string; tab: Tab }) {
  const container = useQuery({
    queryKey: keys.container(id),
    queryFn: () => trpc.containers.get.query({ id }),
  });
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  const stats = useStatsHistory(id);
  const mayOpenTerminal = useCan("terminal.open");
  const c = container.data;

  if (container.isPending) return <div className="state">Loading the container…</div>;
  if (container.isError) {
    const missing =
      container.error instanceof TRPCClientError && container.error.data?.code === "NOT_FOUND";
    return (
      <div className="panel state">
        <strong>{missing ? "No such container" : "Could not load the container"}</strong>
        {missing ? "It may have been removed. " : `${errorMessage(container.error)} `}
        <Link href="/containers">Back to the containers</Link>
      </div>
    );
  }
  if (!c)
    return (
      <div className="panel state">
        <strong>This container was removed</strong>
        <Link href="/containers">Back to the containers</Link>
      </div>
    );
  const hostName = hosts.data?.find((h) => h.id === c.hostId)?.name ?? shortId(c.hostId);
  const running = c.state === "running";

  return (
    <>
      <div className="page-head">
        <div>
          <div className="sub" style={{ fontSize: 12 }}>
            <Link href="/containers">Containers</Link> / {hostName}
          </div>
          <h1 style={{ display: "flex", gap: 10, alignItems: "center", flexWrap: "wrap" }}>
            {c.name} <ContainerState c={c} />
          </h1>
          <div className="sub" style={{ fontSize: 12 }}>
            {c.image} · {running ? `up since ${ago(c.startedAt)}` : `created ${ago(c.created)}`}
          </div>
        </div>
        <span className="spacer" />
        <ActionButtons c={c} small={false} />
      </div>
      <nav className="tabs">
        {TABS.filter((t) => t !== "terminal" || mayOpenTerminal).map((t) => (
          <Link
            key={t}
            href={`/containers/${id}${t === "overview" ? "" : `?tab=${t}`}`}
            aria-current={t === tab ? "page" : undefined}
            replace
          >
            {t[0]?.toUpperCase() + t.slice(1)}
          </Link>
        ))}
      </nav>
      {tab === "overview" && (
        <>
          <Overview c={c} hostName={hostName} />
          <EnvPanel id={id} />
        </>
      )}
      {tab === "stats" && <StatsCharts id={id} history={stats} running={running} />}
      {tab === "logs" && <LogsView id={id} />}
      {tab === "terminal" &&
        (mayOpenTerminal ? (
          <TerminalView id={id} running={running} />
        ) : (
          <Denied permission="terminal.open" what="The terminal" />
        ))}
    </>
  );
}
