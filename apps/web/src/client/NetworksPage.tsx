"use client";
// Networks of every host (or one), asked of the hosts when the page opens and again when a
// change is pushed: create (name, optional subnet), remove one or the selected (the host says
// which containers still use it).
import { useQuery } from "@tanstack/react-query";
import type { NetworkView } from "../server/services/networks.ts";
import { useCan } from "./can.tsx";
import { Unreachable } from "./HostPicker.tsx";
import { CreateOnHost, hostColumn, useHosts } from "./HostResources.tsx";
import { keys } from "./live.tsx";
import { bulkRemove, RemoveButton, ResourceList } from "./ResourceList.tsx";
import { trpc } from "./trpc.ts";

/** The runtime's own networks: always there, cannot be removed. */
const BUILTIN = new Set(["bridge", "host", "none"]);

const remove = (n: NetworkView) => trpc.networks.remove.mutate({ hostId: n.hostId, name: n.name });

export function NetworksPage({ hostId }: { hostId?: string }) {
  const mayWrite = useCan("networks.write");
  const { online, nameOf, picker } = useHosts(hostId);
  const networks = useQuery({
    queryKey: keys.networks(hostId),
    queryFn: () => trpc.networks.list.query(hostId ? { hostId } : undefined),
  });
  const items = networks.data?.items;

  return (
    <ResourceList<NetworkView>
      title="Networks"
      noun="networks"
      summary={items?.length}
      filterPlaceholder="Filter by name, subnet, container, host…"
      controls={picker}
      notes={networks.data && <Unreachable list={networks.data.unreachable} />}
      query={networks}
      items={items}
      loading="Asking the hosts for their networks…"
      empty={{
        title: `No networks ${hostId ? "on this host" : "on an online host"}`,
        next: mayWrite ? "Create one above." : "Hosts report theirs here when they are online.",
      }}
      text={(n) =>
        `${n.name} ${n.driver} ${n.subnet} ${n.containerNames.join(" ")} ${nameOf(n.hostId)}`
      }
      rowKey={(n) => `${n.hostId} ${n.id}`}
      rowName={(n) => (hostId ? n.name : `${n.name} on ${nameOf(n.hostId)}`)}
      rowData={(n) => ({ "data-network": n.name })}
      columns={[
        { label: "Name", cell: (n) => <b>{n.name}</b> },
        { label: "Driver", cell: (n) => n.driver },
        { label: "Subnet", className: "mono", cell: (n) => n.subnet || "—" },
        { label: "Gateway", className: "mono", cell: (n) => n.gateway || "—" },
        {
          label: "Containers",
          cell: (n) =>
            n.containerNames.length ? (
              n.containerNames.join(", ")
            ) : (
              <span className="sub">none</span>
            ),
        },
        hostColumn(hostId, nameOf),
      ]}
      {...(mayWrite && {
        rowActions: (n: NetworkView) =>
          BUILTIN.has(n.name) ? (
            <span className="sub">built in</span>
          ) : (
            <RemoveButton question={`Remove the network ${n.name}?`} remove={() => remove(n)} />
          ),
        selectable: (n: NetworkView) => !BUILTIN.has(n.name),
        bulkActions: [
          bulkRemove(["network", "networks"], "One a container uses is refused.", remove),
        ],
      })}
    >
      {mayWrite && (
        <CreateOnHost
          key={hostId ?? "all"}
          noun="network"
          hostId={hostId}
          hosts={online}
          create={(target, f) => {
            const name = String(f.get("name") ?? "").trim();
            const subnet = String(f.get("subnet") ?? "").trim();
            return trpc.networks.create.mutate({
              hostId: target,
              name,
              ...(subnet ? { subnet } : {}),
            });
          }}
        >
          <input name="name" required placeholder="name, e.g. backend" aria-label="Network name" />
          <input
            name="subnet"
            placeholder="subnet (optional), e.g. 10.30.0.0/24"
            aria-label="Subnet"
          />
        </CreateOnHost>
      )}
    </ResourceList>
  );
}
