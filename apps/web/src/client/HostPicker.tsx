"use client";
// "All hosts" or one: the choice lives in the URL (`?host=ID`), so a page can be linked to.
import type { UseQueryResult } from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import type { HostView } from "../server/services/hosts.ts";

export function HostPicker({
  hosts,
  hostId,
}: {
  hosts: UseQueryResult<HostView[]>;
  hostId: string | undefined;
}) {
  const router = useRouter();
  const path = usePathname();
  return (
    <select
      aria-label="Host"
      value={hostId ?? ""}
      onChange={(e) => router.replace(e.target.value ? `${path}?host=${e.target.value}` : path)}
    >
      <option value="">All hosts</option>
      {(hosts.data ?? []).map((h) => (
        <option key={h.id} value={h.id}>
          {h.name} ({h.status})
        </option>
      ))}
    </select>
  );
}

/** Hosts a command can go to now: the one chosen, or every online host. */
export function targetHosts(hosts: HostView[] | undefined, hostId: string | undefined): HostView[] {
  return (hosts ?? []).filter((h) => h.status === "online" && (!hostId || h.id === hostId));
}

/** Offline hosts named in a fleet-wide list's answer. */
export function Unreachable({ list }: { list: Array<{ name: string; error: string }> }) {
  if (list.length === 0) return null;
  return (
    <div className="notice" role="status" style={{ marginBottom: 12 }}>
      Not shown: {list.map((u) => `${u.name} (${u.error})`).join("; ")}.
    </div>
  );
}
