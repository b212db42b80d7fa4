"use client";
// Volumes of every host (or one), asked of the hosts, with the containers that mount each:
// create, remove (refused while a container uses it), prune the unused.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import type { VolumeView } from "../server/services/volumes.ts";
import { useCan } from "./can.tsx";
import { ago, shortId } from "./format.ts";
import { HostPicker, targetHosts, Unreachable } from "./HostPicker.tsx";
import { keys } from "./live.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

function CreateVolume({
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
    mutationFn: (input: { hostId: string; name?: string }) => trpc.volumes.create.mutate(input),
  });
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get("name") ?? "").trim();
    create.mutate({ hostId: target, ...(name ? { name } : {}) });
  }
  return (
    <form
      className="panel"
      onSubmit={submit}
      aria-label="Create a volume"
      style={{ marginBottom: 12 }}
    >
      <div className="toolbar" style={{ marginBottom: 0 }}>
        <input name="name" placeholder="name (optional: a random one)" aria-label="Volume name" />
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
          {create.isPending ? "Creating…" : "Create volume"}
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

function RemoveVolume({ v }: { v: VolumeView }) {
  const remove = useMutation({
    mutationFn: () => trpc.volumes.remove.mutate({ hostId: v.hostId, name: v.name }),
  });
  return (
    <span className="actions">
      <button
        className="small danger"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Remove the volume ${v.name}? Its files are deleted.`))
            remove.mutate();
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

export function VolumesPage({ hostId }: { hostId?: string }) {
  const now = useNow(10000);
  const mayWrite = useCan("volumes.write");
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  const volumes = useQuery({
    queryKey: keys.volumes(hostId),
    queryFn: () => trpc.volumes.list.query(hostId ? { hostId } : undefined),
  });
  const [filter, setFilter] = useState("");
  const hostName = useMemo(
    () => new Map((hosts.data ?? []).map((h) => [h.id, h.name])),
    [hosts.data],
  );
  const online = targetHosts(hosts.data, hostId);
  const prune = useMutation({
    mutationFn: async () => {
      const answers = await Promise.allSettled(
        online.map((h) => trpc.volumes.prune.mutate({ hostId: h.id })),
      );
      return answers.map((a, i) => {
        const host = (online[i] as { name: string }).name;
        return a.status === "fulfilled"
          ? `${host}: ${a.value.removed.length ? `removed ${a.value.removed.join(", ")}` : "nothing unused"}`
          : `${host}: ${errorMessage(a.reason)}`;
      });
    },
  });
  const items = volumes.data?.items;
  const rows = useMemo(() => {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    return (items ?? []).filter((v) => {
      const text = `${v.name} ${v.usedBy.join(" ")} ${hostName.get(v.hostId) ?? ""}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }, [items, filter, hostName]);

  return (
    <>
      <div className="page-head">
        <h1>Volumes</h1>
        {items && <span className="sub">{items.length}</span>}
        <span className="spacer" />
        {mayWrite && online.length > 0 && (
          <button
            disabled={prune.isPending}
            onClick={() => {
              if (
                window.confirm(
                  `Remove every volume no container mounts on ${online.map((h) => h.name).join(", ")}? Their files are deleted.`,
                )
              )
                prune.mutate();
            }}
          >
            {prune.isPending ? "Pruning…" : "Prune unused"}
          </button>
        )}
      </div>
      {mayWrite && <CreateVolume key={hostId ?? "all"} hostId={hostId} hosts={online} />}
      {prune.data && (
        <div className="notice" role="status" style={{ marginBottom: 12 }}>
          Prune: {prune.data.join("; ")}
        </div>
      )}
      <div className="toolbar">
        <input
          type="search"
          placeholder="Filter by name, container, host…"
          aria-label="Filter volumes"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <HostPicker hosts={hosts} hostId={hostId} />
      </div>
      {volumes.data && <Unreachable list={volumes.data.unreachable} />}
      {volumes.isPending && <div className="state">Asking the hosts for their volumes…</div>}
      {volumes.isError && (
        <div className="error">Could not load the volumes: {errorMessage(volumes.error)}</div>
      )}
      {items && items.length === 0 && (
        <div className="panel state">
          <strong>No volumes {hostId ? "on this host" : "on an online host"}</strong>
          {mayWrite
            ? "Create one above, then mount it in a container (corral-rt run -v NAME:/path, or volumes in the API)."
            : "Hosts report theirs here when they are online."}
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
              <th>Used by</th>
              <th>Created</th>
              {!hostId && <th>Host</th>}
              {mayWrite && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((v) => (
              <tr key={`${v.hostId} ${v.name}`} data-volume={v.name}>
                <td data-label="Name" className="mono" title={v.mountpoint}>
                  {v.name}
                </td>
                <td data-label="Used by">
                  {v.usedBy.length ? (
                    v.usedBy.join(", ")
                  ) : (
                    <span className="sub">no container</span>
                  )}
                </td>
                <td data-label="Created">{ago(v.created, now)}</td>
                {!hostId && (
                  <td data-label="Host">{hostName.get(v.hostId) ?? shortId(v.hostId)}</td>
                )}
                {mayWrite && (
                  <td data-label="Actions">
                    <RemoveVolume v={v} />
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
