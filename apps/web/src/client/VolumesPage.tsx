"use client";
// Volumes of every host (or one), asked of the hosts, with the containers that mount each:
// create, remove one or the selected (refused while a container uses it), prune the unused.
import { useMutation, useQuery } from "@tanstack/react-query";
import type { VolumeView } from "../server/services/volumes.ts";
import { useCan } from "./can.tsx";
import { ago } from "./format.ts";
import { Unreachable } from "./HostPicker.tsx";
import { HostForm, hostColumn, useHosts, usePrune } from "./HostResources.tsx";
import { keys } from "./live.tsx";
import { RemoveButton, ResourceList } from "./ResourceList.tsx";
import { trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

function CreateVolume({
  hostId,
  hosts,
}: {
  hostId?: string;
  hosts: Array<{ id: string; name: string }>;
}) {
  const create = useMutation({
    mutationFn: (input: { hostId: string; name?: string }) => trpc.volumes.create.mutate(input),
  });
  return (
    <HostForm
      label="Create a volume"
      verb="Create"
      submit={["Create volume", "Creating…"]}
      busy={create.isPending}
      hostId={hostId}
      hosts={hosts}
      error={create.error}
      onSubmit={(target, f) => {
        const name = String(f.get("name") ?? "").trim();
        create.mutate({ hostId: target, ...(name ? { name } : {}) });
      }}
    >
      <input name="name" placeholder="name (optional: a random one)" aria-label="Volume name" />
    </HostForm>
  );
}

function RemoveVolume({ v }: { v: VolumeView }) {
  const remove = useMutation({
    mutationFn: () => trpc.volumes.remove.mutate({ hostId: v.hostId, name: v.name }),
  });
  return (
    <RemoveButton
      question={`Remove the volume ${v.name}? Its files are deleted.`}
      onRemove={() => remove.mutate()}
      pending={remove.isPending}
      error={remove.error}
    />
  );
}

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
        rowActions: (v: VolumeView) => <RemoveVolume v={v} />,
        bulkActions: [
          {
            label: "remove",
            danger: true,
            confirm: (rows: VolumeView[]) =>
              `Remove ${rows.length} volume${rows.length === 1 ? "" : "s"}? Their files are deleted; one a container uses is refused.`,
            run: (v: VolumeView) => trpc.volumes.remove.mutate({ hostId: v.hostId, name: v.name }),
          },
        ],
      })}
    >
      {mayWrite && <CreateVolume key={hostId ?? "all"} hostId={hostId} hosts={online} />}
      {prune.result}
    </ResourceList>
  );
}
