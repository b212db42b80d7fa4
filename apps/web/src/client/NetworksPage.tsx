"use client";
// Networks of every host (or one), asked of the hosts when the page opens and again when a
// change is pushed: create (name, optional subnet), remove (the host says which containers
// still use it).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import type { NetworkView } from "../server/services/networks.ts";
import { useCan } from "./can.tsx";
import { shortId } from "./format.ts";
import { HostPicker, targetHosts, Unreachable } from "./HostPicker.tsx";
import { keys } from "./live.tsx";
import { errorMessage, trpc } from "./trpc.ts";

/** The runtime's own networks: always there, cannot be removed. */
const BUILTIN = new Set(["bridge", "host", "none"]);

function CreateNetwork({
  hostId,
  hosts,
}: {
  hostId?: string;
  hosts: Array<{ id: string; name: string }>;
}) {
  const [target, setTarget] = useState(hostId ?? "");
  useEffect(() => {
    if (!target && hosts.length > 0) setTarget((hosts[0] as { id: string }).id);
  }, [target, hosts]);
  const create = useMutation({
    mutationFn: (input: { hostId: string; name: string; subnet?: string }) =>
      trpc.networks.create.mutate(input),
  });
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const name = String(f.get("name") ?? "").trim();
    const subnet = String(f.get("subnet") ?? "").trim();
    create.mutate({ hostId: target, name, ...(subnet ? { subnet } : {}) });
  }
  return (
    <form
      className="panel"
      onSubmit={submit}
      aria-label="Create a network"
      style={{ marginBottom: 12 }}
    >
      <div className="toolbar" style={{ marginBottom: 0 }}>
        <input name="name" required placeholder="name, e.g. backend" aria-label="Network name" />
        <input
          name="subnet"
          placeholder="subnet (optional), e.g. 10.30.0.0/24"
          aria-label="Subnet"
        />
        {!hostId && (
          <select
            aria-label="Create on host"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
          >
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>
                on {h.name}
              </option>
            ))}
          </select>
        )}
        <button className="primary" type="submit" disabled={create.isPending || !target}>
          {create.isPending ? "Creating…" : "Create network"}
        </button>
      </div>
      {create.isError && (
        <div className="error" role="alert">
          {errorMessage(create.error)}
        </div>
      )}
    </form>
  );
}

function RemoveNetwork({ n }: { n: NetworkView }) {
  const remove = useMutation({
    mutationFn: () => trpc.networks.remove.mutate({ hostId: n.hostId, name: n.name }),
  });
  if (BUILTIN.has(n.name)) return <span className="sub">built in</span>;
  return (
    <span className="actions">
      <button
        className="small danger"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Remove the network ${n.name}?`)) remove.mutate();
        }}
      >
        {remove.isPending ? "removing…" : "remove"}
      </button>
      {remove.isError && (
        <span className="error inline" role="alert">
          {errorMessage(remove.error)}
        </span>
      )}
    </span>
  );
}

export function NetworksPage({ hostId }: { hostId?: string }) {
  const mayWrite = useCan("networks.write");
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  const networks = useQuery({
    queryKey: keys.networks(hostId),
    queryFn: () => trpc.networks.list.query(hostId ? { hostId } : undefined),
  });
  const [filter, setFilter] = useState("");
  const hostName = useMemo(
    () => new Map((hosts.data ?? []).map((h) => [h.id, h.name])),
    [hosts.data],
  );
  const online = targetHosts(hosts.data, hostId);
  const items = networks.data?.items;
  const rows = useMemo(() => {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    return (items ?? []).filter((n) => {
      const text =
        `${n.name} ${n.driver} ${n.subnet} ${n.containerNames.join(" ")} ${hostName.get(n.hostId) ?? ""}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }, [items, filter, hostName]);

  return (
    <>
      <div className="page-head">
        <h1>Networks</h1>
        {items && <span className="sub">{items.length}</span>}
      </div>
      {mayWrite && <CreateNetwork key={hostId ?? "all"} hostId={hostId} hosts={online} />}
      <div className="toolbar">
        <input
          type="search"
          placeholder="Filter by name, subnet, container, host…"
          aria-label="Filter networks"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <HostPicker hosts={hosts} hostId={hostId} />
      </div>
      {networks.data && <Unreachable list={networks.data.unreachable} />}
      {networks.isPending && <div className="state">Asking the hosts for their networks…</div>}
      {networks.isError && (
        <div className="error">Could not load the networks: {errorMessage(networks.error)}</div>
      )}
      {items && items.length === 0 && (
        <div className="panel state">
          <strong>No networks {hostId ? "on this host" : "on an online host"}</strong>
          {mayWrite ? "Create one above." : "Hosts report theirs here when they are online."}
        </div>
      )}
      {items && items.length > 0 && rows.length === 0 && (
        <div className="panel state">
          <strong>Nothing matches “{filter}”</strong>
          <button className="small" onClick={() => setFilter("")}>
            Clear the filter
          </button>
        </div>
      )}
      {rows.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Driver</th>
              <th>Subnet</th>
              <th>Gateway</th>
              <th>Containers</th>
              {!hostId && <th>Host</th>}
              {mayWrite && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((n) => (
              <tr key={`${n.hostId} ${n.id}`} data-network={n.name}>
                <td data-label="Name">
                  <b>{n.name}</b>
                </td>
                <td data-label="Driver">{n.driver}</td>
                <td data-label="Subnet" className="mono">
                  {n.subnet || "—"}
                </td>
                <td data-label="Gateway" className="mono">
                  {n.gateway || "—"}
                </td>
                <td data-label="Containers">
                  {n.containerNames.length ? (
                    n.containerNames.join(", ")
                  ) : (
                    <span className="sub">none</span>
                  )}
                </td>
                {!hostId && (
                  <td data-label="Host">{hostName.get(n.hostId) ?? shortId(n.hostId)}</td>
                )}
                {mayWrite && (
                  <td data-label="Actions">
                    <RemoveNetwork n={n} />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
