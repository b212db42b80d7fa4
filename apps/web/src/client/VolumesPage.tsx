"use client";
// Volumes of every host (or one), asked of the hosts, with the containers that mount each:
// create, remove one or the selected (refused while a container uses it), prune the unused.
import { useQuery } from "@tanstack/react-query";
import type { VolumeView } from "../server/services/volumes.ts";
import { useCan } from "./can.tsx";
import { ago } from "./format.ts";
import { Unreachable } from "./HostPicker.tsx";
import { CreateOnHost, hostColumn, useHosts, usePrune } from "./HostResources.tsx";
import { keys } from "./live.tsx";
import { bulkRemove, RemoveButton, ResourceList } from "./ResourceList.tsx";
import { trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

const remove = (v: VolumeView) => trpc.volumes.remove.mutate({ hostId: v.hostId, name: v.name });

export function VolumesPage({ hostId }: { hostId?: string }) {
  const now = useNow(10000);
  const mayWrite = useCan("volumes.write");
  const { online, nameOf, picker } = useHosts(hostId);
  const volumes = useQuery({
    queryKey: keys.volumes(hostId),
    queryFn: () => trpc.volumes.list.query(hostId ? { hostId } : undefined),
  });
  const prune = usePrune({
    hosts: online,
    question: (names) =>
      `Remove every volume no container mounts on ${names}? Their files are deleted.`,
    run: async (id) => {
      const r = await trpc.volumes.prune.mutate({ hostId: id });
      return r.removed.length ? `removed ${r.removed.join(", ")}` : "nothing unused";
    },
  });
  const items = volumes.data?.items;

  return (
    <ResourceList<VolumeView>
      title="Volumes"
      noun="volumes"
      summary={items?.length}
      headActions={mayWrite && prune.button}
      filterPlaceholder="Filter by name, container, host…"
      controls={picker}
      notes={volumes.data && <Unreachable list={volumes.data.unreachable} />}
      query={volumes}
      items={items}
      loading="Asking the hosts for their volumes…"
      empty={{
        title: `No volumes ${hostId ? "on this host" : "on an online host"}`,
        next: mayWrite
          ? "Create one above, then mount it in a container (corral-rt run -v NAME:/path, or volumes in the API)."
          : "Hosts report theirs here when they are online.",
      }}
      text={(v) => `${v.name} ${v.usedBy.join(" ")} ${nameOf(v.hostId)}`}
      rowKey={(v) => `${v.hostId} ${v.name}`}
      rowName={(v) => (hostId ? v.name : `${v.name} on ${nameOf(v.hostId)}`)}
      rowData={(v) => ({ "data-volume": v.name })}
      columns={[
        { label: "Name", className: "mono", title: (v) => v.mountpoint, cell: (v) => v.name },
        {
          label: "Used by",
          cell: (v) =>
            v.usedBy.length ? v.usedBy.join(", ") : <span className="sub">no container</span>,
        },
        { label: "Created", cell: (v) => ago(v.created, now) },
        hostColumn(hostId, nameOf),
      ]}
      {...(mayWrite && {
        rowActions: (v: VolumeView) => (
          <RemoveButton
            question={`Remove the volume ${v.name}? Its files are deleted.`}
            remove={() => remove(v)}
          />
        ),
        bulkActions: [
          bulkRemove(
            ["volume", "volumes"],
            "Their files are deleted; one a container uses is refused.",
            remove,
          ),
        ],
      })}
    >
      {mayWrite && (
        <CreateOnHost
          key={hostId ?? "all"}
          noun="volume"
          hostId={hostId}
          hosts={online}
          create={(target, f) => {
            const name = String(f.get("name") ?? "").trim();
            return trpc.volumes.create.mutate({ hostId: target, ...(name ? { name } : {}) });
          }}
        >
          <input name="name" placeholder="name (optional: a random one)" aria-label="Volume name" />
        </CreateOnHost>
      )}
      {prune.result}
    </ResourceList>
  );
}
