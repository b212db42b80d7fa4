"use client";
// Fleet: every host, its status pushed live, and how to add one.
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { HostStatus } from "./badges.tsx";
import { ago, bytes } from "./format.ts";
import { keys } from "./live.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

function AddHost({ onClose }: { onClose(): void }) {
  const join = useMutation({ mutationFn: () => trpc.hosts.createJoinToken.mutate() });
  const [copied, setCopied] = useState(false);
  const command = join.data?.command;
  return (
    <section className="panel" style={{ marginBottom: 16 }} aria-label="Add a host">
      <h2>Add a host</h2>
      <p className="sub">
        On the new machine (Linux, root, Node 20+), in a checkout of Corral, run this one line (it
        installs and builds what is missing). The token works once and expires in 24 hours; the host
        shows up here as soon as its agent connects.
      </p>
      {!command && (
        <button className="primary" onClick={() => join.mutate()} disabled={join.isPending}>
          {join.isPending ? "Making a join token…" : "Make the join command"}
        </button>
      )}
      {join.isError && <div className="error">{errorMessage(join.error)}</div>}
      {command && (
        <div className="command">
          <code data-testid="join-command">{command}</code>
          <button
            onClick={() => {
              void navigator.clipboard?.writeText(command).then(() => setCopied(true));
            }}
          >
            {copied ? "Copied" : "Copy"}
          </button>
        </div>
      )}
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

export function FleetPage() {
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  const [adding, setAdding] = useState(false);
  const now = useNow();
  const list = hosts.data ?? [];
  const online = list.filter((h) => h.status === "online").length;

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
        <button className="primary" onClick={() => setAdding(true)}>
          Add host
        </button>
      </div>
      {adding && <AddHost onClose={() => setAdding(false)} />}
      {hosts.isPending && <div className="state">Loading hosts…</div>}
      {hosts.isError && (
        <div className="error">Could not load the hosts: {errorMessage(hosts.error)}</div>
      )}
      {hosts.data && list.length === 0 && !adding && (
        <div className="panel state">
          <strong>No hosts yet</strong>
          Add your first host: press <b>Add host</b> and run the command it shows on that machine.
        </div>
      )}
      {list.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>Host</th>
              <th>Status</th>
              <th>Containers</th>
              <th>CPU / memory</th>
              <th>Agent</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {list.map((h) => (
              <tr key={h.id} data-host={h.name}>
                <td data-label="Host">
                  <div>
                    <Link href={`/containers?host=${h.id}`}>
                      <b>{h.name}</b>
                    </Link>
                    <div className="sub" style={{ fontSize: 12 }}>
                      {[
                        h.facts.hostname,
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
                </td>
                <td data-label="Containers" className="num">
                  <Link href={`/containers?host=${h.id}`}>
                    {h.containers.running} running / {h.containers.total}
                  </Link>
                </td>
                <td data-label="CPU / memory" className="num">
                  {h.facts.cpus ? `${h.facts.cpus} CPU · ${bytes(h.facts.memoryBytes ?? 0)}` : "—"}
                </td>
                <td data-label="Agent" className="mono">
                  {h.agentVersion || "—"}
                </td>
                <td data-label="Last seen">
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
